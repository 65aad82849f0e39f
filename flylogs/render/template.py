"""`--format TEMPLATE`: plain output in the user's own line format, as stern's `--template`.

Placeholders are the NDJSON record's keys (`{timestamp} {instance} {level} {message}`), a time format
for the timestamp (`{timestamp:%H:%M:%S}`, in the zone of `--time`/`--tz`), and the app's own fields
from a JSON or logfmt message (`{field.user.id}`, empty when absent). A template is data, never
code: no attribute access, indexing or conversion; an unknown placeholder is a usage error naming
it and the known ones. Substituted values are untrusted text: control characters are escaped.
Must not: do I/O.
"""

from __future__ import annotations

import json
import string
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo

from flylogs.errors import UsageError
from flylogs.levels import message_fields
from flylogs.model import LogEvent
from flylogs.render.sanitize import escape_controls

KEYS = (
    "timestamp", "app", "region", "instance", "level", "fly_level", "provider", "process_group",
    "message", "subject",
)  # fmt: skip
FIELD = "field."


@dataclass(frozen=True, slots=True)
class Template:
    parts: tuple[str | tuple[str, str], ...]  # literal text, or (placeholder, time format)
    text: str


def compile_template(text: str) -> Template:
    """The template, checked; UsageError (exit 2) for anything but known placeholders."""
    known = ", ".join(f"{{{k}}}" for k in KEYS) + ", {field.NAME}"
    parts: list[str | tuple[str, str]] = []
    try:
        parsed = list(string.Formatter().parse(text))
    except ValueError as exc:
        hint = f"placeholders: {known}; {{{{ and }}}} for braces"
        raise UsageError(f"--format {text!r}: {exc}", hint=hint) from None
    for literal, name, spec, conversion in parsed:
        if literal:
            parts.append(literal)
        if name is None:
            continue
        is_field = name.startswith(FIELD) and len(name) > len(FIELD) and "[" not in name
        if conversion or not (name in KEYS or is_field) or (spec and name != "timestamp"):
            shown = "{" + name + (f"!{conversion}" if conversion else "") + (f":{spec}" if spec else "") + "}"
            raise UsageError(
                f"--format: unknown placeholder {shown}",
                hint=f"known: {known}; a time format only for {{timestamp:%H:%M:%S}}",
            )
        parts.append((name, spec or ""))
    return Template(tuple(parts), text)


def render(
    template: Template,
    event: LogEvent,
    *,
    tz: tzinfo | None,
    utc: bool,
    wrap: dict[str, tuple[str, str]] | None = None,
) -> str:
    """One line for `event` (`utc`: times as UTC; else in `tz`, None: this machine's zone). `wrap`:
    the colour codes around a placeholder's value (level, instance, timestamp), when colour is on."""
    out: list[str] = []
    fields: object = None
    for part in template.parts:
        if isinstance(part, str):
            out.append(part)
            continue
        name, spec = part
        if name == "timestamp":
            value = _when(event, spec, None if utc else tz, utc)
        elif name.startswith(FIELD):
            if fields is None:
                fields = message_fields(event.message) or {}
            value = _field(fields, name[len(FIELD) :])
        else:
            value = _key(event, name)
        value = escape_controls(value)
        if wrap and name in wrap:
            before, after = wrap[name]
            value = f"{before}{value}{after}"
        out.append(value)
    return "".join(out)


def _key(event: LogEvent, name: str) -> str:
    value = {
        "app": event.app, "region": event.region, "instance": event.instance, "level": event.shown_level(),
        "fly_level": event.level, "provider": event.provider, "process_group": event.process_group,
        "message": event.message, "subject": event.subject,
    }[name]  # fmt: skip
    return value if value is not None else ""


def _when(event: LogEvent, spec: str, tz: tzinfo | None, utc: bool) -> str:
    if event.timestamp is None:
        return ""
    if utc and not spec:
        return event.timestamp  # as sent: nine digits
    ns = event.ns()
    if ns is None:
        return ""
    moment = datetime.fromtimestamp(ns / 1e9, UTC if utc else tz).astimezone(UTC if utc else tz)
    return moment.strftime(spec) if spec else moment.isoformat(timespec="milliseconds")


def _field(doc: object, path: str) -> str:
    """A dotted path into the message's fields ("" when absent); objects and lists as JSON."""
    for key in path.split("."):
        if not isinstance(doc, dict) or key not in doc:
            return ""
        doc = doc[key]
    if doc is None:
        return ""
    if isinstance(doc, dict | list):
        return json.dumps(doc, separators=(",", ":"), ensure_ascii=False)
    if isinstance(doc, bool):
        return "true" if doc else "false"
    return str(doc)
