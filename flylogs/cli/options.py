"""The options `tail` and `demo` share, declared once, and the value object they travel as.

Like sqlite-utils' shared option decorators: a command lists the groups it takes (`SELECTION`,
`settings_params(...)`, its own extras) and receives one frozen `TailOptions`. Options that are
settings come from the spec table (`flylogs.settings.spec`), so a flag, its environment variable,
its config key and its help can never drift apart.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import typer

from flylogs.cli.values import TailOptions
from flylogs.settings.spec import BY_NAME, Kind, Setting

FILTERS = "Filters"
OUTPUT = "Output"
CONNECTION = "Connection"


@dataclass(frozen=True, slots=True)
class Param:
    """One command-line parameter: its Python name, its Typer declaration, its default."""

    name: str
    annotation: Any
    default: Any = None


def _opt(name: str, kind: Any, *decls: str, default: Any = None, **kw: Any) -> Param:
    return Param(name, Annotated[kind, typer.Option(*decls, **kw)], default)


SELECTION: tuple[Param, ...] = (
    Param(
        "apps",
        Annotated[
            list[str] | None,
            typer.Argument(
                # Said in each command's own help: Typer would print the argument's type beside it.
                metavar="APP",
                hidden=True,
                show_default=False,
            ),
        ],
    ),
    _opt(
        "app_opt",
        list[str] | None,
        "--app",
        "-a",
        help="Same as APP (flyctl's habit); repeatable.",
        rich_help_panel=FILTERS,
    ),
    _opt(
        "region",
        list[str] | None,
        "--region",
        "-r",
        help="Only this region (e.g. iad); repeatable.",
        rich_help_panel=FILTERS,
    ),
    _opt(
        "instance",
        list[str] | None,
        "--instance",
        "--machine",
        "-i",
        "-m",
        help="Only this Machine ID; repeatable.",
        rich_help_panel=FILTERS,
    ),
    _opt(
        "process_group",
        list[str] | None,
        "--process-group",
        "-p",
        metavar="GROUP",
        help="Only this process group (app, worker, …: the app's processes); repeatable. '-' keeps "
        "lines that name none (older payloads, runner lines).",
        rich_help_panel=FILTERS,
    ),
    _opt(
        "grep",
        list[str] | None,
        "--grep",
        "-g",
        help="Show only messages matching this regex (any of several); matches are highlighted.",
        rich_help_panel=FILTERS,
    ),
    _opt(
        "highlight",
        list[str] | None,
        "--highlight",
        "-H",
        help="Highlight matches of this regex without filtering anything; repeatable.",
        rich_help_panel=FILTERS,
    ),
    _opt(
        "field",
        list[str] | None,
        "--field",
        "-f",
        help="On JSON and logfmt messages: KEY=VALUE, KEY!=VALUE or KEY~REGEX (dotted keys reach "
        "inside JSON); repeatable, all must hold.",
        rich_help_panel=FILTERS,
    ),
    _opt(
        "after_context",
        int,
        "--after-context",
        "-A",
        default=0,
        min=0,
        help="Lines after each --grep match, from the same instance.",
        rich_help_panel=FILTERS,
    ),
    _opt(
        "before_context",
        int,
        "--before-context",
        "-B",
        default=0,
        min=0,
        help="Lines before each --grep match, from the same instance.",
        rich_help_panel=FILTERS,
    ),
    _opt(
        "context",
        int,
        "--context",
        "-C",
        default=0,
        min=0,
        help="Same as -A N -B N.",
        rich_help_panel=FILTERS,
    ),
    _opt(
        "exclude",
        list[str] | None,
        "--exclude",
        "-x",
        help="Hide messages matching this regex; wins over --grep.",
        rich_help_panel=FILTERS,
    ),
    _opt(
        "no_beats",
        bool,
        "--no-beats",
        default=False,
        help="Hide the canary's FLYLOGS-BEAT lines (shown, marked, by default).",
        rich_help_panel=FILTERS,
    ),
    _opt(
        "ignore_case",
        bool,
        "--ignore-case",
        "-I",
        default=False,
        help="Case-insensitive --grep and --exclude.",
        rich_help_panel=FILTERS,
    ),
    _opt(
        "level",
        str | None,
        "--level",
        "-l",
        metavar="LEVEL",
        autocompletion=lambda: ["trace", "debug", "info", "warn", "error", "fatal"],
        help="Minimum level: debug < info < warn (warning) < error < fatal; the app's own level "
        "(JSON or logfmt) counts where Fly says info; unknown levels always show.",
        rich_help_panel=FILTERS,
    ),
)

ALL_APPS = _opt(
    "all_apps",
    bool,
    "--all",
    default=False,
    help="Every app in the org (logs.>), even where ./fly.toml names one.",
    rich_help_panel=FILTERS,
)
JSON = _opt(
    "json_",
    bool,
    "--json",
    "-j",
    default=False,
    help="JSON, for scripts: the same as --output json.",
    rich_help_panel=OUTPUT,
)
FAIL_ON_GAP = _opt(
    "fail_on_gap",
    bool,
    "--fail-on-gap",
    default=False,
    help="Exit 6 at the end if any gap (a window of possibly missed logs) was not filled.",
    rich_help_panel=OUTPUT,
)
HISTORY = "History and backfill"
NO_FOLLOW = _opt(
    "no_follow",
    bool,
    "--no-follow",
    "--no-tail",
    default=False,
    help="Print the history (default: the last hour) and exit; --no-tail as in `fly logs --no-tail`.",
    rich_help_panel=HISTORY,
)
TAIL_LAST = _opt(
    "tail_last",
    int | None,
    "--tail",
    metavar="N",
    min=0,
    help="Start with the last N lines of the history (--since, default the last hour), then follow.",
    rich_help_panel=HISTORY,
)
FLY_TOML = _opt(
    "fly_toml",
    Path | None,
    "--config",
    "-c",
    metavar="FLY_TOML",
    dir_okay=False,
    help="The app from this fly.toml (flyctl's -c), e.g. fly.staging.toml. Default ./fly.toml.",
    rich_help_panel=FILTERS,
)
ConfigOpt = Annotated[
    Path | None,
    typer.Option(
        "--flylogs-config",
        metavar="PATH",
        help="flylogs' own config file (TOML). Env FLYLOGS_CONFIG.",
        dir_okay=False,
        rich_help_panel=CONNECTION,
    ),
]
CONFIG = Param("config", ConfigOpt)

_PY_TYPES: dict[Kind, Any] = {
    Kind.TEXT: str | None,
    Kind.TEXTS: list[str] | None,
    Kind.NUMBER: float | None,
    Kind.COUNT: int | None,
    Kind.SWITCH: bool | None,
    Kind.DURATION: str | None,
}


def setting_param(spec: Setting) -> Param:
    """A setting's flag, from its row in the spec table (None: not given, so lower sources apply)."""
    kind = spec.choices | None if spec.choices is not None else _PY_TYPES[spec.kind]
    extra: dict[str, Any] = {}
    if spec.minimum is not None:
        extra["min"] = spec.minimum
    if spec.choices is not None:
        extra["case_sensitive"] = False
    default = spec.default
    if default is not None and spec.kind is not Kind.TEXTS:
        extra["show_default"] = str(getattr(default, "value", default)).lower()
    else:
        extra["show_default"] = False
    env = [e for e in spec.env if e.startswith("FLYLOGS_")]
    help_text = spec.help + (f" Env {', '.join(env)}." if env and spec.name != "token" else "")
    return _opt(spec.name, kind, spec.flag, *spec.short, help=help_text, rich_help_panel=spec.panel, **extra)


def settings_params(*names: str) -> tuple[Param, ...]:
    return tuple(setting_param(BY_NAME[name]) for name in names)


OUTPUT_SETTINGS = (
    "output",
    "time",
    "tz",
    "format",
    "multiline",
    "order",
    "order_window",
    "color",
    "color_by",
    "count",
    "since",
    "until",
)
CONNECTION_SETTINGS = (
    "servers",
    "transport",
    "org",
    "token",
    "wait",
    "stall_timeout",
    "stream",
    "backfill",
    "api_url",
)


def reflow(doc: str) -> str:
    """A docstring's paragraphs each as one line, so the help wraps them at the terminal's width
    (Rich keeps a docstring's line breaks); a paragraph after a `\\b` line is kept as written."""
    paragraphs = inspect.cleandoc(doc).split("\n\n")
    return "\n\n".join(p if p.startswith("\b") else " ".join(p.split("\n")) for p in paragraphs)


def command(
    group: typer.Typer, name: str, params: Sequence[Param]
) -> Callable[[Callable[[TailOptions], None]], Callable[..., None]]:
    """Register `body(options)` as command `name`, taking `params` from the command line."""

    def register(body: Callable[[TailOptions], None]) -> Callable[..., None]:
        def invoked(**values: Any) -> None:
            body(TailOptions.from_params(values))

        invoked.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
            [
                inspect.Parameter(
                    p.name,
                    inspect.Parameter.POSITIONAL_OR_KEYWORD,
                    default=p.default,
                    annotation=p.annotation,
                )
                for p in params
            ]
        )
        invoked.__annotations__ = {p.name: p.annotation for p in params}
        invoked.__doc__ = reflow(body.__doc__ or "")
        invoked.__name__ = name
        return group.command(name)(invoked)

    return register
