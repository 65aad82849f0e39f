"""The Typer application and its global options (`--version`, `--debug`)."""

from __future__ import annotations

import os
from typing import Annotated

import typer

from flylogs import __version__
from flylogs.cli.boundary import DEBUG

app = typer.Typer(
    name="flylogs",
    help="Live-tail Fly.io logs from the NATS log stream: filters, colour, JSON, and never a silent failure.",
    no_args_is_help=True,
    add_completion=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)
auth_app = typer.Typer(help="Store, remove and inspect the token flylogs uses.", no_args_is_help=True)
config_app = typer.Typer(help="Show the effective settings and where each came from.", no_args_is_help=True)
app.add_typer(auth_app, name="auth")
app.add_typer(config_app, name="config")


def _version(value: bool) -> None:
    if value:
        typer.echo(f"flylogs {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option("--version", "-V", callback=_version, is_eager=True, help="Print the version and exit."),
    ] = False,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks for errors.")] = False,
) -> None:
    """Live-tail Fly.io logs. Start with `flylogs demo`, then `flylogs tail myapp`."""
    DEBUG["on"] = debug or bool(os.environ.get("FLYLOGS_DEBUG"))
