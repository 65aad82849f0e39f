"""Fly's HTTP logs API as a live transport: polling with its cursor, as `fly logs` falls back to.

One kept-alive HTTP connection (httpx), one poller per app: a page with entries is followed by the
next at once, an empty page by about a second's wait, an error by a backoff (capped) — and it never
gives up while the user watches. An outage loses nothing the API still holds: polling resumes from
the cursor, and says how far behind it was. Entries become the NATS stream's own payloads
(`flyapi.entry_to_message`), so the core decodes and filters them like any other line. Must not:
print, filter (the core does), or put the token in an error.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Sequence
from typing import Any

from flylogs.core.backoff import Backoff
from flylogs.core.events import Alive, Behind, Connected, Event, Problem
from flylogs.source.flyapi import ApiError, ApiSpec, entry_to_message, fetch_with, logs_url, open_client
from flylogs.timestamps import parse_rfc3339

NAME = "Fly's logs API (polling)"
IDLE = 1.0  # seconds between polls that found nothing new
ERROR_CAP = 5.0  # the longest wait after failed polls


def api_filters(
    regions: Sequence[str], instances: Sequence[str]
) -> list[tuple[str, str | int | float | bool | None]]:
    """The query's filters as flyctl sends them (fly-go `GetAppLogs`): one `instance`, else one
    `region`; with several of either, none (the API takes one value each): the core filters every
    polled line anyway."""
    if len(instances) == 1:
        return [("instance", instances[0])]
    if len(regions) == 1 and not instances:
        return [("region", regions[0])]
    return []


class ApiPollSource:
    """Follows `spec.apps` by polling; the same face to the session as the NATS source."""

    def __init__(
        self,
        spec: ApiSpec,
        regions: Sequence[str],
        instances: Sequence[str],
        on_line: Callable[[str, bytes], None],
        emit: Callable[[Event], None],
        *,
        clock_ns: Callable[[], int] = time.time_ns,
        idle: float = IDLE,
    ) -> None:
        self._spec = spec
        self._filters = api_filters(regions, instances)
        self._on_line = on_line
        self._emit = emit
        self._clock_ns = clock_ns
        self._idle = idle
        self._client: Any = None  # an httpx.AsyncClient once started
        self._tasks: list[asyncio.Task[None]] = []
        self.client = None  # no NATS client: no JetStream history through this source
        self.reached: dict[str, int] = {}  # per app, the newest timestamp (ns) the API has given
        self._behind, self._behind_at = 0, 0.0

    @property
    def server(self) -> str:
        return NAME

    async def start(self, *, subscribe: bool = True) -> None:
        """A first poll of every app (raising the typed error of a refusal or an unreachable API),
        then a poller per app from now on."""
        self._client = open_client(self._spec)
        started = str(self._clock_ns())
        first: dict[str, dict[str, Any]] = {}
        try:
            for app in self._spec.apps:
                first[app] = await self._page(app, started)
        except ApiError as exc:
            await self.close()
            raise exc.at_start() from None
        self._emit(Alive(int(started)))
        self._emit(Connected(NAME, tuple(f"{app} (polling)" for app in self._spec.apps)))
        if subscribe:  # each poller goes on from its first page: nothing asked for twice
            self._tasks = [
                asyncio.create_task(self._poll(app, started, first[app])) for app in self._spec.apps
            ]

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        if self._client is not None:
            await self._client.aclose()

    async def _page(self, app: str, token: str) -> dict[str, Any]:
        params: list[tuple[str, str | int | float | bool | None]] = [("next_token", token), *self._filters]
        url = logs_url(self._spec.base_url, app)
        return await fetch_with(self._client, self._spec, url, params, self._renewed)

    def _renewed(self) -> None:
        self._emit(Problem("the token was refused; its source holds a new one: polling with it", NAME))

    def _say_behind(self, seconds: float) -> None:
        """How far behind the newest line is: said when it changes by a second, every 2 s at most."""
        now = time.monotonic()
        if abs(round(seconds) - self._behind) >= 1 and now - self._behind_at >= 2.0:
            self._behind, self._behind_at = round(seconds), now
            self._emit(Behind(seconds))

    async def _poll(self, app: str, token: str, first: dict[str, Any] | None = None) -> None:
        down_since, waits = None, Backoff(self._idle * 2, ERROR_CAP)  # a second or so, up to the cap
        ready = first  # a page already in hand (the one `start` asked for)
        while True:
            sent = self._clock_ns() if ready is None else int(token)  # when the page was asked for
            try:
                document = ready if ready is not None else await self._page(app, token)
                ready = None
            except ApiError as exc:
                if down_since is None:
                    down_since = time.monotonic()
                    self._emit(
                        Problem(f"polling {app}: {exc}; retrying (nothing the API keeps is lost)", NAME)
                    )
                await asyncio.sleep(max(waits.next(), exc.retry_after or 0.0))  # Retry-After first
                continue
            if down_since is not None:
                behind = time.monotonic() - down_since
                self._emit(
                    Problem(f"polling {app} again, {behind:.0f}s behind; catching up from the cursor", NAME)
                )
                down_since = None
                waits.reset()
            self._emit(Alive(sent))
            entries = document.get("data") or []
            for entry in entries:
                message = entry_to_message(app, entry) if isinstance(entry, dict) else None
                if message is not None:
                    self._on_line(*message)
                    stamp = parse_rfc3339(str(entry.get("attributes", {}).get("timestamp", "")))
                    if stamp is not None and stamp > self.reached.get(app, 0):
                        self.reached[app] = stamp
            newest = self.reached.get(app)
            if entries and newest is not None:
                self._say_behind(max(0.0, (self._clock_ns() - newest) / 1e9))
            meta = document.get("meta")
            next_token = str(meta.get("next_token") or "") if isinstance(meta, dict) else ""
            # As flyctl's `logs/polling.go`: the cursor moves only with a page that had entries (an
            # empty page's token can be "now", past lines the index has not caught up with yet).
            moved = bool(entries) and bool(next_token) and next_token != token
            token = next_token if moved else token
            if not moved:
                await asyncio.sleep(self._idle)
