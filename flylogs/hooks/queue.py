"""One delivery at a time, in order, from a bounded queue: what `--on-alert` and `--webhook` share.

A slow or failing receiver never blocks the stream: `put` never waits; when the queue is full the
oldest waiting alert is dropped, and that is said. A failed delivery is retried `retries` times with
the one backoff policy; failures are said once until a delivery gets through again, and counted
(`delivered`, `failed`, `dropped`). Must not: print (failures go to `say`).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

from flylogs.core.backoff import Backoff

QUEUE_LIMIT = 100
T = TypeVar("T")


class Deliveries(Generic[T]):
    def __init__(
        self,
        name: str,
        deliver: Callable[[T], Awaitable[None]],
        say: Callable[[str], None],
        limit: int = QUEUE_LIMIT,
        retries: int = 0,
        first_wait: float = 1.0,
    ) -> None:
        self.name = name  # for a person: "--on-alert", "--webhook"
        self.dropped = self.delivered = self.failed = 0
        self._deliver = deliver
        self._say = say
        self._retries = retries
        self._first_wait = first_wait
        self._failing = False
        self._waiting: deque[T] = deque()
        self._limit = limit
        self._wake = asyncio.Event()
        self._closing = False
        self._task = asyncio.get_running_loop().create_task(self._work())

    def put(self, alert: T) -> None:
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
            await self._attempt(alert)
            if self._waiting and self._waiting[0] is alert:
                self._waiting.popleft()

    async def _attempt(self, alert: T) -> None:
        waits = Backoff(self._first_wait * 2, cap=60.0)
        for attempt in range(self._retries + 1):
            if attempt:
                await asyncio.sleep(waits.next())
            try:
                await self._deliver(alert)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # a receiver's failure is reported, never the stream's end
                why = str(exc)
                continue
            self.delivered += 1
            if self._failing:
                self._say(f"{self.name} delivers again")
            self._failing = False
            return
        self.failed += 1
        if not self._failing:
            self._say(f"{self.name} failed: {why}")
        self._failing = True
