"""The one backoff policy of every retry loop: exponential, jittered, capped. Pure: the random
source is passed in (or a default one is made), and nothing sleeps here.

Used by the NATS reconnects (`policy.py`), polling Fly's logs API, the history's page retries, the
webhook's deliveries, the agent's probe, and the session's return to the stream.
"""

from __future__ import annotations

import random

BASE = 0.1
CAP = 3.0


def backoff_delay(attempt: int, rng: random.Random, base: float = BASE, cap: float = CAP) -> float:
    """Seconds to wait before attempt `attempt` (1-based); the first is immediate.

    "Equal jitter": half the exponential step is fixed, half random, so a fleet of clients that lost
    the same server do not come back in lockstep, and no client waits longer than `cap`.
    """
    if attempt <= 1:
        return 0.0
    step = min(cap, base * 2.0 ** (attempt - 2))
    return step / 2 + rng.random() * step / 2


class Backoff:
    """Successive waits of one retry loop: `next()` after each failure, `reset()` after a success.

    The first wait is about `base` (between half and all of it), each next one about twice the last,
    never more than `cap`."""

    def __init__(self, base: float = BASE, cap: float = CAP, rng: random.Random | None = None) -> None:
        self.base, self.cap = base, cap
        self._rng = rng or random.Random()  # noqa: S311 - jitter, not secrets
        self.failures = 0

    def next(self) -> float:
        self.failures += 1
        return backoff_delay(self.failures + 1, self._rng, self.base, self.cap)

    def reset(self) -> None:
        self.failures = 0
