"""Render tests: exact strings from each sink over in-memory streams, at a fixed width."""

from __future__ import annotations

import io
import json
import os
import re
from datetime import UTC

import pytest
from hypothesis import given
from hypothesis import strategies as st

from flylogs.decode import decode
from flylogs.model import LogEvent
from flylogs.render.console import Environment, Styler
from flylogs.render.jsonl import JsonSink, RawSink
from flylogs.render.plain import PlainSink
from flylogs.render.sinks import build_sink
from flylogs.render.styles import INSTANCE_PALETTE, Colors, level_style
from flylogs.render.table import TableSink
from flylogs.settings.choices import ColorWhen, OutputMode, TimeMode
from tests.helpers import CASES

BY_NOTE = {c.note: decode(c.subject, c.payload) for c in CASES}


def render(sink_factory: type | object, events: list[LogEvent], **kwargs: object) -> str:
    out = io.BytesIO()
    sink = sink_factory(out, **kwargs)  # type: ignore[operator]
    sink.header()
    for event in events:
        sink.event(event)
    sink.flush()
    return out.getvalue().decode("utf-8")


def plain(events: list[LogEvent], color: bool = False, **kwargs: object) -> str:
    return render(PlainSink, events, styler=Styler(color), **kwargs)


def table(events: list[LogEvent], color: bool = False, width: int = 80, **kwargs: object) -> str:
    return render(TableSink, events, styler=Styler(color), width=width, tz=UTC, **kwargs)


def test_plain_matches_fly_logs_layout() -> None:
    assert plain([BY_NOTE["plain app line"], BY_NOTE["proxy line, region differs from machine"]]) == (
        "2026-11-20T09:14:03.120Z app[4d891d77b05118] iad [info] Listening on 0.0.0.0:8080\n"
        "2026-11-20T09:14:05.500Z proxy[4d891d77b05118] sin [info] "
        "[PR04] could not find a good candidate within 20 attempts at load balancing\n"
    )


def test_plain_names_the_app_when_several_are_followed() -> None:
    assert plain([BY_NOTE["second app, worker process group"]], show_app=True) == (
        "2026-11-20T09:14:07.000Z shop-worker app[9080517f159287] ams [info] job 8812 done in 312ms\n"
    )


def test_plain_keeps_one_log_on_one_line_and_escapes_controls() -> None:
    out = plain([BY_NOTE["multi-line message"], BY_NOTE["ANSI colour codes inside the message"]])
    assert out.count("\n") == 2
    assert "Traceback (most recent call last):\\n  File" in out
    assert "\\x1b[32mINFO\\x1b[0m coloured by the app itself" in out
    assert "\x1b" not in out


def test_plain_marks_malformed_payloads() -> None:
    assert plain([BY_NOTE["non-JSON payload"]]) == (
        "- [9080517f159287] ams [malformed: not JSON] this payload is not JSON at all\n"
    )


def test_plain_colour_follows_fly_logs() -> None:
    out = plain([BY_NOTE["error level"]], color=True)
    assert "\x1b[2m2026-11-20T09:14:04.000Z\x1b[0m" in out  # faint time
    assert "\x1b[32mlhr\x1b[0m" in out  # green region
    assert "\x1b[1;31merror\x1b[0m" in out  # red level


def test_table_rows_have_fixed_columns_and_wrap_under_the_message() -> None:
    out = table(
        [BY_NOTE["plain app line"], BY_NOTE["runner provider"], BY_NOTE["warning spelled out"]], width=80
    )
    assert out == (
        "TIME         REG INSTANCE       LEVEL MESSAGE\n"
        "09:14:03.120 iad 4d891d77b05118 info  Listening on 0.0.0.0:8080\n"
        "09:14:05.000 iad 4d891d77b05118 info  [runner] machine exited with exit code 0, \n"
        "                                      not restarting\n"
        "09:14:04.200 lhr e7843ed2f21908 warn  cache miss ratio=0.12\n"
    )
    assert all(len(line) <= 80 for line in out.splitlines())


def test_table_app_column_and_multiline_messages() -> None:
    out = table([BY_NOTE["multi-line message"]], app_width=11, width=100)
    assert out == (
        "TIME         APP         REG INSTANCE       LEVEL MESSAGE\n"
        "09:14:06.400 shop-api    iad 4d891d77b05118 error Traceback (most recent call last):\n"
        '                                                    File "app.py", line 3\n'
        "                                                  ValueError: bad\n"
    )


def test_table_caps_a_huge_line() -> None:
    out = table([BY_NOTE["very long line"]], width=80)
    rows = out.splitlines()[1:]
    assert len(rows) == 13
    assert rows[-1].strip().startswith("…") and "more characters" in rows[-1]


def test_table_keeps_wide_characters_inside_the_width() -> None:
    from rich.cells import cell_len

    event = LogEvent(
        subject="logs.a.b.c", raw=b"", message="日本語のログ" * 20, level="info", instance="c", region="b"
    )
    rows = table([event], width=60).splitlines()
    assert all(cell_len(row) <= 60 for row in rows)
    assert "".join(r.strip() for r in rows[1:]).endswith("日本語のログ")


def test_table_highlights_grep_matches_and_shows_markup_literally() -> None:
    event = LogEvent(subject="logs.a.b.c", raw=b"", message="[bold]ERROR[/bold] db down", level="error")
    out = table([event], color=True, highlight=[re.compile("ERROR")])
    assert "[bold]\x1b[1;7mERROR\x1b[0m[/bold] db down" in out


def test_level_and_instance_colours() -> None:
    assert level_style("debug") == "cyan"
    assert level_style("info") == "blue"
    assert level_style("WARNING") == "yellow"
    assert level_style("error") == "bold red"
    assert level_style("notice") == "magenta"
    assert not any("red" in c or "yellow" in c for c in INSTANCE_PALETTE)


def test_an_instance_keeps_its_colour_from_run_to_run() -> None:
    """Processes with different hash seeds (Python's own hash() differs between them) agree."""
    import subprocess
    import sys

    script = (
        "from flylogs.model import LogEvent\nfrom flylogs.render.styles import Colors\n"
        "c = Colors()\n"
        "import json\nprint(json.dumps([c.style(LogEvent('s', b'', 'm', app='api', instance=i)) for i in "
        "('4d891d77b05118', '3d8d9e3fe46789', 'e7843ed2f21908')]))"
    )
    runs = {
        subprocess.run(
            [sys.executable, "-c", script],
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ, "PYTHONHASHSEED": seed},
        ).stdout
        for seed in ("1", "2", "3")
    }
    assert len(runs) == 1
    [colours] = runs
    assert all(c in INSTANCE_PALETTE for c in json.loads(colours))


def test_json_records_follow_the_documented_schema() -> None:
    lines = render(JsonSink, [BY_NOTE["plain app line"], BY_NOTE["non-JSON payload"]]).splitlines()
    assert json.loads(lines[0]) == {
        "type": "log",
        "timestamp": "2026-11-20T09:14:03.120456789Z",
        "app": "shop-api",
        "region": "iad",
        "instance": "4d891d77b05118",
        "level": "info",
        "fly_level": "info",
        "provider": "app",
        "process_group": "app",
        "message": "Listening on 0.0.0.0:8080",
        "subject": "logs.shop-api.iad.4d891d77b05118",
    }
    bad = json.loads(lines[1])
    assert bad["malformed"] is True and bad["error"] == "not JSON"
    assert bad["message"] == "this payload is not JSON at all"


def test_raw_is_byte_exact_in_a_pipe_and_escaped_on_a_terminal() -> None:
    event = decode("logs.a.b.c", b"not json \x1b[2J")
    assert render(RawSink, [event], escape=False) == "not json \x1b[2J\n"
    assert render(RawSink, [event], escape=True) == "not json \\x1b[2J\n"


@pytest.mark.parametrize("mode", [m for m in OutputMode if m is not OutputMode.AUTO])
@pytest.mark.parametrize("color", [True, False])
def test_every_fixture_renders_in_every_mode(mode: OutputMode, color: bool) -> None:
    env = Environment.in_memory(isatty=True, width=70)
    sink = build_sink(mode, env, ColorWhen.ALWAYS if color else ColorWhen.NEVER, apps=[])
    for case in CASES:
        sink.event(decode(case.subject, case.payload))
    sink.flush()
    text = env.stdout.getvalue().decode("utf-8")  # type: ignore[attr-defined]
    # No escape sequence from a log line reaches the terminal: every ESC is one of our SGR codes.
    assert not re.search(r"\x1b(?!\[[0-9;]*m)", text)
    assert "\x9b" not in text and "\r" not in text
    if mode is OutputMode.JSON:
        assert len([json.loads(line) for line in text.splitlines()]) == len(CASES)


def test_auto_is_table_on_a_terminal_and_plain_in_a_pipe() -> None:
    assert isinstance(
        build_sink(OutputMode.AUTO, Environment.in_memory(isatty=True), ColorWhen.AUTO, apps=[]), TableSink
    )
    assert isinstance(
        build_sink(OutputMode.AUTO, Environment.in_memory(isatty=False), ColorWhen.AUTO, apps=[]), PlainSink
    )


@pytest.mark.parametrize(
    ("when", "isatty", "env", "expected"),
    [
        (ColorWhen.AUTO, True, {}, True),
        (ColorWhen.AUTO, False, {}, False),
        (ColorWhen.AUTO, True, {"NO_COLOR": "1"}, False),
        (ColorWhen.AUTO, False, {"FORCE_COLOR": "1"}, True),
        (ColorWhen.AUTO, True, {"TERM": "dumb"}, False),
        (ColorWhen.ALWAYS, False, {"NO_COLOR": "1"}, True),
        (ColorWhen.NEVER, True, {"FORCE_COLOR": "1"}, False),
    ],
)
def test_colour_decision(when: ColorWhen, isatty: bool, env: dict[str, str], expected: bool) -> None:
    assert Environment.in_memory(isatty=isatty, env=env).use_color(when) is expected


def test_table_status_line_stays_under_the_rows_and_notices_go_above_it() -> None:
    from flylogs.core.status import State, Status

    t0 = 1_800_000_000 * 10**9
    out = io.BytesIO()
    sink = TableSink(out, Styler(False), width=80, tz=UTC, live_status=True)
    sink.status(Status(State.CONNECTED, t0, "nats://a:1"))
    sink.progress(0, 0, t0)
    sink.event(BY_NOTE["plain app line"])
    sink.flush()
    sink.status(Status(State.DISCONNECTED, t0 + 2 * 10**9, "nats://a:1", "the connection closed"))
    sink.progress(1, 0, t0 + 2 * 10**9)
    sink.note("flylogs: disconnected; reconnecting")
    sink.flush()
    sink.progress(1, 0, t0 + 5 * 10**9)
    sink.finish()
    assert out.getvalue().decode() == (
        "● connected · nats://a:1 · 0 lines/s · 0 shown · 0 gaps"
        "\r\x1b[2K"
        "09:14:03.120 iad 4d891d77b05118 info  Listening on 0.0.0.0:8080\n"
        "● connected · nats://a:1 · 0 lines/s · 0 shown · 0 gaps"
        "\r\x1b[2K"
        "○ disconnected (0s) · nats://a:1 · 0 lines/s · 1 shown · 0 gaps"
        "\r\x1b[2K"
        "flylogs: disconnected; reconnecting\n"
        "○ disconnected (0s) · nats://a:1 · 0 lines/s · 1 shown · 0 gaps"
        "\r\x1b[2K"
        "○ disconnected (3s) · nats://a:1 · 0 lines/s · 1 shown · 0 gaps"
        "\r\x1b[2K"
    )


def test_no_status_line_off_a_terminal() -> None:
    from flylogs.core.status import State, Status

    out = io.BytesIO()
    sink = TableSink(out, Styler(False), width=80, tz=UTC)
    sink.status(Status(State.STALLED, 0, "nats://a:1"))
    sink.progress(1, 0, 10**9)
    sink.finish()
    assert out.getvalue() == b""


def test_gap_rows_in_the_table() -> None:
    from flylogs.core.gaps import Gap, GapReason

    out = io.BytesIO()
    sink = TableSink(out, Styler(False), width=100, tz=UTC)
    assert sink.gap(
        Gap(1795166043_120456789, 1795166051_870456789, GapReason.STALLED, backfilled=2, complete=True)
    )
    assert [row.rstrip() for row in out.getvalue().decode().splitlines()] == [
        "▌ gap 09:14:03.120Z → 09:14:11.870Z (8.75s, stalled): filled from history: 2 line(s) "
        "recovered below",
    ]


@given(
    st.text(st.characters(blacklist_categories=("Cc", "Cs")), max_size=300),  # chop gets escaped text
    st.integers(min_value=2, max_value=60),
)
def test_chop_keeps_every_character_and_the_width(text: str, width: int) -> None:
    from rich.cells import cell_len

    from flylogs.render.cells import chop

    pieces = chop(text, width)
    assert "".join(pieces) == text
    assert all(cell_len(p) <= width for p in pieces)


def test_the_fast_json_path_writes_exactly_what_the_general_one_does() -> None:
    import random

    from flylogs.demo.fleet import Fleet
    from flylogs.render.jsonl import encode_record, log_record

    fleet = Fleet(random.Random(7))
    events = [decode(c.subject, c.payload) for c in CASES] + [decode(*fleet.next()) for _ in range(2000)]
    assert sum(e.clean for e in events) > 1900  # the fast path is the one being compared
    for event in events:
        out = io.BytesIO()
        JsonSink(out).event(event)
        assert out.getvalue().decode("utf-8") == encode_record(log_record(event))


@pytest.mark.parametrize(
    ("mode", "plain_start", "table_start"),
    [
        (TimeMode.UTC, "2026-11-20T09:14:03.120Z app[", "09:14:03.120Z iad"),
        (TimeMode.RELATIVE, "+0.000s app[", "     +0.000s iad"),
        (TimeMode.NONE, "app[", "iad 4d891d77b05118"),
    ],
)
def test_time_modes(mode: TimeMode, plain_start: str, table_start: str) -> None:
    events = [BY_NOTE["plain app line"], BY_NOTE["access log"]]
    assert plain(events, time_mode=mode).startswith(plain_start)
    rows = table(events, time_mode=mode).splitlines()
    assert rows[1].startswith(table_start)
    if mode is TimeMode.RELATIVE:
        assert "+0.380s app[" in plain(events, time_mode=mode)
    if mode is TimeMode.NONE:
        assert rows[0].startswith("REG INSTANCE")


def test_local_time_in_plain_text_carries_its_offset() -> None:
    from datetime import timedelta, timezone

    out = plain([BY_NOTE["plain app line"]], time_mode=TimeMode.LOCAL, tz=timezone(timedelta(hours=1)))
    assert out.startswith("2026-11-20T10:14:03.120+01:00 app[")


def test_instances_of_one_app_never_share_a_colour_while_the_palette_has_room() -> None:
    from flylogs.settings.choices import ColorBy

    colors = Colors()
    instances = [f"{n:014x}" for n in range(len(INSTANCE_PALETTE))]
    given = [colors.style(LogEvent("s", b"", "m", app="api", instance=i)) for i in instances]
    assert len(set(given)) == len(INSTANCE_PALETTE)
    assert colors.style(LogEvent("s", b"", "m", app="api", instance=instances[3])) == given[3]  # stable

    by_region = Colors(ColorBy.REGION)
    iad = by_region.style(LogEvent("s", b"", "m", app="a", region="iad", instance="x"))
    assert by_region.style(LogEvent("s", b"", "m", app="b", region="iad", instance="y")) == iad


def test_every_mode_shows_the_level_that_level_filters_on() -> None:
    from tests.helpers import msg

    events = [
        decode(*msg("api", "iad", "m1", '{"level":"error","msg":"db down"}')),
        decode(*msg("api", "iad", "m1", 'time=1 level=WARNING msg="disk 91%" used=91')),
        decode(*msg("api", "iad", "m1", "plain words")),
    ]
    records = [json.loads(line) for line in render(JsonSink, events).splitlines()]
    assert [(r["level"], r["fly_level"]) for r in records] == [
        ("error", "info"),
        ("warn", "info"),
        ("info", "info"),
    ]
    lines = plain(events).splitlines()
    assert [line.split(" ")[3] for line in lines] == ["[error]", "[warn]", "[info]"]
    rows = table(events, time_mode=TimeMode.NONE).splitlines()
    assert [row.split()[2] for row in rows[1:]] == ["error", "warn", "info"]


def test_the_status_line_shows_received_beside_shown_and_speaks_of_one_line_in_the_singular() -> None:
    from flylogs.render.status_line import StatusLine

    line = StatusLine()
    t0 = 1_800_000_000 * 10**9
    line.progress(0, 0, t0, 0)
    line.progress(0, 0, t0 + 10**9, 91)  # a filter that matches nothing: 91 in, 0 out
    assert "91 lines/s · 0 shown of 91 received · 0 gaps" in line.text(t0)
    line.progress(1, 1, t0 + 2 * 10**9, 92)
    assert "1 line/s · 1 shown of 92 received · 1 gap" in line.text(t0)
    line.progress(101, 1, t0 + 3 * 10**9, 0)  # history shown before any live line: never "of 0"
    assert "101 shown ·" in line.text(t0) and "received" not in line.text(t0)


@pytest.mark.parametrize("system", ["standard", "256", "truecolor"])
def test_instance_colours_are_distinct_as_emitted_and_never_red_or_yellow(system: str) -> None:
    from rich.color import ColorSystem

    from flylogs.render.styles import palette

    chosen = ColorSystem[{"standard": "STANDARD", "256": "EIGHT_BIT", "truecolor": "TRUECOLOR"}[system]]
    styler = Styler(True, chosen)
    codes = [styler(name).on for name in palette(chosen)]
    assert len(codes) >= 8 and len(set(codes)) == len(codes)
    forbidden = {styler(name).on for name in ("red", "bright_red", "yellow", "bright_yellow")}
    assert not forbidden & set(codes)


@pytest.mark.parametrize(
    ("env", "system"),
    [
        ({"TERM": "xterm"}, "STANDARD"),
        ({"TERM": "xterm-256color"}, "EIGHT_BIT"),
        ({"TERM": "xterm-kitty"}, "EIGHT_BIT"),  # kitty sets no COLORTERM by default
        ({"TERM": "xterm", "COLORTERM": "truecolor"}, "TRUECOLOR"),
        ({"TERM": "screen-16color"}, "STANDARD"),
    ],
)
def test_the_colour_system_is_richs_reading_of_the_environment(env: dict[str, str], system: str) -> None:
    from rich.color import ColorSystem

    assert Environment.in_memory(isatty=True, env=env).color_system() is ColorSystem[system]


@pytest.mark.parametrize(("value", "colour"), [("0", False), ("false", False), ("1", True), ("3", True)])
def test_force_color_zero_means_no_colour(value: str, colour: bool) -> None:
    env = Environment.in_memory(isatty=False, env={"FORCE_COLOR": value})
    assert env.use_color(ColorWhen.AUTO) is colour


def test_the_status_line_says_how_far_behind_a_polled_stream_is() -> None:
    from flylogs.core.status import State, Status
    from flylogs.render.status_line import StatusLine

    line = StatusLine(Status(State.CONNECTED, 0, "Fly's logs API (polling)", behind_s=4))
    assert line.text(0).startswith("● connected · Fly's logs API (polling) · 4s behind · ")
    line.status = Status(State.CONNECTED, 0, "nats://a:1")
    assert "behind" not in line.text(0)
