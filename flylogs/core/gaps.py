"""Gap bookkeeping: which windows of time may hold logs that were published and not shown.

Owns: opening a window when the connection is lost, stalls or lines are dropped, and closing it (once)
when the stream is whole again. A disconnection window starts at the last *confirmed* sign of life:
the send time of the last ping the server answered, since anything published before the server
handled that ping reached us before its pong, and anything after may not have. The window opens
`margin` earlier still (one second by default): a line is stamped by its writer a little before it
reaches the stream, so its timestamp precedes the moment it was published. Times are passed in
(epoch nanoseconds); this module never reads a clock. Must not: do I/O.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum

from flylogs.core.clock import ClockSkew


class GapReason(StrEnum):
    DISCONNECTED = "disconnected"
    STALLED = "stalled"
    SLOW_CONSUMER = "slow_consumer"
    SERVER = "server"


@dataclass(frozen=True, slots=True)
class Gap:
    start_ns: int
    end_ns: int
    reason: GapReason
    dropped: int | None = None
    backfilled: int = 0
    server: str | None = None
    # True when a replayable source filled the whole window (not just some lines of it).
    complete: bool = False
    # Fly's clock minus this one, as known when the window was put in Fly's time (`in_fly_time`).
    offset_ns: int = 0

    @property
    def duration_s(self) -> float:
        return round((self.end_ns - self.start_ns) / 1e9, 3)

    def filled(self, count: int) -> Gap:
        return replace(self, backfilled=self.backfilled + count)

    def in_fly_time(self, skew: ClockSkew) -> Gap:
        """A window measured by this clock (a disconnection, a stall) as the lines' timestamps would
        place it, widened by what is not known of the clocks."""
        start, end = skew.window(self.start_ns, self.end_ns)
        return replace(self, start_ns=start, end_ns=end, offset_ns=skew.offset_ns or 0)


class GapTracker:
    """Windows of possible loss, opened by faults and closed when the stream is whole again."""

    def __init__(self, now_ns: int, margin_ns: int = 1_000_000_000) -> None:
        # Before the first ping is answered, the subscription's own start is the last sure moment.
        self._last_alive = now_ns
        self._margin = margin_ns
        self._open_start: int | None = None
        self._open_reason: GapReason | None = None
        self._drop_start: int | None = None
        self._drop_end = 0
        self._dropped = 0
        self.closed: list[Gap] = []

    @property
    def last_alive_ns(self) -> int:
        return self._last_alive

    @property
    def is_open(self) -> bool:
        return self._open_start is not None

    @property
    def drops_pending(self) -> bool:
        return self._drop_start is not None

    def alive(self, sent_ns: int) -> None:
        """A ping sent at `sent_ns` was answered: everything published before it has reached us."""
        if self._open_start is None and sent_ns > self._last_alive:
            self._last_alive = sent_ns

    def lost(self, reason: GapReason) -> None:
        """The connection was lost (or found stalled): open a window from the last sign of life."""
        if self._open_start is None:
            self._open_start = self._last_alive - self._margin
            self._open_reason = reason
        elif reason is GapReason.STALLED:
            self._open_reason = reason

    def restored(self, now_ns: int, server: str | None) -> Gap | None:
        """Subscriptions are active again: close the window, if one was open."""
        if self._open_start is None or self._open_reason is None:
            return None
        gap = Gap(self._open_start, now_ns, self._open_reason, server=server)
        self._open_start = self._open_reason = None
        self._last_alive = now_ns
        self.closed.append(gap)
        return gap

    def dropped(self, first_ns: int, last_ns: int, count: int = 1) -> None:
        """`count` lines that should have been shown were dropped; they were published in [first, last]."""
        if self._drop_start is None or first_ns < self._drop_start:
            self._drop_start = first_ns
        self._drop_end = max(self._drop_end, last_ns)
        self._dropped += count

    def drops_settled(self, server: str | None = None) -> Gap | None:
        """Output has caught up: report the dropped lines as one window."""
        if self._drop_start is None:
            return None
        gap = Gap(
            self._drop_start, self._drop_end, GapReason.SLOW_CONSUMER, dropped=self._dropped, server=server
        )
        self._drop_start, self._drop_end, self._dropped = None, 0, 0
        self.closed.append(gap)
        return gap

    def open_gap(self, now_ns: int) -> Gap | None:
        """The window still open at `now_ns` (for the summary at exit), without closing it."""
        if self._open_start is None or self._open_reason is None:
            return None
        return Gap(self._open_start, now_ns, self._open_reason)
