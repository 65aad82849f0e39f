"""The pipeline: bytes in → decode → filter → sink, and the session that runs it.

Owns: the hot path (`Pipeline.handle`, called synchronously for every message), counting, `--count`,
coalesced flushing (one flush per burst, when the event loop goes idle), the end of a session (count
reached, closed pipe, signal), and wiring a `LogStream` to a sink and the notice writer.
Must not: parse flags, read the environment, or print anything but through the sink and notice writer.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any, Protocol

from flylogs.decode import decode
from flylogs.dedupe import RecentLines
from flylogs.filters import Filter
from flylogs.flyapi import ApiSpec, FlyApiHistory
from flylogs.gaps import Gap, GapTracker
from flylogs.model import LogEvent, Notice, NoticeKind
from flylogs.stream import ConnectOptions, JetStreamHistory, LogStream, describe_error


class Sink(Protocol):
    def header(self) -> None: ...
    def event(self, event: LogEvent) -> None: ...
    def gap(self, gap: Gap) -> bool: ...  # False: the sink has no place for it (stderr then)
    def flush(self) -> None: ...


class HistorySource(Protocol):
    """Somewhere a window of the past can be read back: JetStream, or Fly's HTTP logs API."""

    name: str

    async def check(self) -> None: ...
    async def replay(self, start_ns: int, end_ns: int | None) -> list[tuple[str, bytes]]: ...


class NoticeSink(Protocol):
    def notice(self, notice: Notice) -> None: ...


# Live lines held back while history is read at start; past this, they are dropped into a gap.
HOLD_LIMIT = 200_000


class StopReason(StrEnum):
    COUNT = "count reached"
    END_OF_HISTORY = "end of history"
    PIPE_CLOSED = "output closed"
    INTERRUPTED = "interrupted"
    TERMINATED = "terminated"


class Backlog(Protocol):
    """What the pipeline needs to know of a buffered output: how much is waiting, and how much may."""

    @property
    def backlog(self) -> int: ...
    @property
    def limit(self) -> int: ...
    @property
    def broken(self) -> bool: ...


@dataclass(slots=True)
class Stats:
    received: int = 0
    shown: int = 0
    malformed: int = 0
    dropped: int = 0


class Pipeline:
    """Decode, filter and render each message; stop when told or when `count` lines were shown."""

    def __init__(
        self,
        sink: Sink,
        keep: Filter,
        *,
        count: int | None = None,
        on_stop: Callable[[StopReason], None] = lambda _reason: None,
        gaps: GapTracker | None = None,
        notices: NoticeSink | None = None,
        backlog: Backlog | None = None,
        clock_ns: Callable[[], int] = time.time_ns,
        recent: RecentLines | None = None,
    ) -> None:
        self.stats = Stats()
        self.reported: list[Gap] = []
        # With a history source: what was shown, so a replay never shows a line twice.
        self._recent = recent
        # While history is being read at start, live lines wait here (bounded).
        self._held: list[LogEvent] | None = None
        self.gaps = gaps
        self._notices = notices
        self._backlog = backlog
        self._clock_ns = clock_ns
        self._dropping = False
        self._sink = sink
        self._keep = None if keep.is_empty else keep
        self._count = count
        self._on_stop = on_stop
        self._stopped = False
        self._flush_pending = False

    def handle(self, subject: str, data: bytes) -> None:
        """The hot path. Never raises on message content."""
        if self._stopped:
            return
        stats = self.stats
        stats.received += 1
        event = decode(subject, data)
        if event.malformed is not None:
            stats.malformed += 1
        if self._keep is not None and not self._keep(event):
            return
        if self._held is not None:
            if len(self._held) < HOLD_LIMIT:
                self._held.append(event)
            else:
                self._drop(event)
            return
        self._show(event)

    def _show(self, event: LogEvent) -> None:
        backlog = self._backlog
        if backlog is not None and self._overloaded(backlog):
            self._drop(event)
            return
        try:
            self._sink.event(event)
        except BrokenPipeError:
            self.stop(StopReason.PIPE_CLOSED)
            return
        stats = self.stats
        if self._recent is not None:
            self._recent.add(RecentLines.key(event))
        stats.shown += 1
        if self._count is not None and stats.shown >= self._count:
            self.flush()
            self.stop(StopReason.COUNT)
            return
        if not self._flush_pending:
            self._flush_pending = True
            # Flush once the burst in hand is written: per-line latency without a syscall per line.
            asyncio.get_running_loop().call_soon(self.flush)

    # --- history: holding live lines at the seam, and replays -----------------------------------

    def hold(self) -> None:
        """Keep live lines back (history is being read) until `release`."""
        self._held = []

    def release(self) -> None:
        """Show the held live lines, less those a replay already showed: no duplicate, no hole."""
        held, self._held = self._held or [], None
        self.show_all(held)

    def prepare(self, messages: Sequence[tuple[str, bytes]]) -> list[LogEvent]:
        """Replayed messages to show: decoded, filtered, not shown before, in timestamp order."""
        recent = self._recent
        events = []
        for subject, data in messages:
            event = decode(subject, data)
            if recent is not None and RecentLines.key(event) in recent:
                continue
            if self._keep is None or self._keep(event):
                events.append(event)
        events.sort(key=lambda e: (e.ts_ns is None, e.ts_ns or 0))
        return events

    def show_all(self, events: Sequence[LogEvent]) -> None:
        recent = self._recent
        for event in events:
            if self._stopped:
                return
            if recent is None or RecentLines.key(event) not in recent:
                self._show(event)
        self.flush()

    def _overloaded(self, backlog: Backlog) -> bool:
        """Drop from when the backlog passes its limit until it has drained to half (hysteresis)."""
        if self._dropping:
            if backlog.backlog >= backlog.limit // 2:
                return True
            self._dropping = False
            self.flush()  # reports the dropped lines' gap before the next line is shown
            return False
        if backlog.backlog <= backlog.limit:
            return False
        self._dropping = True
        if self._notices is not None:
            self._notices.notice(
                Notice(
                    NoticeKind.ERROR,
                    "output is not keeping up; dropping lines until it does (they are reported as a gap)",
                )
            )
        return True

    def _drop(self, event: LogEvent) -> None:
        """Account for a line that could not be shown: it becomes part of a gap; memory stays bounded."""
        self.stats.dropped += 1
        when = event.ts_ns if event.ts_ns is not None else self._clock_ns()
        if self.gaps is not None:
            self.gaps.dropped(when, when)

    def tick(self) -> None:
        """Periodic, so quiet streams notice too: a closed pipe ends the session; a dropping spell ends
        once the output has caught up."""
        if self._backlog is None:
            return
        if self._backlog.broken:  # the reader went away while nothing new was being written
            self.stop(StopReason.PIPE_CLOSED)
        elif self._dropping:
            self._overloaded(self._backlog)

    def flush(self) -> None:
        self._flush_pending = False
        if self._stopped:
            return
        if self.gaps is not None and not self._dropping:
            # Lines dropped under load are reported once the burst is over.
            settled = self.gaps.drops_settled()
            if settled is not None:
                self.report_gap(settled, flush=False)
        try:
            self._sink.flush()
        except BrokenPipeError:
            self.stop(StopReason.PIPE_CLOSED)

    def report_gap(self, gap: Gap, *, flush: bool = True) -> None:
        """In-band where the sink has a place for gaps (table, JSON), else on stderr."""
        self.reported.append(gap)
        if self._stopped:
            return
        try:
            shown = self._sink.gap(gap)
        except BrokenPipeError:
            self.stop(StopReason.PIPE_CLOSED)
            return
        if not shown and self._notices is not None:
            self._notices.notice(Notice(NoticeKind.GAP, "gap", gap.server, gap))
        if flush:
            self.flush()

    def stop(self, reason: StopReason) -> None:
        if not self._stopped:
            self._stopped = True
            self._on_stop(reason)


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
    )
    queue: asyncio.Queue[Notice] = asyncio.Queue()
    stream = LogStream(plan.connect, plan.subjects, pipeline.handle, queue, gaps=gaps, clock_ns=clock_ns)
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
            events = pipeline.prepare(await history.replay(gap.start_ns, gap.end_ns))
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
        await stream.start(subscribe=plan.follow)
        if history is not None:
            await history.check()
        try:
            sink.header()
        except BrokenPipeError:
            request_stop(StopReason.PIPE_CLOSED)
            return
        if plan.since_ns is None or history is None:
            return
        # The seam: live lines are already subscribed and held; history runs up to now; duplicates
        # between the two are dropped on release. No hole, no line twice.
        pipeline.hold()
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
