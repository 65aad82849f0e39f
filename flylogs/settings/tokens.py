"""Tokens: where flyctl keeps one, normalising what users paste, and redacting them everywhere.

Owns: `StoredCredentials` (what the keyring holds), flyctl's `config.yml` token, `FlyV1 `/`Bearer `
stripping and macaroon selection, and the redaction of tokens and of credentials inside URLs.
Must not: print, or read the process environment (it arrives as a mapping).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
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


def flyctl_config_path(env: Mapping[str, str], home: Path) -> Path:
    base = Path(env["FLY_CONFIG_DIR"]) if env.get("FLY_CONFIG_DIR") else home / ".fly"
    return base / "config.yml"


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
    """Strip `FlyV1 `/`Bearer ` and whitespace; of several comma-separated tokens keep the macaroons.

    flyctl sends macaroons joined by commas; a token string may also carry a legacy token beside them.
    """
    if raw is None:
        return None
    token = raw.strip()
    scheme, _, rest = token.partition(" ")
    if scheme.lower() in ("flyv1", "bearer"):
        token = rest.strip()
    elif token.lower() in ("flyv1", "bearer"):  # a bare scheme word, nothing after it
        token = ""
    if "," in token:
        parts = [p.strip() for p in token.split(",") if p.strip()]
        macaroons = [p for p in parts if p.startswith(MACAROON_PREFIXES)]
        token = ",".join(macaroons or parts)
    return token or None


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
