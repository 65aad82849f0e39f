"""fly.toml: the app a project directory names, the default for `tail` when no app is named.

Reads one file: `-c/--config PATH` (flyctl's habit), else `./fly.toml`. A missing ./fly.toml means
"no app named here"; a fly.toml that is there but unreadable, broken or without an `app` is an error
naming the file, since following every app of the org by accident is the opposite of what was asked.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

from flylogs.errors import ConfigError


def app_from_fly_toml(path: Path, *, required: bool = False) -> str | None:
    """The `app` named in the fly.toml at `path`; None when there is none and it is not `required`."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        if not required:
            return None
        raise ConfigError(
            f"{path}: no such file", hint="name a fly.toml that exists, or the app itself"
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot be read ({exc.__class__.__name__})", hint=_HINT) from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc})", hint=_HINT) from None
    app = data.get("app")
    if not isinstance(app, str) or not app:
        raise ConfigError(f'{path}: names no app (an `app = "name"` line)', hint=_HINT)
    return app


_HINT = "fix the file, or name the app (flylogs tail APP) or pass --all for every app in the org"
