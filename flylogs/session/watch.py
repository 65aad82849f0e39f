"""A watch session: the tail session's lines fed to the watcher, not shown.

Owns the wiring of `flylogs watch`: the tail session (same sources, same reconnects, same gaps)
writes into `Watching`, a sink that hands lines, state changes and gaps to the watcher; a ticker asks
the watcher once a second what has become true, the notifier what is to be told, the dead-man
switch whether to ping, keeps the state file, and redraws the view; a poller asks the Machines API
for the Machines' states. Every notification, its text redacted, goes to the view and, outside
quiet hours, to each hook. Must not: decide what is silent or told (the core does), parse flags, or
print.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from flylogs.beats import parse_beat
from flylogs.core.alerts import Alert, AlertKind, Frame
from flylogs.core.canary import Canary
from flylogs.core.deadman import DeadMan, Ping
from flylogs.core.events import Backfill, Notice, NoticeKind
from flylogs.core.gaps import Gap
from flylogs.core.notify import Notifier
from flylogs.core.status import State, Status
from flylogs.core.watch import Watcher
from flylogs.model import LogEvent
from flylogs.session.plan import Outcome, StopReason, TailPlan
from flylogs.session.ports import Backlog, NoticeSink
from flylogs.session.run import run_tail
from flylogs.source.machines import MachinesApiError, MachineStates

REFRESH = 1.0  # seconds between the watcher's ticks (and the view's redraws)
MACHINES_EVERY = 30.0  # seconds between asks of the Machines API, at most
CANARY_EVERY = 60 * 1_000_000_000  # ns between two rounds of `canary` records


def machines_every(silent_after_s: float) -> float:
    """How often to ask the Machines API: often enough that a Machine's state is fresh when its
    silence falls due (half the threshold), within the API's limits (2 s at the most often)."""
    return min(MACHINES_EVERY, max(2.0, silent_after_s / 2))


class WatchView(Protocol):
    """Optional, taken when present: `canary(records)`, the canary's records once a minute and at
    exit (JSON writes them; the screen shows its column from the frames)."""

    def show(self, frame: Frame) -> None: ...
    def alert(self, alert: Alert) -> None: ...
    def status(self, status: Status) -> None: ...  # at the moment of change, as tail's
    def note(self, text: str) -> None: ...
    def finish(self) -> None: ...


class AlertHook(Protocol):
    def alert(self, alert: Alert) -> None: ...  # never blocks
    async def close(self, timeout: float = ...) -> None: ...


class Pings(Protocol):
    def ping(self, what: Ping) -> None: ...  # never blocks
    async def close(self, timeout: float = ...) -> None: ...


class StateStore(Protocol):
    def load(self) -> dict[str, Any] | None: ...
    def save(self, state: Mapping[str, Any]) -> bool: ...


class Watching:
    """What a watch session's tail feeds (a `Consumer`, not a renderer): lines, state changes and
    gaps go to the watcher; the view draws from the frame timer."""

    def __init__(
        self,
        watcher: Watcher,
        emit: Callable[[list[Alert]], None],
        clock_ns: Callable[[], int],
        on_status: Callable[[Status], None] = lambda _s: None,
        notifier: Notifier | None = None,
        canary: Canary | None = None,
    ) -> None:
        self.canary = canary or Canary()
        self.state = State.CONNECTING
        self.gaps = 0
        self.down_since: int | None = clock_ns()  # (not yet up: down since the start)
        self._watcher = watcher
        self._emit = emit
        self._clock_ns = clock_ns
        self._on_status = on_status
        self._notifier = notifier

    def event(self, event: LogEvent) -> None:
        now = self._clock_ns()
        beat = parse_beat(event.message)
        if beat is not None and event.app and event.instance:
            self.canary.beat(event.app, event.instance, event.region, beat, now)
        alerts = self._watcher.line(event, now)
        if alerts:
            self._emit(alerts)

    def status(self, status: Status) -> None:
        self.state = status.state
        if status.state.up:
            self.down_since = None
        elif self.down_since is None:
            self.down_since = status.at_ns
        self._on_status(status)
        self._emit(self._watcher.connection(status.state.up, status.at_ns, status.reason))

    def gap(self, gap: Gap, pending: str | None = None) -> bool:
        self.gaps += 1
        if pending is not None:  # silence over the gap is judged once the backfill has said
            self._watcher.held = True
        self.canary.gap(gap.start_ns, gap.end_ns)
        if pending is None:  # no backfill will come: beats missing in it are unknown
            self.canary.backfilled(gap.start_ns, gap.end_ns, gap.complete)
        self._emit(self._watcher.gap(gap.start_ns, gap.end_ns, self._clock_ns(), gap.complete))
        return False  # said as a notice too, the way tail says it

    def backfill(self, backfill: Backfill) -> bool:
        self._watcher.held = False
        self.canary.backfilled(backfill.gap.start_ns, backfill.gap.end_ns, backfill.complete)
        return True  # the watcher has nothing to show of it (the gap was its alert)

    def recovered(self, event: LogEvent) -> None:
        """A line of the past a backfill brought back: the instance was heard then, and the line
        counts for its open alert (`backfilled` in the resolve)."""
        self._watcher.heard(event, event.ns())
        beat = parse_beat(event.message)
        if beat is not None and event.app and event.instance:
            self.canary.beat(event.app, event.instance, event.region, beat, None)
        if self._notifier is not None and event.app and event.instance:
            self._notifier.recovered(event.app, event.instance)


@dataclass(frozen=True, slots=True)
class WatchSpec:
    way: str  # for a person: how the stream is reached
    heartbeat: bool = False
    refresh: float = REFRESH
    machines_every: float = MACHINES_EVERY


@dataclass(slots=True)
class Telling:
    """What decides and carries what is told: the notifier, the dead-man switch and its pings, the
    state file."""

    notifier: Notifier = field(default_factory=lambda: Notifier(group_wait_s=0))
    deadman: DeadMan | None = None
    pings: Pings | None = None
    store: StateStore | None = None


async def run_watch(
    plan: TailPlan,
    watcher: Watcher,
    view: WatchView,
    hooks: Sequence[AlertHook],
    notices: NoticeSink,
    stop: asyncio.Future[StopReason],
    spec: WatchSpec,
    *,
    machines: MachineStates | None = None,
    output: Backlog | None = None,
    redact: Callable[[str], str] = lambda text: text,
    telling: Telling | None = None,
    canary: Canary | None = None,
    prepare: Callable[[Callable[[str], None]], Awaitable[object]] | None = None,
    clock_ns: Callable[[], int] = time.time_ns,
) -> Outcome:
    """Watch until `stop` resolves; raises as `run_tail` does on a failed start. `output`: the
    threaded output the view writes to; a reader that went away ends the watch (exit 0)."""

    telling = telling or Telling()
    notifier = telling.notifier
    dirty = False

    def tell(told: list[Alert], now: int) -> None:
        nonlocal dirty
        quiet = notifier.quiet(now)
        for alert in told:
            alert = replace(alert, text=redact(alert.text))
            view.alert(alert)
            if not quiet or alert.kind is AlertKind.SUMMARY:  # quiet hours: hooks hold theirs
                for hook in hooks:
                    hook.alert(alert)
        dirty = dirty or bool(told)

    def emit(alerts: list[Alert]) -> None:
        nonlocal dirty
        if alerts:
            now = clock_ns()
            tell(notifier.feed(alerts, now), now)
            dirty = True

    def keep(force: bool = False) -> None:
        nonlocal dirty
        if telling.store is not None and (dirty or force):
            telling.store.save({"notifier": notifier.state(), "watcher": watcher.export()})
        dirty = False

    if telling.store is not None and (saved := telling.store.load()) is not None:
        with contextlib.suppress(KeyError, TypeError, ValueError):  # a state of another shape: afresh
            watcher.restore(saved.get("watcher") or {}, clock_ns())
            notifier.restore(saved.get("notifier") or [])
    sink = Watching(watcher, emit, clock_ns, view.status, notifier, canary)

    def frame(now: int) -> Frame:
        flapping = notifier.flapping()
        rows = tuple(
            replace(
                row,
                open=row.open | {AlertKind.FLAPPING} if (row.app, row.instance) in flapping else row.open,
                canary=sink.canary.summary(row.app, row.instance),
            )
            for row in watcher.snapshot(now)
        )
        per_min = sum(row.per_min for row in rows)  # (the rows have counted the minute already)
        return Frame(now, spec.way, sink.state, per_min, sink.gaps, notifier.open_count, rows, spec.heartbeat)

    async def ticking() -> None:
        while True:
            now = clock_ns()
            emit(watcher.tick(now) + sink.canary.tick(now))
            tell(notifier.tick(now), now)
            if now - reported[0] >= CANARY_EVERY and sink.canary.series:
                write_canary(sink.canary.records(now, reported[0]))
                reported[0] = now
            if telling.deadman is not None and telling.pings is not None:
                ping = telling.deadman.tick(now, sink.down_since)
                if ping is not None:
                    telling.pings.ping(ping)
            keep()
            view.show(frame(now))  # the only redraw: from this timer, never inside the reader
            if output is not None and output.broken and not stop.done():
                stop.set_result(StopReason.PIPE_CLOSED)
            await asyncio.sleep(spec.refresh)

    async def polling(states: MachineStates) -> None:
        failing = False
        while True:
            try:
                found = await states.fetch()
            except MachinesApiError as exc:
                if not failing:
                    text = f"{redact(str(exc))}; Machine states unknown until it answers"
                    notices.notice(Notice(NoticeKind.ERROR, text))
                failing = True
            else:
                if failing:
                    notices.notice(Notice(NoticeKind.INFO, "the Machines API answers again"))
                failing = False
                groups = plan.keep.groups  # --process-group: the Machines of those groups only
                found = [m for m in found if not groups or (m.group or "-") in groups]
                listed = {(m.app, m.id): m.state for m in found}
                details = {(m.app, m.id): (m.region, m.group, m.started_ns, m.version) for m in found}
                emit(watcher.machines(listed, clock_ns(), details, states.apps))
            await asyncio.sleep(spec.machines_every)

    reported = [clock_ns()]  # when the canary's records were last written
    write_canary: Callable[[list[dict[str, Any]]], None] = getattr(view, "canary", lambda _records: None)

    async def measuring() -> None:
        """The clocks' offset for the canary's latencies, from the logs API's `Date` header."""
        from flylogs.core.clock import significant
        from flylogs.source.flyapi import FlyApiHistory

        if plan.api is not None:
            with contextlib.suppress(Exception):  # without it, latencies are said approximate
                measured = await FlyApiHistory(plan.api).offset()
                if measured is not None:
                    sink.canary.offset_ns = significant(*measured)

    tasks = [asyncio.create_task(ticking()), asyncio.create_task(measuring())]
    if machines is not None:
        tasks.append(asyncio.create_task(polling(machines)))
    try:
        return await run_tail(plan, sink, notices, stop, clock_ns=clock_ns, prepare=prepare)
    finally:
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if machines is not None:
            await machines.close()
        keep(force=True)
        if sink.canary.series:
            write_canary(sink.canary.records(clock_ns(), reported[0]))
        for hook in hooks:
            await hook.close()
        if telling.pings is not None:
            await telling.pings.close()
        view.finish()
