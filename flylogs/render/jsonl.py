"""JSON (NDJSON) and raw modes: output for programs.

The NDJSON record is a public contract, documented in the README:
`{"type":"log","timestamp":…,"app":…,"region":…,"instance":…,"level":…,"fly_level":…,"provider":…,
"process_group":…,"message":…,"subject":…}` (`level`: the effective level, see `flylogs.levels`)
plus `"malformed":true,"error":…` for payloads that could not be decoded and
`"backfilled":true` for lines a backfill recovered; and the `gap`, `backfill` and `status` records.
Must not: add, rename or drop keys without a changelog entry.
"""

from __future__ import annotations

import json

import msgspec

from flylogs.core.events import Backfill
from flylogs.core.gaps import Gap
from flylogs.core.status import Status
from flylogs.model import LogEvent
from flylogs.render.gaps import backfill_record, gap_record, status_record
from flylogs.render.output import Writable
from flylogs.render.sanitize import escape_controls, escape_json_output

_dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
_fast_encode = msgspec.json.Encoder().encode


class _LogRecord(msgspec.Struct, gc=False):
    """`log_record` as a struct, in the same key order: the fast path's shape of the same contract."""

    type: str
    timestamp: str | None
    app: str | None
    region: str | None
    instance: str | None
    level: str | None
    fly_level: str | None
    provider: str | None
    process_group: str | None
    message: str
    subject: str


def log_record(event: LogEvent) -> dict[str, object]:
    record: dict[str, object] = {
        "type": "log",
        "timestamp": event.timestamp,
        "app": event.app,
        "region": event.region,
        "instance": event.instance,
        "level": event.shown_level(),
        "fly_level": event.level,
        "provider": event.provider,
        "process_group": event.process_group,
        "message": event.message,
        "subject": event.subject,
    }
    if event.malformed is not None:
        record["malformed"] = True
        record["error"] = event.malformed
    if event.lines > 1:  # a multi-line event (--multiline on): its lines, joined by "\n"
        record["lines"] = event.lines
    if event.late:  # --order time: it came after its place in time had gone by
        record["late"] = True
    return record


def encode_record(record: dict[str, object]) -> str:
    """One compact JSON line; safe on a terminal (see sanitize.escape_json_output)."""
    return escape_json_output(_dumps(record)) + "\n"


class JsonSink:
    def __init__(self, out: Writable) -> None:
        self._out = out
        self._write = out.write

    def header(self) -> None:
        """NDJSON has no header."""

    def event(self, event: LogEvent) -> None:
        if event.clean and event.malformed is None and not event.late:
            # Plain ASCII with no control characters: msgspec encodes the very same bytes as the
            # general path, from a struct (0.3 us a line, against 2 us for json.dumps of a dict).
            record = _LogRecord(
                "log",
                event.timestamp,
                event.app,
                event.region,
                event.instance,
                event.shown_level(),
                event.level,
                event.provider,
                event.process_group,
                event.message,
                event.subject,
            )
            self._write(_fast_encode(record) + b"\n")
        else:
            self._write(encode_record(log_record(event)).encode("utf-8"))

    def recovered(self, event: LogEvent) -> None:
        record = log_record(event)
        record["backfilled"] = True
        self._write(encode_record(record).encode("utf-8"))

    def separator(self) -> None:
        """Records stand alone: no separators between context groups."""

    def gap(self, gap: Gap, pending: str | None = None) -> bool:
        """Gaps are in-band records in JSON mode."""
        self._write(encode_record(gap_record(gap)).encode("utf-8"))
        return True

    def backfill(self, backfill: Backfill) -> bool:
        self._write(encode_record(backfill_record(backfill)).encode("utf-8"))
        return True

    def status(self, status: Status) -> None:
        self._write(encode_record(status_record(status)).encode("utf-8"))

    def progress(self, shown: int, gaps: int, now_ns: int, received: int = 0) -> None:
        """NDJSON has no status line."""

    def flush(self) -> None:
        self._out.flush()

    finish = flush


class RawSink:
    """The payload bytes exactly as received, one per line.

    On a terminal, control characters are escaped even here: raw is for pipes, and a terminal must never
    be driven by a log line.
    """

    def __init__(self, out: Writable, *, escape: bool) -> None:
        self._out = out
        self._write = out.write
        self._escape = escape

    def header(self) -> None:
        """Raw mode has no header."""

    def event(self, event: LogEvent) -> None:
        self.payload(event.raw)

    recovered = event

    def separator(self) -> None:
        """Raw output holds payloads only."""

    def gap(self, gap: Gap, pending: str | None = None) -> bool:
        """Raw output holds payloads only: gaps go to stderr."""
        return False

    def backfill(self, backfill: Backfill) -> bool:
        return False

    def status(self, status: Status) -> None:
        """Raw output holds payloads only: state changes are stderr notices."""

    def progress(self, shown: int, gaps: int, now_ns: int, received: int = 0) -> None:
        """Raw output has no status line."""

    def payload(self, data: bytes) -> None:
        if self._escape:
            data = escape_controls(data.decode("utf-8", "replace")).encode("utf-8")
        self._write(data + b"\n")

    def flush(self) -> None:
        self._out.flush()

    finish = flush
