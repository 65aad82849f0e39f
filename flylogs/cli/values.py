"""What a command was asked, as one frozen value: `Selection` (what to follow), `Filters` (what to
show of it) and `TailOptions` (those, the settings' flags and the command's own options)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flylogs.settings.choices import OutputMode
from flylogs.settings.resolve import Flags
from flylogs.settings.spec import BY_NAME


@dataclass(frozen=True, slots=True)
class Selection:
    """What to follow: apps (named, or every app with `--all`), regions, instances."""

    apps: tuple[str, ...] = ()
    all_apps: bool = False
    regions: tuple[str, ...] = ()
    instances: tuple[str, ...] = ()
    groups: tuple[str, ...] = ()  # process groups ("-": lines that name none)
    fly_toml: Path | None = None  # -c: the fly.toml that names the app when none is named


@dataclass(frozen=True, slots=True)
class Filters:
    """What to show of what arrives."""

    grep: tuple[str, ...] = ()
    highlight: tuple[str, ...] = ()
    fields: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    ignore_case: bool = False
    level: str | None = None
    before: int = 0
    after: int = 0
    beats: bool = True  # show the canary's beats (--no-beats: hide them)


@dataclass(frozen=True, slots=True)
class TailOptions:
    """Everything `tail` and `demo` (and what comes next) were asked, as one value."""

    selection: Selection
    filters: Filters
    flags: Flags
    follow: bool = True
    fail_on_gap: bool = False
    tail_last: int | None = None  # --tail N: the last N lines of the history, then follow
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
            groups=many("process_group"),
            fly_toml=v.pop("fly_toml", None),
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
            beats=not v.pop("no_beats", False),
        )
        if v.pop("json_", False):
            v["output"] = OutputMode.JSON
        flag_values = {name: v.pop(name) for name in list(v) if name in BY_NAME}
        if flag_values.get("servers") is not None:
            flag_values["servers"] = tuple(flag_values["servers"])
        flags = Flags(config=v.pop("config", None), **flag_values)
        follow = not v.pop("no_follow", False)
        fail_on_gap = v.pop("fail_on_gap", False)
        tail_last = v.pop("tail_last", None)
        return cls(selection, filters, flags, follow, fail_on_gap, tail_last, tuple(v.items()))
