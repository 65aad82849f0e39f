"""Plain mode: one line per log, grep-friendly, at least as readable as `fly logs`.

`2026-11-20T09:14:03.120Z app[4d891d77b05118] iad [info] Listening on 0.0.0.0:8080`
(with the app name after the time when more than one app is followed). Control characters, newlines
included, are escaped so one log is always one line. Colour only when enabled.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from datetime import datetime, tzinfo

import msgspec

from flylogs.core.events import Backfill
from flylogs.core.gaps import Gap
from flylogs.core.status import Status
from flylogs.model import LogEvent
from flylogs.render import styles
from flylogs.render.console import Codes, Styler
from flylogs.render.highlight import apply_spans, match_spans
from flylogs.render.output import Writable
from flylogs.render.sanitize import escape_controls
from flylogs.render.template import Template, render
from flylogs.settings.choices import ColorBy, TimeMode


def _unchanged(text: str) -> str:
    return text


class PlainSink:
    def __init__(
        self,
        out: Writable,
        styler: Styler,
        *,
        show_app: bool = False,
        highlight: Sequence[re.Pattern[str]] = (),
        time_mode: TimeMode = TimeMode.UTC,
        tz: tzinfo | None = None,
        color_by: ColorBy = ColorBy.INSTANCE,
        template: Template | None = None,
    ) -> None:
        self._template = template
        self._colors = styles.Colors(color_by, styles.palette(styler.system))
        self._time_mode = time_mode
        self._tz = tz
        self._first_ns: int | None = None
        self._write = out.write
        self._out = out
        self._style = styler
        self._show_app = show_app
        self._highlight = tuple(highlight)
        self._time = styler(styles.TIME)
        self._region = styler(styles.REGION)
        self._app = styler(styles.APP)
        self._hl = styler(styles.HIGHLIGHT)
        self._bad = styler(styles.MALFORMED)
        self._level_codes: dict[str | None, Codes] = {}
        self._middle_cache: dict[tuple[str | None, ...], str] = {}

    def header(self) -> None:
        """Plain mode has no header: every line stands alone."""

    def event(self, event: LogEvent) -> None:
        if event.lines > 1:  # a stack trace: a group of lines, each with the same prefix
            parts = event.message.split("\n")
            text = "".join(self.format(msgspec.structs.replace(event, message=p, lines=1)) for p in parts)
            self._write(text.encode("utf-8"))
            return
        self._write(self.format(event).encode("utf-8"))

    recovered = event

    def format(self, event: LogEvent) -> str:
        if self._template is not None:
            return self._templated(self._template, event)
        if self._time_mode is TimeMode.UTC:
            # The default, inlined: RFC 3339 UTC with milliseconds, sliced from the payload's own text.
            ts = event.timestamp
            when = self._time.wrap(f"{ts[:23]}Z" if ts is not None else "-") + " "
        else:
            when = self._when(event)
            if when:
                when += " "
        if event.late:  # --order time: shown at once, out of its place, and said so
            return (
                when
                + self._middle(event, escape_controls, event.shown_level())
                + "[late] "
                + (escape_controls(event.message) + "\n")
            )
        if event.clean and event.malformed is None and not self._highlight:
            # Everything between the time and the message repeats for every line of an instance at a
            # level: build it once (clean events need no escaping, so the text is the same each time).
            shown = event.shown_level()
            key = (event.app, event.provider, event.instance, event.region, shown)
            middle = self._middle_cache.get(key)
            if middle is None:
                if len(self._middle_cache) > 10_000:
                    self._middle_cache.clear()
                middle = self._middle_cache[key] = self._middle(event, _unchanged, shown)
            return f"{when}{middle}{event.message}\n"
        # Anything else: escaped field by field (untrusted text never reaches the terminal raw).
        esc = _unchanged if event.clean else escape_controls
        message = esc(event.message)
        if self._highlight:
            message = apply_spans(message, match_spans(message, self._highlight), self._hl)
        return f"{when}{self._middle(event, esc, event.shown_level())}{message}\n"

    def _templated(self, template: Template, event: LogEvent) -> str:
        """`--format`: the user's own line, the level, instance and time in colour when it is on."""
        shown = event.shown_level()
        level = self._level_codes.get(shown)
        if level is None:
            level = self._level_codes[shown] = self._style(styles.level_style(shown))
        instance = self._style(self._colors.style(event))
        wrap = {"level": (level.on, level.off), "instance": (instance.on, instance.off),
                "timestamp": (self._time.on, self._time.off)}  # fmt: skip
        utc = self._time_mode is TimeMode.UTC
        return (
            render(template, event, tz=self._tz, utc=utc, wrap=wrap if self._style.enabled else None) + "\n"
        )

    def _middle(self, event: LogEvent, esc: Callable[[str], str], shown: str | None) -> str:
        """`[app ]provider[instance] region [level] `, styled."""
        app = f"{self._app.wrap(esc(event.app or '-'))} " if self._show_app else ""
        codes = self._style(self._colors.style(event))
        if event.malformed is not None:
            level = self._bad.wrap(f"[malformed: {escape_controls(event.malformed)}]")
        else:
            level_codes = self._level_codes.get(shown)
            if level_codes is None:
                level_codes = self._level_codes[shown] = self._style(styles.level_style(shown))
            level = f"[{level_codes.wrap(esc(shown))}]" if shown else "[-]"
        region = self._region.wrap(esc(event.region or "-"))
        provider = esc(event.provider or "")  # none said: `[instance]`, not `-[instance]`
        return f"{app}{provider}[{codes.wrap(esc(event.instance or '-'))}] {region} {level} "

    def _when(self, event: LogEvent) -> str:
        mode = self._time_mode
        if mode is TimeMode.NONE:
            return ""
        ts = event.timestamp
        if ts is None:
            return self._time.wrap("-")
        if mode is TimeMode.UTC:  # the default: RFC 3339 UTC, milliseconds, straight from the payload
            return self._time.wrap(f"{ts[:23]}Z")
        ns = event.ns()
        if ns is None:
            return self._time.wrap("-")
        if mode is TimeMode.RELATIVE:
            if self._first_ns is None:
                self._first_ns = ns
            return self._time.wrap(f"{(ns - self._first_ns) / 1e9:+.3f}s")
        try:
            local = datetime.fromtimestamp(ns / 1e9, self._tz).astimezone(self._tz)
        except (OverflowError, ValueError, OSError):  # cannot happen for instants decode accepts
            return self._time.wrap("-")
        return self._time.wrap(local.isoformat(timespec="milliseconds"))

    def separator(self) -> None:
        """`--` between groups of context lines, as grep prints."""
        self._write(b"--\n")

    def gap(self, gap: Gap, pending: str | None = None) -> bool:
        """Plain output stays one log per line for grep: gaps go to stderr."""
        return False

    def backfill(self, backfill: Backfill) -> bool:
        """Like gaps, on stderr."""
        return False

    def status(self, status: Status) -> None:
        """State changes are stderr notices in plain mode."""

    def progress(self, shown: int, gaps: int, now_ns: int, received: int = 0) -> None:
        """Plain output has no status line."""

    def flush(self) -> None:
        self._out.flush()

    finish = flush
