"""`--webhook URL`: POST each alert's JSON (its `text` field is what Slack-style incoming webhooks
show), in order, retried with backoff on a network error, a 5xx or a 429; a bounded queue. The URL is
a secret (Slack's are): errors name the host only. Must not: print, or block the stream.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from urllib.parse import urlsplit

import httpx

from flylogs.core.alerts import Alert
from flylogs.core.backoff import Backoff
from flylogs.hooks.queue import Deliveries

RETRIES = 5
FIRST_WAIT = 1.0  # seconds, about (jittered); about doubled after each failure, up to a minute


class WebhookFailed(Exception):
    pass


class Webhook:
    def __init__(
        self,
        url: str,
        say: Callable[[str], None],
        *,
        first_wait: float = FIRST_WAIT,
        retries: int = RETRIES,
        timeout: float = 10.0,
    ) -> None:
        self._url = url
        self._host = urlsplit(url).hostname or "the webhook"
        self._first_wait = first_wait
        self._retries = retries
        self._client = httpx.AsyncClient(timeout=timeout)
        self._queue: Deliveries[Alert] = Deliveries("--webhook", self._post, say)

    name = "--webhook"

    @property
    def counts(self) -> tuple[int, int, int]:
        """Alerts delivered, failed (after their retries) and dropped (a full queue)."""
        return self._queue.delivered, self._queue.failed, self._queue.dropped

    def alert(self, alert: Alert) -> None:
        self._queue.put(alert)

    async def close(self, timeout: float = 5.0) -> None:
        try:
            await self._queue.close(timeout)
        finally:
            await self._client.aclose()

    async def _post(self, alert: Alert) -> None:
        body = alert.record()
        body["text"] = f"flylogs: {alert.text}"
        waits, why = Backoff(self._first_wait * 2, cap=60.0), ""
        for attempt in range(self._retries + 1):
            if attempt:
                await asyncio.sleep(waits.next())
            try:
                response = await self._client.post(self._url, json=body)
            except httpx.HTTPError as exc:
                why = f"{self._host} unreachable ({type(exc).__name__})"
                continue
            if response.status_code < 300:
                return
            why = f"{self._host} answered {response.status_code}"
            if response.status_code < 500 and response.status_code != 429:
                break  # the receiver refuses it: asking again will not help
        raise WebhookFailed(why + (f" after {self._retries + 1} tries" if attempt else ""))
