"""`./fly.toml`: the app a project directory names, the default for `tail` and `demo`. Reads one file."""

from __future__ import annotations

import tomllib
from pathlib import Path


def app_from_fly_toml(cwd: Path) -> str | None:
    """The `app` named in ./fly.toml, if there is one and it can be read."""
    try:
        data = tomllib.loads((cwd / "fly.toml").read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return None
    app = data.get("app")
    return app if isinstance(app, str) and app else None
