"""What the watcher says, as data: verdicts, alerts, a view's rows and frames, and the alert's JSON
record (the same for NDJSON, `--on-alert`'s stdin and `--webhook`'s body). Must not: do I/O or
format for a terminal.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from flylogs.core.status import State
from flylogs.timestamps import format_rfc3339


class Verdict(StrEnum):
    OK = "ok"
    QUIET = "quiet"  # no line for half the silence threshold
    SILENT = "silent"
    STOPPED = "stopped"


class AlertKind(StrEnum):
    SILENT = "silent"
    HEARTBEAT_MISSED = "heartbeat_missed"
    ERROR_BURST = "error_burst"
    DISCONNECTED = "disconnected"  # the stream itself is down (no app, no instance)
    GAP = "gap"  # a window that may hold missed lines, reported once it is known (nothing to resume)
    RESUMED = "resumed"


@dataclass(frozen=True, slots=True)
class Alert:
    """One transition: `kind` opens (or, `resumed`, closes `closes`) for `app`/`instance` at `at_ns`."""

    kind: AlertKind
    app: str | None  # None: the stream itself (disconnected, gap)
    instance: str | None
    since_ns: int
    at_ns: int
    text: str
    closes: AlertKind | None = None
    region: str | None = None

    def record(self) -> dict[str, object]:
        """`{"type":"alert",…}`: kind, source, since when, the one-line text, what a `resumed` closes."""
        return {
            "type": "alert",
            "kind": self.kind.value,
            "app": self.app,
            "region": self.region,
            "instance": self.instance,
            "since": format_rfc3339(self.since_ns, 3),
            "at": format_rfc3339(self.at_ns, 3),
            "closes": self.closes.value if self.closes else None,
            "text": self.text,
        }


@dataclass(frozen=True, slots=True)
class Row:
    """One instance as a view shows it, at one moment."""

    app: str
    instance: str
    verdict: Verdict
    region: str | None
    group: str | None
    machine: str | None
    last_ns: int | None
    per_min: int  # lines in the last minute
    warnings_per_min: int
    errors_per_min: int
    last_beat_ns: int | None
    open: frozenset[AlertKind]


@dataclass(frozen=True, slots=True)
class Frame:
    """What a watch view shows at one moment: the connection, the totals, the rows."""

    now_ns: int
    way: str  # for a person: "NATS", "flyctl's agent", "Fly's logs API (polling)"
    state: State
    per_min: int
    gaps: int
    open_alerts: int
    rows: tuple[Row, ...]
    heartbeat: bool = False  # show the heartbeat column
