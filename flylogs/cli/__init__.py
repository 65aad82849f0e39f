"""The command line: the only package that imports Typer.

`app` holds the Typer application, `options` the options commands share (one `TailOptions` value),
`boundary` the one `asyncio.run`, the signals and the error → exit-code mapping; each command is a
module of its own (`tail`, `demo`, `auth`, `config`) that resolves settings, builds a plan (`plan`)
and hands it on (`follow`). Heavy modules (nats, rich, keyring) are imported inside commands, so
`--help` and `--version` stay fast.
"""

from __future__ import annotations

import sys

import typer
import typer.main

from flylogs.cli import auth, beat, config, demo, doctor, tail, watch
from flylogs.cli.app import app, tidy_help
from flylogs.cli.boundary import click_failure, silence_stdout
from flylogs.errors import ExitCode

__all__ = ["app", "auth", "beat", "config", "demo", "doctor", "main", "tail", "watch"]


def main() -> None:
    """The `flylogs` entry point: usage errors in flylogs' own one-line style, not Typer's boxes."""
    command = tidy_help(typer.main.get_command(app))
    try:
        code = command.main(prog_name="flylogs", standalone_mode=False)
    except typer.Abort:
        code = ExitCode.INTERRUPTED
    except typer.TyperException as error:  # Typer's parser: an unknown option, a bad value, ...
        code = click_failure(error)
    except BrokenPipeError:  # help or a listing piped into `head`
        silence_stdout()
        code = ExitCode.OK
    sys.exit(code if isinstance(code, int) else ExitCode.OK)
