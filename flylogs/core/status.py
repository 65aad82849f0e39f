"""The connection's state as data: what the status line, stderr and the NDJSON `status` record say.

Owns: the closed set of states (`connecting`, `connected`, `disconnected`, `stalled`, `reconnecting`,
`refused`) and the `Status` record that the core emits the moment the state changes. Times are
passed in (epoch nanoseconds). Must not: do I/O, read a clock, or format for a terminal.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class State(StrEnum):
    CONNECTING = "connecting"
    CONNECTED = "connected"
    DISCONNECTED = "disconnected"
    STALLED = "stalled"
    RECONNECTING = "reconnecting"
    REFUSED = "refused"

    @property
    def up(self) -> bool:
        return self is State.CONNECTED


@dataclass(frozen=True, slots=True)
class Status:
    """One state change: `at_ns` when it happened, the server concerned, and why (for a person)."""

    state: State
    at_ns: int
    server: str | None = None
    reason: str | None = None
    # Polling only: how far behind now the newest line the source has given is, in seconds.
    behind_s: float | None = None
