"""Tokens: where flyctl keeps one, normalising what users paste, and redacting them everywhere.

Owns: `StoredCredentials` (what the keyring holds), flyctl's `config.yml` token, `FlyV1 `/`Bearer `
stripping and macaroon selection, and the redaction of tokens and of credentials inside URLs.
Must not: print, or read the process environment (it arrives as a mapping).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

MACAROON_PREFIXES = ("fm1r_", "fm1a_", "fm2_")


@dataclass(frozen=True, slots=True)
class StoredCredentials:
    """What `flylogs auth login` keeps in the keyring."""

    org: str
    token: str = field(repr=False)


_ACCESS_TOKEN_LINE = re.compile(r"^access_token:\s*(.*?)\s*$", re.MULTILINE)


def flyctl_dir(env: Mapping[str, str], home: Path) -> Path:
    """flyctl's `helpers.GetConfigDirectory`: `FLY_CONFIG_DIR` when it is set at all (even empty: then
    the current directory, as Go joins "" and a name), else `~/.fly`."""
    return Path(env["FLY_CONFIG_DIR"]) if "FLY_CONFIG_DIR" in env else home / ".fly"


def flyctl_config_path(env: Mapping[str, str], home: Path) -> Path:
    return flyctl_dir(env, home) / "config.yml"


def read_flyctl_token(path: Path) -> str | None:
    """`access_token:` from flyctl's config.yml (a one-line scalar: no YAML library needed)."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    match = _ACCESS_TOKEN_LINE.search(text)
    if match is None:
        return None
    value = match.group(1)
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        value = value[1:-1]
    return value or None


def normalize_token(raw: str | None) -> str | None:
    """Strip `FlyV1 `/`Bearer ` and whitespace; several comma-separated tokens are kept, macaroons first.

    As fly-go's `tokens.Parse`: a token string may carry macaroons and user tokens together (flyctl's
    config.yml often does). All of them go where flyctl sends all of them (`set-token str`, the
    organizations endpoint); the NATS password and the Machines and logs APIs get `service_token`.
    """
    if raw is None:
        return None
    token = raw.strip()
    scheme, _, rest = token.partition(" ")
    if scheme.lower() in ("flyv1", "bearer"):
        token = rest.strip()
    elif token.lower() in ("flyv1", "bearer"):  # a bare scheme word, nothing after it
        token = ""
    macaroons, users = split_tokens(token)
    return ",".join(macaroons + users) or None


def split_tokens(token: str) -> tuple[list[str], list[str]]:
    """(macaroons, user tokens) of a comma-separated token string, in their order."""
    parts = [p.strip() for p in token.split(",") if p.strip()]
    return [p for p in parts if p.startswith(MACAROON_PREFIXES)], [
        p for p in parts if not p.startswith(MACAROON_PREFIXES)
    ]


def service_token(token: str) -> str:
    """What fly-go's `NATS()`, `Flaps()` and `Bubblegum()` give: the macaroons, else the user tokens."""
    macaroons, users = split_tokens(token)
    return ",".join(macaroons or users)


class TokenKeeper:
    """The token in use, and its sources read again when it is refused.

    flyctl treats config.yml's tokens as short-lived and rewrites `access_token` while it runs, so a
    refusal (NATS auth, HTTP 401) asks `reread` (the same precedence as at start: flag, environment,
    config file, keyring, flyctl's config) whether the token changed. `on_new` is told of a new one
    (the boundary hides it). One keeper is shared by every adapter of a run, so a token that NATS
    found rotated serves the logs API too. Must not: print, or say the token.
    """

    def __init__(
        self,
        token: str | None,
        reread: Callable[[], str | None] = lambda: None,
        on_new: Callable[[str], None] = lambda _t: None,
    ) -> None:
        self.token = token
        self._reread = reread
        self._on_new = on_new
        self.renewed = 0  # how many times a refusal found a new token

    def __repr__(self) -> str:
        return f"TokenKeeper({redact_token(self.token)})"

    def refused(self, used: str | None = None) -> bool:
        """The token (or `used`, what the caller sent) was refused: True when its sources now give
        another one, which becomes the token in use."""
        if used is not None and self.token is not None and service_token(used) != service_token(self.token):
            return True  # another adapter has renewed it since: use that
        fresh = normalize_token(self._reread())
        if fresh is None or fresh == self.token:
            return False
        self.token = fresh
        self.renewed += 1
        self._on_new(fresh)
        return True


def redact_token(token: str | None) -> str:
    """A description of a token that reveals nothing usable."""
    if not token:
        return "none"
    kind = "macaroon" if token.startswith(MACAROON_PREFIXES) else "token"
    count = token.count(",") + 1
    plural = f"{count} macaroons" if kind == "macaroon" and count > 1 else kind
    shown = token[: token.index("_") + 1] + "…" if kind == "macaroon" else "…"
    return f"{shown} ({plural}, {len(token)} characters)"


def redact_url(url: str) -> str:
    """`url` without any user:password part, with or without a scheme (`u:p@host:4222` too)."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        scheme, rest = "", url
    authority, slash, tail = rest.partition("/")
    if "@" not in authority:
        return url
    return f"{scheme}{sep}{authority.rpartition('@')[2]}{slash}{tail}"


def redact_webhook(url: str) -> str:
    """A webhook URL is a secret (its path is the key): its scheme and host only."""
    parts = urlsplit(url if "://" in url else f"https://{url}")
    return f"{parts.scheme}://{parts.hostname or '?'}/…"


def url_password(url: str) -> str | None:
    """The secret part of `url`'s userinfo (the password, else a lone user: a token), if any."""
    rest = url.partition("://")[2] or url
    authority = rest.partition("/")[0]
    if "@" not in authority:
        return None
    user, _, password = authority.rpartition("@")[0].partition(":")
    return password or user or None


SERVER_SCHEMES = ("nats", "tls", "ws", "wss")


def server_problem(url: str) -> str | None:
    """What is wrong with a NATS server URL (`host:port` or `scheme://[user:pass@]host[:port]`), or None."""
    text = url.strip()
    if not text:
        return "an empty server URL"
    full = text if "://" in text else f"nats://{text}"
    try:
        parts = urlsplit(full)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number in range
    except ValueError:
        return f"{redact_url(text)!r} is not a server URL"
    if parts.scheme not in SERVER_SCHEMES:
        return f"{redact_url(text)!r}: the scheme must be one of {', '.join(SERVER_SCHEMES)}"
    if not parts.hostname:
        return f"{redact_url(text)!r} names no host"
    return None
