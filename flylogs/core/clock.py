"""How far Fly's clock is from this one, measured from the lines themselves. Pure: arrival times come
in with the observations.

A line's timestamp is Fly's clock when it was written; it arrives here a delivery delay later, by this
clock. So `timestamp - arrival = offset - delay`, and the freshest lines (the smallest delay) give
the offset; the spread of the rest gives how late a line can be. A gap is measured by this clock,
but the history that fills it is indexed by Fly's: `window` turns one into the other, widened so a
line that was on its way when the connection went is asked for too.
"""

from __future__ import annotations

from collections import deque

MARGIN_NS = 1_000_000_000  # asked for beyond each end of a window, whatever was measured
SAMPLES = 256  # the most recent observations kept
LARGE_NS = 2_000_000_000  # an offset worth telling the user about
# Past this, a line's timestamp says nothing of the clocks (a replayed or relayed line, an app's own
# clock): it is not an observation.
PLAUSIBLE_NS = 600_000_000_000


class ClockSkew:
    def __init__(self) -> None:
        self._diffs: deque[int] = deque(maxlen=SAMPLES)  # timestamp - arrival, ns

    def observe(self, arrival_ns: int, line_ns: int) -> bool:
        """Keep one observation; True when it alone suggests a large offset (then ask `offset_ns`)."""
        diff = line_ns - arrival_ns
        if abs(diff) > PLAUSIBLE_NS:
            return False
        self._diffs.append(diff)
        return abs(diff) > LARGE_NS

    @property
    def offset_ns(self) -> int | None:
        """Fly's clock minus this one (the freshest line's view); None before any line."""
        return max(self._diffs) if self._diffs else None

    @property
    def late_ns(self) -> int:
        """How much later than the freshest a recent line arrived (the delivery delays' spread)."""
        return max(self._diffs) - min(self._diffs) if self._diffs else 0

    def window(self, start_ns: int, end_ns: int) -> tuple[int, int]:
        """A window by this clock as Fly's timestamps, widened by the margin and, at the start, by
        how late a line can arrive."""
        offset = self.offset_ns or 0
        return start_ns + offset - self.late_ns - MARGIN_NS, end_ns + offset + MARGIN_NS
