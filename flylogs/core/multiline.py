"""Multi-line events: a stack trace that reaches the stream one line per message becomes one event.

A line that can start a known event (Python's `Traceback (most recent call last):`, a Java/Kotlin or
Node exception line, Go's `panic:` or `goroutine N [...]:`) is held, for at most `window` from its
arrival (200 ms by default), while the continuation lines of the same instance and process group
follow (Python `  File "…"` and indented lines and the final exception line, Java `at …`,
`Caused by:`, `... N more`, Go's frames and tab-indented paths, Node `    at …`). The first line of
that instance that does not continue it, or the window's end, lets it go: one event whose message
holds the lines joined by `\\n` and whose `lines` counts them. A line that cannot start an event is
never held; lines of two instances are never joined. Sans I/O: times are passed in. Must not: do
I/O or read a clock.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from flylogs.model import LogEvent

WINDOW_NS = 200_000_000

START = re.compile(
    r"Traceback \(most recent call last\):"
    r"|panic: |goroutine \d+ \[[^\]]*\]:"
    r"|Exception in thread "
    r"|(?:[\w$]+\.)*[A-Z][\w$]*(?:Exception|Error|Throwable)(?::|$)"
)
CONTINUES = re.compile(
    r"\s+at "  # Java, Kotlin, Node frames
    r"|\s+\.\.\. \d+ (?:more|common frames omitted)"
    r"|(?:Caused by|Suppressed): "
    r"|  File \"|    "  # Python frames and their source lines
    r"|\t"  # Go's paths
    r"|goroutine \d+ \[[^\]]*\]:|created by "
    r"|[\w./*()\[\]$-]+\(.*\)$"  # Go's function lines: main.main(), pkg.(*T).m(0x1)
    r"|$"  # the blank lines of a Go panic or a chained Python traceback
    r"|During handling of the above exception|The above exception was the direct cause"
    r"|(?:[\w$]+\.)*[A-Z][\w$]*(?:Exception|Error|Exit|Interrupt|Warning|Throwable)\b"
)

Key = tuple[str | None, str | None, str | None]  # app, instance, process group


# A line may start an event only if it holds one of these words or starts with one of STARTERS:
# C-speed substring tests that `TailCore.line` makes before `START` decides.
STARTERS = ("Traceback (", "panic: ", "goroutine ")


@dataclass(slots=True)
class _Held:
    first: LogEvent
    due_ns: int
    lines: list[str] = field(default_factory=list)


class Joiner:
    def __init__(self, window_ns: int = WINDOW_NS) -> None:
        self._window = window_ns
        self._held: dict[Key, _Held] = {}
        self.holding = False  # anything held
        # The instances with a line held (a plain set: it is read for every line).
        self.instances: set[str | None] = set()

    @property
    def next_due(self) -> int | None:
        """When the oldest held event must go (None: nothing held)."""
        return min((h.due_ns for h in self._held.values()), default=None)

    def push(self, event: LogEvent, now_ns: int) -> list[LogEvent]:
        """The events ready now, in order, after `event` arrived at `now_ns`."""
        if event.malformed is not None:
            return [event]
        key = (event.app, event.instance, event.process_group)
        held = self._held.get(key)
        message = event.message
        if held is not None:
            if now_ns <= held.due_ns and CONTINUES.match(message) and "\n" not in message:
                held.lines.append(message)
                return []
            del self._held[key]
            ready = [_joined(held)]
        else:
            ready = []
        if START.match(message) and "\n" not in message:
            self._held[key] = _Held(event, now_ns + self._window, [message])
        else:
            ready.append(event)
        self._update()
        return ready

    def _update(self) -> None:
        self.holding = bool(self._held)
        self.instances = {key[1] for key in self._held}

    def due(self, now_ns: int) -> list[LogEvent]:
        """The held events whose window has ended by `now_ns`."""
        ready = [key for key, held in self._held.items() if held.due_ns <= now_ns]
        events = [_joined(self._held.pop(key)) for key in ready]
        self._update()
        return events

    def flush(self) -> list[LogEvent]:
        """Everything held (the session ends)."""
        held, self._held = list(self._held.values()), {}
        self._update()
        return [_joined(h) for h in held]


def _joined(held: _Held) -> LogEvent:
    if len(held.lines) == 1:
        return held.first
    import msgspec

    lines = held.lines
    return msgspec.structs.replace(held.first, message="\n".join(lines), lines=len(lines), clean=False)
