"""The hand-over: lines from Fly's logs API at once, while NATS comes up, then NATS alone.

`fly logs` polls and subscribes together and stops polling 2 s after NATS is up, de-duplicating
nothing. Here the bridge polls from the start (the recent lines show within a second), NATS
subscribes, and the bridge keeps polling until the API has given lines from after the subscription
(so the windows overlap: no hole) or `settle` seconds have passed (a quiet app); the core's memory
of shown lines drops what both give (no duplicate). Must not: decide what is shown.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable

from flylogs.core.events import Event, Problem
from flylogs.errors import FlylogsError
from flylogs.session.plan import PollSpec
from flylogs.source.api_poll import ApiPollSource

SETTLE = 10.0  # seconds of overlap at most, when an app logs nothing after the subscription


class Bridge:
    def __init__(
        self,
        spec: PollSpec,
        on_line: Callable[[str, bytes], None],
        feed: Callable[[Event], None],
        clock_ns: Callable[[], int] = time.time_ns,
        settle: float = SETTLE,
    ) -> None:
        self.source = ApiPollSource(spec.api, spec.regions, spec.instances, on_line, feed, clock_ns=clock_ns)
        self._feed = feed
        self._apps = spec.api.apps
        self._settle = settle
        self._running = False
        self._handing: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Poll from now; an API that cannot be used is said, and NATS alone follows."""
        try:
            await self.source.start()
            self._running = True
        except FlylogsError as exc:
            self._feed(Problem(f"{exc.message}; waiting for NATS instead"))

    @property
    def running(self) -> bool:
        return self._running

    def hand_over(self, subscribed_ns: int) -> None:
        """NATS is subscribed since `subscribed_ns`: stop polling once the API has caught up to it."""
        if self._running:
            self._handing = asyncio.create_task(self._until_caught_up(subscribed_ns))

    async def _until_caught_up(self, subscribed_ns: int) -> None:
        deadline = time.monotonic() + self._settle
        while time.monotonic() < deadline:
            if all(self.source.reached.get(app, 0) >= subscribed_ns for app in self._apps):
                break
            await asyncio.sleep(0.1)
        await self.close()

    async def close(self) -> None:
        if self._running:
            self._running = False
            await self.source.close()
        if self._handing is not None and self._handing is not asyncio.current_task():
            self._handing.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._handing
