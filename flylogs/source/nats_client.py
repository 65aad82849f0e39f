"""nats-py, as the tail uses it: connection options, what its errors mean, and the direct client.

Part of the NATS adapter (`source/nats.py` drives it). Must not: print or decide what to do about
an error (the connection policy does).
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import os
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from nats.aio.client import Client
from nats.errors import AuthorizationError, SlowConsumerError, UnexpectedEOF
from nats.errors import Error as NatsError

from flylogs.core.policy import ConnectionPolicy, ErrorKind
from flylogs.settings.tokens import TokenKeeper, redact_url, service_token, url_password

LineHandler = Callable[[str, bytes], None]
Callback = Callable[..., Awaitable[None]]
RENEWED = "the token was refused; its source holds a new one: reconnecting with it"


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
    # Per-subscription buffer in the client, for messages that take nats-py's own path (the direct
    # client hands the rest over at once); past it, messages are dropped and counted.
    pending_msgs_limit: int = 65_536
    pending_bytes_limit: int = 64 * 1024 * 1024
    name: str = "flylogs"
    # Reconnect to the given servers only, never to those the cluster advertises (through flyctl's
    # agent the relay is the one way in; the cluster's own addresses are unreachable from here).
    seeds_only: bool = False
    # What to call the server in every message, when its URL says nothing (a loopback relay).
    via: str | None = None
    # The token's keeper: every CONNECT sends its current token, and a refusal asks it to read the
    # token's sources again (flyctl rotates config.yml's token while it runs).
    tokens: TokenKeeper | None = field(default=None, repr=False, compare=False)
    # Why the way in failed, when it knows better than the socket (flyctl's agent's own refusal).
    explain: Callable[[], str | None] | None = field(default=None, repr=False, compare=False)

    def why(self) -> str:
        """The way in's own reason for the last failure, or ""."""
        return (self.explain() or "") if self.explain is not None else ""

    def explained(self, text: str) -> str:
        why = self.why()
        return f"{text} ({why})" if why else text

    @property
    def sends_token(self) -> bool:
        """The token goes as user and password, unless every server URL carries credentials of its
        own: those are the more specific (nats-py would send the token's instead)."""
        return self.password is not None and not all(url_password(s) for s in self.servers)

    def policy(self) -> ConnectionPolicy:
        names = [self.via] if self.via else [redact_url(s) for s in self.servers]
        return ConnectionPolicy(names, wait=self.wait, stall_timeout=self.stall_timeout)


def connect_kwargs(
    opts: ConnectOptions, nc: GuardedClient, servers: Sequence[str], callbacks: dict[str, Any]
) -> dict[str, Any]:
    """nats-py's `connect()` options for a connection of the tail (to `servers`), with `callbacks`."""
    # nats-py annotates the timings as int; it sleeps on them, so fractions of a second work.
    kwargs: dict[str, Any] = {
        "servers": list(servers),
        "name": opts.name,
        "allow_reconnect": True,
        "max_reconnect_attempts": -1,  # forever: a log tail must never give up by itself
        "reconnect_time_wait": 1.0,  # first connection (--wait) only; reconnects use the handler
        "connect_timeout": opts.connect_timeout,
        # The client's own pings are a backstop; flylogs' heartbeat detects stalls first.
        "ping_interval": max(opts.stall_timeout, 1.0),
        "max_outstanding_pings": 2,
        **callbacks,
    }
    if opts.sends_token and opts.password is not None:
        kwargs["user"] = opts.user
        kwargs["password"] = service_token(opts.password)  # fly-go's NATS(): macaroons, else the rest
        nc.tokens = opts.tokens
    return kwargs


async def subscribe_all(
    nc: GuardedClient, subjects: Sequence[str], opts: ConnectOptions, handler: LineHandler
) -> None:
    """The tail's subjects on connection `nc`, their lines to `handler`."""
    nc.route(handler)
    for subject in subjects:
        sub = await nc.subscribe(
            subject,
            cb=nc.deliver,
            pending_msgs_limit=opts.pending_msgs_limit,
            pending_bytes_limit=opts.pending_bytes_limit,
        )
        if isinstance(nc, DirectClient):
            nc.direct[sub._id] = handler


class TlsMissing(NatsError):
    """A `tls://` server that answered without TLS: the connection is dropped before CONNECT."""

    def __str__(self) -> str:
        return "tls:// was asked for, but the server offers no TLS; the credentials were not sent"


def classify(exc: BaseException) -> ErrorKind:
    """What a nats-py error means (it reports refused credentials as several exception types)."""
    if isinstance(exc, TlsMissing):
        return ErrorKind.TLS
    if isinstance(exc, AuthorizationError):
        return ErrorKind.AUTH
    text = str(exc).lower()
    if "authorization violation" in text or "authentication" in text:
        return ErrorKind.AUTH
    if "permissions violation" in text:
        return ErrorKind.PERMISSION
    if isinstance(exc, SlowConsumerError):
        return ErrorKind.SLOW_CONSUMER
    return ErrorKind.OTHER


def describe_error(exc: BaseException) -> str:
    """A short, token-free description of a client or socket error."""
    if classify(exc) is ErrorKind.AUTH:
        return "authorization violation (credentials refused)"
    if isinstance(exc, TimeoutError | asyncio.TimeoutError):
        return "timed out (no answer in time)"
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


class GuardedClient(Client):
    """nats-py's client, made to keep `tls://`'s promise: nats-py upgrades to TLS only when the
    server's INFO requires it, so against a server without TLS a `tls://` URL connected in
    plaintext, token and all. This refuses to send CONNECT on such a connection."""

    # The token's keeper: every CONNECT's password is its token now (rotated since the last one?).
    tokens: TokenKeeper | None = None
    # Where this connection's lines go (changed while a move overlaps two connections).
    on_line: LineHandler | None = None

    def route(self, handler: LineHandler) -> None:
        self.on_line = handler

    async def deliver(self, msg: Any) -> None:
        """nats-py's callback for the tail's subscriptions: to this connection's line handler."""
        if self.on_line is not None:
            self.on_line(msg.subject, msg.data)

    def _connect_command(self) -> bytes:
        server = self._current_server
        secure = self._server_info.get("tls_required") or self.options.get("tls_handshake_first")
        if server is not None and server.uri.scheme == "tls" and not secure:
            raise TlsMissing
        if self.tokens is not None and self.tokens.token and self.options.get("password") is not None:
            self.options["password"] = service_token(self.tokens.token)
        return super()._connect_command()

    def renewed(self) -> bool:
        """The credentials were refused: the keeper reads the token's sources again; True when the
        next CONNECT carries another token."""
        used = self.options.get("password")
        return self.tokens is not None and self.tokens.refused(used if isinstance(used, str) else None)


class DirectClient(GuardedClient):
    """nats-py's client with one shortcut, for the hot path: a message on one of the tail's own
    subscriptions goes straight to its line handler from the reading task, instead of through a Msg
    object, the subscription's queue and task, and a coroutine per message (about half of what
    nats-py spends on a message). Messages then arrive in the order the server sent them, across
    subscriptions too. A slow handler backs up the socket, so the server, not the client, cuts a
    consumer that cannot keep up: a disconnection and a gap like any other. A subscription not
    registered here takes nats-py's own path.
    """

    def __init__(self) -> None:
        super().__init__()
        self.direct: dict[int, LineHandler] = {}

    def route(self, handler: LineHandler) -> None:
        super().route(handler)
        for sid in self.direct:
            self.direct[sid] = handler

    async def _process_msg(self, sid: int, subject: bytes, reply: bytes, data: bytes, headers: bytes) -> None:
        handler = self.direct.get(sid)
        if handler is None:
            await super()._process_msg(sid, subject, reply, data, headers)
            return
        # Headers are never read (Fly's stream sends none): one that is not UTF-8 cannot stop the reader.
        stats = self.stats
        stats["in_msgs"] += 1
        stats["in_bytes"] += len(data)
        try:
            # A subject is untrusted bytes: one that is not UTF-8 must not stop the reader.
            handler(subject.decode("utf-8", "replace"), data)
        except Exception as exc:  # a bug of ours must not end nats-py's reading loop in silence
            await self._error_cb(exc)


class ReaderStopped(Exception):
    """nats-py's reading task has ended while the client still says it is connected: nothing more
    will arrive on this connection, and `flush()` would return at once without a round trip."""


def reader_alive(nc: Client) -> bool:
    reading = getattr(nc, "_reading_task", None)
    return reading is not None and not reading.done()


async def round_trip(nc: Client, timeout: float) -> None:
    """A PING whose PONG the reading task actually received: the only proof that the path works.

    nats-py's `flush()` returns without a round trip once its reader has died, and cancels its
    future on a timeout (a late PONG then breaks the reader); this waits without cancelling, so a
    late PONG lands harmlessly. Raises ReaderStopped, TimeoutError, or the client's own errors.
    """
    if not reader_alive(nc):
        raise ReaderStopped("the client stopped reading from the server")
    send_ping = getattr(nc, "_send_ping", None)
    if send_ping is None:  # a future nats-py without it: its own flush is the best there is
        await nc.flush(timeout=timeout)  # type: ignore[arg-type]
        return
    pong: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
    await send_ping(pong)
    done, _ = await asyncio.wait({pong}, timeout=timeout)
    if not done:
        raise TimeoutError
    pong.result()


class ClientLog(logging.Handler):
    """nats-py's logger, routed to `report` instead of stderr (where it printed tracebacks)."""

    def __init__(self, report: Callable[[logging.LogRecord], None]) -> None:
        super().__init__(logging.WARNING)
        self._report = report
        self._logger = logging.getLogger("nats")
        self._propagate = self._logger.propagate

    def attach(self) -> None:
        self._logger.addHandler(self)
        self._logger.propagate = False

    def detach(self) -> None:
        self._logger.removeHandler(self)
        self._logger.propagate = self._propagate

    def emit(self, record: logging.LogRecord) -> None:
        self._report(record)


def _direct_fits() -> bool:
    """The shortcut rests on nats-py's internal `_process_msg(sid, subject, reply, data, headers)`:
    with any other shape (a future release), the plain client is used."""
    params = list(inspect.signature(Client._process_msg).parameters)
    return params == ["self", "sid", "subject", "reply", "data", "headers"]


# The TLS guard rests on `_connect_command()`, which nats-py calls right before writing CONNECT.
assert hasattr(Client, "_connect_command"), "nats-py changed: flylogs' tls:// guard needs updating"


DIRECT = _direct_fits()
