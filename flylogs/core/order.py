"""`--order time`: lines from many instances in timestamp order, within a re-ordering window.

Lines arrive in the order the network delivered them. Each shown line is held until Fly's clock
(this one's, corrected by the measured offset) is `window` past its timestamp, and lines go out in
timestamp order: a line written before another one but delivered up to `window` later still comes
first. A line later than that (its timestamp before the last one let go) goes out at once, marked
late: never dropped, never silently re-sorted. A line without a timestamp goes out at once. Records
of the stream's own (gaps, status, backfill) let every held line go first, so they keep their place
in time. Sans I/O: times are passed in. Must not: do I/O or read a clock.
"""

from __future__ import annotations

import heapq
import itertools

import msgspec

from flylogs.model import LogEvent

WINDOW_NS = 1_000_000_000


class Reorder:
    def __init__(self, window_ns: int = WINDOW_NS) -> None:
        self.window_ns = window_ns
        self._heap: list[tuple[int, int, LogEvent]] = []
        self._seq = itertools.count()  # ties keep arrival order
        self._released = 0  # the timestamp of the last line let go

    @property
    def next_due(self) -> int | None:
        """When (Fly's time) the earliest held line may go; None: nothing held."""
        return self._heap[0][0] + self.window_ns if self._heap else None

    def push(self, event: LogEvent, fly_now_ns: int) -> list[LogEvent]:
        """The lines to show now, in order, after `event` arrived (at `fly_now_ns`, in Fly's time)."""
        ns = event.ns()
        if ns is None:
            return [*self.due(fly_now_ns), event]
        if ns < self._released:
            return [*self.due(fly_now_ns), msgspec.structs.replace(event, late=True)]
        heapq.heappush(self._heap, (ns, next(self._seq), event))
        return self.due(fly_now_ns)

    def due(self, fly_now_ns: int) -> list[LogEvent]:
        """The held lines whose window has passed by `fly_now_ns`, oldest first."""
        ready = []
        heap = self._heap
        while heap and heap[0][0] + self.window_ns <= fly_now_ns:
            ns, _, event = heapq.heappop(heap)
            self._released = max(self._released, ns)
            ready.append(event)
        return ready

    def flush(self) -> list[LogEvent]:
        """Every held line, oldest first (a record of the stream's own follows, or the end)."""
        ready = [heapq.heappop(self._heap) for _ in range(len(self._heap))]
        if ready:
            self._released = max(self._released, ready[-1][0])
        return [event for _, _, event in ready]
