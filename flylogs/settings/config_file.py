"""The TOML config file: where it is, and its validated contents (validation derived from the specs).

Must not: print, or read the process environment (it arrives as a mapping).
"""

from __future__ import annotations

import sys
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flylogs.errors import ConfigError
from flylogs.settings.origin import Origin, Source
from flylogs.settings.spec import BY_KEY

SECRET_KEYS = ("token", "access_token", "access-token", "password")


def config_file_path(flag: Path | None, env: Mapping[str, str], home: Path) -> tuple[Path, Origin]:
    if flag is not None:
        return flag, Origin(Source.FLAG, "--flylogs-config")
    if env.get("FLYLOGS_CONFIG"):
        return Path(env["FLYLOGS_CONFIG"]), Origin(Source.ENV, "FLYLOGS_CONFIG")
    if sys.platform == "win32" and env.get("APPDATA"):
        base = Path(env["APPDATA"])
    elif env.get("XDG_CONFIG_HOME"):
        base = Path(env["XDG_CONFIG_HOME"])
    else:
        base = home / ".config"
    return base / "flylogs" / "config.toml", Origin(Source.DEFAULT)


def known_keys() -> str:
    seen: dict[str, str] = {}
    for key, spec in BY_KEY.items():
        if key == spec.key:
            seen[key] = spec.describe()
    return "; ".join(f"{k} ({v})" for k, v in seen.items())


def load_config(path: Path, *, required: bool) -> dict[str, Any]:
    """The validated contents of the config file, by setting name; {} when absent and not required."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        if required:
            raise ConfigError(
                f"config file {path} does not exist",
                hint="create it, or drop --flylogs-config / FLYLOGS_CONFIG",
            ) from None
        return {}
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(
            f"cannot read config file {path}: {exc}", hint="check the file's permissions"
        ) from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(
            f"config file {path} is not valid TOML: {exc}", hint="fix the line it names"
        ) from None

    for secret in SECRET_KEYS:
        if secret in data:
            raise ConfigError(
                f"config file {path} holds a {secret!r}: flylogs never reads tokens from its config file",
                hint="remove it from the file and store the token with `flylogs auth login` "
                "(or set FLYLOGS_TOKEN in the environment)",
            )
    unknown = sorted(set(data) - set(BY_KEY))
    if unknown:
        raise ConfigError(
            f"config file {path} has unknown key(s): {', '.join(unknown)}", hint="known keys: " + known_keys()
        )
    config: dict[str, Any] = {}
    for key, value in data.items():
        spec = BY_KEY[key]
        config[spec.name] = spec.from_config(value, f"config file {path}")
    return config
