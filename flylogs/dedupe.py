"""Remembering recently shown lines, so a replayed window never shows one twice.

Bounded: the oldest keys are forgotten once `capacity` are held. A key is the hash of subject and
payload; two different lines colliding on 64 bits is not a practical concern. Must not: do I/O.
"""

from __future__ import annotations

from collections import deque


class RecentLines:
    def __init__(self, capacity: int = 200_000) -> None:
        self._capacity = capacity
        self._order: deque[int] = deque()
        self._keys: set[int] = set()

    @staticmethod
    def key(subject: str, payload: bytes) -> int:
        return hash((subject, payload))

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
