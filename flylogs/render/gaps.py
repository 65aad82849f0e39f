"""How a gap reads to a person (stderr, table rows) and to a program (the NDJSON record)."""

from __future__ import annotations

from flylogs.core.gaps import Gap
from flylogs.timestamps import format_rfc3339


def gap_record(gap: Gap) -> dict[str, object]:
    """The in-band NDJSON record: a public contract, documented in the README."""
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


def describe_gap(gap: Gap) -> str:
    what = gap.reason.value.replace("_", " ")
    if gap.dropped is not None:
        what += f", {gap.dropped:,} lines dropped"
    verdict = "logs in this window may be missing"
    if gap.complete and not gap.backfilled:
        verdict = "checked against history: nothing was missing"
    elif gap.complete:
        verdict = f"filled from history: {gap.backfilled:,} line(s) recovered below"
    elif gap.backfilled:
        verdict = f"{gap.backfilled:,} line(s) recovered below; others may be missing"
    return (
        f"gap {format_rfc3339(gap.start_ns, 3)} → {format_rfc3339(gap.end_ns, 3)} "
        f"({gap.duration_s:g}s, {what}): {verdict}"
    )
