"""The watch view laid out at 80 and 200 columns (and a short terminal), its escaping of what the
stream says, and the plain and NDJSON forms."""

from __future__ import annotations

import io
import json

from rich.console import Console
from rich.text import Text

from flylogs.core.alerts import Alert, AlertKind, Frame, Row, Verdict
from flylogs.core.status import State, Status
from flylogs.render.jsonl import JsonSink
from flylogs.render.watch import AlertLines, WatchJson, age, frame_view

S = 1_000_000_000
NOW = 1_800_000_000 * S


def row(instance: str, verdict: Verdict = Verdict.OK, app: str = "shop-api", **kw: object) -> Row:
    values: dict[str, object] = {
        "region": "iad", "group": "app", "machine": "started", "last_ns": NOW - 3 * S, "per_min": 42,
        "warnings_per_min": 2, "errors_per_min": 1, "last_beat_ns": NOW - 65 * S, "open": frozenset(),
    }  # fmt: skip
    values.update(kw)
    return Row(app, instance, verdict, **values)  # type: ignore[arg-type]


ROWS = (
    row("4d891d77b05118", Verdict.SILENT, last_ns=NOW - 400 * S, open=frozenset({AlertKind.SILENT})),
    row("e7843ed2f21908", Verdict.QUIET),
    row("9080517f159287", Verdict.STOPPED, app="shop-worker", machine="stopped", group="worker"),
    row("148e272b1d5389"),
)
ALERT = Alert(AlertKind.SILENT, "shop-api", "4d891d77b05118", NOW - 400 * S, NOW - 100 * S,
              "shop-api 4d891d77b05118: no line for 5m", region="iad")  # fmt: skip


def screen(width: int, height: int | None = None, rows: tuple[Row, ...] = ROWS, **kw: object) -> list[str]:
    frame = Frame(NOW, "NATS", State.CONNECTED, 168, 1, 1, rows, heartbeat=True)
    console = Console(width=width, file=io.StringIO(), color_system=None, **kw)  # type: ignore[arg-type]
    console.print(frame_view(frame, width, [Text("09:58:20 silent shop-api …")], [ALERT], height))
    output = console.file
    assert isinstance(output, io.StringIO)
    return output.getvalue().splitlines()


def test_at_80_columns_the_essentials_fit_and_trouble_is_on_top() -> None:
    lines = screen(80)
    assert all(len(x) <= 80 for x in lines)
    assert lines[0].startswith("flylogs watch  NATS connected  1 alert open  4 instances")
    assert lines[1].startswith(" ! 07:58:20 silent") and "no line for 5m" in lines[1]
    assert lines[2].split() == ["VERDICT", "APP", "REGION", "INSTANCE", "LAST", "/MIN", "WARN", "ERR", "BEAT"]
    assert lines[3].split() == ["silent", "shop-api", "iad", "4d891d77b05118", "6m", "42", "2", "1", "1m"]
    assert [x.split()[0] for x in lines[3:7]] == ["silent", "quiet", "stopped", "ok"]
    assert lines[-2:] == ["latest alerts and notices (UTC)", "09:58:20 silent shop-api …"]


def test_at_200_columns_every_column_shows() -> None:
    lines = screen(200)
    assert lines[2].split() == [
        "VERDICT", "APP", "REGION", "INSTANCE", "GROUP", "MACHINE", "LAST", "LINES/M", "WARN/M", "ERR/M",
        "BEAT",
    ]  # fmt: skip
    assert lines[5].split()[:6] == ["stopped", "shop-worker", "iad", "9080517f159287", "worker", "stopped"]


def test_a_short_terminal_shows_what_fits_and_says_how_many_more() -> None:
    many = ROWS + tuple(row(f"{n:014x}") for n in range(40))
    lines = screen(80, height=20, rows=many)
    assert len(lines) <= 20
    assert lines[3].split()[0] == "silent"
    assert any(x.startswith("… ") and "more (" in x for x in lines)


def test_what_the_stream_says_never_drives_the_terminal_or_the_markup() -> None:
    evil = row("\x1b]52;c;aGk=\x07x", app="[bold red]app\x1b[2J")
    text = "\n".join(screen(200, rows=(evil,), force_terminal=True))
    assert "\x1b]52" not in text and "\x1b[2J" not in text and "\x07" not in text
    assert "[bold red]app" in text  # shown as written, not taken as markup


def test_plain_gives_one_line_per_alert_and_json_gives_records() -> None:
    out = io.BytesIO()
    AlertLines(out).alert(ALERT)
    assert out.getvalue().decode() == (
        "07:58:20 silent             shop-api 4d891d77b05118: no line for 5m\n"
    )
    out = io.BytesIO()
    view = WatchJson(out)
    frame = Frame(NOW, "NATS", State.CONNECTED, 168, 1, 1, ROWS)
    view.status(Status(State.CONNECTED, NOW, "nats://127.0.0.1:4222"))
    view.show(frame)
    view.alert(ALERT)
    view.show(Frame(NOW + S, "NATS", State.CONNECTED, 168, 1, 1, ROWS))  # not a minute yet
    view.finish()
    records = [json.loads(x) for x in out.getvalue().decode().splitlines()]
    assert [r["type"] for r in records] == ["status", "instances", "alert", "instances"]
    # tail's own status record, byte for byte: one shape for every command
    tail_out = io.BytesIO()
    JsonSink(tail_out).status(Status(State.CONNECTED, NOW, "nats://127.0.0.1:4222"))
    assert out.getvalue().decode().splitlines()[0] == tail_out.getvalue().decode().strip()
    assert records[1]["instances"][0]["verdict"] == "silent"
    assert records[1]["instances"][0]["alerts"] == ["silent"]
    assert records[2]["kind"] == "silent" and records[2]["instance"] == "4d891d77b05118"


def test_ages_read_like_a_person_says_them() -> None:
    assert [age(NOW, NOW - s * S) for s in (4, 59, 60, 3600, 86400 * 2)] == ["4s", "59s", "1m", "1h", "2d"]
    assert age(NOW, None) == "-"


def test_the_screen_says_notices_with_their_time_and_leaves_the_alerts_on_stderr() -> None:
    from flylogs.render.watch import WatchScreen

    out, err = io.BytesIO(), io.StringIO()
    view = WatchScreen(out, err, color=False, width=lambda: 100)
    view.show(Frame(NOW, "NATS", State.CONNECTED, 168, 0, 0, ROWS))
    view.note("flylogs: disconnected from nats://127.0.0.1:4222: connection refused")
    view.alert(ALERT)
    view.show(Frame(NOW, "NATS", State.CONNECTED, 168, 0, 1, ROWS))  # drawn with the next frame
    view.finish()
    shown = out.getvalue().decode()
    assert "\x1b[?1049h" in shown and "\x1b[?1049l" in shown  # the alternate screen, entered and left
    assert "08:00:00 disconnected from nats://127.0.0.1:4222: connection refused" in shown
    assert "flylogs: disconnected" not in shown
    assert (
        err.getvalue()
        == "flylogs: alert 07:58:20 silent             shop-api 4d891d77b05118: no line for 5m\n"
    )
