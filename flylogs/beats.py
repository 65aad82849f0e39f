"""The beat: a line a Machine prints so that flylogs can measure Fly's log pipeline (a public contract).

    FLYLOGS-BEAT seq=<n> at=<RFC 3339 UTC, 9 fractional digits> boot=<id>

`seq` counts from 0 per `boot` (a random id chosen when the beating process starts: a restart is a
new series, not a loss); `at` is when the line was written. Anything after these three fields is
ignored (room for later versions). Recognising a beat costs one `startswith` for any other line.
Must not: do I/O.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass

from flylogs.timestamps import format_rfc3339, parse_rfc3339

PREFIX = "FLYLOGS-BEAT "
_BEAT = re.compile(r"FLYLOGS-BEAT seq=(\d{1,18}) at=(\S+) boot=([A-Za-z0-9_.-]{1,64})(?:\s|$)")


@dataclass(frozen=True, slots=True)
class Beat:
    seq: int
    at_ns: int  # when it was written, by the writer's clock
    boot: str


def parse_beat(message: str) -> Beat | None:
    """The beat in `message`, or None (most lines: one `startswith`)."""
    if not message.startswith(PREFIX):
        return None
    match = _BEAT.match(message)
    if match is None:
        return None
    at = parse_rfc3339(match[2])
    return Beat(int(match[1]), at, match[3]) if at is not None else None


def beat_line(seq: int, at_ns: int, boot: str) -> str:
    """One beat, exact to the format."""
    return f"{PREFIX}seq={seq} at={format_rfc3339(at_ns, 9)} boot={boot}"


def new_boot() -> str:
    """A random id for a new series of beats."""
    return secrets.token_hex(6)
