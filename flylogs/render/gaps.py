"""How gaps, backfills and status changes read to a person (stderr, table rows) and to a program
(the NDJSON records: a public contract, documented in the README)."""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo

from flylogs.core.events import Backfill
from flylogs.core.gaps import Gap
from flylogs.core.status import State, Status
from flylogs.timestamps import format_rfc3339


def gap_record(gap: Gap) -> dict[str, object]:
    """Written the moment the stream is whole again; a backfill's outcome follows as its own record."""
    return {
        "type": "gap",
        "start": format_rfc3339(gap.start_ns),
        "end": format_rfc3339(gap.end_ns),
        "duration_s": gap.duration_s,
        "reason": gap.reason.value,
        "dropped": gap.dropped,
        "backfilled": gap.backfilled,
        "server": gap.server,
    }


def backfill_record(backfill: Backfill) -> dict[str, object]:
    """Right before the recovered lines (each of which carries `"backfilled":true`)."""
    return {
        "type": "backfill",
        "gap_start": format_rfc3339(backfill.gap.start_ns),
        "gap_end": format_rfc3339(backfill.gap.end_ns),
        "recovered": backfill.recovered,
        "complete": backfill.complete,
        "source": backfill.source,
        "error": backfill.error,
    }


def status_record(status: Status) -> dict[str, object]:
    """The moment the connection's state changes."""
    return {
        "type": "status",
        "state": status.state.value,
        "at": format_rfc3339(status.at_ns),
        "server": status.server,
        "reason": status.reason,
        "behind_s": status.behind_s,
    }


def _window(gap: Gap, short: bool = False, tz: tzinfo | None = None) -> str:
    if tz is not None and tz is not UTC:  # --tz: in that zone, with its offset
        start, end = (datetime.fromtimestamp(ns / 1e9, tz).isoformat(timespec="milliseconds")
                      for ns in (gap.start_ns, gap.end_ns))  # fmt: skip
    else:
        start, end = format_rfc3339(gap.start_ns, 3), format_rfc3339(gap.end_ns, 3)
    if short and start[:10] == end[:10]:  # a table row: the time of day is enough (UTC, marked Z)
        return f"{start[11:]} → {end[11:]}"
    return f"{start} → {end}"


def describe_gap(gap: Gap, pending: str | None = None, short: bool = False, tz: tzinfo | None = None) -> str:
    what = gap.reason.value.replace("_", " ")
    if gap.dropped is not None:
        what += f", {gap.dropped:,} lines dropped"
    verdict = "logs in this window may be missing"
    if pending is not None:
        verdict += f"; reading it back from {pending}…"
    elif gap.complete and not gap.backfilled:
        verdict = "checked against history: nothing was missing"
    elif gap.complete:
        verdict = f"filled from history: {gap.backfilled:,} line(s) recovered below"
    elif gap.backfilled:
        verdict = f"{gap.backfilled:,} line(s) recovered below; others may be missing"
    return f"gap {_window(gap, short, tz)} ({gap.duration_s:g}s, {what}): {verdict}"


def describe_backfill(backfill: Backfill, tz: tzinfo | None = None) -> str:
    if backfill.error is not None:
        verdict = f"not filled ({backfill.error}): logs in this window may be missing"
    elif backfill.recovered:
        verdict = f"filled from history: {backfill.recovered:,} line(s) recovered below"
    else:
        verdict = "checked against history: nothing was missing"
    return f"backfill of gap {_window(backfill.gap, tz=tz)}: {verdict}"


_LABELS = {
    State.CONNECTING: "connecting",
    State.CONNECTED: "connected",
    State.DISCONNECTED: "disconnected",
    State.STALLED: "stalled",
    State.RECONNECTING: "reconnecting",
    State.REFUSED: "refused, retrying",
}


def status_label(status: Status) -> str:
    return _LABELS[status.state]
