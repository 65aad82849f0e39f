"""The demo's publisher: a plain NATS client that rides out server restarts quietly.

Used by the demo fleet and the benchmarks. Must not: print.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from typing import Any

from nats.aio.client import Client
from nats.errors import Error as NatsError


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
        """Best effort: a flush cut short by a server restart (`demo --chaos`) is ridden out."""
        with contextlib.suppress(NatsError):
            await self._nc.flush()

    async def ensure_stream(self, name: str, subjects: Sequence[str], max_age_s: float = 3600.0) -> None:
        """A JetStream stream over `subjects` (the demo's history source)."""
        js = self._nc.jetstream()
        with contextlib.suppress(Exception):
            await js.stream_info(name)
            return
        await js.add_stream(name=name, subjects=list(subjects), max_age=max_age_s)

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            await self._nc.close()
