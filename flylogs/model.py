"""The event model: the records that flow from a source, through filters, to a sink.

Owns: `LogEvent` (one log line, decoded or malformed); level ranks live in `flylogs.levels`.
(Connection events and the core's outputs are in `flylogs.core.events`.)
Must not: do I/O, read the clock, or know about NATS, Rich or Typer.
"""

from __future__ import annotations

import msgspec

from flylogs.levels import LEVEL_RANKS, effective_level, level_rank
from flylogs.timestamps import parse_rfc3339, parse_rfc3339_fly


class LogEvent(msgspec.Struct, frozen=True, gc=False):
    """One log line as flylogs understands it.

    `timestamp` is the RFC 3339 UTC form with nine fractional digits, None when the payload has no
    usable one; `ns()` gives the same instant in nanoseconds since the epoch (computed on demand: most
    output modes never need it, and it costs as much as decoding the whole payload). `malformed`
    says why the payload could not be fully decoded (None when it was); a malformed event still carries
    whatever could be salvaged, and `raw` always holds the payload bytes exactly as received. `clean`
    promises that no text field holds a character that needs escaping for a terminal.

    A msgspec Struct rather than a frozen dataclass: one is built per line, and this is 13 times
    cheaper to build (0.1 µs against 1.3 µs here).
    """

    subject: str
    raw: bytes
    message: str
    timestamp: str | None = None
    app: str | None = None
    region: str | None = None
    instance: str | None = None
    level: str | None = None
    provider: str | None = None
    process_group: str | None = None
    malformed: str | None = None
    clean: bool = False
    lines: int = 1  # a multi-line event (a stack trace) joins this many lines with "\n"
    late: bool = False  # `--order time`: it came after its place in time had gone by

    def shown_level(self) -> str | None:
        """The level shown and filtered with: Fly's, or where Fly says `info` the app's own (JSON or
        logfmt), in its canonical spelling (see `flylogs.levels`)."""
        return effective_level(self.level, self.message)

    def ns(self) -> int | None:
        """The timestamp in epoch nanoseconds (None without one)."""
        if self.timestamp is None:
            return None
        return parse_rfc3339_fly(self.timestamp) or parse_rfc3339(self.timestamp)


__all__ = ["LEVEL_RANKS", "LogEvent", "level_rank"]
