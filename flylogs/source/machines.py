"""Fly's Machines API: the adapter that tells which org (and network) an app belongs to.

`GET <base>/v1/apps/<app>` answers `{"name":…,"network":…,"organization":{"slug":…}}`: the org slug
is the NATS user, and the network is what flyctl's agent needs to establish the right tunnel, so a
user never has to type `--org`. Base `https://api.machines.dev`, or `FLY_FLAPS_BASE_URL` as flyctl
honours it. Must not: print, cache anything on disk, or put the token in an error.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

import httpx

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
        raise MachinesApiError(f"the Machines API is unreachable: {type(exc).__name__}") from None
    if response.status_code != 200:
        raise MachinesApiError(
            f"the Machines API answered {response.status_code} for app {app!r}", response.status_code
        )
    try:
        document = response.json()
        org = document["organization"]["slug"]
    except (ValueError, KeyError, TypeError):
        raise MachinesApiError("the Machines API sent an unexpected document") from None
    if not isinstance(org, str) or not org:
        raise MachinesApiError("the Machines API sent an app without an org")
    network = document.get("network")
    network = "" if not isinstance(network, str) or network == "default" else network
    return AppInfo(app, org, network)
