"""A fake of Fly's Machines API (flaps) on loopback.

Follows fly-go (superfly/fly-go, snapshot of 2026-08-21): `flaps/flaps_apps.go` `GetApp`
(`GET /v1/apps/<app>` → `{"id","name","network","status","organization":{"name","slug"}}`, where the
slug is the org's *raw* slug: `jane-doe-123` for a personal org, never `personal`) and
`flaps/flaps_machines.go` `List` (`GET /v1/apps/<app>/machines` → every Machine, destroyed ones,
release-command and console Machines included: `ListActive` filters on the client, with
`machine_types.go`'s rules). The header is fly-go's `FlapsHeader()`: `FlyV1 <macaroons>` when the token
has macaroons, else `Bearer <user token>`; anything else is 401. Unknown apps are 404.
"""

from __future__ import annotations

from types import TracebackType
from typing import Any

from tests.fakes.http import JsonHandler, serve
from tests.fakes.tokens import flaps_header

# app -> Machine id -> (region, state), (region, state, metadata) or (region, state, metadata, extra):
# `extra` adds fields as the API sends them, e.g. `events` (newest first, `timestamp` in ms) and
# `instance_id` (a new one for each version of the Machine).
Machines = dict[str, dict[str, Any]]


class FakeMachinesApi:
    def __init__(
        self, apps: dict[str, tuple[str, str]], token: str, machines: Machines | None = None
    ) -> None:
        self.apps = apps  # name -> (raw org slug, network)
        # Change it while running: the next GET sees it.
        self.machines: Machines = machines or {}
        self.token = token  # change it while running: a rotated token
        self.failing = 0  # answer this many next requests with 503
        self.requests: list[tuple[str, str]] = []  # (path, Authorization)
        api = self

        class Handler(JsonHandler):
            def do_GET(self) -> None:
                auth = self.headers.get("Authorization", "")
                api.requests.append((self.path, auth))
                name = self.path.removeprefix("/v1/apps/")
                listing = name.endswith("/machines")
                name = name.removesuffix("/machines")
                if api.failing > 0:
                    api.failing -= 1
                    self.send_json(503, {"error": "unavailable"})
                elif auth != flaps_header(api.token):
                    self.send_json(401, {"error": "unauthorized"})
                elif name not in api.apps and name not in api.machines:
                    self.send_json(404, {"error": "app not found"})
                elif listing:
                    listed = api.machines.get(name, {})
                    self.send_json(200, [_machine(mid, *spec) for mid, spec in listed.items()])
                else:
                    org, network = api.apps[name]
                    self.send_json(200, {"id": f"id-{name}", "name": name, "network": network,
                                     "status": "deployed",
                                     "organization": {"name": org.title(), "slug": org}})  # fmt: skip

        self._server, self.url = serve(Handler)

    def __enter__(self) -> FakeMachinesApi:
        return self

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        self._server.shutdown()
        self._server.server_close()


def _machine(
    mid: str,
    region: str,
    state: str,
    metadata: dict[str, str] | None = None,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    meta = {"fly_platform_version": "v2", "fly_process_group": "app"} if metadata is None else metadata
    found = {"id": mid, "name": f"m-{mid}", "region": region, "state": state, "config": {"metadata": meta}}
    return {**found, **(extra or {})}


def start_event(at_s: float) -> dict[str, Any]:
    """A Machine's `start` event as the Machines API lists it (machine_types.go `MachineEvent`)."""
    return {"type": "start", "status": "started", "source": "flyd", "timestamp": int(at_s * 1000)}
