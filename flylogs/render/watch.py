"""`flylogs watch`'s outputs: the full-screen view (Rich `Live`), one line per alert, NDJSON.

Owns: the frame as a person reads it (a header with the connection and the totals, a banner while
alerts are open, one row per instance with trouble on top, the latest alerts and notices at the
foot), laid out for the width at hand (80 columns keep the essentials, 120 and more show all), and
the plain and NDJSON forms. Every string from the stream (apps, regions, instances, texts) is escaped
and never read as markup. Must not: decide what is silent (the watcher does), or do any I/O but
writing to the streams it is given.
"""

from __future__ import annotations

import contextlib
import io
from collections import deque
from collections.abc import Callable
from typing import Any, TextIO

from rich.color import ColorSystem
from rich.console import Console, Group, RenderableType
from rich.live import Live
from rich.table import Table
from rich.text import Text

from flylogs.core.alerts import Alert, AlertKind, Frame, Row, Verdict
from flylogs.core.status import Status
from flylogs.render.gaps import status_record
from flylogs.render.jsonl import encode_record
from flylogs.render.output import Writable
from flylogs.render.sanitize import escape_controls
from flylogs.timestamps import format_rfc3339

NS = 1_000_000_000
WIDE = 120  # columns from which every column is shown
FOOT = 6  # alerts and notices kept at the foot of the view

VERDICT_STYLES = {
    Verdict.SILENT: "bold white on red",
    Verdict.QUIET: "bold yellow",
    Verdict.STOPPED: "dim",
    Verdict.WARMING: "cyan",
    Verdict.REPLACING: "dim cyan",
    Verdict.OK: "green",
}
STATE_STYLES = {"connected": "bold green", "connecting": "yellow", "reconnecting": "yellow"}


def age(now_ns: int, then_ns: int | None) -> str:
    """`4s`, `3m`, `2h`, `5d`; `-` for never."""
    if then_ns is None:
        return "-"
    seconds = max(0, (now_ns - then_ns) // NS)
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def clean(text: str | None) -> str:
    return escape_controls(text) if text else "-"


def alert_line(alert: Alert) -> str:
    """One line for a person: `10:11:12 silent shop 4d89…: no line for 5.0s` (UTC time)."""
    when = format_rfc3339(alert.at_ns, 0)[11:19]
    kind = f"resumed ({alert.closes.value})" if alert.closes else alert.kind.value
    return f"{when} {kind:<18} {escape_controls(alert.text)}"


def frame_view(
    frame: Frame, width: int, foot: list[Text], banner: list[Alert], height: int | None = None
) -> RenderableType:
    """The whole screen for `frame` at `width` columns; with `height`, only the rows that fit (the
    trouble is on top), and a line saying how many more there are."""
    header = Text(no_wrap=True, overflow="ellipsis")
    header.append("flylogs watch", "bold")
    header.append(f"  {frame.way} ")
    header.append(frame.state.value, STATE_STYLES.get(frame.state.value, "bold red"))
    header.append("  ")
    header.append(
        f"{frame.open_alerts} alert{'s' * (frame.open_alerts != 1)} open",
        "bold red" if frame.open_alerts else "green",
    )
    header.append(f"  {len(frame.rows)} instances  {frame.per_min:,} lines/min  {frame.gaps} gaps")
    parts: list[RenderableType] = [header]
    banner = banner[-3:]
    for alert in banner:
        parts.append(Text(f" ! {alert_line(alert)}", "bold white on red", no_wrap=True, overflow="ellipsis"))
    rows = frame.rows
    if height is not None:
        room = max(1, height - 1 - len(banner) - 1 - (len(foot) + 1 if foot else 0) - 1)
        if len(rows) > room:
            rows = rows[: max(1, room - 1)]
    parts.append(_table(frame, width, rows))
    if len(rows) < len(frame.rows):
        hidden = frame.rows[len(rows) :]
        fine = sum(r.verdict is Verdict.OK for r in hidden)
        parts.append(Text(f"… {len(hidden)} more ({fine} ok); a taller terminal shows them", "dim"))
    if foot:
        parts.append(Text("latest alerts and notices (UTC)", "dim"))
        parts.extend(foot)
    return Group(*parts)


def canary_cell(canary: tuple[float, int | None] | None) -> str:
    """`0.0% 2.1s`: the share of beats lost and the p95 delivery latency."""
    if canary is None:
        return ""
    loss, p95 = canary
    return f"{loss:.1f}% " + (f"{p95 / 1000:.1f}s" if p95 is not None else "-")


def _table(frame: Frame, width: int, rows: tuple[Row, ...]) -> Table:
    wide = width >= WIDE
    table = Table(box=None, padding=(0, 1), header_style="bold", expand=False, pad_edge=False)
    columns: list[tuple[str, Callable[[Row], str], str]] = [
        ("VERDICT", lambda r: r.verdict.value + ("~" if AlertKind.FLAPPING in r.open else ""), "left"),
        ("APP", lambda r: clean(r.app), "left"),
        ("REGION", lambda r: clean(r.region), "left"),
        ("INSTANCE", lambda r: clean(r.instance), "left"),
    ]
    if wide:
        columns += [
            ("GROUP", lambda r: clean(r.group), "left"),
            ("MACHINE", lambda r: clean(r.machine), "left"),
        ]
    columns += [
        ("LAST", lambda r: age(frame.now_ns, r.last_ns), "right"),
        ("LINES/M" if wide else "/MIN", lambda r: str(r.per_min), "right"),
        ("WARN/M" if wide else "WARN", lambda r: str(r.warnings_per_min), "right"),
        ("ERR/M" if wide else "ERR", lambda r: str(r.errors_per_min), "right"),
    ]
    if frame.heartbeat:
        columns.append(("BEAT", lambda r: age(frame.now_ns, r.last_beat_ns), "right"))
    if any(r.canary is not None for r in rows):  # the canary: beats lost, and their p95 latency
        columns.append(("CANARY", lambda r: canary_cell(r.canary), "right"))
    for name, _, justify in columns:
        narrow = name in ("APP", "INSTANCE", "GROUP")
        table.add_column(
            name,
            justify=justify,  # type: ignore[arg-type]
            no_wrap=True,
            overflow="ellipsis",
            max_width=(24 if wide else 14) if narrow else None,
        )
    for row in rows:
        cells = [Text(cell(row)) for _, cell, _ in columns]
        cells[0].stylize(VERDICT_STYLES[row.verdict])
        style = "bold" if row.open else ""
        if AlertKind.HEARTBEAT_MISSED in row.open and frame.heartbeat:
            cells[-1].stylize("bold white on red")
        if AlertKind.ERROR_BURST in row.open:
            cells[-1 - frame.heartbeat].stylize("bold white on red")
        table.add_row(*cells, style=style)
    return table


class _Bytes(io.RawIOBase):
    """The threaded output as the binary file Rich's text layer writes to (it never blocks)."""

    def __init__(self, out: Writable) -> None:
        self._out = out

    def writable(self) -> bool:
        return True

    def write(self, data: bytes) -> int:  # type: ignore[override]
        return self._out.write(bytes(data))

    def flush(self) -> None:
        self._out.flush()


_SYSTEM_NAMES = {
    ColorSystem.EIGHT_BIT: "256",
    ColorSystem.TRUECOLOR: "truecolor",
    ColorSystem.WINDOWS: "windows",
}


class WatchScreen:
    """The full-screen view on a terminal: redrawn about once a second, alerts in a banner and at the
    foot; when it ends, the screen is given back and every alert said since is written to stderr."""

    def __init__(
        self,
        stdout: Writable,
        stderr: TextIO,
        *,
        color: bool,
        color_system: ColorSystem = ColorSystem.STANDARD,
        width: Callable[[], int] = lambda: 0,  # the terminal's width now (0: unknown)
    ) -> None:
        self._width = width
        self._out = stdout
        raw: Any = _Bytes(stdout)  # a raw binary file, as TextIOWrapper takes one at run time
        self._text = io.TextIOWrapper(raw, encoding="utf-8", errors="replace", write_through=True)
        self._console = Console(
            file=self._text,
            force_terminal=True,
            color_system=_SYSTEM_NAMES.get(color_system, "standard") if color else None,  # type: ignore[arg-type]
            no_color=not color,
            highlight=False,
        )
        self._stderr = stderr
        self._live = Live(console=self._console, screen=True, auto_refresh=False, transient=True)
        self._foot: deque[Text] = deque(maxlen=FOOT)
        self._open: dict[tuple[AlertKind, str | None, str | None], Alert] = {}
        self._said: list[str] = []
        self._frame: Frame | None = None
        self._started = False

    def show(self, frame: Frame) -> None:
        self._frame = frame
        if not self._started:
            self._live.start()
            self._started = True
        width = self._width()
        if width > 0 and width != self._console.width:
            self._console.width = width  # resized: laid out afresh for the new width
        foot, banner = list(self._foot), list(self._open.values())
        view = frame_view(frame, self._console.width, foot, banner, self._console.height)
        self._live.update(view, refresh=True)

    def alert(self, alert: Alert) -> None:
        line = alert_line(alert)
        self._said.append(line)
        style = "green" if alert.kind is AlertKind.RESUMED else "bold red"
        self._foot.append(Text(line, style, no_wrap=True, overflow="ellipsis"))
        if alert.closes is not None:
            self._open.pop((alert.closes, alert.app, alert.instance), None)
        elif alert.kind is not AlertKind.GAP:
            self._open[(alert.kind, alert.app, alert.instance)] = alert
        # Drawn with the next frame (the frame timer's, within a second), never inside the reader.

    def status(self, status: Status) -> None:
        pass  # the header of the next frame says it

    def note(self, text: str) -> None:
        text = escape_controls(text.removeprefix("flylogs: "))
        if self._frame is not None:  # the time of the frame on screen: a second at most behind
            text = f"{format_rfc3339(self._frame.now_ns, 0)[11:19]} {text}"
        self._foot.append(Text(text, "dim", no_wrap=True, overflow="ellipsis"))

    def finish(self) -> None:
        if self._started:
            self._live.stop()
        drain = getattr(self._out, "drain", None)
        if drain is not None:  # the screen is left before the alerts are said on stderr
            drain(2.0)
        for line in self._said:
            self._stderr.write(f"flylogs: alert {line}\n")
        self._stderr.flush()


class AlertLines:
    """`--output plain`: one line per alert on stdout, nothing else (notices stay on stderr)."""

    def __init__(self, stdout: Writable) -> None:
        self._out = stdout

    def show(self, frame: Frame) -> None:
        pass

    def alert(self, alert: Alert) -> None:
        with contextlib.suppress(BrokenPipeError):  # the reader went away: the session ends (exit 0)
            self._out.write((alert_line(alert) + "\n").encode("utf-8", "replace"))
            self._out.flush()

    def status(self, status: Status) -> None:
        pass  # the connection's own alerts (disconnected, resumed) say it

    def note(self, text: str) -> None:
        pass

    def finish(self) -> None:
        pass


class StderrAlerts:
    """Alerts as lines on stderr (beside `--output json`'s records): `flylogs: alert 10:11:12 …`."""

    def __init__(self, line: Callable[[str], None]) -> None:
        self._line = line

    def alert(self, alert: Alert) -> None:
        self._line(f"flylogs: alert {alert_line(alert)}")

    async def close(self, timeout: float = 0.0) -> None:
        pass


SNAPSHOT_EVERY = 60 * NS


class WatchJson:
    """`--output json`: NDJSON on stdout, one `alert` record per transition, a `status` record per
    change of the connection, and an `instances` record each minute and at the end."""

    def __init__(self, stdout: Writable) -> None:
        self._out = stdout
        self._last: Frame | None = None
        self._snapped: int | None = None

    def show(self, frame: Frame) -> None:
        self._last = frame
        due = self._snapped is None or frame.now_ns - self._snapped >= SNAPSHOT_EVERY
        if due and frame.rows:
            self._snap(frame)

    def alert(self, alert: Alert) -> None:
        self._write(alert.record())

    def status(self, status: Status) -> None:
        """`tail --json`'s own record, at the moment the connection's state changes."""
        self._write(status_record(status))

    def canary(self, records: list[dict[str, object]]) -> None:
        """`{"type":"canary",…}` per beating instance and boot, once a minute and at exit."""
        for record in records:
            self._write(record)

    def note(self, text: str) -> None:
        pass

    def finish(self) -> None:
        if self._last is not None:
            self._snap(self._last)

    def _snap(self, frame: Frame) -> None:
        self._snapped = frame.now_ns
        self._write({"type": "instances", "at": format_rfc3339(frame.now_ns, 3), "instances": [
            {"app": r.app, "region": r.region, "instance": r.instance, "group": r.group,
             "machine": r.machine, "verdict": r.verdict.value,
             "last": format_rfc3339(r.last_ns, 3) if r.last_ns else None,
             "lines_per_min": r.per_min, "warnings_per_min": r.warnings_per_min,
             "errors_per_min": r.errors_per_min,
             "last_heartbeat": format_rfc3339(r.last_beat_ns, 3) if r.last_beat_ns else None,
             "alerts": sorted(k.value for k in r.open),
             "canary": {"lost_pct": round(r.canary[0], 2), "p95_ms": r.canary[1]} if r.canary else None}
            for r in frame.rows
        ]})  # fmt: skip

    def _write(self, record: dict[str, object]) -> None:
        with contextlib.suppress(BrokenPipeError):  # the reader went away: the session ends (exit 0)
            self._out.write(encode_record(record).encode("utf-8", "replace"))
            self._out.flush()
