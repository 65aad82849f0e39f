"""Reconnect backoff: exponential, jittered, capped. Pure: the random source is passed in."""

from __future__ import annotations

import random

BASE = 0.1
CAP = 3.0


def backoff_delay(attempt: int, rng: random.Random, base: float = BASE, cap: float = CAP) -> float:
    """Seconds to wait before reconnect attempt `attempt` (1-based); the first is immediate.

    "Equal jitter": half the exponential step is fixed, half random, so a fleet of clients that lost
    the same server do not come back in lockstep, and no client waits longer than `cap`.
    """
    if attempt <= 1:
        return 0.0
    step = min(cap, base * 2.0 ** (attempt - 2))
    return step / 2 + rng.random() * step / 2
