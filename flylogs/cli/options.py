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

from flylogs.model import Level
from flylogs.settings.choices import OutputMode
from flylogs.settings.resolve import Flags
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
                help="Apps to follow. None given: the app in ./fly.toml, else every app in the org.",
                metavar="APP...",
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
        help="On JSON messages: KEY=VALUE, KEY!=VALUE or KEY~REGEX (dotted keys reach inside); "
        "repeatable, all must hold.",
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
        Level | None,
        "--level",
        "-l",
        help="Minimum level (debug < info < warn < error); unknown levels always show.",
        case_sensitive=False,
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
    "json_", bool, "--json", "-j", default=False, help="Same as --output json.", rich_help_panel=OUTPUT
)
FAIL_ON_GAP = _opt(
    "fail_on_gap",
    bool,
    "--fail-on-gap",
    default=False,
    help="Exit 6 at the end if any gap (a window of possibly missed logs) was not filled.",
    rich_help_panel=OUTPUT,
)
NO_FOLLOW = _opt(
    "no_follow",
    bool,
    "--no-follow",
    default=False,
    help="Print the history (default: the last hour) and exit, like `fly logs --no-tail`.",
    rich_help_panel="History and backfill",
)
ConfigOpt = Annotated[
    Path | None,
    typer.Option(
        "--config", help="Config file (TOML). Env FLYLOGS_CONFIG.", dir_okay=False, rich_help_panel=CONNECTION
    ),
]
CONFIG = Param("config", ConfigOpt)

_PY_TYPES: dict[Kind, Any] = {
    Kind.TEXT: str | None,
    Kind.TEXTS: list[str] | None,
    Kind.NUMBER: float | None,
    Kind.COUNT: int | None,
    Kind.SWITCH: bool | None,
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


OUTPUT_SETTINGS = ("output", "time", "color", "color_by", "count", "since")
CONNECTION_SETTINGS = ("servers", "org", "token", "wait", "stall_timeout", "stream", "backfill", "api_url")


@dataclass(frozen=True, slots=True)
class Selection:
    """What to follow: apps (named, or every app with `--all`), regions, instances."""

    apps: tuple[str, ...] = ()
    all_apps: bool = False
    regions: tuple[str, ...] = ()
    instances: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Filters:
    """What to show of what arrives."""

    grep: tuple[str, ...] = ()
    highlight: tuple[str, ...] = ()
    fields: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    ignore_case: bool = False
    level: Level | None = None
    before: int = 0
    after: int = 0


@dataclass(frozen=True, slots=True)
class TailOptions:
    """Everything `tail` and `demo` (and what comes next) were asked, as one value."""

    selection: Selection
    filters: Filters
    flags: Flags
    follow: bool = True
    fail_on_gap: bool = False
    extra: tuple[tuple[str, Any], ...] = ()  # a command's own options (`demo --rate`, …)

    def get(self, name: str) -> Any:
        return dict(self.extra)[name]

    @classmethod
    def from_params(cls, values: dict[str, Any]) -> TailOptions:
        v = dict(values)

        def many(name: str) -> tuple[str, ...]:
            return tuple(v.pop(name, None) or ())

        selection = Selection(
            apps=(*many("apps"), *many("app_opt")),
            all_apps=v.pop("all_apps", False),
            regions=many("region"),
            instances=many("instance"),
        )
        context = v.pop("context", 0)
        filters = Filters(
            grep=many("grep"),
            highlight=many("highlight"),
            fields=many("field"),
            exclude=many("exclude"),
            ignore_case=v.pop("ignore_case", False),
            level=v.pop("level", None),
            before=v.pop("before_context", 0) or context,
            after=v.pop("after_context", 0) or context,
        )
        if v.pop("json_", False):
            v["output"] = OutputMode.JSON
        flag_values = {name: v.pop(name) for name in list(v) if name in BY_NAME}
        if flag_values.get("servers") is not None:
            flag_values["servers"] = tuple(flag_values["servers"])
        flags = Flags(config=v.pop("config", None), **flag_values)
        follow = not v.pop("no_follow", False)
        fail_on_gap = v.pop("fail_on_gap", False)
        return cls(selection, filters, flags, follow, fail_on_gap, tuple(v.items()))


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
        invoked.__doc__ = body.__doc__
        invoked.__name__ = name
        return group.command(name)(invoked)

    return register
