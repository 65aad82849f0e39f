from __future__ import annotations

import json

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

from flylogs.decode import decode
from tests.helpers import CASES, Case

MALFORMED_NOTES = {
    "bad timestamp: render, never crash",
    "non-JSON payload",
    "truncated JSON",
    "JSON but not an object",
    "wrong types in known fields",
}


@pytest.mark.parametrize("case", CASES, ids=[c.note for c in CASES])
def test_every_fixture_decodes_and_malformed_ones_are_marked(case: Case) -> None:
    event = decode(case.subject, case.payload)
    assert event.raw == case.payload
    assert event.subject == case.subject
    assert (event.malformed is not None) == (case.note in MALFORMED_NOTES), event.malformed
    # The subject always supplies what the payload lacks.
    assert event.app and event.region and event.instance


def test_full_message_maps_every_field() -> None:
    event = decode(CASES[0].subject, CASES[0].payload)
    assert event.timestamp == "2026-11-20T09:14:03.120456789Z"
    assert event.ns() == 1795166043_120456789
    assert (event.app, event.region, event.instance) == ("shop-api", "iad", "4d891d77b05118")
    assert (event.level, event.provider, event.process_group) == ("info", "app", "app")
    assert event.message == "Listening on 0.0.0.0:8080"
    assert event.malformed is None


def test_nanoseconds_survive_and_offsets_become_utc() -> None:
    by_note = {c.note: decode(c.subject, c.payload) for c in CASES}
    assert by_note["error level"].timestamp == "2026-11-20T09:14:04.000000001Z"
    assert by_note["short fraction"].timestamp == "2026-11-20T09:14:07.200000000Z"
    assert by_note["offset instead of Z"].timestamp == "2026-11-20T09:14:07.300000000Z"


def test_proxy_region_comes_from_the_payload() -> None:
    event = next(decode(c.subject, c.payload) for c in CASES if c.note.startswith("proxy"))
    assert event.provider == "proxy"
    assert event.region == "sin"


def test_missing_fields_fall_back_to_the_subject() -> None:
    event = decode("logs.shop-worker.ams.9080517f159287", b'{"message":"only a message"}')
    assert (event.app, event.region, event.instance) == ("shop-worker", "ams", "9080517f159287")
    assert event.timestamp is None and event.level is None and event.malformed is None


def test_wrong_types_salvage_what_they_can() -> None:
    event = decode("logs.a.b.c", b'{"message": 12345, "timestamp": 1700000000, "fly": "x", "log": null}')
    assert event.message == "12345"
    assert event.malformed is not None and "timestamp" in event.malformed and "fly" in event.malformed


def test_invalid_utf8_is_malformed_and_shown_with_replacement() -> None:
    event = decode("logs.a.b.c", b'{"message":"caf\xe9"}')
    assert event.malformed == "invalid UTF-8"
    assert "caf\ufffd" in event.message


def test_absurd_nesting_does_not_crash() -> None:
    event = decode("logs.a.b.c", b"[" * 100_000)
    assert event.malformed == "not JSON"


def test_unknown_fields_are_ignored() -> None:
    payload = json.dumps(
        {"message": "m", "brand_new": {"x": 1}, "log": {"level": "info", "extra": 2}}
    ).encode()
    event = decode("logs.a.b.c", payload)
    assert event.malformed is None and event.level == "info"


@given(st.binary(max_size=400), st.text(max_size=40))
def test_arbitrary_bytes_never_crash(payload: bytes, subject: str) -> None:
    event = decode(subject, payload)
    assert event.raw == payload


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=10), children, max_size=3)
    ),
    max_leaves=10,
)


@given(st.dictionaries(st.sampled_from(["message", "timestamp", "fly", "log", "event", "x"]), json_values))
def test_arbitrary_objects_never_crash(doc: dict[str, object]) -> None:
    event = decode("logs.a.b.c", json.dumps(doc).encode())
    assert isinstance(event.message, str)


@pytest.mark.parametrize("case", CASES, ids=[c.note for c in CASES])
def test_the_fast_and_careful_paths_agree(case: Case) -> None:
    from flylogs.decode import _decode_carefully

    fast, careful = decode(case.subject, case.payload), _decode_carefully(case.subject, case.payload)
    assert msgspec.structs.replace(fast, clean=False) == careful


def test_clean_means_nothing_to_escape() -> None:
    by_note = {c.note: decode(c.subject, c.payload) for c in CASES}
    assert by_note["plain app line"].clean
    assert not by_note["ANSI colour codes inside the message"].clean
    assert not by_note["unicode"].clean  # non-ASCII goes the careful way through the escaper
    assert not by_note["tabs"].clean


def test_a_lone_surrogate_becomes_a_visible_escape_and_a_pair_stays_a_character() -> None:
    """`"5683d927\\ud800"` is valid JSON text but no UTF-8: no field may carry it past decoding
    (a colour hash, a writer, a hook's environment or a webhook's body would each fail on it)."""
    payload = (
        b'{"fly":{"app":{"instance":"5683d927\\ud800","name":"shop"},"region":"iad"},'
        b'"message":"a \\udc00 b \\ud83d\\ude00","timestamp":"2026-11-20T09:14:03.120456789Z",'
        b'"log":{"level":"info"}}'
    )
    for event in (decode("logs.shop.iad.m1", payload), decode("logs.shop.iad.m1", payload[:-1] + b',"x":1}')):
        assert event.instance == "5683d927\\ud800" and event.message == "a \\udc00 b \U0001f600"
        assert not event.clean
        for text in (event.instance, event.message, event.app, event.region):
            assert text is not None
            text.encode("utf-8")  # raises on a lone surrogate
