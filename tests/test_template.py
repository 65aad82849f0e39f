"""`--format TEMPLATE` and `--tz`: placeholders from the NDJSON keys, time formats in a zone, the
app's own fields; data, never code; untrusted values escaped."""

from __future__ import annotations

import json
from datetime import UTC
from zoneinfo import ZoneInfo

import pytest

from flylogs.decode import decode
from flylogs.errors import UsageError
from flylogs.model import LogEvent
from flylogs.render.template import compile_template, render


def event(message: str, timestamp: str = "2026-11-20T09:14:03.120456789Z") -> LogEvent:
    payload = {"fly": {"app": {"instance": "148e272b1d5389", "name": "shop", "process_group": "web"},
                       "region": "iad"}, "log": {"level": "info"}, "message": message, "timestamp": timestamp,
               "event": {"provider": "app"}}  # fmt: skip
    return decode("logs.shop.iad.148e272b1d5389", json.dumps(payload).encode())


def test_placeholders_times_and_fields() -> None:
    line = event('{"level":"warn","msg":"slow","user":{"id":42,"tags":["a","b"]},"ok":true}')
    template = compile_template("{timestamp:%H:%M:%S} {instance} [{level}] {field.user.id} {field.user.tags} "
                                "{field.ok} <{field.missing}> {process_group}")  # fmt: skip
    assert (
        render(template, line, tz=None, utc=True) == '09:14:03 148e272b1d5389 [warn] 42 ["a","b"] true <> web'
    )
    paris = render(
        compile_template("{timestamp:%H:%M %Z}|{timestamp}"), line, tz=ZoneInfo("Europe/Paris"), utc=False
    )
    assert paris == "10:14 CET|2026-11-20T10:14:03.120+01:00"
    assert render(compile_template("{timestamp}"), line, tz=UTC, utc=True) == "2026-11-20T09:14:03.120456789Z"
    logfmt = event("level=error user=jane msg=boom")
    assert render(compile_template("{field.user}:{level}"), logfmt, tz=None, utc=True) == "jane:error"


def test_untrusted_values_are_escaped_and_colour_wraps_the_chosen_placeholders() -> None:
    line = event("bad \x1b[2J\x07 news")
    assert render(compile_template("{message}"), line, tz=None, utc=True) == "bad \\x1b[2J\\x07 news"
    wrapped = render(compile_template("{level} {instance} {message}"), line, tz=None, utc=True,
                     wrap={"level": ("<L>", "</L>"), "instance": ("<I>", "</I>")})  # fmt: skip
    assert wrapped.startswith("<L>info</L> <I>148e272b1d5389</I> bad")


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("{nope}", "unknown placeholder {nope}"),
        ("{message.__class__}", "unknown placeholder {message.__class__}"),
        ("{message!r}", "unknown placeholder {message!r}"),
        ("{field.a[0]}", "unknown placeholder {field.a[0]}"),
        ("{level:>8}", "unknown placeholder {level:>8}"),
        ("{}", "unknown placeholder {}"),
        ("{message", "--format '{message'"),
    ],
)
def test_a_template_is_data_and_an_unknown_placeholder_is_a_usage_error_naming_the_known_ones(
    text: str, says: str
) -> None:
    with pytest.raises(UsageError) as error:
        compile_template(text)
    assert says in error.value.message
    assert error.value.exit_code == 2
    if "unknown" in says:
        assert "{timestamp}" in (error.value.hint or "") and "{field.NAME}" in (error.value.hint or "")


def test_gap_windows_are_said_in_the_tz_zone_when_one_is_given() -> None:
    from flylogs.core.gaps import Gap, GapReason
    from flylogs.render.gaps import describe_gap

    gap = Gap(1_796_479_200 * 10**9, 1_796_479_205 * 10**9, GapReason.DISCONNECTED)  # 14:00:00Z
    assert describe_gap(gap).startswith("gap 2026-12-05T14:00:00.000Z → 2026-12-05T14:00:05.000Z")
    kolkata = describe_gap(gap, tz=ZoneInfo("Asia/Kolkata"))
    assert kolkata.startswith("gap 2026-12-05T19:30:00.000+05:30 → 2026-12-05T19:30:05.000+05:30")
    assert describe_gap(gap, short=True, tz=ZoneInfo("Asia/Kolkata")).startswith("gap 19:30:00.000+05:30 →")
