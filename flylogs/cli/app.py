"""The Typer application and its global options (`--version`, `--debug`)."""

from __future__ import annotations

import os
from typing import Annotated, Any

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


# What each option's value is, in help: a word, not Typer's `<list[str]>` or `<int range> [x>=0]`.
_METAVARS = {
    "app_opt": "APP",
    "instance": "ID",
    "grep": "REGEX",
    "highlight": "REGEX",
    "exclude": "REGEX",
    "field": "EXPR",
    "servers": "URL",
    "api_url": "URL",
    "token": "TOKEN",
    "stream": "NAME",
    "since": "WHEN",
    "until": "WHEN",
    "tz": "ZONE",
    "format": "TEMPLATE",
    "multiline": "on|off",
    "order": "arrival|time",
    "order_window": "DURATION",
    "group_wait": "DURATION",
    "flap_window": "DURATION",
    "repeat_every": "DURATION",
    "quiet_hours": "HH:MM-HH:MM",
    "state": "FILE",
    "ping_url": "URL",
    "ping_every": "DURATION",
    "late_after": "DURATION",
    "silent_after": "DURATION",
    "every": "DURATION",
    "stall_timeout": "SECONDS",
    "output": "MODE",
    "time": "MODE",
    "color": "WHEN",
    "color_by": "WHAT",
    "transport": "WAY",
    "rate": "LINES/S",
}


def tidy_help(command: Any) -> Any:
    """Every option of `command` and its subcommands shows a plain metavar (none for a flag), and no
    number-range note: what `--help` teaches is the value to type (ranges are still enforced)."""
    for param in getattr(command, "params", []):
        if getattr(param, "param_type_name", "") != "option":
            continue
        if getattr(param, "is_flag", False) or getattr(param, "is_bool_flag", False):
            param.metavar = ""
        elif param.metavar is None:
            bare = param.bare_type() if hasattr(param, "bare_type") else ""
            number = bare in ("int", "float") or "int" in bare.split("|")[0]
            param.metavar = _METAVARS.get(param.name, "N" if number else str(param.name).upper())
        param._get_number_range_help_str = lambda: None
    made = command.get_help_option  # -h/--help is made on first use: tidied then

    def help_option(ctx: Any) -> Any:
        option = made(ctx)
        if option is not None:
            option.metavar = ""
        return option

    command.get_help_option = help_option
    for sub in getattr(command, "commands", {}).values():
        tidy_help(sub)
    return command
