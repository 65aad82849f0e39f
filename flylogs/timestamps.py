"""RFC 3339 timestamps with nanoseconds, parsed and printed exactly.

Owns: turning Fly's `timestamp` strings into epoch nanoseconds and back. Python's `fromisoformat`
drops digits past microseconds (and older versions refuse nine digits), so this is done by hand.
Must not: read the clock.
"""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime, timedelta

_RFC3339 = re.compile(
    r"(\d{4})-(\d\d)-(\d\d)[Tt ](\d\d):(\d\d):(\d\d)(?:\.(\d+))?(?:([Zz])|([+-])(\d\d):?(\d\d))\Z",
    re.ASCII,
)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ONE_SECOND = timedelta(seconds=1)
NS = 1_000_000_000


def parse_rfc3339(text: str) -> int | None:
    """Epoch nanoseconds for an RFC 3339 timestamp, or None when it is not one.

    Fractions longer than nine digits are truncated (not rounded) to nanoseconds.
    """
    m = _RFC3339.match(text)
    if m is None:
        return None
    year, month, day, hour, minute, second, frac, _z, sign, off_h, off_m = m.groups()
    try:
        dt = datetime(int(year), int(month), int(day), int(hour), int(minute), int(second), tzinfo=UTC)
    except ValueError:
        return None
    seconds = (dt - _EPOCH) // _ONE_SECOND
    if sign is not None:
        offset = int(off_h) * 3600 + int(off_m) * 60
        if offset >= 86400:
            return None
        seconds -= offset if sign == "+" else -offset
    nanos = int(frac[:9].ljust(9, "0")) if frac else 0
    return seconds * NS + nanos


def format_rfc3339(ns: int, digits: int = 9) -> str:
    """`2026-11-20T09:14:03.120456789Z` for epoch nanoseconds (`digits` fractional digits, 0 for none)."""
    seconds, nanos = divmod(ns, NS)
    base = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds))
    if digits <= 0:
        return base + "Z"
    return f"{base}.{nanos:09d}"[: len(base) + 1 + digits] + "Z"


_DURATION = re.compile(r"(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?\Z", re.ASCII)


def parse_since(text: str, now_ns: int) -> int | None:
    """`--since`: a duration back from now (`90s`, `10m`, `2h`, `1h30m`, `7d`) or an RFC 3339 time."""
    text = text.strip()
    match = _DURATION.match(text)
    if match is not None and text and any(match.groups()):
        days, hours, minutes, seconds = (int(g or 0) for g in match.groups())
        return now_ns - ((days * 24 + hours) * 3600 + minutes * 60 + seconds) * NS
    return parse_rfc3339(text)


_days_cache: dict[str, int | None] = {}


def parse_rfc3339_fly(text: str) -> int | None:
    """The fast path for Fly's own form, `2026-11-20T09:14:03.120456789Z`; None for anything else.

    The date part is turned into days once per day seen (cached); the rest is slicing.
    """
    if len(text) != 30 or text[10] != "T" or text[19] != "." or text[29] != "Z":
        return None
    date = text[:10]
    days = _days_cache.get(date)
    if days is None:
        if date in _days_cache or len(_days_cache) > 4096:
            return parse_rfc3339(text)
        whole = parse_rfc3339(date + "T00:00:00Z")
        days = whole // (86400 * NS) if whole is not None else None
        _days_cache[date] = days
        if days is None:
            return None
    clock, frac = text[11:19], text[20:29]
    if not (frac.isdigit() and frac.isascii() and clock[2] == ":" and clock[5] == ":"):
        return parse_rfc3339(text)
    hh, mm, ss = clock[0:2], clock[3:5], clock[6:8]
    if not (
        hh.isdigit() and mm.isdigit() and ss.isdigit() and hh.isascii() and mm.isascii() and ss.isascii()
    ):
        return parse_rfc3339(text)
    hour, minute, second = int(hh), int(mm), int(ss)
    if hour > 23 or minute > 59 or second > 59:
        return None
    return ((days * 86400 + hour * 3600 + minute * 60 + second) * NS) + int(frac)
