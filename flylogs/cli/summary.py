"""The closing line on stderr and the exit code, from how a session ended. Pure."""

from __future__ import annotations

from flylogs.errors import ExitCode
from flylogs.session.plan import Outcome, StopReason


def closing(outcome: Outcome, fail_on_gap: bool, unwritten: int = 0) -> tuple[str | None, ExitCode]:
    """What to say at the end (None: nothing) and the exit code. `unwritten`: lines rendered but
    never taken by stdout (it was not reading when the session ended): shown is what was written."""
    stats = outcome.stats
    unfilled = outcome.unfilled_gaps
    text = None
    if outcome.reason is not StopReason.PIPE_CLOSED and (
        outcome.reason is not StopReason.COUNT or (fail_on_gap and unfilled)
    ):
        minutes, seconds = divmod(int(outcome.elapsed), 60)
        hours, minutes = divmod(minutes, 60)
        gaps = ""
        if outcome.gaps:
            missing = sum(g.duration_s for g in outcome.gaps)
            gaps = f", {len(outcome.gaps)} gap(s) totalling {missing:.1f}s ({len(unfilled)} not filled)"
        elapsed = f"{hours}:{minutes:02d}:{seconds:02d}"
        shown = f"{max(stats.shown - unwritten, 0):,} lines shown, "
        if unwritten:
            shown += f"{unwritten:,} discarded at exit (stdout was not reading), "
        text = (
            f"flylogs: {outcome.reason} after {elapsed}: {shown}"
            + (f"{stats.malformed:,} malformed, " if stats.decoded else "")
            + f"{stats.received:,} received"
            + (" live (the rest from history)" if stats.received < stats.shown else "")
            + gaps
        )
    if outcome.reason is StopReason.INTERRUPTED:
        return text, ExitCode.INTERRUPTED
    if outcome.reason is StopReason.TERMINATED:
        return text, ExitCode.TERMINATED
    return text, ExitCode.GAPS if fail_on_gap and unfilled else ExitCode.OK
