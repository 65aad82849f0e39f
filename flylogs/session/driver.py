"""The driver: sources → core → sink, on the event loop.

Owns what only an event loop can do: reading the clock for each event, handing the core's outputs to
the sink and the notice sink, coalesced flushing (one flush per burst, when the loop goes idle),
backpressure (via `Backpressure`), starting backfill tasks, `--count`, and stopping. The hot path
(`on_line`) is one of three specialised handlers chosen once: undecoded raw output, the core's
`line()` shortcut, or the general `feed(Line(…))`; tests prove they give the same output.
Must not: decide what a line or a gap is (the core does), or format anything (the sink does).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Sequence

from flylogs.core.clock import LARGE_NS, describe_offset
from flylogs.core.events import (
    Backfill,
    Drained,
    Event,
    FetchBackfill,
    GapFound,
    Line,
    Notice,
    NoticeKind,
    Output,
    Show,
    StatusChanged,
)
from flylogs.core.status import Status
from flylogs.core.tail import TailCore
from flylogs.model import LogEvent
from flylogs.session.backpressure import OVERLOADED, Backpressure
from flylogs.session.plan import Stats, StopReason
from flylogs.session.ports import Backlog, Consumer, NoticeSink, Sink

SAMPLE_EVERY = 64  # live lines between two samples of the clocks' offset
ORDER_BATCH = 0.02  # seconds: `--order time` lets held lines go at most this often


class Driver:
    def __init__(
        self,
        core: TailCore,
        sink: Consumer,
        notices: NoticeSink,
        *,
        on_stop: Callable[[StopReason], None],
        count: int | None = None,
        backlog: Backlog | None = None,
        clock_ns: Callable[[], int] = time.time_ns,
    ) -> None:
        self.core = core
        self.shown = 0
        self._sink = sink
        # A renderer draws the header, separators and the status line, and flushes; a consumer
        # (watch, check) takes the lines, the gaps and what else it has a method for.
        self._render: Sink | None = sink if isinstance(sink, Sink) else None
        self._recovered: Callable[[LogEvent], None] = getattr(sink, "recovered", sink.event)
        self._status: Callable[[Status], None] | None = getattr(sink, "status", None)
        self._backfill: Callable[[Backfill], bool] = getattr(sink, "backfill", lambda _b: False)
        self._notices = notices
        self._on_stop = on_stop
        self._count = count
        self._backlog = backlog
        self._pressure = Backpressure(backlog) if backlog is not None else None
        self._dropping = False  # (the pressure's own flag, mirrored: read for every line)
        self._clock_ns = clock_ns
        self._stopped = False
        self._reason: StopReason | None = None
        self._flush_pending = False
        # Fly's clock against this one (the core's), from a sample of the live lines (1 in SAMPLE_EVERY).
        self._until_sample = 1
        self._skew_said = False
        self.fetch: Callable[[FetchBackfill], None] = lambda _ask: None
        self._join_timer: asyncio.TimerHandle | None = None
        self._order_timer: asyncio.TimerHandle | None = None
        self._joiner = core.joiner
        self.on_line: Callable[[str, bytes], None]
        self._decoded = core.decodes or not hasattr(sink, "payload")
        if not self._decoded:
            self.on_line = self._on_raw
        elif core.simple and core.joiner is not None:
            self.on_line = self._on_joining
        elif core.simple:
            self.on_line = self._on_line
        else:
            self.on_line = self._on_general

    @property
    def stats(self) -> Stats:
        core = self.core
        return Stats(core.received, self.shown, core.malformed, core.dropped, self._decoded)

    # --- the hot path ----------------------------------------------------------------------------

    def _on_line(self, subject: str, data: bytes) -> None:
        if self._stopped:
            return
        event = self.core.line(subject, data)
        if event is not None:
            self._show(event)

    def _on_joining(self, subject: str, data: bytes) -> None:
        """The hot path with stack traces joined: most lines still go straight out."""
        if self._stopped:
            return
        core = self.core
        event = core.line(subject, data, self._clock_ns())
        if event is not None:
            self._show(event)
        elif core.outputs:
            outputs, core.outputs = core.outputs, []
            self.apply(outputs)
        if self._joiner is not None and self._joiner.holding and self._join_timer is None:
            self._arm()

    def _on_general(self, subject: str, data: bytes) -> None:
        if not self._stopped:
            self.apply(self.core.feed(Line(subject, data, self._clock_ns()), 0))
            if self.core.joiner is not None and self._join_timer is None:
                self._arm()
            if self.core.reorder is not None and self._order_timer is None:
                self._arm_order()

    def _arm_order(self) -> None:
        """`--order time`: let the held lines go when their window has passed, not a tick later."""
        core = self.core
        assert core.reorder is not None
        # At least ORDER_BATCH apart: at thousands of lines a second a timer per line would cost
        # more than the lines themselves (a line waits at most that much past its window).
        now = core.skew.now(self._clock_ns())  # (the window is in Fly's time)
        self._order_timer = self._later(core.reorder.next_due, now, ORDER_BATCH, self._ordered)

    def _ordered(self) -> None:
        self._order_timer = None
        if not self._stopped:
            self.apply(self.core.ordered(self._clock_ns()))  # (shown lines schedule the flush)
            self._arm_order()

    def _arm(self) -> None:
        """A multi-line event is held: let it go when its window ends, not a tick later."""
        assert self.core.joiner is not None
        self._join_timer = self._later(self.core.joiner.next_due, self._clock_ns(), 0.0, self._joined)

    @staticmethod
    def _later(
        due_ns: int | None, now_ns: int, at_least: float, then: Callable[[], None]
    ) -> asyncio.TimerHandle | None:
        """A timer calling `then` when `due_ns` comes (`at_least` seconds from now); None: nothing due."""
        if due_ns is None:
            return None
        return asyncio.get_running_loop().call_later(max(at_least, (due_ns - now_ns) / 1e9), then)

    def _joined(self) -> None:
        self._join_timer = None
        if not self._stopped:
            self.apply(self.core.joined(self._clock_ns()))
            self._arm()

    def _on_raw(self, subject: str, data: bytes) -> None:
        """`--output raw` with nothing to decide: payloads go out undecoded."""
        if self._stopped:
            return
        self.core.undecoded()
        backlog = self._backlog
        if backlog is not None and (self._dropping or backlog.backlog > backlog.limit) and self._drop():
            from flylogs.decode import decode  # only to know when the dropped line was written

            self.core.drop(decode(subject, data), self._clock_ns())
            return
        try:
            self._sink.payload(data)  # type: ignore[attr-defined]
        except BrokenPipeError:
            self.stop(StopReason.PIPE_CLOSED)
            return
        self._shown()

    def _show(self, event: LogEvent, recovered: bool = False) -> None:
        backlog = self._backlog
        # (The inline test spares a method call per line while the output keeps up.)
        if backlog is not None and (self._dropping or backlog.backlog > backlog.limit) and self._drop():
            self.core.drop(event, self._clock_ns())
            return
        try:
            if recovered:
                self._recovered(event)
            else:
                self._sink.event(event)
                self._until_sample -= 1
                if self._until_sample <= 0:
                    self._sample(event)
        except BrokenPipeError:
            self.stop(StopReason.PIPE_CLOSED)
            return
        self._shown()

    def _sample(self, event: LogEvent) -> None:
        """One live line's arrival against its timestamp: the clocks' offset, said once when large."""
        self._until_sample = SAMPLE_EVERY
        written = event.ns()
        if written is None:
            return
        if self.core.skew.observe(self._clock_ns(), written):
            self.say_skew("the lines' arrival")

    def say_skew(self, source: str) -> None:
        """The clocks' offset, measured from `source`, said once when it is large."""
        offset = self.core.skew.offset_ns or 0
        if abs(offset) > LARGE_NS and not self._skew_said:
            self._skew_said = True
            self._notices.notice(
                Notice(
                    NoticeKind.INFO,
                    f"Fly's clock is about {describe_offset(offset)} (from {source}): gap windows and "
                    "history are said and read in Fly's time",
                )
            )

    def _shown(self) -> None:
        self.shown += 1
        if self._count is not None and self.shown >= self._count:
            self.flush()
            self.stop(StopReason.COUNT)
            return
        if not self._flush_pending:
            self._flush_pending = True
            # Flush once the burst in hand is written: per-line latency without a syscall per line.
            asyncio.get_running_loop().call_soon(self.flush)

    def _drop(self) -> bool:
        assert self._pressure is not None
        verdict = self._pressure.overloaded()
        self._dropping = self._pressure.dropping
        if verdict is None:
            self._notices.notice(Notice(NoticeKind.ERROR, OVERLOADED))
            return True
        if not verdict:
            self.flush()  # reports the dropped lines' gap before the next line is shown
        return verdict

    # --- everything else -------------------------------------------------------------------------

    def feed(self, event: Event) -> None:
        """An event from a source or a task: the core decides, the outputs go out at once."""
        if self._stopped:
            return
        self.apply(self.core.feed(event, self._clock_ns()))
        self.schedule_flush()

    def header(self) -> None:
        if self._render is not None:
            self._render.header()

    def apply(self, outputs: Sequence[Output]) -> None:
        sink = self._sink
        changed = False
        for out in outputs:
            if self._stopped:
                return
            try:
                if isinstance(out, Show):
                    if out.separated and self._render is not None:
                        self._render.separator()
                    self._show(out.event, out.recovered)
                elif isinstance(out, StatusChanged):
                    if self._status is not None:
                        self._status(out.status)
                    changed = True
                elif isinstance(out, Notice):
                    self._notices.notice(out)
                elif isinstance(out, GapFound):
                    if not sink.gap(out.gap, out.pending):
                        self._notices.notice(Notice(NoticeKind.GAP, "gap", out.gap.server, out.gap))
                elif isinstance(out, Backfill):
                    if not self._backfill(out):
                        self._notices.notice(Notice(NoticeKind.BACKFILL, "backfill", None, out.gap, out))
                elif isinstance(out, FetchBackfill):
                    self.fetch(out)
            except BrokenPipeError:
                self.stop(StopReason.PIPE_CLOSED)
                return
        if changed:
            self.progress()  # a change of state is said at once, with the counts as they now stand

    def schedule_flush(self) -> None:
        if not self._flush_pending and not self._stopped:
            self._flush_pending = True
            asyncio.get_running_loop().call_soon(self.flush)

    def flush(self) -> None:
        self._flush_pending = False
        if self._stopped:
            return
        if self.core.drops_pending and not self._dropping:
            # Lines dropped under load are reported once the burst is over.
            self.apply(self.core.feed(Drained(), self._clock_ns()))
        try:
            if self._render is not None:
                self._render.flush()
        except BrokenPipeError:
            self.stop(StopReason.PIPE_CLOSED)

    def tick(self) -> None:
        """About four times a second, so quiet streams notice too: a closed pipe ends the session; a
        dropping spell ends once the output has caught up; the status line moves on."""
        if self._backlog is not None and self._backlog.broken:
            self.stop(StopReason.PIPE_CLOSED)
            return
        if self._pressure is not None and self._pressure.caught_up():
            self._dropping = False
            self.flush()

    def progress(self) -> None:
        if not self._stopped and self._render is not None:
            try:
                self._render.progress(self.shown, len(self.core.gaps), self._clock_ns(), self.core.received)
            except BrokenPipeError:
                self.stop(StopReason.PIPE_CLOSED)

    def stop(self, reason: StopReason) -> None:
        if not self._stopped:
            self._stopped, self._reason = True, reason
            self._on_stop(reason)

    def finish(self) -> None:
        """The end of the session: what is buffered goes out, the status line goes away (not after a
        closed pipe: nobody is reading)."""
        for timer in (self._join_timer, self._order_timer):
            if timer is not None:
                timer.cancel()
        if self._reason is StopReason.PIPE_CLOSED:
            return
        if not self._stopped:
            self.flush()
        self._stopped = True
        if self._render is not None:
            with contextlib.suppress(BrokenPipeError):
                self._render.finish()
