"""The command line: the only package that imports Typer.

`app` holds the Typer application, `options` the options commands share (one `TailOptions` value),
`boundary` the one `asyncio.run`, the signals and the error → exit-code mapping; each command is a
module of its own (`tail`, `demo`, `auth`, `config`) that resolves settings, builds a plan (`plan`)
and hands it on (`follow`). Heavy modules (nats, rich, keyring) are imported inside commands, so
`--help` and `--version` stay fast.
"""

from __future__ import annotations

import sys

from flylogs.cli import auth, config, demo, tail
from flylogs.cli.app import app
from flylogs.cli.boundary import silence_stdout
from flylogs.errors import ExitCode

__all__ = ["app", "auth", "config", "demo", "main", "tail"]


def main() -> None:
    """The `flylogs` entry point."""
    try:
        app()
    except BrokenPipeError:  # help or a listing piped into `head`
        silence_stdout()
        sys.exit(ExitCode.OK)
