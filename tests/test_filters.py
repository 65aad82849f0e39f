from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from flylogs.errors import UsageError
from flylogs.filters import build_filter
from flylogs.model import LogEvent


def ev(
    message: str = "",
    level: str | None = "info",
    app: str | None = None,
    region: str | None = None,
    instance: str | None = None,
) -> LogEvent:
    return LogEvent(
        subject="logs.a.iad.i1",
        raw=b"",
        message=message,
        level=level,
        app=app,
        region=region,
        instance=instance,
    )


def test_empty_filter_keeps_everything() -> None:
    keep = build_filter()
    assert keep.is_empty and keep(ev("x"))


def test_grep_any_and_exclude_wins() -> None:
    keep = build_filter(grep=["ERROR", "panic"], exclude=["healthz"])
    assert keep(ev("ERROR db down"))
    assert keep(ev("panic: nil"))
    assert not keep(ev("all good"))
    assert not keep(ev("ERROR on /healthz"))


def test_ignore_case() -> None:
    assert build_filter(grep=["error"], ignore_case=True)(ev("ERROR x"))
    assert not build_filter(grep=["error"])(ev("ERROR x"))
    assert not build_filter(exclude=["HEALTH"], ignore_case=True)(ev("GET /health"))


@pytest.mark.parametrize(
    ("minimum", "level", "shown"),
    [
        ("warn", "info", False),
        ("warn", "warn", True),
        ("warn", "warning", True),
        ("warn", "WARNING", True),
        ("warn", "error", True),
        ("warn", "debug", False),
        ("warn", "notice", True),  # unknown levels always pass
        ("warn", None, True),
        ("error", "fatal", True),
        ("debug", "trace", False),
    ],
)
def test_minimum_level(minimum: str, level: str | None, shown: bool) -> None:
    assert build_filter(level=minimum)(ev("m", level=level)) is shown


def test_client_side_dimensions() -> None:
    keep = build_filter(regions=["iad"], instances=["i1"], apps=["a"])
    assert keep(ev(app="a", region="iad", instance="i1"))
    assert not keep(ev(app="a", region="lhr", instance="i1"))
    assert not keep(ev(app="b", region="iad", instance="i1"))


def test_bad_regex_is_a_usage_error_naming_the_flag() -> None:
    with pytest.raises(UsageError, match="--grep '\\['"):
        build_filter(grep=["["])
    with pytest.raises(UsageError, match="--exclude"):
        build_filter(exclude=["(unclosed"])


def test_unknown_level_is_a_usage_error() -> None:
    with pytest.raises(UsageError):
        build_filter(level="loud")


def test_field_filters_on_json_messages() -> None:
    line = ev('{"status": 500, "path": "/api/cart", "user": {"id": "42"}, "ok": false}')
    assert build_filter(fields=["status=500"])(line)
    assert not build_filter(fields=["status=200"])(line)
    assert build_filter(fields=["user.id=42", "path~^/api/"])(line)
    assert not build_filter(fields=["user.id!=42"])(line)
    assert build_filter(fields=["missing!=x"])(line)  # an absent key differs from any value
    assert not build_filter(fields=["missing=x"])(line)
    assert build_filter(fields=["ok=false"])(line)
    assert build_filter(fields=["path~CART"], ignore_case=True)(line)
    assert not build_filter(fields=["status=500"])(ev("status=500 but not JSON"))


def test_bad_field_expressions_are_usage_errors() -> None:
    for bad in ["status", "=500", "path~(unclosed"]:
        with pytest.raises(UsageError):
            build_filter(fields=[bad])


def test_the_apps_own_level_feeds_level_when_fly_says_info() -> None:
    keep = build_filter(level="error")
    assert keep(ev('{"level": "error", "msg": "db down"}', level="info"))
    assert not keep(ev('{"severity": "debug", "msg": "pool"}', level="info"))
    assert not keep(ev("plain text", level="info"))
    assert keep(ev('{"level": "debug"}', level="error"))  # Fly's own non-info level wins


LOGFMT = 'time=2026-12-02T03:55:40Z level=INFO msg="Controlling BESS" site_power=2 http.status=200'


def test_logfmt_messages_give_their_level_and_fields() -> None:
    from flylogs.levels import effective_level, logfmt

    assert logfmt(LOGFMT) == {
        "time": "2026-12-02T03:55:40Z", "level": "INFO", "msg": "Controlling BESS",
        "site_power": "2", "http.status": "200",
    }  # fmt: skip
    assert logfmt("retrying in 4s (attempt=2)") is None  # a sentence with an `=` is not logfmt
    assert logfmt("a=1") is None  # one pair: too little to tell
    assert effective_level("info", 'ts=1 level=warning msg="disk 91%"') == "warn"
    assert effective_level("info", LOGFMT) == "info"
    assert effective_level("error", 'level=debug msg="x"') == "error"  # Fly's own non-info level wins
    assert effective_level(None, '{"severity":"CRITICAL","msg":"x"}') == "fatal"
    assert effective_level("info", "plain text") == "info"


def test_level_and_field_filters_read_logfmt_like_json() -> None:
    warn = 'time=1 level=WARN msg="Controlling BESS" site_power=2'
    assert build_filter(level="warn")(ev(warn, level="info"))
    assert not build_filter(level="error")(ev(warn, level="info"))
    assert build_filter(fields=["level=WARN"])(ev(warn))
    assert build_filter(fields=["msg~BESS", "site_power!=3"])(ev(warn))
    assert not build_filter(fields=["msg~^Idle"])(ev(warn))
    assert build_filter(fields=["http.status=200"])(ev(LOGFMT))
    assert not build_filter(fields=["level=INFO"])(ev("level is INFO here"))  # plain text has no fields


def _effective_level_in_full(fly_level: str | None, message: str) -> str | None:
    """The plain path: parse every message that could be structured, no substring shortcut."""
    from flylogs.levels import app_level, canonical, message_fields

    if fly_level is not None and fly_level.lower() != "info":
        return canonical(fly_level)
    return canonical(app_level(message_fields(message)) or fly_level)


_PIECES = st.sampled_from(
    [
        '{"level":"error"}',
        '{"lvl": "WARN", "x": 1}',
        '{"severity":"debug"}',
        '{"le\\u0076el":"error"}',
        "level=warning msg=x",
        "a=1 lvl=ERR",
        "ts=1 severity=fatal b=2",
        "x=1",
        "level is error",
        '{"msg":"level=error"}',
        "plain",
        "{",
        " ",
        "=",
        '"level"',
    ]
)


@given(st.sampled_from([None, "info", "INFO", "warn"]), st.lists(_PIECES, max_size=3).map("".join))
def test_the_effective_level_shortcut_gives_what_the_full_parse_gives(
    fly_level: str | None, message: str
) -> None:
    from flylogs.levels import effective_level

    assert effective_level(fly_level, message) == _effective_level_in_full(fly_level, message)
