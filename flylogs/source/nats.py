"""The NATS adapter: the tail's only module that imports `nats` (with `jetstream`, its history reader).

Owns: connecting and subscribing with nats-py, and turning its callbacks into typed events
(`flylogs.core.events`) handed to `emit`; a heartbeat whose answered pings become `Alive` events.
What to do about a failure (retry or give up, which server next, when a path is stalled, what to say
once per outage) is asked of the `ConnectionPolicy`. Messages go straight to a synchronous `on_line`
(a callback, not `async for`: it is several times faster). Must not: print, decode, filter, keep gap
state, or decide exit codes (it raises the policy's typed errors).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Sequence
from typing import Any

from flylogs.core.events import (
    Alive,
    Connected,
    Event,
    Lost,
    Overflow,
    Problem,
    Reconnecting,
    Refused,
    RefusedWhat,
    Restored,
)
from flylogs.core.gaps import GapReason
from flylogs.core.policy import UNREACHABLE_HINT, ConnectionPolicy, ErrorKind
from flylogs.errors import FlylogsError, UnreachableError
from flylogs.settings.tokens import redact_url
from flylogs.source.nats_beat import Liveness
from flylogs.source.nats_client import (
    DIRECT,
    RENEWED,
    Callback,
    ClientLog,
    ConnectOptions,
    DirectClient,
    GuardedClient,
    LineHandler,
    ReaderStopped,
    classify,
    connect_kwargs,
    describe_error,
    round_trip,
    subscribe_all,
)

Emit = Callable[[Event], None]


class NatsSource(Liveness):
    """One connection to the log stream, following a set of subjects, that never gives up by itself."""

    def __init__(
        self,
        options: ConnectOptions,
        subjects: Sequence[str],
        on_line: LineHandler,
        emit: Emit,
        *,
        policy: ConnectionPolicy | None = None,
        clock_ns: Callable[[], int] = time.time_ns,
        direct: bool = DIRECT,
    ) -> None:
        self._options = options
        self._subjects = tuple(subjects)
        self._on_line = on_line
        self._emit = emit
        self._policy = policy or options.policy()
        self._clock_ns = clock_ns
        self._nc: GuardedClient = DirectClient() if direct else GuardedClient()
        self._started = False  # subscriptions confirmed: from here on, nothing is fatal
        self._connected_once = False
        self._closing = False
        self._first_failure: asyncio.Future[FlylogsError] | None = None
        self._heartbeat: asyncio.Task[None] | None = None
        self._refused: list[str] = []  # subscriptions refused at start
        self._last_server: str | None = None
        self.pinging = False  # a heartbeat ping is awaiting its pong
        self._unconfirmed = False  # reconnected, not yet proved by a round trip of ours
        self._confirming: asyncio.Task[None] | None = None
        # Moves ahead of servers going away (one settling while the next begins), and what the
        # newest moves from.
        self._moves: set[asyncio.Task[None]] = set()
        self._moving_from: GuardedClient | None = None
        # What nats-py last logged with a traceback (then its reader stops): said in our words.
        self._client_error: str | None = None
        self._log_handler = ClientLog(self.client_logged)

    @property
    def client(self) -> GuardedClient:
        return self._nc

    @property
    def client_options(self) -> ConnectOptions:
        return self._options

    @property
    def subjects(self) -> tuple[str, ...]:
        return self._subjects

    @property
    def server(self) -> str | None:
        """The server connected to now, else the last one (a lost connection is that server's)."""
        url = self._nc.connected_url
        if url is not None:
            self._last_server = self._options.via or redact_url(url.geturl())
        return self._options.via or self._last_server

    async def start(self, *, subscribe: bool = True) -> None:
        """Connect and subscribe; raise AuthError or UnreachableError if the first connection fails.
        With `subscribe=False` (history only) it connects and stops there."""
        loop = asyncio.get_running_loop()
        self._first_failure = loop.create_future()
        self._log_handler.attach()
        kwargs = self.client_kwargs(self._nc)
        connect = loop.create_task(self._nc.connect(**kwargs))
        waiting: set[asyncio.Future[Any]] = {connect, self._first_failure}
        done, _ = await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
        if connect not in done:
            connect.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await connect
            await self.close()
            raise self._first_failure.result()
        connect.result()
        self._connected_once = True
        self._policy.connected()
        if not subscribe:
            return
        await subscribe_all(self._nc, self._subjects, self._options, self._on_line)
        sent = await self._confirm_subscriptions()
        if self._refused:
            await self.close()
            raise ConnectionPolicy.refused_subscription(self._refused[0])
        self._started = True
        self._emit(Alive(sent))
        self._emit(Connected(self.server, self._subjects))
        self._heartbeat = loop.create_task(self._beat())

    def client_kwargs(
        self, nc: GuardedClient, servers: Sequence[str] | None = None, elsewise: Callback | None = None
    ) -> dict[str, Any]:
        """nats-py's options for a connection of this source. Its callbacks count only while it is
        the source's connection: during a move, the one being left says nothing (and the one not yet
        taken gives its errors to `elsewise`)."""

        def only(callback: Callback, other: Callback | None = None) -> Callback:
            async def called(*args: Any) -> None:
                if nc is self._nc:
                    await callback(*args)
                elif other is not None:
                    await other(*args)

            return called

        callbacks = {
            "error_cb": only(self._error_cb, elsewise),
            "disconnected_cb": only(self._disconnected_cb),
            "reconnected_cb": only(self._reconnected_cb),
            "lame_duck_mode_cb": only(self._lame_duck),
            "reconnect_to_server_handler": self._choose_server,
        }
        return connect_kwargs(self._options, nc, servers or self._options.servers, callbacks)

    async def _lame_duck(self) -> None:
        """The server is going away: move first (another server, subscribed and confirmed, then
        leave this one), or, with nowhere to go, say so before it goes."""
        moving = any(not m.done() for m in self._moves) and self._moving_from is self._nc
        if self._started and not self._closing and not moving:
            from flylogs.source.nats_move import Move

            settling = set(self._moves)  # the last move's overlap ends first (its old one closes)
            for earlier in settling:
                earlier.cancel()
            self._moving_from = self._nc
            move = asyncio.get_running_loop().create_task(
                Move(self, self._nc, self._on_line, self._emit).run(after=settling)
            )
            self._moves.add(move)
            move.add_done_callback(self._moves.discard)

    def adopt(self, nc: GuardedClient) -> None:
        """A moved-to connection is the source's from now on (its heartbeat, callbacks, server)."""
        self._nc = nc
        self._unconfirmed = self._policy.in_outage  # lost meanwhile: the move ends that outage
        self._restored()

    async def _confirm_subscriptions(self) -> int:
        """Two round trips: the server has the subscriptions before we say so, and a refusal (an
        -ERR the server may send after the first pong) has arrived. A path that stalls here is an
        unreachable server (exit 5), or, with `--wait`, one more reason to keep trying."""
        opts = self._options
        while True:
            sent = self._clock_ns()
            try:
                await round_trip(self._nc, opts.connect_timeout)
                await round_trip(self._nc, opts.connect_timeout)
                return sent
            except (TimeoutError, ReaderStopped, ConnectionError) as exc:
                server = self.server
                if not opts.wait:
                    await self.close()
                    raise UnreachableError(
                        f"the server at {server} accepted the connection, then did not answer while "
                        f"subscribing ({describe_error(exc)}): the path is stalled",
                        UNREACHABLE_HINT,
                    ) from None
                self._emit(Problem(f"no answer from {server} while subscribing; trying again", server))
                await self._nc.force_reconnect()
                while not self._nc.is_connected and not self._nc.is_closed:  # nats-py reconnects
                    await asyncio.sleep(0.05)

    async def close(self) -> None:
        self._closing = True
        self._log_handler.detach()
        if self._confirming is not None:
            self._confirming.cancel()
        for move in list(self._moves):
            move.cancel()
        if self._moves:
            await asyncio.wait(self._moves, timeout=2.0)
        if self._heartbeat is not None:
            # A cancellation can be lost inside flush() (asyncio.wait_for before 3.12 drops it when
            # the pong lands at the same moment: seen under load), so the beat also watches
            # `_closing`, and closing waits for it only briefly.
            self._heartbeat.cancel()
            await asyncio.wait({self._heartbeat}, timeout=2.0)
        with contextlib.suppress(Exception):
            await self._nc.close()

    def _choose_server(self, servers: list[Any], _info: dict[str, Any]) -> tuple[Any, float]:
        """nats-py's reconnect hook: the policy picks among the pool (seeds_only: no discovered)."""
        if self._options.seeds_only:
            servers = [s for s in servers if not getattr(s, "discovered", False)] or servers
        index, delay = self._policy.choose([s.uri.netloc for s in servers], time.monotonic())
        server = servers[index] if index is not None else None
        if server is not None and self._started and self._policy.first_attempt_of_outage():
            self._emit(Reconnecting(self._options.via or redact_url(server.uri.geturl())))
        return server, delay

    # --- callbacks: they only classify and emit; they never print --------------------------------

    async def _error_cb(self, exc: Exception) -> None:
        kind = classify(exc)
        if not self._connected_once:
            self._first_connect_failed(kind, exc)
            return
        if self._closing:
            return
        if kind is ErrorKind.PERMISSION:
            if not self._started:
                self._refused.append(describe_error(exc))  # start() turns it into an AuthError
            else:
                self._emit(Refused(RefusedWhat.SUBSCRIPTION, describe_error(exc), self.server))
            return
        if kind is ErrorKind.SLOW_CONSUMER:
            # The client's buffer for a subscription overflowed; nats-py dropped the message.
            self._emit(Overflow(1, None, self._clock_ns()))
            return
        description = self._options.explained(describe_error(exc))
        if kind is ErrorKind.AUTH and self._nc.renewed():
            self._emit(Problem(RENEWED, self.server))  # the next attempt carries the new token
        elif self._policy.in_outage and not self._policy.say_once(description):
            pass  # one word per kind of failure per outage, not one per retry
        elif kind is ErrorKind.AUTH:
            self._emit(Refused(RefusedWhat.CREDENTIALS, description, self.server))
        else:
            self._emit(Problem(description, self.server))

    def _first_connect_failed(self, kind: ErrorKind, exc: Exception) -> None:
        failure = self._first_failure
        if failure is None or failure.done():
            return
        verdict = self._policy.first_connect_failed(kind, describe_error(exc))
        if isinstance(verdict, FlylogsError):
            failure.set_result(verdict)
        elif verdict is not None:
            self._emit(Problem(verdict))

    async def _disconnected_cb(self) -> None:
        if not self._started or self._closing:
            return
        if self._policy.outage_began(time.monotonic()):
            self._emit(Lost(GapReason.DISCONNECTED, self.server, self._options.why()))

    async def _reconnected_cb(self) -> None:
        # nats-py calls this after replaying the subscriptions, but its round trip can be skipped
        # (a reader that died): "reconnected" is said only once a PONG of ours has come back.
        if self._closing:
            return
        self._unconfirmed = True
        self._confirming = asyncio.get_running_loop().create_task(self._confirm())

    async def _confirm(self) -> None:
        with contextlib.suppress(Exception):  # no answer: the heartbeat abandons the path
            await round_trip(self._nc, self._options.stall_timeout)
            self._restored()

    def _restored(self) -> None:
        if not self._unconfirmed:
            return
        self._unconfirmed = False
        outage = self._policy.outage_ended(time.monotonic())
        self._emit(Restored(self.server, outage))

    def client_logged(self, record: logging.LogRecord) -> None:
        """nats-py logged: with a traceback, what stopped its reader (said by the beat); else a notice."""
        text = record.getMessage().removeprefix("nats: ")
        if record.exc_info and record.exc_info[1] is not None:
            self._client_error = f"{text}: {type(record.exc_info[1]).__name__}"
        elif not self._closing:
            self._emit(Problem(text, self.server))


__all__ = ["ConnectOptions", "Emit", "LineHandler", "NatsSource", "classify", "describe_error"]
