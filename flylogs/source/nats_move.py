"""Moving ahead of a server in lame duck mode, so a rolling restart of the cluster loses nothing.

A NATS server about to go (an upgrade, node by node: how Fly updates its NATS cluster) says so to its
clients (an INFO with `ldm`); it then stops taking new clients and, after a grace period, closes the
ones it has. Waiting for that close cost the lines of the reconnect. Instead, at once: connect a
second client to another server of the cluster (the pool without the one leaving; last, the same
address, which may be a load balancer's), subscribe there, confirm with two round trips, take it as
the source's connection, let the old one overlap for `SETTLE` seconds (the new interest reaches the
other nodes through their routes), then close it. While both deliver, each line is shown once
(`Overlap`). With nowhere to go, it is said before the server goes.

Part of the NATS adapter (`source/nats.py` starts a `Move` from nats-py's `lame_duck_mode_cb`).
Must not: print.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter
from collections.abc import Callable
from typing import TYPE_CHECKING

from flylogs.core.events import Event, Leaving
from flylogs.source.nats_client import GuardedClient, LineHandler, describe_error, round_trip, subscribe_all

if TYPE_CHECKING:
    from flylogs.source.nats import NatsSource

SETTLE = 2.0  # seconds both connections deliver once the new one is confirmed


class Overlap:
    """Two connections delivering the same subjects: each line goes on once. A line one side
    delivered is expected once from the other, and dropped there (counted: the same bytes twice
    from one side are two lines)."""

    def __init__(self, deliver: LineHandler) -> None:
        self._deliver = deliver
        self._seen: tuple[Counter[tuple[str, bytes]], Counter[tuple[str, bytes]]] = (Counter(), Counter())
        self.twice = 0  # lines both sides delivered (shown once)

    def side(self, index: int) -> LineHandler:
        mine, theirs = self._seen[index], self._seen[1 - index]

        def on_line(subject: str, data: bytes) -> None:
            key = (subject, data)
            if theirs[key]:
                theirs[key] -= 1
                self.twice += 1
                return
            mine[key] += 1
            self._deliver(subject, data)

        return on_line


class Move:
    def __init__(
        self, source: NatsSource, old: GuardedClient, on_line: LineHandler, emit: Callable[[Event], None]
    ) -> None:
        self._source = source
        self._old = old
        self._on_line = on_line
        self._emit = emit
        self._errors: list[str] = []

    async def run(self, after: set[asyncio.Task[None]] | frozenset[asyncio.Task[None]] = frozenset()) -> None:
        """`after`: earlier moves, told to end their overlap: this one begins when they have."""
        if after:
            await asyncio.wait(after)
        source, old = self._source, self._old
        options = source.client_options
        leaving = source.server
        self._emit(
            Leaving(leaving, f"{leaving} is going away (lame duck mode): moving to another server first")
        )
        spare = type(old)()
        overlap = Overlap(self._on_line)
        old.route(overlap.side(0))
        try:
            async with asyncio.timeout(options.connect_timeout * 2 + 1):
                await spare.connect(**source.client_kwargs(spare, self._candidates(), elsewise=self._noted))
                await subscribe_all(spare, source.subjects, options, overlap.side(1))
                await round_trip(spare, options.connect_timeout)
                await round_trip(spare, options.connect_timeout)  # a refusal has arrived by now
        except BaseException as exc:  # nowhere to go (a timeout too): the old one, to its end
            old.route(self._on_line)
            with contextlib.suppress(Exception):
                await spare.close()
            if not isinstance(exc, Exception):
                raise  # (the source is closing)
            why = self._errors[-1] if self._errors else describe_error(exc) or "timed out"
            self._emit(Leaving(leaving, f"could not move ahead of {leaving} ({why}); it will close soon"))
            return
        source.adopt(spare)
        to = source.server
        self._emit(Leaving(leaving, f"moved to {to} ahead of {leaving}'s shutdown (lame duck mode)", to))
        try:  # both deliver a little longer, while the new interest reaches every node
            loop = asyncio.get_running_loop()
            until = loop.time() + SETTLE
            while old.is_connected and loop.time() < until:
                await asyncio.sleep(0.05)
        finally:
            with contextlib.suppress(Exception):
                await old.close()
            spare.route(self._on_line)

    def _candidates(self) -> list[str]:
        """Every server of the pool but the one leaving, then that address (a load balancer's
        finds another node: the one leaving takes no new clients)."""
        old, options = self._old, self._source.client_options
        here = old.connected_url
        pool = [s for s in old._server_pool if here is None or s.uri.netloc != here.netloc]
        if options.seeds_only:
            pool = [s for s in pool if not getattr(s, "discovered", False)]
        urls = [s.uri.geturl() for s in pool]
        if here is not None:
            urls.append(here.geturl())
        return urls

    async def _noted(self, exc: Exception) -> None:
        """The new connection's errors before it is the source's: the last one says why not."""
        self._errors.append(describe_error(exc))


__all__ = ["Move", "Overlap"]
