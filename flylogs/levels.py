"""The level a line is shown and filtered with, and the fields of a structured message.

Fly says `info` for everything an app prints on stdout; the app's own level, when its message is
JSON (`{"level":"error",…}`) or logfmt (`time=… level=ERROR msg="…"`), says more. The *effective*
level is Fly's when it says anything else, else the app's own, else Fly's; known names are given
in one canonical spelling (`warning` → `warn`, `ERR` → `error`), so `--level`, the table, plain text
and NDJSON's `level` all agree. Must not: do I/O.
"""

from __future__ import annotations

import json
import re

import msgspec

# Ranks for the level names seen in the wild. Names not here are "unknown": they always pass
# `--level` (hiding a line whose importance we cannot judge would be worse than showing it).
LEVEL_RANKS: dict[str, int] = {
    "trace": 5,
    "debug": 10,
    "info": 20,
    "warn": 30,
    "warning": 30,
    "error": 40,
    "err": 40,
    "fatal": 50,
    "critical": 50,
    "crit": 50,
    "panic": 50,
    "alert": 50,
    "emerg": 50,
}
_NAMES = {5: "trace", 10: "debug", 20: "info", 30: "warn", 40: "error", 50: "fatal"}
CANONICAL: dict[str, str] = {name: _NAMES[rank] for name, rank in LEVEL_RANKS.items()}
# Where an app puts its level, in JSON and logfmt alike.
APP_LEVEL_KEYS = ("level", "severity", "lvl")

_decode_any = msgspec.json.decode
_PAIR = re.compile(r'([A-Za-z_][\w.\-]*)=("(?:[^"\\]|\\.)*"|[^\s"=]*)(?:\s+|\Z)')


def level_rank(level: str | None) -> int | None:
    """The rank of a level name, case-insensitively; None for a missing or unknown level."""
    if level is None:
        return None
    rank = LEVEL_RANKS.get(level)
    if rank is None:
        rank = LEVEL_RANKS.get(level.lower())
    return rank


BEAT = "beat"  # the level a FLYLOGS-BEAT line is shown with (it ranks nowhere: never filtered out)


def canonical(level: str | None) -> str | None:
    """`WARNING` → `warn`; unknown names as they are."""
    if level is None:
        return None
    return CANONICAL.get(level) or CANONICAL.get(level.lower()) or level


def message_object(message: str) -> dict[str, object] | None:
    """The message as a JSON object, when it is one."""
    if not message.startswith("{"):
        return None
    try:
        doc = _decode_any(message)
    except (ValueError, RecursionError):
        return None
    return doc if isinstance(doc, dict) else None


def logfmt(message: str) -> dict[str, object] | None:
    """The message as logfmt (`key=value key2="quoted value"`), when the whole of it is pairs, at
    least two of them: a sentence with one `=` in it is not logfmt."""
    text = message.strip()
    if "=" not in text:
        return None
    fields: dict[str, object] = {}
    pos = 0
    while pos < len(text):
        match = _PAIR.match(text, pos)
        if match is None:
            return None
        key, value = match.groups()
        if value.startswith('"'):
            try:
                value = json.loads(value)
            except ValueError:
                value = value[1:-1]
        fields[key] = value
        pos = match.end()
    return fields if len(fields) >= 2 else None


def message_fields(message: str) -> dict[str, object] | None:
    """A structured message's fields: a JSON object, or logfmt pairs; None for plain text."""
    if message.startswith("{"):
        return message_object(message)
    return logfmt(message)


def app_level(fields: dict[str, object] | None) -> str | None:
    """The level an app wrote into its own structured message."""
    if fields is None:
        return None
    for key in APP_LEVEL_KEYS:
        value = fields.get(key)
        if isinstance(value, str) and value:
            return value
    return None


def effective_level(fly_level: str | None, message: str) -> str | None:
    """Fly's level unless it is `info` (or missing), else the app's own; canonical when known."""
    if fly_level is not None and fly_level != "info" and fly_level.lower() != "info":
        return canonical(fly_level)
    # Parse only a message that can hold a level key: a substring test is C-speed, a parse is not,
    # and this runs for every line shown. (A JSON key may be written with \u escapes: then parse.)
    if message[:1] == "{":
        if '"level"' in message or '"severity"' in message or '"lvl"' in message or "\\u" in message:
            own = app_level(message_object(message))
            if own is not None:
                return canonical(own)
    elif message.startswith("FLYLOGS-BEAT "):  # the canary's beat (flylogs.beats): marked as one
        return BEAT
    elif "level=" in message or "lvl=" in message or "severity=" in message:
        own = app_level(logfmt(message))
        if own is not None:
            return canonical(own)
    return canonical(fly_level)
