"""The NATS source's liveness half: a heartbeat whose answered pings become `Alive` events, and the
abandoning of a path that stopped answering (or whose reader died) for another.

Part of the NATS adapter (`source/nats.py`'s `NatsSource` is a `Liveness`). Must not: print.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from flylogs.core.events import Alive, Event, Lost, Problem
from flylogs.core.gaps import GapReason
from flylogs.core.policy import ConnectionPolicy
from flylogs.source.nats_client import ConnectOptions, GuardedClient, reader_alive, round_trip


class Liveness:
    # The source's own state, shared (set by NatsSource.__init__).
    _nc: GuardedClient
    _options: ConnectOptions
    _policy: ConnectionPolicy
    _emit: Callable[[Event], None]
    _clock_ns: Callable[[], int]
    _closing: bool
    _unconfirmed: bool
    _client_error: str | None
    pinging: bool

    @property
    def server(self) -> str | None: ...

    def _restored(self) -> None: ...

    async def _beat(self) -> None:
        """Ping every `heartbeat` seconds: each answer is an `Alive`; silence past the policy's limit
        abandons the path."""
        opts, policy = self._options, self._policy
        last_ok = time.monotonic()
        while not self._closing:
            await asyncio.sleep(opts.heartbeat)
            if not self._nc.is_connected:
                last_ok = time.monotonic()
                continue
            if not reader_alive(self._nc):
                await self._reader_stopped()
                last_ok = time.monotonic()
                continue
            sent = self._clock_ns()
            self.pinging = True
            try:
                await round_trip(self._nc, policy.ping_budget(last_ok, time.monotonic()))
            except Exception:
                if self._nc.is_connected and policy.is_stalled(last_ok, time.monotonic()):
                    await self._abandon_stalled()
                    last_ok = time.monotonic()
                continue
            finally:
                self.pinging = False
            last_ok = time.monotonic()
            self._restored()
            self._emit(Alive(sent))

    async def _abandon_stalled(self) -> None:
        url = self._nc.connected_url
        self._policy.abandon(url.netloc if url is not None else None, time.monotonic())
        wait = self._options.stall_timeout
        await self._reconnect(
            GapReason.STALLED, f"no answer from {self.server} for {wait:g}s; abandoning it and reconnecting"
        )

    async def _reader_stopped(self) -> None:
        """nats-py's reader ended (an exception it only logged): a lost connection like any other."""
        why = f" ({self._client_error})" if self._client_error else ""
        self._client_error = None
        await self._reconnect(
            GapReason.DISCONNECTED, f"the client stopped reading from {self.server}{why}; reconnecting"
        )

    async def _reconnect(self, reason: GapReason, detail: str) -> None:
        server = self.server
        if self._policy.outage_began(time.monotonic()):
            self._emit(Lost(reason, server, detail))
        else:  # a reconnect that never answered: the outage goes on
            self._emit(Problem(detail, server))
        self._unconfirmed = False
        await self._nc.force_reconnect()
