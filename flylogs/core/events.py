"""The vocabulary of the one-way data flow: what sources say, and what the core decides.

Sources (the NATS adapter, history readers, the session's own output watch) emit *events*; the core
(`tail.TailCore.feed`) turns them into *outputs*, which the session hands to the sink and the notice
writer. Every record here is an immutable value: nothing crosses a layer by reference to mutable state.
Must not: do I/O, read a clock, or know about NATS, Rich or Typer.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from flylogs.core.gaps import Gap, GapReason
from flylogs.core.status import Status
from flylogs.model import LogEvent

# --- events: what the sources say -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Line:
    """One message as received (the general path; the hot path passes subject and data directly)."""

    subject: str
    data: bytes
    received_ns: int


@dataclass(frozen=True, slots=True)
class Connected:
    """The first connection is up and its subscriptions are active."""

    server: str | None
    subjects: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Lost:
    """The connection was lost (`disconnected`) or abandoned for want of an answer (`stalled`).

    The window of possible loss opens at the core's last sure moment (the last `Alive`): the core is
    the one owner of that bookkeeping, so the event carries the cause, not a time of its own.
    """

    reason: GapReason
    server: str | None = None
    detail: str = ""


@dataclass(frozen=True, slots=True)
class Reconnecting:
    """A reconnect attempt began (said once per outage)."""

    server: str | None


@dataclass(frozen=True, slots=True)
class Alive:
    """A ping sent at `sent_ns` was answered: everything published before it has reached us."""

    sent_ns: int


@dataclass(frozen=True, slots=True)
class Restored:
    """Subscriptions are active again after an outage of `outage_s` seconds."""

    server: str | None
    outage_s: float = 0.0


@dataclass(frozen=True, slots=True)
class Leaving:
    """The server said it is going away (lame duck mode) while the subscriptions still work; `to`:
    they were moved to that server first (confirmed, nothing lost)."""

    server: str | None
    detail: str
    to: str | None = None


@dataclass(frozen=True, slots=True)
class Overflow:
    """`count` lines published between `first_ns` and `last_ns` were dropped (a buffer overflowed).

    `first_ns` None: from the last sure moment (the client's buffer overflowed, so lines since the
    last answered ping may be among those lost).
    """

    count: int
    first_ns: int | None
    last_ns: int


@dataclass(frozen=True, slots=True)
class Drained:
    """The output has caught up: dropped lines can be reported as one window."""


class RefusedWhat(StrEnum):
    CREDENTIALS = "credentials"
    SUBSCRIPTION = "subscription"


@dataclass(frozen=True, slots=True)
class Refused:
    """The server refused the credentials (after connecting) or a subscription."""

    what: RefusedWhat
    detail: str = ""
    server: str | None = None


@dataclass(frozen=True, slots=True)
class Behind:
    """A polling source's newest line is `seconds` behind now (said when it changes)."""

    seconds: float


@dataclass(frozen=True, slots=True)
class Problem:
    """A fault worth a word (already de-duplicated per outage by the connection policy)."""

    description: str
    server: str | None = None


@dataclass(frozen=True, slots=True)
class HistoryRead:
    """History read at start (`--since`): shown before any live line, in timestamp order."""

    messages: Sequence[tuple[str, bytes]]
    last: int | None = None  # only the last N lines that pass the filters (`--tail N`)
    window: tuple[int, int] | None = None  # `--until`: only lines stamped in [start, end)


@dataclass(frozen=True, slots=True)
class Started:
    """The header and any history are out: held live lines may follow."""


@dataclass(frozen=True, slots=True)
class Backfilled:
    """A gap's window was read back from `source`; `error` says why it could not be (complete or not)."""

    gap: Gap
    source: str
    messages: Sequence[tuple[str, bytes]] = ()
    error: str | None = None
    short: str | None = None  # the lines read are not the whole window (a page cap): why


Event = (
    Line
    | Connected
    | Lost
    | Reconnecting
    | Alive
    | Restored
    | Leaving
    | Overflow
    | Drained
    | Refused
    | Problem
    | Behind
    | HistoryRead
    | Started
    | Backfilled
)


# --- outputs: what the core decides -----------------------------------------------------------


class NoticeKind(StrEnum):
    SUBSCRIBED = "subscribed"
    DISCONNECTED = "disconnected"
    RECONNECTED = "reconnected"
    AUTH_REFUSED = "auth refused"
    ERROR = "error"
    GAP = "gap"
    BACKFILL = "backfill"
    INFO = "info"  # a plain word to the person watching (which way the logs come)


@dataclass(frozen=True, slots=True)
class Backfill:
    """What a backfill of `gap` recovered: reported right before the recovered lines."""

    gap: Gap
    recovered: int
    complete: bool
    source: str
    error: str | None = None


@dataclass(frozen=True, slots=True)
class Notice:
    """A sentence for a person (stderr): what happened to the connection, or a warning."""

    kind: NoticeKind
    text: str
    server: str | None = None
    gap: Gap | None = None
    backfill: Backfill | None = None


@dataclass(frozen=True, slots=True)
class Show:
    """Show a line; `separated`: a `--` goes before it (context groups); `recovered`: from a backfill."""

    event: LogEvent
    separated: bool = False
    recovered: bool = False


@dataclass(frozen=True, slots=True)
class GapFound:
    """A window of possible loss closed: report it now; `pending` names the history source whose
    backfill will follow, reported apart (`Backfill`)."""

    gap: Gap
    pending: str | None = None


@dataclass(frozen=True, slots=True)
class StatusChanged:
    status: Status


@dataclass(frozen=True, slots=True)
class FetchBackfill:
    """Ask: read `gap`'s window back from the history source (the session runs it as a task)."""

    gap: Gap


Output = Show | GapFound | Backfill | StatusChanged | Notice | FetchBackfill
