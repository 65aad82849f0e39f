"""Table mode: a streaming table, one row per log line as it arrives.

Rows are written straight to the terminal (no full-screen redraw), so scrollback and copy-paste keep
working. Columns are sized once, up front, so rows never jitter; the message takes the rest of the
width and wraps under itself, with a cap on how many rows one line may take. Styles are turned into
ANSI codes once (console.Styler); the hot path only slices and joins strings.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime, tzinfo

from flylogs.core.events import Backfill
from flylogs.core.gaps import Gap
from flylogs.core.status import Status
from flylogs.model import LogEvent
from flylogs.render import styles
from flylogs.render.cells import chop, fit, truncate
from flylogs.render.console import Styler
from flylogs.render.gaps import describe_backfill, describe_gap
from flylogs.render.highlight import apply_spans, match_spans
from flylogs.render.output import Writable
from flylogs.render.sanitize import escape_controls
from flylogs.render.status_line import StatusLine
from flylogs.settings.choices import ColorBy, TimeMode

TIME_W = 12
REGION_W = 3
INSTANCE_W = 14
LEVEL_W = 5
MIN_MESSAGE_W = 20
# A single log line may take at most this many rows; the rest is summarised.
MAX_ROWS_PER_LINE = 12
# Synonyms shown in their short form, so the level column stays five cells wide.
_SHORT_LEVELS = {"warning": "warn", "critical": "crit", "emergency": "emerg"}


class TableSink:
    def __init__(
        self,
        out: Writable,
        styler: Styler,
        *,
        width: int,
        app_width: int | None = None,
        highlight: Sequence[re.Pattern[str]] = (),
        tz: tzinfo | None = None,
        time_mode: TimeMode = TimeMode.LOCAL,
        color_by: ColorBy = ColorBy.INSTANCE,
        live_status: bool = False,
    ) -> None:
        # On a terminal, a status line stays under the rows (see `status`, `progress`).
        self._live = StatusLine() if live_status else None
        self._colors = styles.Colors(color_by, styles.palette(styler.system))
        self._out = out
        self._write = out.write
        self._style = styler
        self._app_w = app_width
        self._highlight = tuple(highlight)
        self._tz = tz
        self._time_mode = time_mode
        # UTC times carry their Z, as everywhere else flylogs prints a UTC time.
        self._zulu = "Z" if time_mode is TimeMode.UTC else ""
        self._time_w = 0 if time_mode is TimeMode.NONE else TIME_W + len(self._zulu)
        self._first_ns: int | None = None
        self._full_time_w, self._full_app_w = self._time_w, app_width
        self._lay_out(width)
        self._time = styler(styles.TIME)
        self._region = styler(styles.REGION)
        self._app = styler(styles.APP)
        self._hl = styler(styles.HIGHLIGHT)
        self._bad = styler(styles.MALFORMED)
        self._bad_note = styler(styles.MALFORMED_NOTE)
        self._note = styler(styles.NOTICE)
        self._gap = styler(styles.GAP)
        self._status: str | None = None
        self._status_shown = False
        self._status_codes = styler(styles.STATUS)
        self._cell_cache: dict[tuple[str | None, ...], str] = {}
        self._last_second: int | None = None
        self._last_hms = ""

    def _lay_out(self, width: int) -> None:
        """Columns for a terminal `width` wide. Below what all of them and a 20-cell message need,
        columns go in this order: region, level, app, time; then the instance is cut to 8 cells.
        The message takes the rest, so no row is ever wider than the terminal."""
        self.width = width
        self._time_w, self._app_w = self._full_time_w, self._full_app_w
        self._region_w, self._instance_w, self._level_w = REGION_W, INSTANCE_W, LEVEL_W
        for drop in ("_region_w", "_level_w", "_app_w", "_time_w", "_instance_w"):
            if width - self._prefix() >= MIN_MESSAGE_W:
                break
            setattr(self, drop, 8 if drop == "_instance_w" else 0)
        self._prefix_w = self._prefix()
        self._message_w = max(width - self._prefix_w, 8)
        self._indent = " " * self._prefix_w

    def _prefix(self) -> int:
        widths = (self._time_w, self._app_w or 0, self._region_w, self._instance_w, self._level_w)
        return sum(w + 1 for w in widths if w)

    def resize(self, width: int) -> None:
        """The terminal is now `width` wide (SIGWINCH): the next rows are laid out for it, under a
        header of their own when the columns changed."""
        if width <= 0 or width == self.width:
            return
        before = (self._time_w, self._app_w, self._region_w, self._instance_w, self._level_w)
        self._lay_out(width)
        self._cell_cache.clear()
        if self._status is not None:  # redrawn from now on at the new width
            self._status = truncate(self._status, max(width - 4, 8))
        if before != (self._time_w, self._app_w, self._region_w, self._instance_w, self._level_w):
            self.header()

    def header(self) -> None:
        self._clear_status()
        cols = [fit("TIME", self._time_w)] if self._time_w else []
        if self._app_w:
            cols.append(fit("APP", self._app_w))
        if self._region_w:
            cols.append(fit("REG", self._region_w))
        cols.append(fit("INSTANCE", self._instance_w))
        if self._level_w:
            cols.append(fit("LEVEL", self._level_w))
        cols.append("MESSAGE")
        self._write(
            (self._style(styles.HEADER).wrap(truncate(" ".join(cols), self.width)) + "\n").encode("utf-8")
        )

    def _clock(self, ts_ns: int | None) -> str:
        if ts_ns is None:
            return "--:--:--.---" + self._zulu
        if self._time_mode is TimeMode.RELATIVE:
            if self._first_ns is None:
                self._first_ns = ts_ns
            return f"{(ts_ns - self._first_ns) / 1e9:+11.3f}s"[-TIME_W:]
        seconds, nanos = divmod(ts_ns, 1_000_000_000)
        if seconds != self._last_second:
            try:
                self._last_hms = datetime.fromtimestamp(seconds, self._tz).strftime("%H:%M:%S")
            except (OverflowError, ValueError, OSError):  # cannot happen for instants decode accepts
                return "--:--:--.---" + self._zulu
            self._last_second = seconds
        return f"{self._last_hms}.{nanos // 1_000_000:03d}{self._zulu}"

    def event(self, event: LogEvent) -> None:
        self._clear_status()
        self._write(self.format(event).encode("utf-8"))

    recovered = event

    def format(self, event: LogEvent) -> str:
        clock = self._time.wrap(self._clock(event.ns())) + " " if self._time_w else ""
        if event.malformed is not None:
            return f"{clock}{self._cells(event)}{self._message_rows(event)}"
        # The styled cells between time and message repeat for every line of an instance: build once.
        level = event.shown_level()
        key = (event.app, event.region, event.instance, level)
        cells = self._cell_cache.get(key)
        if cells is None:
            if len(self._cell_cache) > 10_000:
                self._cell_cache.clear()
            cells = self._cell_cache[key] = self._cells(event, level)
        return f"{clock}{cells}{self._message_rows(event)}"

    def _cells(self, event: LogEvent, shown_level: str | None = None) -> str:
        style = self._style
        cells = []
        if self._app_w:
            cells.append(self._app.wrap(fit(escape_controls(event.app or "-"), self._app_w)))
        if self._region_w:
            cells.append(self._region.wrap(fit(escape_controls(event.region or "-"), self._region_w)))
        cells.append(
            style(self._colors.style(event)).wrap(
                fit(escape_controls(event.instance or "-"), self._instance_w)
            )
        )
        if self._level_w and event.malformed is not None:
            cells.append(self._bad.wrap(fit("BAD", self._level_w)))
        elif self._level_w:
            level = shown_level or ""
            level = _SHORT_LEVELS.get(level.lower(), level)
            cells.append(
                style(styles.level_style(shown_level)).wrap(fit(escape_controls(level), self._level_w))
            )
        return " ".join(cells) + " "

    def _message_rows(self, event: LogEvent) -> str:
        lead = ""
        if event.malformed is not None:
            lead = f"[malformed: {escape_controls(event.malformed)}] "
        elif event.provider and event.provider != "app":
            lead = f"[{escape_controls(event.provider)}] "
        width = self._message_w
        message = event.message
        if event.clean and not lead and len(message) <= width:
            # The common case: one short, plain line, one row (clean: no newline, tab or control).
            if self._highlight:
                message = apply_spans(message, match_spans(message, self._highlight), self._hl)
            return message + "\n"
        message = escape_controls(message, keep_newlines_and_tabs=True)
        if (
            not lead
            and "\n" not in message
            and "\t" not in message
            and len(message) <= width
            and message.isascii()
        ):
            # The common case: one short line, one row.
            if self._highlight:
                message = apply_spans(message, match_spans(message, self._highlight), self._hl)
            return message + "\n"

        rows: list[str] = []
        lines = message.expandtabs(4).split("\n")
        lines[0] = lead + lines[0]
        lead_len = len(lead)
        total = sum(len(line) for line in lines) + len(lines) - 1  # newlines count as characters
        consumed = 0
        for index, line in enumerate(lines):
            if len(rows) >= MAX_ROWS_PER_LINE:
                break
            spans = match_spans(line, self._highlight) if self._highlight else []
            offset = 0
            for chunk in chop(line, width):
                if len(rows) >= MAX_ROWS_PER_LINE:
                    break
                text = apply_spans(chunk, spans, self._hl, offset)
                if index == 0 and offset < lead_len:
                    # The lead is ours (a provider or malformed note): style it apart from the message.
                    note = self._bad_note if event.malformed is not None else self._note
                    cut = lead_len - offset
                    text = note.wrap(chunk[:cut]) + apply_spans(chunk[cut:], spans, self._hl, offset + cut)
                rows.append(text)
                offset += len(chunk)
                consumed += len(chunk)
            else:
                consumed += 1 if index < len(lines) - 1 else 0
        if consumed < total:
            rows.append(self._note.wrap(f"… {total - consumed:,} more characters (see --output json)"))
        return ("\n" + self._indent).join(rows) + "\n"

    def separator(self) -> None:
        """`--` between groups of context lines, as grep prints."""
        self._clear_status()
        self._write((self._note.wrap("--") + "\n").encode("utf-8"))

    def gap(self, gap: Gap, pending: str | None = None) -> bool:
        """A highlighted row, in the table where the missing lines would have been."""
        self._row(describe_gap(gap, pending, short=True, tz=self._tz))
        return True

    def backfill(self, backfill: Backfill) -> bool:
        """A highlighted row, right above the recovered lines."""
        self._row(describe_backfill(backfill, self._tz))
        return True

    def _row(self, text: str) -> None:
        self._clear_status()
        width = self._prefix_w + self._message_w
        rows = [self._gap.wrap(fit(row, width)) for row in chop(f"▌ {text}", width)]
        self._write(("\n".join(rows) + "\n").encode("utf-8"))

    # --- the status line: the terminal's last line, redrawn under the rows -------------------------

    @property
    def live(self) -> bool:
        """A status line is kept (on a terminal)."""
        return self._live is not None

    def status(self, status: Status) -> None:
        """The connection's state changed: the next `progress` (which follows at once) says so."""
        if self._live is not None:
            self._live.status = status

    def note(self, text: str) -> None:
        """A notice for the person at the terminal, under the rows, the status line moved below it."""
        self._clear_status()
        self._write((text + "\n").encode("utf-8"))

    def progress(self, shown: int, gaps: int, now_ns: int, received: int = 0) -> None:
        if self._live is not None:
            self._live.progress(shown, gaps, now_ns, received)
            self._draw_status(now_ns)

    def _draw_status(self, now_ns: int) -> None:
        assert self._live is not None
        self._clear_status()
        # Never the full width: a terminal echoing ^C after it must not wrap it onto a second line
        # (`\r\x1b[2K` erases one row only).
        text = escape_controls(self._live.text(now_ns))
        self._status = truncate(text, max(self.width - 4, 8))
        self.flush()

    def finish(self) -> None:
        """The session is over: the status line goes, the rows stay."""
        self._clear_status()
        self._status = None
        self.flush()

    def _clear_status(self) -> None:
        if self._status_shown:
            self._write(b"\r\x1b[2K")
            self._status_shown = False

    def flush(self) -> None:
        if self._status is not None and not self._status_shown:
            self._write(self._status_codes.wrap(self._status).encode("utf-8"))
            self._status_shown = True
        self._out.flush()
