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
    WARMING = "warming"  # started (or replaced) less than the silence threshold ago
    REPLACING = "replacing"  # a deploy is replacing its Machine


class AlertKind(StrEnum):
    SILENT = "silent"
    HEARTBEAT_MISSED = "heartbeat_missed"
    ERROR_BURST = "error_burst"
    DISCONNECTED = "disconnected"  # the stream itself is down (no app, no instance)
    GAP = "gap"  # a window that may hold missed lines, reported once it is known (nothing to resume)
    BEATS_LOST = "beats_lost"  # the canary: beats that never arrived (after the backfill had its chance)
    BEATS_LATE = "beats_late"  # the canary: p95 delivery latency over --late-after
    DEPLOY = "deploy"  # Machines of an app are being replaced: their silence is not alerted
    FLAPPING = "flapping"  # opened again and again: told once instead of every silent/resumed pair
    SUMMARY = "summary"  # what is open when quiet hours end (nothing to resume)
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
    # What the notifier (core/notify.py) adds: a group's instances, the identity and the lifecycle.
    instances: tuple[str, ...] = ()
    fingerprint: str | None = None  # kind + app + instance (or group): stable across runs and watchers
    id: str | None = None  # one opening of it
    started_ns: int | None = None
    duration_s: float | None = None  # a resolve: how long it was open
    backfilled: int | None = None  # a resolve: lines a backfill recovered for it
    repeat: int = 0  # told again (`--repeat-every`): the how-manieth time
    restarted: bool = False  # opened before this watcher (re)started, and told then

    @property
    def status(self) -> str:
        return "resolved" if self.kind is AlertKind.RESUMED else "firing"

    def record(self) -> dict[str, object]:
        """`{"type":"alert",…}`: kind, status, source, since when, the one-line text, what a
        `resumed` closes, and the identity a receiver de-duplicates on."""
        return {
            "type": "alert",
            "kind": self.kind.value,
            "status": self.status,
            "app": self.app,
            "region": self.region,
            "instance": self.instance,
            "instances": list(self.instances) or None,
            "since": format_rfc3339(self.since_ns, 3),
            "at": format_rfc3339(self.at_ns, 3),
            "closes": self.closes.value if self.closes else None,
            "text": self.text,
            "fingerprint": self.fingerprint,
            "id": self.id,
            "started_at": format_rfc3339(self.started_ns, 3) if self.started_ns is not None else None,
            "duration_s": self.duration_s,
            "backfilled": self.backfilled,
            "repeat": self.repeat or None,
            "restarted": self.restarted or None,
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
    canary: tuple[float, int | None] | None = None  # its beats: (loss %, p95 latency ms)


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
