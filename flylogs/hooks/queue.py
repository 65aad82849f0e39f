"""One delivery at a time, in order, from a bounded queue: what `--on-alert` and `--webhook` share.

A slow or failing receiver never blocks the stream: `put` never waits; when the queue is full the
oldest waiting alert is dropped, and that is said. Must not: print (failures go to `say`).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import Awaitable, Callable

from flylogs.core.alerts import Alert

QUEUE_LIMIT = 100


class Deliveries:
    def __init__(
        self,
        name: str,
        deliver: Callable[[Alert], Awaitable[None]],
        say: Callable[[str], None],
        limit: int = QUEUE_LIMIT,
    ) -> None:
        self.name = name  # for a person: "--on-alert", "--webhook"
        self.dropped = 0
        self._deliver = deliver
        self._say = say
        self._waiting: deque[Alert] = deque()
        self._limit = limit
        self._wake = asyncio.Event()
        self._closing = False
        self._task = asyncio.get_running_loop().create_task(self._work())

    def put(self, alert: Alert) -> None:
        if len(self._waiting) >= self._limit:
            self._waiting.popleft()
            self.dropped += 1
            if self.dropped == 1 or self.dropped % 100 == 0:
                self._say(f"{self.name} is not keeping up: {self.dropped} alert(s) dropped, oldest first")
        self._waiting.append(alert)
        self._wake.set()

    async def close(self, timeout: float) -> None:
        """Deliver what waits for up to `timeout` seconds, then give up on the rest (and say so)."""
        self._closing = True
        self._wake.set()
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(asyncio.shield(self._task), timeout)
        if not self._task.done():
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._waiting:
            self._say(f"{self.name}: {len(self._waiting)} alert(s) not delivered before exit")

    async def _work(self) -> None:
        while True:
            while not self._waiting:
                if self._closing:
                    return
                self._wake.clear()
                await self._wake.wait()
            alert = self._waiting[0]
            try:
                await self._deliver(alert)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # a receiver's failure is reported, never the stream's end
                self._say(f"{self.name} failed: {exc}")
            if self._waiting and self._waiting[0] is alert:
                self._waiting.popleft()
