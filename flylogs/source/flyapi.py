"""Fly's HTTP logs API: the adapter for history and gap backfill on Fly itself.

`GET <base>/api/v1/apps/<app>/logs?next_token=<unix ns>` pages through up to a week of logs. Fly calls
the API unsupported for outside use, so it stays behind this one module: requests, paging, retries,
and turning its JSON:API entries into the same payload shape the NATS stream carries (so one decoder
serves both). Indexing lags the live stream, so a backfill waits `index_lag` seconds first.
401 and 404 are final; other errors are retried with backoff. Must not: print or filter.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
import urllib.parse
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from flylogs.core.backoff import Backoff
from flylogs.core.clock import from_date
from flylogs.errors import AuthError, FlylogsError, UnreachableError, UsageError
from flylogs.settings.tokens import TokenKeeper, split_tokens
from flylogs.timestamps import parse_rfc3339

DEFAULT_API_URL = "https://api.fly.io"
MAX_PAGES = 1000


class ReplayCapped(Exception):
    """A replay stopped at its page cap before the window's end: what it read, and why it is short."""

    def __init__(self, messages: list[tuple[str, bytes]], reason: str) -> None:
        super().__init__(reason)
        self.messages = messages
        self.reason = reason


class ApiError(Exception):
    """The logs API could not be used; `final` when retrying cannot help (401, 404)."""

    def __init__(
        self, message: str, *, final: bool, status: int | None = None, retry_after: float | None = None
    ) -> None:
        super().__init__(message)
        self.final = final
        self.status = status
        self.retry_after = retry_after  # the server's `Retry-After`, in seconds (bounded)

    def at_start(self, instead: str | None = None) -> FlylogsError:
        """The error to end with when the history asked for at start (`--since`, `--no-follow`,
        `--tail`) cannot be read: refused (exit 4), no such app (exit 2), else unreachable (exit 5).
        `instead`: what the command can do without history (the hint's last words)."""
        if self.status in (401, 403):
            return AuthError(
                f"{self} when reading the history",
                hint="the token must be allowed to read the app's logs: fly tokens create readonly <org>",
            )
        if self.status == 404:
            return UsageError(f"{self} when reading the history", hint="check the app's name: fly apps list")
        return UnreachableError(
            f"cannot read the history: {self}",
            hint="check the network, or --api-url; a JetStream stream with the log subjects can give "
            "the history instead (--stream NAME); "
            + (instead or "without --since/--no-follow/--tail flylogs only follows"),
        )


@dataclass(frozen=True, slots=True)
class ApiSpec:
    apps: tuple[str, ...]
    token: str = field(repr=False)
    base_url: str = DEFAULT_API_URL
    index_lag: float = 5.0
    timeout: float = 10.0
    retries: int = 4
    max_pages: int = MAX_PAGES  # per app and window: past it, a replay is capped (and says so)
    # Shared with the other adapters: a 401 reads the token's sources again (flyctl rotates it).
    tokens: TokenKeeper | None = field(default=None, repr=False, compare=False)

    @property
    def current_token(self) -> str:
        return (self.tokens.token if self.tokens is not None else None) or self.token


def authorization(token: str) -> str:
    """fly-go's `FlapsHeader()`/`BubblegumHeader()`: the macaroons as `FlyV1 …`, else the user token as
    `Bearer …` (a token string holding both sends only the macaroons)."""
    macaroons, users = split_tokens(token)
    return f"FlyV1 {','.join(macaroons)}" if macaroons else f"Bearer {','.join(users)}"


def logs_url(base_url: str, app: str) -> str:
    """The logs API's endpoint for `app`."""
    return f"{base_url.rstrip('/')}/api/v1/apps/{urllib.parse.quote(app)}/logs"


def open_client(spec: ApiSpec) -> Any:
    """One kept-alive httpx client for as many pages as are asked (the token goes with each request,
    so a rotated one is used at once)."""
    import httpx  # imported when the API is first used: it costs start-up time a tail may never need

    return httpx.AsyncClient(headers={"Accept": "application/json"}, timeout=spec.timeout)


def entry_to_message(app: str, entry: dict[str, Any]) -> tuple[str, bytes] | None:
    """One JSON:API entry as (subject, payload) in the NATS stream's own shape."""
    attrs = entry.get("attributes")
    if not isinstance(attrs, dict):
        return None
    meta = _obj(attrs.get("meta"))
    event = _obj(meta.get("event"))
    instance = str(attrs.get("instance") or "unknown")
    region = str(attrs.get("region") or "unknown")
    payload = {
        "event": {"provider": event.get("provider")},
        "fly": {"app": {"instance": instance, "name": app}, "region": region},
        "log": {"level": attrs.get("level")},
        "message": attrs.get("message"),
        "timestamp": attrs.get("timestamp"),
    }
    subject = f"logs.{app}.{region}.{instance}"
    return subject, json.dumps(payload, separators=(",", ":")).encode()


def _obj(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


class FlyApiHistory:
    """A history source over the HTTP logs API, for the apps being followed."""

    NAME = "Fly's logs API"

    def __init__(self, spec: ApiSpec, rng: random.Random | None = None) -> None:
        self.spec = spec
        self.name = self.NAME
        self.label = "api"
        self.by_line_time = True
        self._rng = rng or random.Random()  # noqa: S311  (retry jitter)

    async def check(self) -> None:
        """Nothing to check up front: the API is consulted only when a window needs it."""

    async def offset(self) -> tuple[int, int] | None:
        """Fly's clock minus this one, ± how far off that may be, from the API's `Date` header."""
        return await api_offset(self.spec, self.spec.apps[0])

    async def replay(
        self, start_ns: int, end_ns: int | None, *, fresh: bool = False
    ) -> list[tuple[str, bytes]]:
        """Lines from `start_ns` to `end_ns`; `fresh`: the window just closed, so let the index catch up."""
        if fresh and self.spec.index_lag > 0:
            await asyncio.sleep(self.spec.index_lag)
        found: list[tuple[str, bytes]] = []
        capped: list[str] = []
        async with open_client(self.spec) as client:  # one connection for every page of the window
            for app in self.spec.apps:
                lines, done = await self._replay_app(client, app, start_ns, end_ns)
                found.extend(lines)
                if not done:
                    capped.append(app)
        if capped:
            reason = f"stopped after {self.spec.max_pages} pages of {', '.join(capped)}: the window is longer"
            raise ReplayCapped(found, reason)
        return found

    async def _replay_app(
        self, client: Any, app: str, start_ns: int, end_ns: int | None
    ) -> tuple[list[tuple[str, bytes]], bool]:
        """The window's lines of `app`, and whether the window was read to its end (not capped)."""
        found: list[tuple[str, bytes]] = []
        token = str(start_ns)
        for _page in range(self.spec.max_pages):
            document = await self._get(client, app, token)
            entries = document.get("data") or []
            past_end = False
            for entry in entries:
                message = entry_to_message(app, entry) if isinstance(entry, dict) else None
                if message is None:
                    continue
                stamp = entry["attributes"].get("timestamp")
                ts = parse_rfc3339(stamp) if isinstance(stamp, str) else None
                if ts is not None and ts < start_ns:
                    continue
                if ts is not None and end_ns is not None and ts > end_ns:
                    past_end = True
                    continue
                found.append(message)
            meta = _obj(document.get("meta"))
            next_token = str(meta.get("next_token") or "")
            if past_end or not entries or not next_token or next_token == token:
                return found, True
            token = next_token
        return found, False

    async def _get(self, client: Any, app: str, next_token: str) -> dict[str, Any]:
        url = logs_url(self.spec.base_url, app)
        attempt, waits = 0, Backoff(0.4, rng=self._rng)
        while True:
            attempt += 1
            try:
                return await fetch_with(client, self.spec, url, {"next_token": next_token})
            except ApiError as exc:
                if exc.final or attempt > self.spec.retries:
                    raise
                wait = max(waits.next(), exc.retry_after or 0.0)  # the server's word first (429, 503)
            await asyncio.sleep(wait)


async def fetch_with(
    client: Any, spec: ApiSpec, url: str, params: Any, renewed: Callable[[], None] = lambda: None
) -> dict[str, Any]:
    """One page with the current token; a refused one (401) is asked again at once when the token's
    sources hold a new token (`renewed` is told)."""
    used = spec.current_token
    try:
        return await fetch_page(client, url, params, used)
    except ApiError as exc:
        if exc.status != 401 or spec.tokens is None or not spec.tokens.refused(used):
            raise
    renewed()
    return await fetch_page(client, url, params, spec.current_token)


async def fetch_page(client: Any, url: str, params: Any, token: str) -> dict[str, Any]:
    """One page of the logs API through an httpx client; ApiError for anything but a JSON object."""
    response = await _answer(client, url, params, token)
    try:
        document = response.json()
    except ValueError:
        raise ApiError("the logs API sent something that is not JSON", final=False) from None
    if not isinstance(document, dict):
        raise ApiError("the logs API sent an unexpected document", final=False)
    return document


async def probe(spec: ApiSpec, app: str, now_ns: int) -> str | None:
    """Whether the logs API answers for `app` (`doctor`): its `Date` header (None without one);
    ApiError as for a page."""
    async with open_client(spec) as client:
        response = await _answer(
            client, logs_url(spec.base_url, app), {"next_token": str(now_ns)}, spec.current_token
        )
    date = response.headers.get("date")
    return str(date) if date else None


async def api_offset(
    spec: ApiSpec, app: str, clock_ns: Callable[[], int] = time.time_ns
) -> tuple[int, int] | None:
    """Fly's clock minus this one, and how far off that may be, from the logs API's `Date` header
    (one request); None when it sends none. ApiError as for a page."""
    sent = clock_ns()
    date = await probe(spec, app, sent)
    received = clock_ns()
    seconds = http_date(date)
    return from_date(seconds, sent, received) if seconds is not None else None


def http_date(value: str | None) -> int | None:
    """An HTTP date (`Sat, 05 Dec 2026 01:04:18 GMT`) as epoch seconds; None when it is not one."""
    if not value:
        return None
    from email.utils import parsedate_to_datetime

    try:
        return int(parsedate_to_datetime(value.strip()).timestamp())
    except (TypeError, ValueError, IndexError, OverflowError):
        return None


async def _answer(client: Any, url: str, params: Any, token: str) -> Any:
    """The 200 answer to one request; ApiError (with the status) for anything else."""
    import httpx

    try:
        response = await client.get(url, params=params, headers={"Authorization": authorization(token)})
    except httpx.HTTPError as exc:
        raise ApiError(f"the logs API is unreachable: {_why(exc)}", final=False) from None
    if response.status_code != 200:
        final = response.status_code in (401, 403, 404)
        reason = response.reason_phrase or ""
        raise ApiError(
            f"the logs API answered {response.status_code} {reason}".rstrip(),
            final=final,
            status=response.status_code,
            retry_after=retry_after(response.headers.get("retry-after")),
        )
    return response


RETRY_AFTER_CAP = 60.0  # seconds: a server asking for longer is asked again after a minute


def retry_after(value: str | None, now: float | None = None) -> float | None:
    """A `Retry-After` header (seconds, or an HTTP date) as seconds from now, within 0–60; None
    without a usable one."""
    if not value:
        return None
    text = value.strip()
    if text.isdigit():
        seconds = float(text)
    else:
        when = http_date(text)
        if when is None:
            return None
        seconds = when - (time.time() if now is None else now)
    return min(max(seconds, 0.0), RETRY_AFTER_CAP)


def _why(exc: BaseException) -> str:
    text = str(exc).strip()
    if "timed out" in text.lower() or type(exc).__name__.endswith("Timeout"):
        return "timed out"
    return text or type(exc).__name__


__all__: Sequence[str] = [
    "DEFAULT_API_URL",
    "ApiError",
    "ApiSpec",
    "FlyApiHistory",
    "ReplayCapped",
    "entry_to_message",
]
