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
# The instants flylogs accepts: a day inside both ends of what a datetime can hold, so that every
# accepted instant renders in every time zone. Go's zero time (0001-01-01T00:00:00Z, what a Go app
# logs for an unset time) and 9999-12-31 fall outside: they are "bad timestamps", shown and marked.
MIN_S = (datetime(1, 1, 2, tzinfo=UTC) - _EPOCH) // _ONE_SECOND
MAX_S = (datetime(9999, 12, 31, tzinfo=UTC) - _EPOCH) // _ONE_SECOND - 1


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
    if not MIN_S <= seconds <= MAX_S:
        return None
    nanos = int(frac[:9].ljust(9, "0")) if frac else 0
    return seconds * NS + nanos


def format_rfc3339(ns: int, digits: int = 9) -> str:
    """`2026-11-20T09:14:03.120456789Z` for epoch nanoseconds (`digits` fractional digits, 0 for none)."""
    seconds, nanos = divmod(ns, NS)
    t = time.gmtime(seconds)  # strftime's %Y would not pad year 1 to 0001
    base = f"{t.tm_year:04d}-{t.tm_mon:02d}-{t.tm_mday:02d}T{t.tm_hour:02d}:{t.tm_min:02d}:{t.tm_sec:02d}"
    if digits <= 0:
        return base + "Z"
    return f"{base}.{nanos:09d}"[: len(base) + 1 + digits] + "Z"


# Go's durations (`1.5h`, `100ms`, `2h45m`, `300us`) and days, as `--since` takes them.
_DURATION_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h|d)", re.ASCII | re.IGNORECASE)
_UNIT_NS = {
    "ns": 1,
    "us": 1000,
    "µs": 1000,
    "ms": 10**6,
    "s": NS,
    "m": 60 * NS,
    "h": 3600 * NS,
    "d": 86400 * NS,
}
_PLAIN_TIME = re.compile(r"(\d{4}-\d\d-\d\d)(?:[Tt ](\d\d:\d\d)(:\d\d(?:\.\d+)?)?)?\Z", re.ASCII)


def parse_duration(text: str) -> int | None:
    """Nanoseconds in a Go-style duration (`90s`, `1.5h`, `100ms`, `1h30m`, `7d`), or None."""
    pos, total = 0, 0
    for match in _DURATION_PART.finditer(text):
        if match.start() != pos:
            return None
        number, unit = match.groups()
        whole, _, frac = number.partition(".")
        scale = _UNIT_NS[unit if unit == "µs" else unit.lower()]
        total += int(whole or 0) * scale + (int(frac) * scale // 10 ** len(frac) if frac else 0)
        pos = match.end()
    return total if pos == len(text) and pos else None


def parse_since(text: str, now_ns: int) -> int | None:
    """`--since`: a duration back from now, an RFC 3339 time, or a date or time without a zone (UTC):
    `2026-12-02`, `2026-12-02T03:55:40`, `2026-12-02 03:50`. None when it is none of these, or
    outside the instants flylogs accepts (see MIN_S)."""
    text = text.strip()
    duration = parse_duration(text)
    if duration is not None:
        ns = now_ns - duration
        return ns if ns >= MIN_S * NS else None
    plain = _PLAIN_TIME.match(text)
    if plain is not None:
        date, hm, rest = plain.groups()
        text = f"{date}T{hm or '00:00'}{rest or ':00'}Z"
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
