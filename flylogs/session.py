"""A tail session: one stream, one pipeline, one sink, from connecting to the summary.

Owns: wiring a `LogStream` (NATS) and a history source (JetStream or Fly's HTTP API) to a `Pipeline`,
relaying notices, backfilling gaps, the history seam at start, the status line's content, and ending
(count reached, closed pipe, signal, end of history). Must not: parse flags or print but through the
sink and notice sink.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from flylogs.core.context import Context
from flylogs.core.dedupe import RecentLines
from flylogs.core.gaps import Gap, GapTracker
from flylogs.filters import Filter
from flylogs.model import Notice, NoticeKind
from flylogs.pipeline import Backlog, NoticeSink, Pipeline, Sink, Stats, StopReason
from flylogs.source.flyapi import ApiSpec, FlyApiHistory
from flylogs.stream import ConnectOptions, JetStreamHistory, LogStream, describe_error


class HistorySource(Protocol):
    """Somewhere a window of the past can be read back: JetStream, or Fly's HTTP logs API."""

    name: str

    async def check(self) -> None: ...
    async def replay(
        self, start_ns: int, end_ns: int | None, *, fresh: bool = False
    ) -> list[tuple[str, bytes]]: ...


@dataclass(slots=True)
class StatusLine:
    """What the terminal's status line says: connection state, server, lines per second, gaps."""

    state: str = "connecting"
    server: str | None = None
    since: float = 0.0
    last_shown: int = 0
    last_time: float = 0.0
    rate: float = 0.0

    def on_notice(self, notice: Notice, now: float) -> None:
        if notice.kind in (NoticeKind.SUBSCRIBED, NoticeKind.RECONNECTED):
            self.state, self.server = "connected", notice.server
        elif notice.kind is NoticeKind.DISCONNECTED:
            self.state, self.since = "reconnecting", now
        elif notice.kind is NoticeKind.AUTH_REFUSED:
            self.state, self.since = "credentials refused, retrying", now

    def text(self, pipeline: Pipeline, now: float) -> str:
        shown = pipeline.stats.shown
        if now - self.last_time >= 0.9:
            elapsed = now - self.last_time if self.last_time else 0.0
            self.rate = (shown - self.last_shown) / elapsed if elapsed > 0 else 0.0
            self.last_shown, self.last_time = shown, now
        mark = "●" if self.state == "connected" else "○"
        state = self.state if self.state == "connected" else f"{self.state} ({now - self.since:.0f}s)"
        gaps = len(pipeline.reported)
        parts = [f"{mark} {state}", self.server or "", f"{self.rate:,.0f} lines/s", f"{shown:,} shown"]
        parts.append(f"{gaps} gap{'s' if gaps != 1 else ''}")
        return " · ".join(p for p in parts if p)


@dataclass(frozen=True, slots=True)
class TailPlan:
    connect: ConnectOptions
    subjects: Sequence[str]
    keep: Filter = field(default_factory=Filter)
    count: int | None = None
    # A JetStream stream holding the log subjects: fills gaps, and gives history.
    history_stream: str | None = None
    # Else Fly's HTTP logs API, for the apps followed.
    api: ApiSpec | None = None
    # Print history from this moment (epoch ns) before following; needs `history_stream`.
    since_ns: int | None = None
    # False: print the history and stop (`--no-follow`).
    follow: bool = True
    # (before, after) context lines around --grep matches, per instance.
    context: tuple[int, int] | None = None


@dataclass(frozen=True, slots=True)
class Outcome:
    reason: StopReason
    stats: Stats
    elapsed: float
    gaps: tuple[Gap, ...] = ()

    @property
    def unfilled_gaps(self) -> tuple[Gap, ...]:
        return tuple(g for g in self.gaps if not g.complete)


async def run_tail(
    plan: TailPlan,
    sink: Sink,
    notices: NoticeSink,
    stop: asyncio.Future[StopReason],
    clock: Callable[[], float] = time.monotonic,
    clock_ns: Callable[[], int] = time.time_ns,
    backlog: Backlog | None = None,
    status_line: Callable[[str | None], None] | None = None,
) -> Outcome:
    """Follow the stream until `stop` resolves (or the pipeline resolves it). Raises on a failed start.

    `status_line`, on a terminal, is given a one-line summary every second and on every change.
    """
    started = clock()
    status = StatusLine()

    def request_stop(reason: StopReason) -> None:
        if not stop.done():
            stop.set_result(reason)

    gaps = GapTracker(clock_ns())
    pipeline = Pipeline(
        sink,
        plan.keep,
        count=plan.count,
        on_stop=request_stop,
        gaps=gaps,
        notices=notices,
        backlog=backlog,
        clock_ns=clock_ns,
        recent=RecentLines() if plan.history_stream or plan.api else None,
        context=Context(*plan.context) if plan.context else None,
    )
    queue: asyncio.Queue[Notice] = asyncio.Queue()
    stream = LogStream(plan.connect, plan.subjects, pipeline.handler, queue, gaps=gaps, clock_ns=clock_ns)
    history: HistorySource | None = None
    if plan.history_stream:
        history = JetStreamHistory(stream, plan.history_stream)
    elif plan.api is not None:
        history = FlyApiHistory(plan.api)
    backfills: dict[asyncio.Task[None], Gap] = {}

    async def backfill(gap: Gap) -> None:
        """Replay the gap's window from the history source, then report it with what was recovered."""
        assert history is not None
        try:
            events = pipeline.prepare(await history.replay(gap.start_ns, gap.end_ns, fresh=True))
        except Exception as exc:  # the gap stays unfilled, and says so
            notices.notice(
                Notice(NoticeKind.ERROR, f"could not backfill from {history.name}: {describe_error(exc)}")
            )
            pipeline.report_gap(gap)
            return
        pipeline.report_gap(replace(gap, backfilled=len(events), complete=True), flush=False)
        pipeline.show_all(events)

    def relay(notice: Notice) -> None:
        status.on_notice(notice, clock())
        if status_line is not None:
            status_line(status.text(pipeline, clock()))
        if notice.gap is None:
            notices.notice(notice)
        elif history is not None and not stop.done():
            task = asyncio.create_task(backfill(notice.gap))
            backfills[task] = notice.gap
            task.add_done_callback(lambda done: backfills.pop(done, None))
        else:
            pipeline.report_gap(notice.gap)

    async def relay_notices() -> None:
        while True:
            relay(await queue.get())

    async def ticking() -> None:
        ticks = 0
        while True:
            await asyncio.sleep(0.25)
            pipeline.tick()
            ticks += 1
            if status_line is not None and ticks % 4 == 0:
                status_line(status.text(pipeline, clock()))

    async def begin() -> None:
        # Lines that arrive while we start wait (bounded) until the header, and any history, is out:
        # nothing before the header, no live line before older history, no hole, no line twice.
        pipeline.hold()
        await stream.start(subscribe=plan.follow)
        if history is not None:
            await history.check()
        try:
            sink.header()
        except BrokenPipeError:
            request_stop(StopReason.PIPE_CLOSED)
            return
        if plan.since_ns is not None and history is not None:
            end = None if plan.follow else clock_ns()
            pipeline.show_all(pipeline.prepare(await history.replay(plan.since_ns, end)))
        pipeline.release()
        if not plan.follow:
            request_stop(StopReason.END_OF_HISTORY)

    relaying = asyncio.create_task(relay_notices())
    ticker = asyncio.create_task(ticking())
    try:
        starting = asyncio.create_task(begin())
        waiting: set[asyncio.Future[Any]] = {starting, stop}
        await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
        if not starting.done():  # stopped (Ctrl-C) while still connecting
            starting.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await starting
        else:
            starting.result()  # raises AuthError / UnreachableError / HistoryUnavailableError
            await stop
    finally:
        # Backfills still running at the end are abandoned: their gaps are reported as they stand.
        for task, gap in list(backfills.items()):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
            pipeline.report_gap(gap)
        await stream.close()
        while not queue.empty():
            relay(queue.get_nowait())
        for task in (relaying, ticker):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if stop.done() and stop.result() is not StopReason.PIPE_CLOSED:
            if status_line is not None:
                status_line(None)
            pipeline.flush()
    still_open = gaps.open_gap(clock_ns())
    if still_open is not None:  # stopped while disconnected: that window was never closed
        pipeline.report_gap(still_open)
    return Outcome(stop.result(), pipeline.stats, clock() - started, tuple(pipeline.reported))
