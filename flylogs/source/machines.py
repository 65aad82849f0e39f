"""Fly's Machines API: the adapter that tells which org (and network) an app belongs to.

`GET <base>/v1/apps/<app>` answers `{"name":…,"network":…,"organization":{"slug":…}}`: the org slug
is the NATS user, and the network is what flyctl's agent needs to establish the right tunnel, so a
user never has to type `--org`. Base `https://api.machines.dev`, or `FLY_FLAPS_BASE_URL` as flyctl
honours it. Must not: print, cache anything on disk, or put the token in an error.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx

from flylogs.settings.tokens import TokenKeeper
from flylogs.source.flyapi import authorization

DEFAULT_MACHINES_URL = "https://api.machines.dev"


class MachinesApiError(Exception):
    """The Machines API could not say; `status` is the HTTP status when there was one."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True, slots=True)
class AppInfo:
    name: str
    org: str
    network: str = ""


def lookup_app(app: str, token: str, base_url: str = DEFAULT_MACHINES_URL, timeout: float = 10.0) -> AppInfo:
    """The org slug and network of `app`; MachinesApiError when the API cannot say."""
    url = f"{base_url.rstrip('/')}/v1/apps/{quote(app)}"
    headers = {"Authorization": authorization(token), "Accept": "application/json"}
    try:
        with httpx.Client(timeout=timeout) as client:
            response = client.get(url, headers=headers)
    except httpx.HTTPError as exc:
        raise _unreachable(exc) from None
    document = _document(response, app)
    try:
        org = document["organization"]["slug"]
    except (ValueError, KeyError, TypeError):
        raise MachinesApiError("the Machines API sent an unexpected document") from None
    if not isinstance(org, str) or not org:
        raise MachinesApiError("the Machines API sent an app without an org")
    network = document.get("network")
    network = "" if not isinstance(network, str) or network == "default" else network
    return AppInfo(app, org, network)


def _unreachable(exc: httpx.HTTPError) -> MachinesApiError:
    return MachinesApiError(f"the Machines API is unreachable: {type(exc).__name__}")


def _document(response: httpx.Response, app: str) -> Any:
    """The JSON of a 200 answer; MachinesApiError (with the status) for anything else."""
    if response.status_code != 200:
        raise MachinesApiError(
            f"the Machines API answered {response.status_code} for app {app!r}", response.status_code
        )
    try:
        return response.json()
    except ValueError:
        raise MachinesApiError("the Machines API sent an unexpected document") from None


@dataclass(frozen=True, slots=True)
class MachineInfo:
    """One Machine as `GET /v1/apps/<app>/machines` lists it."""

    app: str
    id: str
    state: str
    region: str | None = None
    group: str | None = None  # config.metadata.fly_process_group, else process_group
    started_ns: int | None = None  # its most recent `start` event (fly-go `MachineEvent`, ms)
    version: str | None = None  # `instance_id`: a new one for each version (a deploy replaced it)


def parse_machines(app: str, document: object) -> list[MachineInfo]:
    """The Machines of `app` that should be logging, as fly-go's `ListActive` reads the API's list
    (`flaps/flaps_machines.go`, `machine_types.go`): destroyed and destroying Machines, release-command
    Machines and console Machines are left out; entries without an id or a state are skipped."""
    if not isinstance(document, list):
        raise MachinesApiError("the Machines API sent an unexpected document")
    found = []
    for item in document:
        if not isinstance(item, dict):
            continue
        mid, state = item.get("id"), item.get("state")
        if not isinstance(mid, str) or not mid or not isinstance(state, str):
            continue
        config = item.get("config")
        raw = config.get("metadata") if isinstance(config, dict) else None
        metadata = {k: v for k, v in raw.items() if isinstance(v, str)} if isinstance(raw, dict) else {}
        if not _should_log(state, metadata):
            continue
        region = item.get("region")
        group = process_group(metadata)
        version = item.get("instance_id")
        found.append(
            MachineInfo(
                app, mid, state, region if isinstance(region, str) else None, group or None,
                last_start(item.get("events")), version if isinstance(version, str) and version else None,
            )
        )  # fmt: skip
    return found


def last_start(events: object) -> int | None:
    """The time (ns) of a Machine's most recent `start` event; None without one."""
    if not isinstance(events, list):
        return None
    starts = [
        e["timestamp"] for e in events
        if isinstance(e, dict) and e.get("type") == "start" and isinstance(e.get("timestamp"), int)
    ]  # fmt: skip
    return max(starts) * 1_000_000 if starts else None


def process_group(metadata: dict[str, str]) -> str:
    """`MachineConfig.ProcessGroup()`: `fly_process_group`, else the older `process_group`."""
    return metadata.get("fly_process_group") or metadata.get("process_group") or ""


def _should_log(state: str, metadata: dict[str, str]) -> bool:
    active = state not in ("destroyed", "destroying")  # IsActive
    group = process_group(metadata)
    release = group == "fly_app_release_command" or metadata.get("process_group") == "release_command"
    apps_v2 = metadata.get("fly_platform_version") == "v2"
    console = apps_v2 and active and group == "fly_app_console"  # IsFlyAppsConsole
    return active and not release and not console


class MachineStates:
    """The state of every Machine of some apps, asked again and again over one kept connection."""

    def __init__(
        self,
        apps: tuple[str, ...],
        token: str,
        base_url: str = DEFAULT_MACHINES_URL,
        timeout: float = 10.0,
        tokens: TokenKeeper | None = None,
    ) -> None:
        self.apps = apps
        self._token = token
        self._tokens = tokens  # shared: a 401 reads the token's sources again (flyctl rotates it)
        self._base = base_url.rstrip("/")
        self._client = httpx.AsyncClient(timeout=timeout)

    async def fetch(self) -> list[MachineInfo]:
        """Every Machine of every app; MachinesApiError (naming no token) when the API cannot say."""
        found: list[MachineInfo] = []
        for app in self.apps:
            url = f"{self._base}/v1/apps/{quote(app)}/machines"
            used = self._current
            response = await self._get(url, used)
            if response.status_code == 401 and self._tokens is not None and self._tokens.refused(used):
                response = await self._get(url, self._current)
            found += parse_machines(app, _document(response, app))
        return found

    @property
    def _current(self) -> str:
        """The token in use: the shared keeper's (renewed by any adapter), else the one given."""
        return (self._tokens.token if self._tokens is not None else None) or self._token

    async def _get(self, url: str, token: str) -> httpx.Response:
        headers = {"Authorization": authorization(token), "Accept": "application/json"}
        try:
            return await self._client.get(url, headers=headers)
        except httpx.HTTPError as exc:
            raise _unreachable(exc) from None

    async def close(self) -> None:
        await self._client.aclose()
