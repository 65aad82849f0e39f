"""A fake of Fly's web API (`https://api.fly.io`): the logs endpoint and the organizations endpoint.

Follows, for the logs (fly-go `resource_logs.go` `GetAppLogs`, flyctl `logs/polling.go`):
`GET /api/v1/apps/<app>/logs?next_token=<unix ns>[&instance=<id>][&region=<r>]` with fly-go's
`BubblegumHeader()` (`FlyV1 <macaroons>`, else `Bearer <user token>`; anything else is 401); one
`region` and one `instance` value each (a repeated parameter: the last one wins, as Phoenix reads a
query; flyctl never sends two); pages of 100 entries, oldest first, in the JSON:API shape
`{"data":[{"id","type":"logs","attributes":{…}}],"meta":{"next_token":"…"}}`. A line is indexed
`lag` seconds after its timestamp (the API lags the stream); an empty page's `next_token` is "now",
which is why flyctl takes `next_token` only from pages that have entries.

And, for the organizations (flyctl `internal/uiex/organizations.go`, base `FLY_UIEX_BASE_URL`):
`GET /api/v1/organizations/<raw slug>` → `{"organization":{"id","slug","raw_slug","personal","name",…}}`
with `Authorization: Bearer <macaroons and user tokens>` (fly-go `GraphQL()`); an unknown slug is 404
(flyctl only ever asks by the raw slug, and never for `personal`); `GET /api/v1/organizations?admin=false`
lists them all.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from flylogs.timestamps import format_rfc3339
from tests.fakes.http import JsonHandler, serve
from tests.fakes.tokens import flaps_header, graphql

PAGE = 100
ORGS = (
    {"id": "o1", "slug": "personal", "raw_slug": "jane-doe-123", "personal": True, "name": "Jane Doe"},
    {"id": "o2", "slug": "acme", "raw_slug": "acme", "personal": False, "name": "Acme"},
)


def entry(
    ts_ns: int, message: str, instance: str = "m1", region: str = "iad"
) -> tuple[int, dict[str, object]]:
    """One log line as the logs API gives it: (its timestamp in ns, the JSON:API entry)."""
    return ts_ns, {
        "id": f"{ts_ns}-{instance}",
        "type": "logs",
        "attributes": {
            "timestamp": format_rfc3339(ts_ns),
            "message": message,
            "level": "info",
            "instance": instance,
            "region": region,
            "meta": {"event": {"provider": "app"}},
        },
    }


class FakeFlyApi:
    def __init__(self, token: str = "fm2_secret", *, page: int = PAGE, lag: float = 0.0) -> None:
        self.token = token  # change it while running: a rotated token
        self.page = page
        self.lag = lag  # seconds between a line's timestamp and its being readable
        self.entries: list[tuple[int, dict[str, object]]] = []  # (timestamp in ns, JSON:API entry)
        # Or, when set, the entries as they are at each request (a log pipeline still being written).
        self.feed: Callable[[], list[tuple[int, dict[str, object]]]] | None = None
        self.orgs: list[dict[str, Any]] = [dict(o) for o in ORGS]
        self.requests: list[tuple[str, str]] = []  # (path+query, Authorization)
        self.fail_with: list[int] = []  # statuses to answer, one per request, before succeeding
        self.retry_after: str | None = None  # a Retry-After header on those failures
        self.times: list[float] = []  # when each request came (monotonic)
        self.ahead_ns = 0  # Fly's clock against this machine's: its Date headers, its "now"
        api = self

        class Handler(JsonHandler):
            def date_time_string(self, timestamp: float | None = None) -> str:
                """The `Date` header, by Fly's clock."""
                return super().date_time_string((time.time_ns() + api.ahead_ns) / 1e9)

            def do_GET(self) -> None:
                auth = self.headers.get("Authorization", "")
                api.requests.append((self.path, auth))
                api.times.append(time.monotonic())
                if api.fail_with:
                    status = api.fail_with.pop(0)
                    self.send_response(status)
                    if api.retry_after is not None:
                        self.send_header("Retry-After", api.retry_after)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                url = urlsplit(self.path)
                query = parse_qs(url.query, keep_blank_values=True)
                if url.path.startswith("/api/v1/organizations"):
                    self._orgs(unquote(url.path.removeprefix("/api/v1/organizations")), auth)
                elif url.path.startswith("/api/v1/apps/") and url.path.endswith("/logs"):
                    self._logs(query, auth)
                else:
                    self.send_json(404, {"error": "Not Found"})

            def _orgs(self, rest: str, auth: str) -> None:
                if auth != f"Bearer {graphql(api.token)}":
                    self.send_json(401, {"error": "You must be authenticated to view this."})
                elif rest in ("", "/"):
                    self.send_json(200, {"organizations": api.orgs})
                else:
                    found = [o for o in api.orgs if o["raw_slug"] == rest.lstrip("/")]
                    if found:
                        self.send_json(200, {"organization": found[0]})
                    else:
                        self.send_json(404, {"error": "Not Found"})

            def _logs(self, query: dict[str, list[str]], auth: str) -> None:
                if auth != flaps_header(api.token):
                    self.send_json(401, {"errors": [{"detail": "unauthorized"}]})
                    return
                token = (query.get("next_token") or [""])[-1]
                region = (query.get("region") or [""])[-1]
                instance = (query.get("instance") or [""])[-1]
                now = time.time_ns() + api.ahead_ns
                visible = [
                    (ts, e) for ts, e in sorted(api.feed() if api.feed else api.entries, key=lambda te: te[0])
                    if not api.lag or (ts + api.lag * 1e9 <= now
                    and (not region or e["attributes"]["region"] == region)  # type: ignore[index]
                    and (not instance or e["attributes"]["instance"] == instance))  # type: ignore[index]
                ]  # fmt: skip
                if token:
                    page = [(ts, e) for ts, e in visible if ts >= int(token)][: api.page]
                else:  # no cursor: the most recent lines
                    page = visible[-api.page :]
                next_token = str(page[-1][0] + 1) if page else str(now)
                self.send_json(200, {"data": [e for _, e in page], "meta": {"next_token": next_token}})

        self.server, self.url = serve(Handler)

    def log_requests(self) -> list[tuple[str, str]]:
        return [r for r in self.requests if "/logs" in r[0]]

    def __enter__(self) -> FakeFlyApi:
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
