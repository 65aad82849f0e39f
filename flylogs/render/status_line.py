"""The table's status line: connection state, server, lines received per second, shown (of received), gaps.

Fed with state changes (at once) and progress (about once a second); times are passed in.
Must not: write anything (the table sink draws the text).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from flylogs.core.status import State, Status
from flylogs.render.gaps import status_label


@dataclass(slots=True)
class StatusLine:
    status: Status = field(default_factory=lambda: Status(State.CONNECTING, 0))
    shown: int = 0
    received: int = 0
    gaps: int = 0
    _last_received: int = 0
    _last_ns: int = 0
    rate: float = 0.0

    def progress(self, shown: int, gaps: int, now_ns: int, received: int = 0) -> None:
        self.shown, self.gaps = shown, gaps
        self.received = max(received, shown)  # history and backfills are shown, not received live
        if now_ns - self._last_ns >= 900_000_000:
            elapsed = (now_ns - self._last_ns) / 1e9 if self._last_ns else 0.0
            self.rate = (self.received - self._last_received) / elapsed if elapsed > 0 else 0.0
            self._last_received, self._last_ns = self.received, now_ns

    def text(self, now_ns: int) -> str:
        status = self.status
        up = status.state is State.CONNECTED
        label = status_label(status)
        if not up:
            label += f" ({max(0, now_ns - status.at_ns) / 1e9:.0f}s)"
        gaps = self.gaps
        parts = [
            f"{'●' if up else '○'} {label}",
            status.server or "",
            f"{status.behind_s:.0f}s behind" if up and status.behind_s else "",
            f"{self.rate:,.0f} line{'' if round(self.rate) == 1 else 's'}/s",
            f"{self.shown:,} shown"
            + (f" of {self.received:,} received" if self.received != self.shown else ""),
            f"{gaps} gap{'s' if gaps != 1 else ''}",
        ]
        return " · ".join(p for p in parts if p)
