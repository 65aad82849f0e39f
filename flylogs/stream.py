"""The NATS adapter: the only module that imports `nats`.

Owns: connecting (with the first-connect policy: fail fast on refused credentials or an unreachable
server, or wait), subscribing, reconnect settings, and turning the client's callbacks into `Notice`s on
a queue. Messages go straight to a synchronous handler (a callback, not `async for`: it is several times
faster). Must not: print, decode, filter, or decide exit codes (it raises typed errors).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from nats.aio.client import Client
from nats.errors import AuthorizationError, SlowConsumerError, UnexpectedEOF
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy

from flylogs.core.backoff import backoff_delay
from flylogs.core.gaps import Gap, GapReason, GapTracker
from flylogs.errors import AuthError, HistoryUnavailableError, UnreachableError
from flylogs.model import Notice, NoticeKind
from flylogs.settings import redact_url

MessageHandler = Callable[[str, bytes], None]

UNREACHABLE_HINT = (
    "Fly's log stream is only reachable inside Fly's private network: run flylogs in a Fly Machine "
    "(server nats://[fdaa::3]:4223), or open a WireGuard tunnel (`fly wireguard create`, then "
    "--server nats://[fdaa:<net>::3]:4223); for your own server pass --server nats://HOST:PORT"
)


@dataclass(frozen=True, slots=True)
class ConnectOptions:
    servers: tuple[str, ...]
    user: str | None = None
    password: str | None = field(default=None, repr=False)
    # Keep retrying the first connection instead of failing (`--wait`).
    wait: bool = False
    connect_timeout: float = 5.0
    # A connection that answers no ping for this long is abandoned (`--stall-timeout`): a half-open
    # path (a dead WireGuard peer) otherwise looks alive for minutes.
    stall_timeout: float = 15.0
    # How often flylogs pings: also how precisely a gap's start is known.
    heartbeat: float = 1.0
    # Per-subscription buffer in the client; past it, messages are dropped and counted.
    pending_msgs_limit: int = 65_536
    pending_bytes_limit: int = 64 * 1024 * 1024
    name: str = "flylogs"


def is_auth_error(exc: BaseException) -> bool:
    """The server refused the credentials (nats-py reports this as several different exception types)."""
    if isinstance(exc, AuthorizationError):
        return True
    text = str(exc).lower()
    return "authorization violation" in text or "authentication" in text


def is_permission_error(exc: BaseException) -> bool:
    """The server refused a subscription (the org's token does not cover that subject)."""
    return "permissions violation" in str(exc).lower()


def describe_error(exc: BaseException) -> str:
    """A short, token-free description of a client or socket error."""
    if is_auth_error(exc):
        return "authorization violation (credentials refused)"
    if isinstance(exc, TimeoutError | asyncio.TimeoutError):
        return "timed out"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, UnexpectedEOF):
        return "the server closed the connection"
    if isinstance(exc, OSError) and exc.errno:
        return os.strerror(exc.errno).lower()  # asyncio's own text repeats the address: say why
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    text = str(exc) or type(exc).__name__
    return text.removeprefix("nats: ")


class LogStream:
    """One connection to the log stream, following a set of subjects, that never gives up by itself.

    Reconnects forever (jittered backoff, any server of the cluster), notices a stalled path with its
    own pings, and keeps the gap bookkeeping: every window in which lines may have been lost is put
    on the notice queue as a GAP notice when it closes.
    """

    def __init__(
        self,
        options: ConnectOptions,
        subjects: Sequence[str],
        on_message: MessageHandler,
        notices: asyncio.Queue[Notice],
        gaps: GapTracker | None = None,
        clock_ns: Callable[[], int] = time.time_ns,
        rng: random.Random | None = None,
    ) -> None:
        self._options = options
        self._subjects = tuple(subjects)
        self._on_message = on_message
        self._notices = notices
        self._clock_ns = clock_ns
        self.gaps = gaps if gaps is not None else GapTracker(clock_ns())
        self._rng = rng or random.Random()  # noqa: S311  (jitter, not secrets)
        self._nc: Client = Client()
        self._connected_once = False
        self._closing = False
        self._first_failure: asyncio.Future[Exception] | None = None
        self._attempts = 0
        self._reconnect_attempt = 0
        self._lost_at_mono: float | None = None
        self._outage_errors: set[str] = set()
        self._heartbeat: asyncio.Task[None] | None = None
        self._refused: list[str] = []
        # Servers that just stalled, avoided (while others exist) until the time given.
        self._suspect: dict[str, float] = {}
        self.pinging = False  # a heartbeat ping is awaiting its pong

    @property
    def client(self) -> Client:
        return self._nc

    @property
    def subjects(self) -> tuple[str, ...]:
        return self._subjects

    @property
    def server(self) -> str | None:
        url = self._nc.connected_url
        return redact_url(url.geturl()) if url is not None else None

    async def start(self, *, subscribe: bool = True) -> None:
        """Connect and subscribe; raise AuthError or UnreachableError if the first connection fails.

        With `subscribe=False` (history only) it connects and stops there.
        """
        loop = asyncio.get_running_loop()
        self._first_failure = loop.create_future()
        opts = self._options
        # nats-py annotates the timings as int; it sleeps on them, so fractions of a second work.
        kwargs: dict[str, Any] = {
            "servers": list(opts.servers),
            "name": opts.name,
            "allow_reconnect": True,
            "max_reconnect_attempts": -1,  # forever: a log tail must never give up by itself
            "reconnect_time_wait": 1.0,  # first connection (--wait) only; reconnects use _choose_server
            "reconnect_to_server_handler": self._choose_server,
            "connect_timeout": opts.connect_timeout,
            # The client's own pings are a backstop; flylogs' heartbeat detects stalls first.
            "ping_interval": max(opts.stall_timeout, 1.0),
            "max_outstanding_pings": 2,
            "error_cb": self._error_cb,
            "disconnected_cb": self._disconnected_cb,
            "reconnected_cb": self._reconnected_cb,
        }
        if opts.password is not None:
            kwargs["user"] = opts.user
            kwargs["password"] = opts.password
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
        self._outage_errors.clear()
        if not subscribe:
            return
        for subject in self._subjects:
            await self._nc.subscribe(
                subject,
                cb=self._deliver,
                pending_msgs_limit=opts.pending_msgs_limit,
                pending_bytes_limit=opts.pending_bytes_limit,
            )
        # A round trip guarantees the server has the subscriptions before we say so.
        sent = self._clock_ns()
        await self._nc.flush(timeout=int(opts.connect_timeout) or 1)
        # A refused subscription comes back as an -ERR the server may send after that pong: a second
        # round trip lets it arrive before we say "following".
        await self._nc.flush(timeout=int(opts.connect_timeout) or 1)
        if self._refused:
            await self.close()
            raise AuthError(
                f"the server refuses the subscription: {self._refused[0]}",
                hint="the token's org must own the app: check --org and the app names (`fly apps list`)",
            )
        self.gaps.alive(sent)
        self._put(
            NoticeKind.SUBSCRIBED,
            f"connected to {self.server}; following " + ", ".join(self._subjects),
            self.server,
        )
        self._heartbeat = loop.create_task(self._beat())

    async def close(self) -> None:
        self._closing = True
        if self._heartbeat is not None:
            # A cancellation can be lost inside flush() (asyncio.wait_for before 3.12 drops it when
            # the pong lands at the same moment: seen under load), so the beat also watches
            # `_closing`, and closing waits for it only briefly.
            self._heartbeat.cancel()
            await asyncio.wait({self._heartbeat}, timeout=2.0)
        with contextlib.suppress(Exception):
            await self._nc.close()

    async def _deliver(self, msg: Any) -> None:
        self._on_message(msg.subject, msg.data)

    def _put(self, kind: NoticeKind, text: str, server: str | None = None, gap: Gap | None = None) -> None:
        self._notices.put_nowait(Notice(kind, text, server, gap))

    # --- liveness -----------------------------------------------------------------------------

    async def _beat(self) -> None:
        """Ping every `heartbeat` seconds: each answer moves the last sure moment; silence means stall."""
        opts = self._options
        last_ok = time.monotonic()
        while not self._closing:
            await asyncio.sleep(opts.heartbeat)
            if not self._nc.is_connected:
                last_ok = time.monotonic()
                continue
            sent = self._clock_ns()
            remaining = max(0.2, last_ok + opts.stall_timeout - time.monotonic())
            self.pinging = True
            try:
                await self._nc.flush(timeout=remaining)  # type: ignore[arg-type]
            except Exception:
                if self._nc.is_connected and time.monotonic() - last_ok >= opts.stall_timeout:
                    await self._abandon_stalled()
                    last_ok = time.monotonic()
                continue
            finally:
                self.pinging = False
            last_ok = time.monotonic()
            self.gaps.alive(sent)

    async def _abandon_stalled(self) -> None:
        url = self._nc.connected_url
        if url is not None:
            self._suspect[url.netloc] = time.monotonic() + 2 * self._options.stall_timeout
        self.gaps.lost(GapReason.STALLED)
        self._lost_at_mono = time.monotonic()
        timeout = self._options.stall_timeout
        self._put(
            NoticeKind.DISCONNECTED,
            f"no answer from {self.server} for {timeout:g}s; abandoning it and reconnecting",
            self.server,
        )
        await self._nc.force_reconnect()

    def _choose_server(self, servers: list[Any], _info: dict[str, Any]) -> tuple[Any, float]:
        """nats-py's reconnect hook: round-robin over the pool (seeds and discovered), jittered backoff."""
        self._reconnect_attempt += 1
        now = time.monotonic()
        healthy = [s for s in servers if self._suspect.get(s.uri.netloc, 0.0) <= now] or servers
        server = healthy[self._reconnect_attempt % len(healthy)] if healthy else None
        return server, backoff_delay(self._reconnect_attempt, self._rng)

    # --- callbacks: they only record and enqueue; they never print -----------------------------

    async def _error_cb(self, exc: Exception) -> None:
        if not self._connected_once:
            self._first_connect_failed(exc)
            return
        if self._closing:
            return
        if is_permission_error(exc):
            # The server removed a subscription: lines on it are lost from now on, until a reconnect
            # replays it (and it is accepted). That is a gap the server opened.
            self._refused.append(describe_error(exc))
            self.gaps.lost(GapReason.SERVER)
            self._put(NoticeKind.AUTH_REFUSED, f"the server refused a subscription: {describe_error(exc)}")
            return
        if isinstance(exc, SlowConsumerError):
            # The client's buffer for a subscription overflowed; nats-py dropped the message.
            now = self._clock_ns()
            self.gaps.dropped(self.gaps.last_alive_ns, now)
            return
        description = describe_error(exc)
        if description in self._outage_errors:
            return  # one notice per kind of failure per outage, not one per retry
        if self._lost_at_mono is not None:
            self._outage_errors.add(description)
        if is_auth_error(exc):
            self._put(
                NoticeKind.AUTH_REFUSED,
                "the server refuses the credentials; retrying (flylogs resumes by itself when they are "
                "accepted again)",
                self.server,
            )
        else:
            self._put(NoticeKind.ERROR, description, self.server)

    def _first_connect_failed(self, exc: Exception) -> None:
        failure = self._first_failure
        if failure is None or failure.done():
            return
        self._attempts += 1
        servers = ", ".join(redact_url(s) for s in self._options.servers)
        if is_auth_error(exc):
            failure.set_result(
                AuthError(
                    f"the server at {servers} refused the credentials",
                    hint="check --org (the org slug, see `fly orgs list`) and the token: create a read-only "
                    "one with `fly tokens create readonly <org>` and store it with `flylogs auth login`",
                )
            )
        elif self._options.wait:
            description = describe_error(exc)
            if description not in self._outage_errors:  # once per kind of failure, not once per try
                self._outage_errors.add(description)
                self._put(NoticeKind.ERROR, f"waiting for {servers}: {description}")
        elif self._attempts >= len(self._options.servers):
            failure.set_result(
                UnreachableError(
                    f"cannot reach the log stream at {servers}: {describe_error(exc)}", UNREACHABLE_HINT
                )
            )

    async def _disconnected_cb(self) -> None:
        if not self._connected_once or self._closing:
            return
        self.gaps.lost(GapReason.DISCONNECTED)
        if self._lost_at_mono is None:
            self._lost_at_mono = time.monotonic()
            self._put(NoticeKind.DISCONNECTED, "disconnected; reconnecting")

    async def _reconnected_cb(self) -> None:
        # nats-py calls this after replaying the subscriptions and a round trip: they are active.
        now = self._clock_ns()
        outage = time.monotonic() - self._lost_at_mono if self._lost_at_mono is not None else 0.0
        self._lost_at_mono = None
        self._outage_errors.clear()
        self._reconnect_attempt = 0
        self._put(NoticeKind.RECONNECTED, f"reconnected to {self.server} after {outage:.1f}s", self.server)
        gap = self.gaps.restored(now, self.server)
        if gap is not None:
            self._put(NoticeKind.GAP, "gap", self.server, gap)


class JetStreamHistory:
    """Replays windows of the log subjects from a JetStream stream (self-hosted setups, the demo).

    An ephemeral, unacknowledged consumer per subject starts at the window's start time and reads until
    past its end, so a replay costs the server nothing once done.
    """

    def __init__(self, log_stream: LogStream, name: str) -> None:
        self._log_stream = log_stream
        self.name = name

    async def check(self) -> None:
        """Fail early, with a hint, when the stream does not exist or JetStream is off."""
        js = self._log_stream.client.jetstream()
        try:
            await js.stream_info(self.name)
        except Exception:
            raise HistoryUnavailableError(
                f"no JetStream stream {self.name!r} on the server (or JetStream is not enabled there)",
                hint="--stream names a stream that stores the log subjects (`nats stream ls`); "
                "Fly's own log stream keeps no history",
            ) from None

    async def replay(
        self, start_ns: int, end_ns: int | None, *, fresh: bool = False, limit: int = 200_000
    ) -> list[tuple[str, bytes]]:
        """(subject, payload) of messages stored from `start_ns` to `end_ns` (open-ended: to the present).

        `fresh` (the window just closed) changes nothing here: a stream holds a line once it stored it.
        """
        js = self._log_stream.client.jetstream()
        found: list[tuple[str, bytes]] = []
        start = datetime.fromtimestamp(start_ns / 1e9, UTC)
        for subject in self._log_stream.subjects:
            config = ConsumerConfig(
                deliver_policy=DeliverPolicy.BY_START_TIME,
                opt_start_time=start,
                ack_policy=AckPolicy.NONE,
                inactive_threshold=30.0,
                mem_storage=True,
            )
            sub = await js.pull_subscribe(subject, stream=self.name, config=config)
            try:
                while len(found) < limit:
                    try:
                        batch = await sub.fetch(512, timeout=1.0)
                    except TimeoutError:
                        break
                    past_end = False
                    for msg in batch:
                        stored = msg.metadata.timestamp
                        if end_ns is not None and stored.timestamp() * 1e9 > end_ns + 1_000_000:
                            past_end = True
                            break
                        found.append((msg.subject, msg.data))
                    if past_end or not batch or batch[-1].metadata.num_pending == 0:
                        break
            finally:
                with contextlib.suppress(Exception):
                    await sub.unsubscribe()
        return found


__all__ = ["ConnectOptions", "LogStream", "MessageHandler", "describe_error"]
