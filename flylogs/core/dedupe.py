"""Remembering recently shown lines, so a replayed window never shows one twice.

Bounded: the oldest keys are forgotten once `capacity` are held. A line is known by its timestamp,
instance and message (the same line from NATS, JetStream or the HTTP API, whatever the payload's
layout), or by its raw payload when it has no timestamp; keys are 64-bit hashes, and a collision
between two different lines is not a practical concern. Must not: do I/O.
"""

from __future__ import annotations

from collections import deque

from flylogs.model import LogEvent


class RecentLines:
    def __init__(self, capacity: int = 200_000) -> None:
        self._capacity = capacity
        self._order: deque[int] = deque()
        self._keys: set[int] = set()

    @staticmethod
    def key(event: LogEvent) -> int:
        if event.timestamp is not None:
            return hash((event.timestamp, event.instance, event.message))
        return hash((event.subject, event.raw))

    def add(self, key: int) -> None:
        if key in self._keys:
            return
        self._keys.add(key)
        self._order.append(key)
        if len(self._order) > self._capacity:
            self._keys.discard(self._order.popleft())

    def __contains__(self, key: int) -> bool:
        return key in self._keys

    def __len__(self) -> int:
        return len(self._keys)
