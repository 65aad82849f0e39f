"""Decoding Fly's log payloads into `LogEvent`s.

Owns: the field mapping from Fly's JSON (kept here and nowhere else: the stream has no versioned API)
and the malformed-payload policy. Every input, any bytes at all, yields exactly one event; this module
never raises on payload content. Must not: do I/O or filter.
"""

from __future__ import annotations

import json
from typing import Any

from flylogs.model import LogEvent
from flylogs.subjects import parse_subject
from flylogs.timestamps import format_rfc3339, parse_rfc3339

_loads = json.loads


def decode(subject: str, payload: bytes) -> LogEvent:
    """One event for one message. Malformed payloads are kept, marked, and shown raw."""
    try:
        text = payload.decode("utf-8")
    except UnicodeDecodeError:
        return _malformed(subject, payload, payload.decode("utf-8", "replace"), "invalid UTF-8")
    try:
        doc = _loads(text)
    except (ValueError, RecursionError):  # RecursionError: absurdly deep nesting
        return _malformed(subject, payload, text, "not JSON")
    if type(doc) is not dict:
        return _malformed(subject, payload, text, "JSON but not an object")
    return _from_object(subject, payload, doc)


def _from_object(subject: str, payload: bytes, doc: dict[str, Any]) -> LogEvent:
    problems: list[str] = []

    message = doc.get("message")
    if message is None:
        message = ""
    elif type(message) is not str:
        problems.append("message is not a string")
        message = json.dumps(message, ensure_ascii=False)

    timestamp: str | None = None
    ts_ns: int | None = None
    raw_ts = doc.get("timestamp")
    if raw_ts is not None:
        if type(raw_ts) is not str:
            problems.append("timestamp is not a string")
        else:
            ts_ns = parse_rfc3339(raw_ts)
            if ts_ns is None:
                problems.append(f"bad timestamp {raw_ts[:40]!r}")
            # Fly's own form passes through untouched; anything else is normalised to it.
            elif len(raw_ts) == 30 and raw_ts[10] == "T" and raw_ts[-1] == "Z":
                timestamp = raw_ts
            else:
                timestamp = format_rfc3339(ts_ns)

    fly = _obj(doc, "fly", problems)
    fly_app = _obj(fly, "app", problems)
    log = _obj(doc, "log", problems)
    event = _obj(doc, "event", problems)

    sub_app, sub_region, sub_instance = parse_subject(subject)
    return LogEvent(
        subject=subject,
        raw=payload,
        message=message,
        timestamp=timestamp,
        ts_ns=ts_ns,
        app=_str(fly_app, "name", problems) or sub_app,
        region=_str(fly, "region", problems) or sub_region,
        instance=_str(fly_app, "instance", problems) or sub_instance,
        level=_str(log, "level", problems),
        provider=_str(event, "provider", problems),
        process_group=_str(fly_app, "process_group", problems),
        malformed="; ".join(problems) if problems else None,
    )


def _obj(parent: dict[str, Any], key: str, problems: list[str]) -> dict[str, Any]:
    value = parent.get(key)
    if type(value) is dict:
        return value
    if value is not None:
        problems.append(f"{key} is not an object")
    return {}


def _str(parent: dict[str, Any], key: str, problems: list[str]) -> str | None:
    value = parent.get(key)
    if value is None or type(value) is str:
        return value
    problems.append(f"{key} is not a string")
    return str(value)


def _malformed(subject: str, payload: bytes, text: str, why: str) -> LogEvent:
    app, region, instance = parse_subject(subject)
    return LogEvent(
        subject=subject, raw=payload, message=text, app=app, region=region, instance=instance, malformed=why
    )
