"""The pipeline: bytes in → decode → filter → sink.

Owns: the hot path (`Pipeline.handle`, called synchronously for every message), counting, `--count`,
coalesced flushing (one flush per burst, when the event loop goes idle), dropping (and accounting for)
lines the output cannot take, and the seams of history (holding live lines, replays without
duplicates). Must not: do I/O of its own, parse flags, read the environment, or print anything but
through the sink and notice sink.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Protocol

from flylogs.core.context import Context
from flylogs.core.dedupe import RecentLines
from flylogs.core.gaps import Gap, GapTracker
from flylogs.decode import decode
from flylogs.filters import Filter
from flylogs.model import LogEvent, Notice, NoticeKind


class Sink(Protocol):
    def header(self) -> None: ...
    def event(self, event: LogEvent) -> None: ...
    def gap(self, gap: Gap) -> bool: ...  # False: the sink has no place for it (stderr then)
    def separator(self) -> None: ...  # between groups of context lines
    def flush(self) -> None: ...


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
    decoded: bool = True  # False: raw output skipped decoding, so malformed lines were not counted


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
        context: Context | None = None,
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
        # With context lines, --grep picks the matches and everything else decides what may show.
        self._context = context
        self._grep = keep.grep if context is not None else ()
        if context is not None:
            keep = replace(keep, grep=())
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
        self._admit(event)

    def _admit(self, event: LogEvent) -> None:
        """Every line that passed the filters comes here, live, held or replayed: with context lines
        on, --grep decides what shows (and what comes along as context); otherwise it shows."""
        if self._context is None:
            self._show(event)
            return
        matched = any(pattern.search(event.message) for pattern in self._grep)
        for shown, separated in self._context.feed(event, matched):
            if separated:
                self._sink.separator()
            self._show(shown)

    def _show(self, event: LogEvent) -> None:
        backlog = self._backlog
        # (The inline test spares a method call per line while the output keeps up.)
        if (
            backlog is not None
            and (self._dropping or backlog.backlog > backlog.limit)
            and self._overloaded(backlog)
        ):
            self._drop(event)
            return
        try:
            self._sink.event(event)
        except BrokenPipeError:
            self.stop(StopReason.PIPE_CLOSED)
            return
        if self._recent is not None:
            self._recent.add(RecentLines.key(event))
        self._shown()

    def handle_raw(self, subject: str, data: bytes) -> None:
        """The hot path for `--output raw` with nothing to filter: payloads go out undecoded."""
        if self._stopped:
            return
        self.stats.received += 1
        backlog = self._backlog
        if (
            backlog is not None
            and (self._dropping or backlog.backlog > backlog.limit)
            and self._overloaded(backlog)
        ):
            self._drop(decode(subject, data))  # decoded only to know when the dropped line was written
            return
        try:
            self._sink.payload(data)  # type: ignore[attr-defined]
        except BrokenPipeError:
            self.stop(StopReason.PIPE_CLOSED)
            return
        self._shown()

    @property
    def handler(self) -> Callable[[str, bytes], None]:
        """`handle`, or `handle_raw` where nothing needs a decoded line (raw output, no filter, no replay)."""
        if (
            self._keep is None
            and self._recent is None
            and self._context is None
            and hasattr(self._sink, "payload")
        ):
            self.stats.decoded = False
            return self.handle_raw
        return self.handle

    def _shown(self) -> None:
        stats = self.stats
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
        keyed = [(e.ns(), i, e) for i, e in enumerate(events)]
        keyed.sort(key=lambda k: (k[0] is None, k[0] or 0, k[1]))
        return [e for _, _, e in keyed]

    def show_all(self, events: Sequence[LogEvent]) -> None:
        recent = self._recent
        for event in events:
            if self._stopped:
                return
            if recent is None or RecentLines.key(event) not in recent:
                self._admit(event)
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
        when = event.ns()
        if when is None:
            when = self._clock_ns()
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
