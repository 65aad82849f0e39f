"""`watch --ping-url URL`: the GETs of a dead-man's switch (healthchecks.io's protocol: `URL` while
healthy, `URL/fail` when not). One at a time from a small bounded queue, each with a timeout,
retried with the one backoff policy; failures are said once until a ping gets through again. The URL
is a secret (it is the check's key): errors name the host only. Must not: print, or block the watch.
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlsplit

import httpx

from flylogs.core.deadman import Ping
from flylogs.hooks.queue import Deliveries

RETRIES = 3


class PingFailed(Exception):
    pass


class Pinger:
    def __init__(
        self, url: str, say: Callable[[str], None], *, timeout: float = 10.0, first_wait: float = 1.0
    ) -> None:
        self._url = url.rstrip("/")
        self._host = urlsplit(url).hostname or "the ping URL"
        self._client = httpx.AsyncClient(timeout=timeout, follow_redirects=True)
        self.sent: list[Ping] = []  # what got through, in order
        self._queue: Deliveries[Ping] = Deliveries(
            "--ping-url", self._get, say, limit=10, retries=RETRIES, first_wait=first_wait
        )

    def ping(self, what: Ping) -> None:
        self._queue.put(what)

    async def close(self, timeout: float = 5.0) -> None:
        try:
            await self._queue.close(timeout)
        finally:
            await self._client.aclose()

    async def _get(self, what: Ping) -> None:
        url = self._url + ("/fail" if what is Ping.FAIL else "")
        try:
            response = await self._client.get(url)
        except httpx.HTTPError as exc:
            raise PingFailed(f"{self._host} unreachable ({type(exc).__name__})") from None
        if response.status_code >= 300:
            raise PingFailed(f"{self._host} answered {response.status_code}")
        self.sent.append(what)
