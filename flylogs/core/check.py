"""`flylogs check`'s judgement: did every instance that should be logging log within the window?

Owns, sans I/O: which instances should be logging (the started Machines when the Machines API
answered; else every instance seen in the lines read, which reach back before the window), whether
each logged (or, with a heartbeat pattern, beat) within the window, and an app that logged nothing at
all. Lines arrive with the time they were written (history) or arrived (listening). Must not: do I/O,
read a clock, or format for a terminal.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from flylogs.core.watch import STOPPED_STATES, Verdict
from flylogs.model import LogEvent


@dataclass(frozen=True, slots=True)
class Checked:
    """One instance (or, `instance` None, an app as a whole) and what the window said of it."""

    app: str
    instance: str | None
    verdict: Verdict  # ok, silent or stopped
    region: str | None = None
    last_ns: int | None = None  # its last line (None: none read)
    last_beat_ns: int | None = None
    machine: str | None = None  # the Machines API's state, when it answered
    why: str = ""


@dataclass(frozen=True, slots=True)
class Report:
    start_ns: int
    end_ns: int
    rows: tuple[Checked, ...]

    @property
    def silent(self) -> tuple[Checked, ...]:
        return tuple(r for r in self.rows if r.verdict is Verdict.SILENT)

    @property
    def ok(self) -> bool:
        return not self.silent


def judge(
    lines: Iterable[tuple[LogEvent, int]],
    *,
    apps: Sequence[str],
    start_ns: int,
    end_ns: int,
    machines: dict[tuple[str, str], str] | None = None,
    heartbeat: re.Pattern[str] | None = None,
    regions: dict[tuple[str, str], str | None] | None = None,
) -> Report:
    """`lines`: (event, when) pairs, any order; `machines`: (app, id) → state, None when unknown;
    `regions`: where the Machines API says each Machine is."""
    last: dict[tuple[str, str], int] = {}
    beat: dict[tuple[str, str], int] = {}
    region: dict[tuple[str, str], str | None] = dict(regions or {})
    for event, at in lines:
        if event.app is None or event.instance is None:
            continue
        key = (event.app, event.instance)
        region[key] = event.region or region.get(key)
        last[key] = max(at, last.get(key, at))
        if heartbeat is not None and heartbeat.search(event.message):
            beat[key] = max(at, beat.get(key, at))
    keys = set(last) | set(machines or {})
    rows: list[Checked] = []
    for app, instance in sorted(keys):
        key = (app, instance)
        state = machines.get(key) if machines is not None else None
        seen, beaten = last.get(key), beat.get(key)
        mark = beaten if heartbeat is not None else seen
        if state in STOPPED_STATES:
            verdict, why = Verdict.STOPPED, f"the Machine is {state}"
        elif machines is not None and state is None and (seen is None or seen < start_ns):
            continue  # gone from the API and quiet: not one that should be logging
        elif mark is not None and mark >= start_ns:
            verdict, why = Verdict.OK, ""
        else:
            verdict = Verdict.SILENT
            what = "heartbeat" if heartbeat is not None else "line"
            why = f"no {what} within the window"
        rows.append(Checked(app, instance, verdict, region.get(key), seen, beaten, state, why))
    for app in apps:
        mine = [r for r in rows if r.app == app]
        if not mine:  # nothing known and nothing read: the app as a whole
            if machines is not None:
                verdict, why = Verdict.OK, "no started Machine: nothing should be logging"
            else:
                verdict, why = Verdict.SILENT, "no line within the window"
            rows.append(Checked(app, None, verdict, why=why))
    order = {Verdict.SILENT: 0, Verdict.STOPPED: 1, Verdict.OK: 2}
    rows.sort(key=lambda r: (order.get(r.verdict, 3), r.app, r.instance or ""))
    return Report(start_ns, end_ns, tuple(rows))
