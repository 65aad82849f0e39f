"""What a person sees in a real pseudo-terminal: the table, its status line, and how both change the
moment the stream does."""

from __future__ import annotations

import json
import re
import time

import pytest

from flylogs.demo.server import NatsServer
from tests.helpers import CASES, msg, publish_when_subscribed
from tests.terminal import SGR, Terminal

pytestmark = pytest.mark.slow  # real processes and terminals: the full suite only


@pytest.mark.parametrize("term", ["xterm", "xterm-256color"])
def test_the_status_line_says_each_change_of_the_stream_at_once(nats_server: NatsServer, term: str) -> None:
    screen = Terminal("tail", "--server", nats_server.url, "--all", term=term)
    try:
        screen.until(rb"following logs\.>")
        publish_when_subscribed(nats_server, [(c.subject, c.payload) for c in CASES[:2]]).join(10)
        screen.until(rb"Listening on 0\.0\.0\.0:8080")
        screen.until(rb"\xe2\x97\x8f connected \xc2\xb7 " + re.escape(nats_server.url.encode()))
        cut = time.monotonic()
        nats_server.kill()
        down = screen.until(rb"\xe2\x97\x8b (disconnected|reconnecting) \(\d+s\)")
        assert down - cut < 2.0, "the status line did not change within 2 s of the cut"
        nats_server.start()
        screen.until(rb"reconnected to")
        screen.until(rb"(?s)\xe2\x96\x8c gap .*disconnected.*may be missing")
        screen.until(rb"\xe2\x97\x8f connected .* 1 gap\b")
    finally:
        code = screen.close()
    assert code == 130
    plain = SGR.sub(b"", screen.seen)
    # The status line is redrawn in place: erased with CR + erase-line before each row, never scrolled.
    assert re.search(rb"\r\x1b\[2K(\x1b\[[0-9;]*m)*\d\d:\d\d:\d\d\.\d{3}(\x1b\[[0-9;]*m)* ", screen.seen)
    assert plain.count(b"TIME ") == 1  # one header, before any row
    # Nothing is ever glued to the status line: after each drawing of it comes its erasure (or the end).
    drawn = list(re.finditer(rb"\d+ gaps?\x1b\[0m", screen.seen))
    assert len(drawn) >= 4
    assert all(screen.seen[m.end() : m.end() + 5] in (b"", b"\r\x1b[2K") for m in drawn)
    # Colours: the reverse-video status line, 16 colours under xterm, 256 under xterm-256color.
    assert b"\x1b[7m" in screen.seen
    if term == "xterm-256color":
        assert re.search(rb"\x1b\[[0-9;]*38;5;\d+", screen.seen)
    else:
        assert not re.search(rb"\x1b\[[0-9;]*38;5;\d+", screen.seen)


INVISIBLE = "\u200b\u200c\u200d\ufeff\u2060\u200e\u200f\u061c"


@pytest.mark.parametrize("mode", ["table", "plain", "raw"])
def test_invisible_and_bidi_characters_reach_the_terminal_escaped(nats_server: NatsServer, mode: str) -> None:
    from tests.helpers import msg

    screen = Terminal("tail", "--server", nats_server.url, "--all", "--output", mode, "--color", "never")
    try:
        screen.until(rb"following logs\.>")
        lines = [msg("shop", "iad", "m1", f"pay{ch}ment {i}") for i, ch in enumerate(INVISIBLE)]
        # The characters raw in the payload, as an app writes them (not JSON-escaped).
        lines = [(s, json.dumps(json.loads(d), ensure_ascii=False).encode()) for s, d in lines]
        publish_when_subscribed(nats_server, lines).join(10)
        screen.until(rf"ment {len(INVISIBLE) - 1}".encode())
    finally:
        screen.close()
    for ch in INVISIBLE:
        assert ch.encode() not in screen.seen, f"U+{ord(ch):04X} reached the terminal raw"
    for i, ch in enumerate(INVISIBLE):  # one per line: shown as escapes, where it was
        assert f"pay\\u{ord(ch):04x}ment {i}".encode() in screen.seen


def test_on_a_16_colour_terminal_instances_of_one_app_wear_distinct_colours_and_none_is_a_warning(
    nats_server: NatsServer,
) -> None:
    from tests.helpers import msg

    instances = [f"{i:014x}" for i in range(1, 7)]
    screen = Terminal("tail", "--server", nats_server.url, "--all", "--output", "table", term="xterm")
    try:
        screen.until(rb"following logs\.>")
        publish_when_subscribed(
            nats_server, [msg("shop", "iad", i, f"hello {n}") for n, i in enumerate(instances)]
        ).join(10)
        screen.until(rb"hello 5")
    finally:
        screen.close()
    colours = {}
    for instance in instances:
        match = re.search(rb"\x1b\[([0-9;]+)m" + instance.encode(), screen.seen)
        assert match, instance
        colours[instance] = match.group(1)
    assert len(set(colours.values())) == len(instances), colours
    assert not {b"31", b"33", b"91", b"93", b"1;31", b"1;33"} & set(colours.values()), colours


def visible_rows(seen: bytes) -> list[str]:
    """The rows as a person sees them: colours gone, each status-line erasure ending a row."""
    text = SGR.sub(b"", seen).replace(b"\r\x1b[2K", b"\n").replace(b"\r\n", b"\n").decode()
    return [row for row in text.split("\n") if row]


def test_after_a_resize_rows_are_laid_out_for_the_new_width(nats_server: NatsServer) -> None:
    from tests.helpers import msg

    long = "word " * 30
    screen = Terminal("tail", "--server", nats_server.url, "--all", "--output", "table", columns=100)
    try:
        screen.until(rb"following logs\.>")
        publish_when_subscribed(nats_server, [msg("shop", "iad", "4d891d77b05118", "first " + long)]).join(10)
        screen.until(rb"first word")
        before = len(screen.seen)
        screen.resize(40)
        screen.until(rb"INSTANCE", timeout=5)  # a new header: the columns changed
        publish_when_subscribed(nats_server, [msg("shop", "iad", "4d891d77b05118", "second " + long)]).join(
            10
        )
        screen.until(rb"second word")
        screen.until(rb"1 gap|0 gaps|gaps")  # the status line, redrawn after the row
    finally:
        screen.close()
    after = visible_rows(screen.seen[before:])
    assert after and all(len(row) <= 40 for row in after), [r for r in after if len(r) > 40]
    assert any(row.startswith("second") or " second " in row for row in after)
    early = visible_rows(screen.seen[:before])
    assert any(len(row) > 40 for row in early)  # before the resize, rows used the 100 columns


@pytest.mark.parametrize("columns", [40, 50])
def test_a_narrow_terminal_drops_columns_instead_of_wrapping_every_row(
    nats_server: NatsServer, columns: int
) -> None:
    from tests.helpers import msg

    screen = Terminal("tail", "--server", nats_server.url, "--all", "--output", "table", columns=columns)
    try:
        screen.until(rb"following logs\.>")
        lines = [msg("shop", "iad", "4d891d77b05118", f"line {i} " + "x" * 70) for i in range(3)]
        publish_when_subscribed(nats_server, lines).join(10)
        screen.until(rb"(?s)line 2.*connected")
    finally:
        screen.close()
    rows = [r for r in visible_rows(screen.seen) if not r.startswith("flylogs:")]
    assert rows and all(len(row) <= columns for row in rows), [r for r in rows if len(r) > columns]
    header = next(r for r in rows if "MESSAGE" in r)
    assert "REG" not in header  # the region went first
    assert "INSTANCE" in header


def test_a_dumb_terminal_gets_lines_only_no_status_line(nats_server: NatsServer) -> None:
    """TERM=dumb cannot erase a row: no `ESC[2K` status line, only the lines."""
    screen = Terminal("tail", "--server", nats_server.url, "--all", term="dumb")
    try:
        screen.until(rb"following logs\.>")
        publish_when_subscribed(nats_server, [(c.subject, c.payload) for c in CASES[:3]]).join(10)
        screen.until(rb"Listening on 0\.0\.0\.0:8080")
    finally:
        screen.close()
    assert b"\x1b[2K" not in screen.seen and b"\x1b[?1049h" not in screen.seen


def test_watch_on_a_dumb_terminal_says_each_alert_as_it_happens(nats_server: NatsServer) -> None:
    """It wrote nothing while it ran (a full-screen view a dumb terminal cannot draw)."""
    screen = Terminal("watch", "shop", "--server", nats_server.url, "--silent-after", "1s", term="dumb")
    try:
        screen.until(rb"following logs\.shop\.>")
        publish_when_subscribed(nats_server, [msg("shop", "iad", "m1", "one line, then silence")]).join(10)
        screen.until(rb"silent +shop m1: no line for \d")  # while it runs, not at exit
        assert screen.proc.poll() is None
    finally:
        screen.close()
    assert b"\x1b[?1049h" not in screen.seen


def test_a_format_template_with_fields_time_and_colour_in_a_terminal(nats_server: NatsServer) -> None:
    from tests.helpers import msg

    template = "{timestamp:%H:%M:%S} {level} {instance} {field.user} {message}"
    args = ["--format", template, "--tz", "Asia/Kolkata", "--color", "always"]
    screen = Terminal("tail", "--server", nats_server.url, "--all", *args)
    try:
        screen.until(rb"following logs\.>")
        publish_when_subscribed(
            nats_server, [msg("shop", "iad", "m1", "level=error user=jane msg=boom")]
        ).join(10)
        screen.until(rb"jane level=error")
    finally:
        screen.close()
    plain = SGR.sub(b"", screen.seen)
    assert b"14:44:03 error m1 jane level=error user=jane msg=boom" in plain  # 09:14:03Z in +05:30
    assert re.search(rb"\x1b\[[0-9;]*31[0-9;]*merror\x1b\[0m", screen.seen)  # the level in its colour


def test_an_unknown_placeholder_and_an_unknown_zone_are_usage_errors(nats_server: NatsServer) -> None:
    for args, says in ((["--format", "{when} {message}"], b"unknown placeholder {when}"),
                       (["--tz", "Mars/Olympus"], b"'Mars/Olympus' is not a time zone")):  # fmt: skip
        screen = Terminal("tail", "--server", nats_server.url, "--all", *args)
        screen.until(says)
        assert screen.proc.wait(15) == 2  # it ends by itself (closing now would interrupt it)
        screen.close()
