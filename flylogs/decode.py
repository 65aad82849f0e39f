"""Decoding Fly's log payloads into `LogEvent`s.

Owns: the field mapping from Fly's JSON (kept here and nowhere else: the stream has no versioned API)
and the malformed-payload policy. Every input, any bytes at all, yields exactly one event; this module
never raises on payload content. Must not: do I/O or filter.

Two paths: a fast one, where msgspec decodes the payload straight into typed structs (six times
faster than `json.loads` here), taken by every well-formed Fly message; and a careful one for
everything else, which salvages what it can and says what was wrong.
"""

from __future__ import annotations

import json
import re
from typing import Any

import msgspec

from flylogs.model import LogEvent
from flylogs.subjects import parse_subject
from flylogs.timestamps import format_rfc3339, parse_rfc3339

_loads = json.loads


class _App(msgspec.Struct, gc=False):
    instance: str | None = None
    name: str | None = None
    process_group: str | None = None


class _Fly(msgspec.Struct, gc=False):
    app: _App | None = None
    region: str | None = None


class _Log(msgspec.Struct, gc=False):
    level: str | None = None


class _Event(msgspec.Struct, gc=False):
    provider: str | None = None


class _Payload(msgspec.Struct, gc=False):
    event: _Event | None = None
    fly: _Fly | None = None
    log: _Log | None = None
    message: str | None = None
    timestamp: str | None = None


_fast_decode = msgspec.json.Decoder(_Payload).decode
# Fly's own form, with every field in range but for the day of a short month: checking the shape is a
# fifth of the cost of computing the instant, so only days past the 28th and the first and last
# years (see timestamps.MIN_S) are checked in full.
_FLY_TIMESTAMP = re.compile(
    r"\d{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12]\d|3[01])T(?:[01]\d|2[0-3]):[0-5]\d:[0-5]\d\.\d{9}Z\Z", re.ASCII
)


def decode(subject: str, payload: bytes) -> LogEvent:
    """One event for one message. Malformed payloads are kept, marked, and shown raw."""
    try:
        doc = _fast_decode(payload)
    except (ValueError, RecursionError):  # not JSON or UTF-8, not an object, a field of the wrong type
        return _decode_carefully(subject, payload)

    fly = doc.fly
    app = fly.app if fly is not None else None
    ts = doc.timestamp
    if (
        fly is not None
        and app is not None
        and ts is not None
        and app.name
        and app.instance
        and fly.region
        and _FLY_TIMESTAMP.match(ts) is not None
        and ((ts[8:10] <= "28" and "0001" < ts[:4] < "9999") or parse_rfc3339(ts) is not None)
    ):
        # The common case, a complete message in Fly's own form: no fallbacks, no problems to list.
        log, event = doc.log, doc.event
        message = doc.message or ""
        level = log.level if log is not None else None
        provider = event.provider if event is not None else None
        text = f"{message}{app.name}{fly.region}{app.instance}{level}{provider}{app.process_group}{subject}"
        clean = _printable_ascii(text)
        made = LogEvent(
            subject,
            payload,
            message,
            ts,
            app.name,
            fly.region,
            app.instance,
            level,
            provider,
            app.process_group,
            None,
            clean,
        )
        return made if clean or _SURROGATE.search(text) is None else _without_surrogates(made)
    return _without_surrogates(_from_struct(subject, payload, doc))


# A lone surrogate (JSON's "\ud800" alone decodes to one) cannot be encoded to UTF-8: no field may
# carry one past here, or every writer, colour hash, hook and webhook would have to guard against it.
_SURROGATE = re.compile("[\ud800-\udfff]")


def _escaped(text: str | None) -> str | None:
    return _SURROGATE.sub(lambda m: f"\\u{ord(m.group()):04x}", text) if text else text


def _without_surrogates(event: LogEvent) -> LogEvent:
    """`event` with each lone surrogate in its text fields written as a visible `\\udxxx` escape."""
    if event.clean:  # printable ASCII throughout: no surrogate can be there
        return event
    fields = (event.message, event.app, event.region, event.instance, event.level, event.provider)
    if not any(f and _SURROGATE.search(f) for f in (*fields, event.process_group, event.timestamp)):
        return event
    return msgspec.structs.replace(
        event,
        message=_escaped(event.message) or "",
        app=_escaped(event.app),
        region=_escaped(event.region),
        instance=_escaped(event.instance),
        level=_escaped(event.level),
        provider=_escaped(event.provider),
        process_group=_escaped(event.process_group),
        timestamp=_escaped(event.timestamp),
        clean=False,
    )


def _printable_ascii(text: str) -> bool:
    """`clean`: every text field (joined into `text`) is printable ASCII, so no renderer has anything
    to escape. str.isascii() is free in CPython and isprintable() is one pass in C."""
    return text.isascii() and text.isprintable()


def _from_struct(subject: str, payload: bytes, doc: _Payload) -> LogEvent:
    """A typed payload with parts missing or an unusual timestamp."""
    problems: list[str] = []
    timestamp = _timestamp(doc.timestamp, problems)
    fly = doc.fly
    app = fly.app if fly is not None else None
    if app is None or fly is None or app.name is None or fly.region is None or app.instance is None:
        sub_app, sub_region, sub_instance = parse_subject(subject)
    else:
        sub_app = sub_region = sub_instance = None
    log, event = doc.log, doc.event
    message = doc.message or ""
    name = (app.name if app is not None else None) or sub_app
    region = (fly.region if fly is not None else None) or sub_region
    instance = (app.instance if app is not None else None) or sub_instance
    level = log.level if log is not None else None
    provider = event.provider if event is not None else None
    group = app.process_group if app is not None else None
    return LogEvent(
        subject=subject,
        raw=payload,
        message=message,
        timestamp=timestamp,
        app=name,
        region=region,
        instance=instance,
        level=level,
        provider=provider,
        process_group=group,
        malformed="; ".join(problems) if problems else None,
        clean=_printable_ascii(
            f"{message}{name}{region}{instance}{level}{provider}{group}{subject}{timestamp}"
        ),
    )


def _timestamp(raw_ts: Any, problems: list[str]) -> str | None:
    """The timestamp in Fly's own form: passed through when it has that shape, else normalised."""
    if raw_ts is None:
        return None
    if type(raw_ts) is not str:
        problems.append("timestamp is not a string")
        return None
    ts_ns = parse_rfc3339(raw_ts)
    if ts_ns is not None and _FLY_TIMESTAMP.match(raw_ts) is not None:
        return raw_ts
    if ts_ns is None:  # not RFC 3339, an impossible date (2026-02-30), or outside years 1-9999
        problems.append(f"bad timestamp {raw_ts[:40]!r}")
        return None
    return format_rfc3339(ts_ns)


def _decode_carefully(subject: str, payload: bytes) -> LogEvent:
    return _without_surrogates(_decode_carefully_raw(subject, payload))


def _decode_carefully_raw(subject: str, payload: bytes) -> LogEvent:
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

    timestamp = _timestamp(doc.get("timestamp"), problems)

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
