"""Context lines (`-A`, `-B`, `-C`): lines around each `--grep` match, per instance.

Fly interleaves many Machines in one stream, so context is kept per instance: the lines before a
match are that instance's own, never a neighbour's. Like grep, `--` separates groups that are not
contiguous. Pure: events in, decisions out.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

from flylogs.model import LogEvent


@dataclass(slots=True)
class _Instance:
    before: deque[tuple[int, LogEvent]]
    seq: int = 0
    last_shown: int | None = None
    after_left: int = 0


@dataclass(slots=True)
class Context:
    before: int
    after: int
    _instances: dict[str | None, _Instance] = field(default_factory=dict)

    def feed(self, event: LogEvent, matched: bool) -> list[tuple[LogEvent, bool]]:
        """The lines to show now, each with whether a `--` separator goes before it."""
        state = self._instances.get(event.instance)
        if state is None:
            state = self._instances[event.instance] = _Instance(deque(maxlen=self.before or 1))
        state.seq += 1
        seq = state.seq
        if matched:
            shown = [(s, e) for s, e in state.before if self.before and s > (state.last_shown or 0)]
            state.before.clear()
            shown.append((seq, event))
            state.after_left = self.after
        elif state.after_left > 0:
            state.after_left -= 1
            shown = [(seq, event)]
        else:
            if self.before:
                state.before.append((seq, event))
            return []
        out = []
        for s, e in shown:
            gap = state.last_shown is not None and s != state.last_shown + 1
            out.append((e, gap))
            state.last_shown = s
        return out
