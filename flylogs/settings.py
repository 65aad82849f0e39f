"""Settings: every configurable value resolved in one place, with where it came from.

Owns: the precedence rules (flag > environment > config file > keyring > flyctl's config > default), the
TOML config file format, reading `./fly.toml` for a default app, token normalisation and redaction.
`flylogs config show` prints the provenance recorded here. Must not: print, exit, or read the process
environment itself (it arrives as a mapping); the keyring arrives as a lookup function.
"""

from __future__ import annotations

import re
import sys
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

from flylogs.errors import ConfigError

DEFAULT_SERVER = "nats://[fdaa::3]:4223"
DEFAULT_API_URL = "https://api.fly.io"
DEFAULT_ORG = "personal"
MACAROON_PREFIXES = ("fm1r_", "fm1a_", "fm2_")

T = TypeVar("T")


class OutputMode(StrEnum):
    AUTO = "auto"
    TABLE = "table"
    PLAIN = "plain"
    JSON = "json"
    RAW = "raw"


class ColorWhen(StrEnum):
    AUTO = "auto"
    ALWAYS = "always"
    NEVER = "never"


class TimeMode(StrEnum):
    """`--time`: how the time column reads."""

    LOCAL = "local"
    UTC = "utc"
    RELATIVE = "relative"
    NONE = "none"


class ColorBy(StrEnum):
    """`--color-by`: what gives a line's instance column its colour."""

    INSTANCE = "instance"
    APP = "app"
    REGION = "region"


class Source(StrEnum):
    FLAG = "flag"
    ENV = "env"
    CONFIG = "config file"
    KEYRING = "keyring"
    FLYCTL = "flyctl config"
    FLY_TOML = "fly.toml"
    DEFAULT = "default"
    NONE = "not set"


@dataclass(frozen=True, slots=True)
class Origin:
    source: Source
    detail: str = ""

    def __str__(self) -> str:
        return f"{self.source} ({self.detail})" if self.detail else str(self.source)


@dataclass(frozen=True, slots=True)
class StoredCredentials:
    """What `flylogs auth login` keeps in the keyring."""

    org: str
    token: str = field(repr=False)


@dataclass(frozen=True, slots=True)
class Flags:
    """The command-line values that take part in resolution (None or empty: not given)."""

    servers: tuple[str, ...] = ()
    org: str | None = None
    token: str | None = field(default=None, repr=False)
    config: Path | None = None
    output: OutputMode | None = None
    color: ColorWhen | None = None
    api_url: str | None = None
    stream: str | None = None


@dataclass(frozen=True, slots=True)
class Settings:
    servers: tuple[str, ...]
    org: str
    token: str | None = field(repr=False)
    output: OutputMode
    color: ColorWhen
    config_path: Path
    origins: Mapping[str, Origin]
    api_url: str = DEFAULT_API_URL
    stream: str | None = None

    def token_summary(self) -> str:
        return redact_token(self.token)


# --- resolution -----------------------------------------------------------------------------------


def resolve(
    flags: Flags,
    env: Mapping[str, str],
    home: Path,
    keyring_lookup: Callable[[], StoredCredentials | None] = lambda: None,
) -> Settings:
    """Resolve every setting once. Raises ConfigError for an invalid config file."""
    origins: dict[str, Origin] = {}
    config_path, config_origin = config_file_path(flags.config, env, home)
    origins["config"] = config_origin
    explicit = config_origin.source is not Source.DEFAULT
    config = load_config(config_path, required=explicit)

    # Servers.
    servers: tuple[str, ...]
    if flags.servers:
        servers, origins["server"] = flags.servers, Origin(Source.FLAG, "--server")
    elif env.get("FLYLOGS_SERVER"):
        servers = tuple(s.strip() for s in env["FLYLOGS_SERVER"].split(",") if s.strip())
        origins["server"] = Origin(Source.ENV, "FLYLOGS_SERVER")
    elif "server" in config:
        servers, origins["server"] = config["server"], Origin(Source.CONFIG, str(config_path))
    else:
        servers, origins["server"] = (DEFAULT_SERVER,), Origin(Source.DEFAULT)

    # Token, then org (the keyring holds both, and is only consulted when needed: it may be slow).
    stored: StoredCredentials | None = None
    stored_looked_up = False

    def keyring() -> StoredCredentials | None:
        nonlocal stored, stored_looked_up
        if not stored_looked_up:
            stored, stored_looked_up = keyring_lookup(), True
        return stored

    token: str | None = None
    if flags.token:
        token, origins["token"] = flags.token, Origin(Source.FLAG, "--access-token")
    else:
        for name in ("FLYLOGS_TOKEN", "FLY_ACCESS_TOKEN", "FLY_API_TOKEN"):
            if env.get(name):
                token, origins["token"] = env[name], Origin(Source.ENV, name)
                break
        else:
            creds = keyring()
            if creds is not None:
                token, origins["token"] = creds.token, Origin(Source.KEYRING)
            else:
                path = flyctl_config_path(env, home)
                token = read_flyctl_token(path)
                origins["token"] = Origin(Source.FLYCTL, str(path)) if token else Origin(Source.NONE)
    token = normalize_token(token)

    org: str
    if flags.org:
        org, origins["org"] = flags.org, Origin(Source.FLAG, "--org")
    elif env.get("FLYLOGS_ORG"):
        org, origins["org"] = env["FLYLOGS_ORG"], Origin(Source.ENV, "FLYLOGS_ORG")
    elif env.get("FLY_ORG"):
        org, origins["org"] = env["FLY_ORG"], Origin(Source.ENV, "FLY_ORG")
    elif "org" in config:
        org, origins["org"] = config["org"], Origin(Source.CONFIG, str(config_path))
    elif origins["token"].source is Source.KEYRING and (creds := keyring()) is not None:
        org, origins["org"] = creds.org, Origin(Source.KEYRING)
    else:
        org, origins["org"] = DEFAULT_ORG, Origin(Source.DEFAULT)

    api_url, origins["api_url"] = _string(
        flags.api_url, "--api-url", env, "FLYLOGS_API_URL", config, "api_url", config_path, DEFAULT_API_URL
    )
    stream, origins["stream"] = _string(
        flags.stream, "--stream", env, "FLYLOGS_STREAM", config, "stream", config_path, None
    )

    output, origins["output"] = _pick(flags.output, config.get("output"), OutputMode.AUTO, config_path)
    color, origins["color"] = _pick(flags.color, config.get("color"), ColorWhen.AUTO, config_path)
    return Settings(
        servers=servers,
        org=org,
        token=token,
        output=output,
        color=color,
        config_path=config_path,
        origins=origins,
        api_url=api_url or DEFAULT_API_URL,
        stream=stream,
    )


def _string(
    flag: str | None,
    flag_name: str,
    env: Mapping[str, str],
    env_name: str,
    config: Mapping[str, Any],
    key: str,
    config_path: Path,
    default: str | None,
) -> tuple[str | None, Origin]:
    """A plain string setting: flag, then environment, then config file, then default."""
    if flag:
        return flag, Origin(Source.FLAG, flag_name)
    if env.get(env_name):
        return env[env_name], Origin(Source.ENV, env_name)
    if key in config:
        return str(config[key]), Origin(Source.CONFIG, str(config_path))
    return default, Origin(Source.DEFAULT if default is not None else Source.NONE)


def _pick(flag: T | None, configured: T | None, default: T, path: Path) -> tuple[T, Origin]:
    if flag is not None:
        return flag, Origin(Source.FLAG)
    if configured is not None:
        return configured, Origin(Source.CONFIG, str(path))
    return default, Origin(Source.DEFAULT)


# --- the config file ------------------------------------------------------------------------------

CONFIG_KEYS = {
    "server": 'a NATS URL or a list of them, e.g. "nats://[fdaa::3]:4223"',
    "org": 'the org slug used as the NATS user, e.g. "personal"',
    "output": "auto, table, plain, json or raw",
    "color": "auto, always or never",
    "api_url": 'Fly\'s HTTP API, for history and gap backfill, e.g. "https://api.fly.io"',
    "stream": 'a JetStream stream that stores the log subjects, e.g. "LOGS"',
}


def config_file_path(flag: Path | None, env: Mapping[str, str], home: Path) -> tuple[Path, Origin]:
    if flag is not None:
        return flag, Origin(Source.FLAG, "--config")
    if env.get("FLYLOGS_CONFIG"):
        return Path(env["FLYLOGS_CONFIG"]), Origin(Source.ENV, "FLYLOGS_CONFIG")
    if sys.platform == "win32" and env.get("APPDATA"):
        base = Path(env["APPDATA"])
    elif env.get("XDG_CONFIG_HOME"):
        base = Path(env["XDG_CONFIG_HOME"])
    else:
        base = home / ".config"
    return base / "flylogs" / "config.toml", Origin(Source.DEFAULT)


def load_config(path: Path, *, required: bool) -> dict[str, Any]:
    """The validated contents of the config file; {} when it is absent and not required."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        if required:
            raise ConfigError(
                f"config file {path} does not exist", hint="create it, or drop --config / FLYLOGS_CONFIG"
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

    for secret in ("token", "access_token", "password"):
        if secret in data:
            raise ConfigError(
                f"config file {path} holds a {secret!r}: flylogs never reads tokens from its config file",
                hint="remove it from the file and store the token with `flylogs auth login` "
                "(or set FLYLOGS_TOKEN in the environment)",
            )
    unknown = sorted(set(data) - set(CONFIG_KEYS))
    if unknown:
        raise ConfigError(
            f"config file {path} has unknown key(s): {', '.join(unknown)}",
            hint="known keys: " + "; ".join(f"{k} ({v})" for k, v in CONFIG_KEYS.items()),
        )
    config: dict[str, Any] = {}
    if "server" in data:
        server = data["server"]
        if isinstance(server, str):
            server = [server]
        if not (isinstance(server, list) and server and all(isinstance(s, str) and s for s in server)):
            raise ConfigError(
                f"config file {path}: 'server' must be a URL or a list of URLs", CONFIG_KEYS["server"]
            )
        config["server"] = tuple(server)
    for key in ("org", "api_url", "stream"):
        if key in data:
            if not isinstance(data[key], str) or not data[key]:
                raise ConfigError(f"config file {path}: '{key}' must be a non-empty string", CONFIG_KEYS[key])
            config[key] = data[key]
    for key, enum in (("output", OutputMode), ("color", ColorWhen)):
        if key in data:
            try:
                config[key] = enum(data[key])
            except ValueError:
                raise ConfigError(
                    f"config file {path}: {key} = {data[key]!r} is not valid", CONFIG_KEYS[key]
                ) from None
    return config


def app_from_fly_toml(cwd: Path) -> str | None:
    """The `app` named in ./fly.toml, if there is one and it can be read."""
    try:
        data = tomllib.loads((cwd / "fly.toml").read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return None
    app = data.get("app")
    return app if isinstance(app, str) and app else None


# --- flyctl's own config --------------------------------------------------------------------------

_ACCESS_TOKEN_LINE = re.compile(r"^access_token:\s*(.*?)\s*$", re.MULTILINE)


def flyctl_config_path(env: Mapping[str, str], home: Path) -> Path:
    base = Path(env["FLY_CONFIG_DIR"]) if env.get("FLY_CONFIG_DIR") else home / ".fly"
    return base / "config.yml"


def read_flyctl_token(path: Path) -> str | None:
    """`access_token:` from flyctl's config.yml (a one-line scalar: no YAML library needed)."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    match = _ACCESS_TOKEN_LINE.search(text)
    if match is None:
        return None
    value = match.group(1)
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        value = value[1:-1]
    return value or None


# --- tokens and URLs ------------------------------------------------------------------------------


def normalize_token(raw: str | None) -> str | None:
    """Strip `FlyV1 `/`Bearer ` and whitespace; of several comma-separated tokens keep the macaroons.

    flyctl sends macaroons joined by commas; a token string may also carry a legacy token beside them.
    """
    if raw is None:
        return None
    token = raw.strip()
    scheme, _, rest = token.partition(" ")
    if scheme.lower() in ("flyv1", "bearer"):
        token = rest.strip()
    elif token.lower() in ("flyv1", "bearer"):  # a bare scheme word, nothing after it
        token = ""
    if "," in token:
        parts = [p.strip() for p in token.split(",") if p.strip()]
        macaroons = [p for p in parts if p.startswith(MACAROON_PREFIXES)]
        token = ",".join(macaroons or parts)
    return token or None


def redact_token(token: str | None) -> str:
    """A description of a token that reveals nothing usable."""
    if not token:
        return "none"
    kind = "macaroon" if token.startswith(MACAROON_PREFIXES) else "token"
    count = token.count(",") + 1
    plural = f"{count} macaroons" if kind == "macaroon" and count > 1 else kind
    shown = token[: token.index("_") + 1] + "…" if kind == "macaroon" else "…"
    return f"{shown} ({plural}, {len(token)} characters)"


def redact_url(url: str) -> str:
    """`url` without any user:password part."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<invalid URL>"
    if parts.username is None and parts.password is None:
        return url
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit((parts.scheme, host, parts.path, parts.query, parts.fragment))
