"""How far Fly's clock is from this one, measured from the lines themselves. Pure: arrival times come
in with the observations.

A line's timestamp is Fly's clock when it was written; it arrives here a delivery delay later, by this
clock. So `timestamp - arrival = offset - delay`, and the freshest lines (the smallest delay) give
the offset; the spread of the rest gives how late a line can be. Before any line (`--since` with
`--no-follow`), an HTTP `Date` header from Fly's API stands in (`from_date`): whole seconds, so it
says less. A gap is measured by this clock, but the lines in it carry Fly's: `window` turns one into
the other, widened by what is not known, so a line that was on its way when the connection went is
inside it too.
"""

from __future__ import annotations

from collections import deque

MARGIN_NS = 1_000_000_000  # asked for beyond each end of a window, whatever was measured
SAMPLES = 256  # the most recent observations kept
LARGE_NS = 2_000_000_000  # an offset worth telling the user about
# Past this, a line's timestamp says nothing of the clocks (a replayed or relayed line, an app's own
# clock): it is not an observation.
PLAUSIBLE_NS = 600_000_000_000
NS = 1_000_000_000


def from_date(date_s: int, sent_ns: int, received_ns: int) -> tuple[int, int]:
    """Fly's clock minus this one, and how far off that may be, from an HTTP `Date` header (`date_s`,
    whole seconds, truncated) answering a request sent at `sent_ns` and answered at `received_ns`:
    the server's clock read somewhere in [date, date + 1 s) at some moment between the two."""
    middle = (sent_ns + received_ns) // 2
    return date_s * NS + NS // 2 - middle, NS // 2 + (received_ns - sent_ns) // 2


def significant(offset_ns: int, within_ns: int) -> int:
    """An offset no larger than what it may be off by says nothing: 0 then."""
    return offset_ns if abs(offset_ns) > within_ns else 0


def describe_offset(offset_ns: int) -> str:
    """`3.0s ahead of this one`, for a person."""
    way = "ahead of" if offset_ns >= 0 else "behind"
    return f"{abs(offset_ns) / NS:.1f}s {way} this one"


class ClockSkew:
    def __init__(self) -> None:
        self._diffs: deque[int] = deque(maxlen=SAMPLES)  # timestamp - arrival, ns
        self._told: tuple[int, int] | None = None  # (offset, uncertainty) measured another way

    def told(self, offset_ns: int, within_ns: int) -> None:
        """An offset measured another way (`from_date`): used until a line is seen."""
        self._told = (offset_ns, within_ns)

    def observe(self, arrival_ns: int, line_ns: int) -> bool:
        """Keep one observation; True when it alone suggests a large offset (then ask `offset_ns`)."""
        diff = line_ns - arrival_ns
        if abs(diff) > PLAUSIBLE_NS:
            return False
        self._diffs.append(diff)
        return abs(diff) > LARGE_NS

    @property
    def offset_ns(self) -> int | None:
        """Fly's clock minus this one (the freshest line's view); None before any line or `told`."""
        if self._diffs:
            return max(self._diffs)
        return self._told[0] if self._told is not None else None

    @property
    def late_ns(self) -> int:
        """How much later than the freshest a recent line arrived (the delivery delays' spread);
        with only a `told` offset, its uncertainty."""
        if self._diffs:
            return max(self._diffs) - min(self._diffs)
        return self._told[1] if self._told is not None else 0

    def window(self, start_ns: int, end_ns: int) -> tuple[int, int]:
        """A window by this clock as Fly's timestamps, widened by the margin and, at the start, by
        how late a line can arrive (with only a `told` offset: at both ends, by its uncertainty)."""
        offset, late = self.offset_ns or 0, self.late_ns
        after = 0 if self._diffs else late
        return start_ns + offset - late - MARGIN_NS, end_ns + offset + after + MARGIN_NS

    def now(self, now_ns: int) -> int:
        """Fly's clock now, as well as it is known (this one's, before anything is)."""
        return now_ns + (self.offset_ns or 0)
