"""Backfill tasks: reading a gap's window back from a history source, beside the live stream.

Owns the tasks only: each ends by handing a `Backfilled` event (lines, or the error) back to the core,
which decides what is shown. Live lines keep flowing while a backfill waits for the API's index.
Must not: show lines or touch gap state itself.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable

from flylogs.core.events import Backfilled, Event
from flylogs.core.gaps import Gap
from flylogs.session.ports import HistorySource
from flylogs.source.flyapi import ReplayCapped
from flylogs.source.nats import describe_error

ABANDONED = "stopped before the backfill finished"
# A backfill gives up after this long in all (the API's index wait, every retry): a hanging source
# can never keep a gap's outcome unsaid.
TIME_LIMIT = 120.0


class Backfills:
    def __init__(
        self,
        history: HistorySource,
        feed: Callable[[Event], None],
        time_limit: float = TIME_LIMIT,
    ) -> None:
        self._history = history
        self._feed = feed
        self._time_limit = time_limit
        self._running: dict[asyncio.Task[None], Gap] = {}

    def start(self, gap: Gap) -> None:
        task = asyncio.create_task(self._run(gap))
        self._running[task] = gap
        task.add_done_callback(lambda done: self._running.pop(done, None))

    async def _run(self, gap: Gap) -> None:
        label = self._history.label
        try:
            async with asyncio.timeout(self._time_limit):
                start, end = gap.start_ns, gap.end_ns  # the lines' time, as the gap was said
                if not self._history.by_line_time:  # by when a server stored them: about this clock
                    start, end = start - gap.offset_ns, end - gap.offset_ns
                messages = await self._history.replay(start, end, fresh=True)
        except TimeoutError:
            self._feed(Backfilled(gap, label, error=f"gave up after {self._time_limit:g}s without an answer"))
            return
        except ReplayCapped as capped:  # what it read counts, and the gap stays not complete
            self._feed(Backfilled(gap, label, capped.messages, short=capped.reason))
            return
        except Exception as exc:  # the gap stays unfilled, and says so
            self._feed(Backfilled(gap, label, error=describe_error(exc)))
            return
        self._feed(Backfilled(gap, label, messages))

    async def abandon(self) -> None:
        """At the end: backfills still running are cancelled, and each says it did not finish."""
        for task, gap in list(self._running.items()):
            if task.done():  # it has had its say
                continue
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
            self._feed(Backfilled(gap, self._history.label, error=ABANDONED))
