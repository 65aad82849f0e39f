from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from flylogs.timestamps import format_rfc3339, parse_rfc3339


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


@given(st.integers(min_value=0, max_value=253402300799_999999999))
def test_round_trip(ns: int) -> None:
    assert parse_rfc3339(format_rfc3339(ns)) == ns


@given(st.text())
def test_never_raises(text: str) -> None:
    parse_rfc3339(text)


@given(st.integers(min_value=0, max_value=253402300799_999999999))
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
