"""Backpressure: when the output cannot keep up, drop lines (into a gap) rather than block the stream.

Owns the hysteresis: dropping starts when the writer's backlog passes its limit and ends once it has
drained to half, so the output does not flap between dropping and writing. Reads the backlog; decides
nothing else (the core accounts for the dropped lines). Must not: do I/O.
"""

from __future__ import annotations

from flylogs.session.ports import Backlog

OVERLOADED = "output is not keeping up; dropping lines until it does (they are reported as a gap)"


class Backpressure:
    def __init__(self, backlog: Backlog) -> None:
        self.backlog = backlog
        self.dropping = False

    def overloaded(self) -> bool | None:
        """Whether to drop the line in hand. None: dropping just began (say so), else a bool.

        The caller's inline test (`dropping or backlog > limit`) spares this call while all is well.
        """
        backlog = self.backlog
        if self.dropping:
            if backlog.backlog >= backlog.limit // 2:
                return True
            self.dropping = False
            return False
        if backlog.backlog <= backlog.limit:
            return False
        self.dropping = True
        return None

    def caught_up(self) -> bool:
        """Periodic, so a quiet stream notices too: True when a dropping spell just ended."""
        return self.dropping and self.overloaded() is False
