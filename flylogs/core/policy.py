"""The connection policy: a small pure object the NATS adapter asks what to do.

Owns: which server to try next (round-robin over the pool, avoiding one that just stalled, with
jittered backoff), when a path counts as stalled, which failures are fatal (refused credentials or an
unreachable server on the *first* connection; nothing after it: a tail never gives up by itself), and
saying each kind of failure once per outage instead of once per retry. Times are passed in
(monotonic seconds); the random source is injected. Must not: do I/O or know about nats-py.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from enum import StrEnum

from flylogs.core.backoff import backoff_delay
from flylogs.errors import AuthError, FlylogsError, UnreachableError

UNREACHABLE_HINT = (
    "there are three ways to Fly's log stream: through flyctl's agent on a laptop (install flyctl, "
    "`fly auth login`, then `flylogs tail APP` finds it: --transport agent), by polling Fly's logs API "
    "with a token (--transport api, apps named), or straight to NATS inside Fly's network (in a Fly "
    "Machine, nats://[fdaa::3]:4223; over your own WireGuard tunnel, your peer address's first three "
    "groups and ::3, e.g. --server nats://[fdaa:0:1234::3]:4223); for your own server pass --server "
    "nats://HOST:PORT; `flylogs doctor APP` checks each way; `flylogs demo` works without Fly"
)
TLS_HINT = (
    "flylogs never falls back to plaintext for a tls:// server: enable TLS on the server, or use "
    "nats:// if the path is private already"
)
AUTH_HINT = (
    "check --org (the org slug, see `fly orgs list`) and the token: create a read-only "
    "one with `fly tokens create readonly <org>` and store it with `flylogs auth login`"
)
SUBSCRIPTION_HINT = "the token's org must own the app: check --org and the app names (`fly apps list`)"


class ErrorKind(StrEnum):
    """What a client error means, as the adapter classifies it."""

    AUTH = "auth"  # the credentials were refused
    PERMISSION = "permission"  # a subscription was refused
    SLOW_CONSUMER = "slow_consumer"  # the client's buffer overflowed
    TLS = "tls"  # tls:// asked for, and the server offers no TLS: never sent in plaintext
    OTHER = "other"


class ConnectionPolicy:
    def __init__(
        self,
        servers: Sequence[str],
        *,
        wait: bool = False,
        stall_timeout: float = 15.0,
        rng: random.Random | None = None,
    ) -> None:
        self.servers = tuple(servers)  # as shown to people (redacted)
        self.wait = wait
        self.stall_timeout = stall_timeout
        self._rng = rng or random.Random()  # noqa: S311  (jitter, not secrets)
        self._attempt = 0
        self._first_failures = 0
        self._suspect: dict[str, float] = {}
        self._outage_since: float | None = None
        self._said: set[str] = set()
        self._reconnecting_said = False

    # --- server choice -------------------------------------------------------------------------

    def choose(self, candidates: Sequence[str], now: float) -> tuple[int | None, float]:
        """The index of the server to try next among `candidates` (netlocs), and the delay before it."""
        self._attempt += 1
        healthy = [i for i, c in enumerate(candidates) if self._suspect.get(c, 0.0) <= now]
        pool = healthy or list(range(len(candidates)))
        index = pool[self._attempt % len(pool)] if pool else None
        return index, backoff_delay(self._attempt, self._rng)

    def first_attempt_of_outage(self) -> bool:
        """True once per outage: the moment to say "reconnecting"."""
        if self._reconnecting_said:
            return False
        self._reconnecting_said = True
        return True

    # --- liveness ------------------------------------------------------------------------------

    def ping_budget(self, last_ok: float, now: float) -> float:
        """How long the next ping may wait for its answer before the path counts as stalled."""
        return max(0.2, last_ok + self.stall_timeout - now)

    def is_stalled(self, last_ok: float, now: float) -> bool:
        return now - last_ok >= self.stall_timeout

    def abandon(self, server: str | None, now: float) -> None:
        """`server` stalled: avoid it (while others exist) for two stall timeouts."""
        if server is not None:
            self._suspect[server] = now + 2 * self.stall_timeout

    # --- outages -------------------------------------------------------------------------------

    def outage_began(self, now: float) -> bool:
        """True when this starts a new outage (not a second callback for the same one)."""
        if self._outage_since is not None:
            return False
        self._outage_since = now
        return True

    @property
    def in_outage(self) -> bool:
        return self._outage_since is not None

    def outage_ended(self, now: float) -> float:
        """The outage is over: its length in seconds; the next one starts its counts afresh."""
        began, self._outage_since = self._outage_since, None
        self._attempt = 0
        self._said.clear()
        self._reconnecting_said = False
        return now - began if began is not None else 0.0

    def say_once(self, description: str) -> bool:
        """True the first time this kind of failure is seen in the current outage (or at start)."""
        if description in self._said:
            return False
        self._said.add(description)
        return True

    # --- the first connection ----------------------------------------------------------------------

    def connected(self) -> None:
        self._said.clear()

    def first_connect_failed(self, kind: ErrorKind, description: str) -> FlylogsError | str | None:
        """A failed first attempt: the error to end with, a sentence to say (`--wait`), or nothing."""
        self._first_failures += 1
        servers = ", ".join(self.servers)
        if kind is ErrorKind.AUTH:
            return AuthError(f"the server at {servers} refused the credentials", hint=AUTH_HINT)
        if kind is ErrorKind.TLS:  # waiting cannot help: the server is configured so
            return UnreachableError(f"cannot connect to {servers}: {description}", TLS_HINT)
        if self.wait:
            return f"waiting for {servers}: {description}" if self.say_once(description) else None
        if self._first_failures >= len(self.servers):
            return UnreachableError(
                f"cannot reach the log stream at {servers}: {description}", UNREACHABLE_HINT
            )
        return None

    @staticmethod
    def refused_subscription(detail: str) -> AuthError:
        return AuthError(f"the server refuses the subscription: {detail}", hint=SUBSCRIPTION_HINT)
