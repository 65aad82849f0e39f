"""A watched watcher: when to ping a dead-man's switch (healthchecks.io's protocol), sans I/O.

While the watcher is healthy (its loop runs, its own stream is up) it pings every `every`; when its
stream has been down longer than `down_after`, it says so once (`/fail`); back up, it pings again at
once and then regularly. If the watcher dies, the pings stop, and the outside service raises the
alarm: nobody has to watch the watcher. Must not: do I/O or read a clock.
"""

from __future__ import annotations

from enum import StrEnum

NS = 1_000_000_000


class Ping(StrEnum):
    OK = "ok"  # GET URL
    FAIL = "fail"  # GET URL/fail


class DeadMan:
    def __init__(self, every_s: float, down_after_s: float) -> None:
        self._every = int(every_s * NS)
        self._down_after = int(down_after_s * NS)
        self._last: int | None = None  # the last OK ping
        self._failed = False

    def tick(self, now_ns: int, down_since_ns: int | None) -> Ping | None:
        """What to send now; `down_since_ns`: when the stream went down (None: it is up)."""
        if down_since_ns is not None:
            if not self._failed and now_ns - down_since_ns >= self._down_after:
                self._failed = True
                return Ping.FAIL
            return None
        if self._failed or self._last is None or now_ns - self._last >= self._every:
            self._failed, self._last = False, now_ns
            return Ping.OK
        return None
