"""The NATS adapter: the only module that imports `nats`.

Owns: connecting (with the first-connect policy: fail fast on refused credentials or an unreachable
server, or wait), subscribing, reconnect settings, and turning the client's callbacks into `Notice`s on
a queue. Messages go straight to a synchronous handler (a callback, not `async for`: it is several times
faster). Must not: print, decode, filter, or decide exit codes (it raises typed errors).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from nats.aio.client import Client
from nats.errors import AuthorizationError

from flylogs.errors import AuthError, UnreachableError
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
    # Ping every `ping_interval` seconds; give up on a path after `max_outstanding_pings` unanswered.
    ping_interval: float = 5.0
    max_outstanding_pings: int = 2
    reconnect_wait: float = 1.0
    name: str = "flylogs"


def is_auth_error(exc: BaseException) -> bool:
    """The server refused the credentials (nats-py reports this as several different exception types)."""
    if isinstance(exc, AuthorizationError):
        return True
    text = str(exc).lower()
    return "authorization violation" in text or "authentication" in text


def describe_error(exc: BaseException) -> str:
    """A short, token-free description of a client or socket error."""
    if is_auth_error(exc):
        return "authorization violation (credentials refused)"
    if isinstance(exc, TimeoutError | asyncio.TimeoutError):
        return "timed out"
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    text = str(exc) or type(exc).__name__
    return text.removeprefix("nats: ")


class LogStream:
    """One connection to the log stream, following a set of subjects."""

    def __init__(
        self,
        options: ConnectOptions,
        subjects: Sequence[str],
        on_message: MessageHandler,
        notices: asyncio.Queue[Notice],
    ) -> None:
        self._options = options
        self._subjects = tuple(subjects)
        self._on_message = on_message
        self._notices = notices
        self._nc: Client = Client()
        self._connected_once = False
        self._closing = False
        self._first_failure: asyncio.Future[Exception] | None = None
        self._attempts = 0

    @property
    def server(self) -> str | None:
        url = self._nc.connected_url
        return redact_url(url.geturl()) if url is not None else None

    async def start(self) -> None:
        """Connect and subscribe; raise AuthError or UnreachableError if the first connection fails."""
        loop = asyncio.get_running_loop()
        self._first_failure = loop.create_future()
        opts = self._options
        # nats-py annotates the timings as int; it sleeps on them, so fractions of a second work.
        kwargs: dict[str, Any] = {
            "servers": list(opts.servers),
            "name": opts.name,
            "allow_reconnect": True,
            "max_reconnect_attempts": -1,  # forever: a log tail must never give up by itself
            "reconnect_time_wait": opts.reconnect_wait,
            "connect_timeout": opts.connect_timeout,
            "ping_interval": opts.ping_interval,
            "max_outstanding_pings": opts.max_outstanding_pings,
            "error_cb": self._error_cb,
            "disconnected_cb": self._disconnected_cb,
            "reconnected_cb": self._reconnected_cb,
            "closed_cb": self._closed_cb,
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
        for subject in self._subjects:
            await self._nc.subscribe(subject, cb=self._deliver)
        # A round trip guarantees the server has the subscriptions before we say so.
        await self._nc.flush(timeout=int(opts.connect_timeout) or 1)
        self._put(
            NoticeKind.SUBSCRIBED,
            f"connected to {self.server}; following " + ", ".join(self._subjects),
            self.server,
        )

    async def close(self) -> None:
        self._closing = True
        with contextlib.suppress(Exception):
            await self._nc.close()

    async def _deliver(self, msg: Any) -> None:
        self._on_message(msg.subject, msg.data)

    def _put(self, kind: NoticeKind, text: str, server: str | None = None) -> None:
        self._notices.put_nowait(Notice(kind, text, server))

    async def _error_cb(self, exc: Exception) -> None:
        if not self._connected_once:
            self._first_connect_failed(exc)
            return
        self._put(NoticeKind.ERROR, describe_error(exc), self.server)

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
            self._put(NoticeKind.ERROR, f"waiting for {servers}: {describe_error(exc)}")
        elif self._attempts >= len(self._options.servers):
            failure.set_result(
                UnreachableError(
                    f"cannot reach the log stream at {servers}: {describe_error(exc)}", UNREACHABLE_HINT
                )
            )

    async def _disconnected_cb(self) -> None:
        if self._connected_once and not self._closing:
            self._put(NoticeKind.DISCONNECTED, "disconnected; reconnecting")

    async def _reconnected_cb(self) -> None:
        self._put(NoticeKind.RECONNECTED, f"reconnected to {self.server}", self.server)

    async def _closed_cb(self) -> None:
        """Closing is always ours (reconnects never give up); nothing to tell."""


class Publisher:
    """A plain publisher, for the demo fleet and benchmarks."""

    def __init__(self) -> None:
        self._nc: Client = Client()

    async def connect(self, server: str) -> None:
        async def quiet(_exc: Exception) -> None:
            """The demo fleet rides out restarts silently; the tail side reports them."""

        options: dict[str, Any] = {"reconnect_time_wait": 0.2}  # a float: see LogStream.start
        await self._nc.connect(
            servers=[server], name="flylogs-demo-fleet", max_reconnect_attempts=-1, error_cb=quiet, **options
        )

    async def publish(self, subject: str, payload: bytes) -> None:
        await self._nc.publish(subject, payload)

    async def flush(self) -> None:
        await self._nc.flush()

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            await self._nc.close()


__all__ = ["ConnectOptions", "LogStream", "MessageHandler", "Publisher", "describe_error"]
