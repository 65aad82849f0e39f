from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from flylogs.timestamps import MAX_S, MIN_S, NS, format_rfc3339, parse_rfc3339, parse_since


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11-20T09:14:03.120456789Z", 1795166043_120456789),
        ("2026-11-20T09:14:03Z", 1795166043_000000000),
        ("2026-11-20T09:14:03.2Z", 1795166043_200000000),
        ("2026-11-20T10:14:03.120456789+01:00", 1795166043_120456789),
        ("2026-11-20T08:14:03.120456789-01:00", 1795166043_120456789),
        ("2026-11-20T09:14:03.1204567891234Z", 1795166043_120456789),  # truncated, not rounded
        ("1970-01-01T00:00:00Z", 0),
    ],
)
def test_parses_nanoseconds_exactly(text: str, expected: int) -> None:
    assert parse_rfc3339(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "yesterday",
        "",
        "2026-13-01T00:00:00Z",
        "2026-02-30T00:00:00Z",
        "2026-11-20T09:14:03",
        "2026-11-20T25:00:00Z",
        "2026-11-20T09:14:03.Z",
        "٢٠٢٦-11-20T09:14:03Z",
        "2026-11-20T09:14:03Z junk",
    ],
)
def test_rejects_what_is_not_rfc3339(text: str) -> None:
    assert parse_rfc3339(text) is None


def test_formats_with_nine_digits_and_fewer() -> None:
    assert format_rfc3339(1795166043_120456789) == "2026-11-20T09:14:03.120456789Z"
    assert format_rfc3339(1795166043_120456789, 3) == "2026-11-20T09:14:03.120Z"
    assert format_rfc3339(1795166043_120456789, 0) == "2026-11-20T09:14:03Z"


@given(st.integers(min_value=MIN_S * NS, max_value=MAX_S * NS + NS - 1))
def test_round_trip(ns: int) -> None:
    assert parse_rfc3339(format_rfc3339(ns)) == ns


@given(st.text())
def test_never_raises(text: str) -> None:
    parse_rfc3339(text)


@given(st.integers(min_value=MIN_S * NS, max_value=MAX_S * NS + NS - 1))
def test_the_fast_path_agrees_with_the_general_parser(ns: int) -> None:
    from flylogs.timestamps import parse_rfc3339_fly

    text = format_rfc3339(ns)
    assert parse_rfc3339_fly(text) == parse_rfc3339(text) == ns


@pytest.mark.parametrize(
    "text",
    ["2026-11-20T25:14:03.120456789Z", "2026-02-30T09:14:03.120456789Z", "2026-11-20T09:14:03.12045678xZ"],
)
def test_the_fast_path_rejects_what_the_general_parser_rejects(text: str) -> None:
    from flylogs.timestamps import parse_rfc3339_fly

    assert parse_rfc3339_fly(text) is None


@pytest.mark.parametrize(
    "text",
    [
        "0001-01-01T00:00:00.000000000Z",  # Go's zero time
        "0001-01-01T00:00:00-23:59",
        "0000-06-01T00:00:00Z",
        "9999-12-31T23:59:59.999999999Z",
        "9999-12-30T23:30:00-01:00",
    ],
)
def test_instants_at_the_edges_of_the_calendar_are_refused_so_every_zone_can_render_the_rest(
    text: str,
) -> None:
    assert parse_rfc3339(text) is None


def test_years_before_1000_are_formatted_with_four_digits() -> None:
    ns = parse_rfc3339("0001-01-02T05:00:00+01:00")
    assert ns == MIN_S * NS + 4 * 3600 * NS
    assert format_rfc3339(ns) == "0001-01-02T04:00:00.000000000Z"
    assert format_rfc3339(parse_rfc3339("0999-03-04T05:06:07.5Z") or 0, 3) == "0999-03-04T05:06:07.500Z"


NOW = parse_rfc3339("2026-12-02T12:00:00Z") or 0


@pytest.mark.parametrize(
    ("text", "back_ns"),
    [
        ("90s", 90 * NS),
        ("1.5h", 5400 * NS),
        ("100ms", 100_000_000),
        ("2h45m", 9900 * NS),
        ("1h30m10.5s", 5410 * NS + NS // 2),
        ("300us", 300_000),
        ("300µs", 300_000),
        ("7d", 7 * 86400 * NS),
        (".5m", 30 * NS),
    ],
)
def test_since_takes_go_durations(text: str, back_ns: int) -> None:
    assert parse_since(text, NOW) == NOW - back_ns


@pytest.mark.parametrize(
    ("text", "at"),
    [
        ("2026-12-02", "2026-12-02T00:00:00Z"),
        ("2026-12-02T03:55:40", "2026-12-02T03:55:40Z"),
        ("2026-12-02 03:50", "2026-12-02T03:50:00Z"),
        ("2026-12-02 03:50:01.25", "2026-12-02T03:50:01.25Z"),
        ("2026-12-02T03:55:40+01:00", "2026-12-02T02:55:40Z"),
    ],
)
def test_since_takes_dates_and_times_without_a_zone_as_utc(text: str, at: str) -> None:
    assert parse_since(text, NOW) == parse_rfc3339(at)


@pytest.mark.parametrize(
    "text", ["", "yesterday", "10x", "1h 30m", "h", "1000000d", "2026-02-30", "2026-12-02T25:00"]
)
def test_since_refuses_what_it_cannot_use(text: str) -> None:
    assert parse_since(text, NOW) is None
