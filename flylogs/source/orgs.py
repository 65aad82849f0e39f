"""Fly's organizations endpoint: the adapter that gives an org's two names.

An org has a *raw* slug (`jane-doe-123`: what the Machines API gives, and the NATS user) and a *web*
slug (`personal` for a personal org, else usually the raw one): flyctl's agent knows organizations
only by the web slug (`agent/server/session.go` `fetchOrg`). flyctl maps one to the other before
`establish` (`agent/remote.go` `BringUpAgentOrgSlug`) with `GET {FLY_UIEX_BASE_URL, default
https://api.fly.io}/api/v1/organizations/<raw slug>`, `Authorization: Bearer <all tokens>`
(`internal/uiex/organizations.go`); for `personal` it asks nothing. A name typed by hand may be
either: the list (`GET /api/v1/organizations?admin=false`) says which. Must not: print, or put the
token in an error.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NoReturn
from urllib.parse import quote

import httpx

PERSONAL = "personal"


class OrgApiError(Exception):
    """The organizations endpoint could not say; `status` is the HTTP status when there was one."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True, slots=True)
class OrgNames:
    """One org's two names: `raw` for NATS, `web` for flyctl's agent."""

    raw: str
    web: str


def names_of_raw(raw: str, token: str, base_url: str, timeout: float = 10.0) -> OrgNames:
    """The web slug of the org whose raw slug is `raw`, as flyctl asks for it (`personal` is both)."""
    if raw == PERSONAL:
        return OrgNames(raw, raw)
    document = _get(f"{base_url.rstrip('/')}/api/v1/organizations/{quote(raw)}", token, timeout)
    org = document.get("organization") if isinstance(document, dict) else None
    names = _names(org)
    if names is None:
        _unexpected()
    return names


def names_of_typed(name: str, token: str, base_url: str, timeout: float = 10.0) -> OrgNames:
    """The names of an org typed by hand (`personal`, a web slug or a raw slug), from the list of the
    token's organizations; OrgApiError(404) when none of them has that name."""
    document = _get(f"{base_url.rstrip('/')}/api/v1/organizations?admin=false", token, timeout)
    listed = document.get("organizations") if isinstance(document, dict) else None
    if not isinstance(listed, list):
        _unexpected()
    for org in listed:
        names = _names(org)
        if names is not None and name in (names.raw, names.web):
            return names
    raise OrgApiError(f"the token knows no org called {name!r}", 404)


def _names(org: Any) -> OrgNames | None:
    if not isinstance(org, dict):
        return None
    web, raw = org.get("slug"), org.get("raw_slug")
    if not isinstance(web, str) or not web:
        return None
    return OrgNames(raw if isinstance(raw, str) and raw else web, web)


def _unexpected() -> NoReturn:
    raise OrgApiError("Fly's organizations endpoint sent an unexpected document")


def _get(url: str, token: str, timeout: float) -> Any:
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    try:
        with httpx.Client(timeout=timeout) as client:
            response = client.get(url, headers=headers)
    except httpx.HTTPError as exc:
        raise OrgApiError(f"Fly's organizations endpoint is unreachable: {type(exc).__name__}") from None
    if response.status_code != 200:
        raise OrgApiError(
            f"Fly's organizations endpoint answered {response.status_code}", response.status_code
        )
    try:
        return response.json()
    except ValueError:
        raise OrgApiError("Fly's organizations endpoint sent something that is not JSON") from None
