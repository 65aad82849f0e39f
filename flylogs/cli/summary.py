"""The closing line on stderr and the exit code, from how a session ended. Pure."""

from __future__ import annotations

from flylogs.errors import ExitCode
from flylogs.session.plan import Outcome, StopReason


def elapsed(seconds: float) -> str:
    """`1:02:03`: a session's length for its closing line."""
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}"


def stop_code(reason: StopReason) -> ExitCode:
    """Interrupted (130), terminated (143) or hung up (129); any other end is 0 as far as the signal
    goes."""
    if reason is StopReason.INTERRUPTED:
        return ExitCode.INTERRUPTED
    if reason is StopReason.TERMINATED:
        return ExitCode.TERMINATED
    if reason is StopReason.HUNG_UP:
        return ExitCode.HUNG_UP
    return ExitCode.OK


def closing(outcome: Outcome, fail_on_gap: bool, unwritten: int = 0) -> tuple[str | None, ExitCode]:
    """What to say at the end (None: nothing) and the exit code. `unwritten`: lines rendered but
    never taken by stdout (it was not reading when the session ended): shown is what was written."""
    stats = outcome.stats
    unfilled = outcome.unfilled_gaps
    text = None
    if outcome.reason is not StopReason.PIPE_CLOSED and (
        outcome.reason is not StopReason.COUNT or (fail_on_gap and unfilled)
    ):
        gaps = ""
        if outcome.gaps:
            missing = sum(g.duration_s for g in outcome.gaps)
            gaps = f", {len(outcome.gaps)} gap(s) totalling {missing:.1f}s ({len(unfilled)} not filled)"
        shown = f"{max(stats.shown - unwritten, 0):,} lines shown, "
        if unwritten:
            shown += f"{unwritten:,} discarded at exit (stdout was not reading), "
        text = (
            f"flylogs: {outcome.reason} after {elapsed(outcome.elapsed)}: {shown}"
            + (f"{stats.malformed:,} malformed, " if stats.decoded else "")
            + f"{stats.received:,} received"
            + (" live (the rest from history)" if stats.received < stats.shown else "")
            + gaps
        )
    code = stop_code(outcome.reason)
    if code is not ExitCode.OK:
        return text, code
    return text, ExitCode.GAPS if fail_on_gap and unfilled else ExitCode.OK
