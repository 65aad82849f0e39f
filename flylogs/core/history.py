"""The history seams: live lines held while history is read, and replays without duplicates.

Owns: the bounded hold of live lines at start (`--since`, and the header that must come first), the
memory of shown lines (with a history source), and preparing a replayed window: decoded, filtered,
less what was already shown, in timestamp order. Must not: do I/O or read a clock.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from flylogs.core.dedupe import RecentLines
from flylogs.decode import decode
from flylogs.model import LogEvent

# Live lines held back while history is read at start; past this, they are dropped into a gap.
HOLD_LIMIT = 200_000


class Seam:
    def __init__(self, *, remember: bool, hold_limit: int = HOLD_LIMIT) -> None:
        # With a history source: what was shown, so a replay never shows a line twice.
        self.recent = RecentLines() if remember else None
        self._held: list[LogEvent] | None = []
        self._hold_limit = hold_limit

    @property
    def holding(self) -> bool:
        return self._held is not None

    def hold(self, event: LogEvent) -> bool:
        """Keep a live line back until `release`; False when the hold is full (drop it into a gap)."""
        held = self._held
        assert held is not None
        if len(held) >= self._hold_limit:
            return False
        held.append(event)
        return True

    def release(self) -> list[LogEvent]:
        """The held live lines, less those a replay already showed: no duplicate, no hole."""
        held, self._held = self._held or [], None
        return [e for e in held if not self.seen(e)]

    def seen(self, event: LogEvent) -> bool:
        return self.recent is not None and RecentLines.key(event) in self.recent

    def remember(self, event: LogEvent) -> None:
        if self.recent is not None:
            self.recent.add(RecentLines.key(event))

    def prepare(
        self, messages: Sequence[tuple[str, bytes]], keep: Callable[[LogEvent], bool] | None
    ) -> list[LogEvent]:
        """Replayed messages to show: decoded, filtered, not shown before, in timestamp order."""
        events = []
        for subject, data in messages:
            event = decode(subject, data)
            if self.seen(event):
                continue
            if keep is None or keep(event):
                events.append(event)
        keyed = [(e.ns(), i, e) for i, e in enumerate(events)]
        keyed.sort(key=lambda k: (k[0] is None, k[0] or 0, k[1]))
        return [e for _, _, e in keyed]
