"""A watch session: the tail session's lines fed to the watcher, not shown.

Owns the wiring of `flylogs watch`: the tail session (same sources, same reconnects, same gaps)
writes into `Watching`, a sink that hands lines, state changes and gaps to the watcher; a ticker asks
the watcher once a second what has become true and redraws the view; a poller asks the Machines API
for the Machines' states; every alert, its text redacted, goes to the view and to each hook.
Must not: decide what is silent (the core does), parse flags, or print.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from typing import Protocol

from flylogs.core.alerts import Alert, Frame
from flylogs.core.events import Backfill, Notice, NoticeKind
from flylogs.core.gaps import Gap
from flylogs.core.status import State, Status
from flylogs.core.watch import Watcher
from flylogs.model import LogEvent
from flylogs.session.plan import Outcome, StopReason, TailPlan
from flylogs.session.ports import Backlog, NoticeSink
from flylogs.session.run import run_tail
from flylogs.source.machines import MachinesApiError, MachineStates

REFRESH = 1.0  # seconds between the watcher's ticks (and the view's redraws)
MACHINES_EVERY = 30.0  # seconds between asks of the Machines API


class WatchView(Protocol):
    def show(self, frame: Frame) -> None: ...
    def alert(self, alert: Alert) -> None: ...
    def status(self, status: Status) -> None: ...  # at the moment of change, as tail's
    def note(self, text: str) -> None: ...
    def finish(self) -> None: ...


class AlertHook(Protocol):
    def alert(self, alert: Alert) -> None: ...  # never blocks
    async def close(self, timeout: float = ...) -> None: ...


class Watching:
    """What a watch session's tail feeds (a `Consumer`, not a renderer): lines, state changes and
    gaps go to the watcher; the view draws from the frame timer."""

    def __init__(
        self,
        watcher: Watcher,
        emit: Callable[[list[Alert]], None],
        clock_ns: Callable[[], int],
        on_status: Callable[[Status], None] = lambda _s: None,
    ) -> None:
        self.state = State.CONNECTING
        self.gaps = 0
        self._watcher = watcher
        self._emit = emit
        self._clock_ns = clock_ns
        self._on_status = on_status

    def event(self, event: LogEvent) -> None:
        alerts = self._watcher.line(event, self._clock_ns())
        if alerts:
            self._emit(alerts)

    def status(self, status: Status) -> None:
        self.state = status.state
        self._on_status(status)
        self._emit(self._watcher.connection(status.state.up, status.at_ns, status.reason))

    def gap(self, gap: Gap, pending: str | None = None) -> bool:
        self.gaps += 1
        self._emit(self._watcher.gap(gap.start_ns, gap.end_ns, self._clock_ns(), gap.complete))
        return False  # said as a notice too, the way tail says it

    def backfill(self, backfill: Backfill) -> bool:
        return True  # the watcher has nothing to show of it (the gap was its alert)

    def recovered(self, event: LogEvent) -> None:
        """A line of the past, a backfill brought back: no sign of life now, so not the watcher's."""


@dataclass(frozen=True, slots=True)
class WatchSpec:
    way: str  # for a person: how the stream is reached
    heartbeat: bool = False
    refresh: float = REFRESH
    machines_every: float = MACHINES_EVERY


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
    prepare: Callable[[Callable[[str], None]], Awaitable[object]] | None = None,
    clock_ns: Callable[[], int] = time.time_ns,
) -> Outcome:
    """Watch until `stop` resolves; raises as `run_tail` does on a failed start. `output`: the
    threaded output the view writes to; a reader that went away ends the watch (exit 0)."""

    def emit(alerts: list[Alert]) -> None:
        for alert in alerts:
            alert = replace(alert, text=redact(alert.text))
            view.alert(alert)
            for hook in hooks:
                hook.alert(alert)

    sink = Watching(watcher, emit, clock_ns, view.status)

    def frame(now: int) -> Frame:
        rows = tuple(watcher.snapshot(now))
        per_min = sum(row.per_min for row in rows)  # (the rows have counted the minute already)
        return Frame(
            now, spec.way, sink.state, per_min, sink.gaps, watcher.open_count(), rows, spec.heartbeat
        )

    async def ticking() -> None:
        while True:
            now = clock_ns()
            emit(watcher.tick(now))
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
                listed = {(m.app, m.id): m.state for m in found}
                details = {(m.app, m.id): (m.region, m.group) for m in found}
                emit(watcher.machines(listed, clock_ns(), details, states.apps))
            await asyncio.sleep(spec.machines_every)

    tasks = [asyncio.create_task(ticking())]
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
        for hook in hooks:
            await hook.close()
        view.finish()
