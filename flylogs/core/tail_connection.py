"""The tail core's half that follows the connection: its state, what to say of each change, and the
gap windows it opens and closes (`core/tail.py`'s `TailCore` is a `ConnectionState`). Sans I/O: times
are passed in. Must not: do I/O, read a clock, or show lines.
"""

from __future__ import annotations

from dataclasses import replace

from flylogs.core.clock import ClockSkew
from flylogs.core.events import (
    Connected,
    FetchBackfill,
    GapFound,
    Leaving,
    Lost,
    Notice,
    NoticeKind,
    Output,
    Refused,
    RefusedWhat,
    Restored,
    StatusChanged,
)
from flylogs.core.gaps import Gap, GapReason, GapTracker
from flylogs.core.order import Reorder
from flylogs.core.status import State, Status

CREDENTIALS_REFUSED = (
    "the server refuses the credentials; retrying (flylogs resumes by itself when they are accepted again)"
)
BEHIND_SAY = 10  # seconds behind from which a polled stream's lag is said on stderr too


def gap_key(gap: Gap) -> tuple[int, int, GapReason]:
    return (gap.start_ns, gap.end_ns, gap.reason)


class ConnectionState:
    # The core's own state, shared (set by TailCore.__init__).
    status: Status
    history: str | None
    skew: ClockSkew
    reorder: Reorder | None
    _outage: bool
    _tracker: GapTracker
    _gaps: dict[tuple[int, int, GapReason], Gap]

    def _behind(self, seconds: int) -> list[Output]:
        """A polled stream's lag: in the status; on stderr too when it passes 10 s, and once caught up."""
        before = self.status.behind_s
        if not self.status.state.up or before == seconds:
            return []
        self.status = replace(self.status, behind_s=seconds)
        out: list[Output] = [StatusChanged(self.status)]
        server = self.status.server
        if seconds >= BEHIND_SAY and (before or 0) < BEHIND_SAY:
            out.append(Notice(NoticeKind.ERROR, f"{server} is {seconds}s behind the newest line", server))
        elif seconds < BEHIND_SAY / 2 and (before or 0) >= BEHIND_SAY:
            out.append(Notice(NoticeKind.ERROR, f"{server} has caught up ({seconds}s behind)", server))
        return out

    def _status(self, state: State, now_ns: int, server: str | None, reason: str | None) -> StatusChanged:
        self.status = Status(state, now_ns, server, reason)
        return StatusChanged(self.status)

    def _found(self, gap: Gap, pending: str | None = None) -> GapFound:
        self._gaps[gap_key(gap)] = gap
        return GapFound(gap, pending)

    def _connected(self, event: Connected, now_ns: int) -> list[Output]:
        following = ", ".join(event.subjects)
        if self.reorder is not None:  # (said in the status line and NDJSON status, where it shows)
            following += f"; in time order within {self.reorder.window_ns / 1e9:g}s"
        return [
            self._status(State.CONNECTED, now_ns, event.server, f"following {following}"),
            Notice(
                NoticeKind.SUBSCRIBED, f"connected to {event.server}; following {following}", event.server
            ),
        ]

    def _lost(self, event: Lost, now_ns: int) -> list[Output]:
        self._tracker.lost(event.reason)
        if self._outage:
            return []  # the same outage, seen by a second callback
        self._outage = True
        stalled = event.reason is GapReason.STALLED
        state = State.STALLED if stalled else State.DISCONNECTED
        text = event.detail or "disconnected; reconnecting"
        return [
            self._status(state, now_ns, event.server, event.detail or "the connection closed"),
            Notice(NoticeKind.DISCONNECTED, text, event.server),
        ]

    def _restored(self, event: Restored, now_ns: int) -> list[Output]:
        self._outage = False
        out: list[Output] = [
            self._status(State.CONNECTED, now_ns, event.server, f"reconnected after {event.outage_s:.1f}s"),
            Notice(
                NoticeKind.RECONNECTED,
                f"reconnected to {event.server} after {event.outage_s:.1f}s",
                event.server,
            ),
        ]
        gap = self._tracker.restored(now_ns, event.server)
        if gap is not None:
            gap = gap.in_fly_time(self.skew)
            out.append(self._found(gap, self.history))
            if self.history is not None:
                out.append(FetchBackfill(gap))
        return out

    def _leaving(self, event: Leaving, now_ns: int) -> list[Output]:
        """Said before the server goes: the status keeps its state (still up), with the reason."""
        server = event.to or event.server
        out: list[Output] = [Notice(NoticeKind.INFO, event.detail, server)]
        if self.status.state.up:
            out.insert(0, self._status(self.status.state, now_ns, server, event.detail))
        return out

    def _refused(self, event: Refused, now_ns: int) -> list[Output]:
        if event.what is RefusedWhat.SUBSCRIPTION:
            # The server removed a subscription: lines on it are lost from now on, until a reconnect
            # replays it (and it is accepted). That is a gap the server opened.
            self._tracker.lost(GapReason.SERVER)
            text = f"the server refused a subscription: {event.detail}"
        else:
            text = CREDENTIALS_REFUSED
        return [
            self._status(State.REFUSED, now_ns, event.server, text),
            Notice(NoticeKind.AUTH_REFUSED, text, event.server),
        ]
