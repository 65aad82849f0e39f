"""Plain mode: one line per log, grep-friendly, at least as readable as `fly logs`.

`2026-11-20T09:14:03.120Z app[4d891d77b05118] iad [info] Listening on 0.0.0.0:8080`
(with the app name after the time when more than one app is followed). Control characters, newlines
included, are escaped so one log is always one line. Colour only when enabled.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from flylogs.gaps import Gap
from flylogs.model import LogEvent
from flylogs.render import styles
from flylogs.render.console import Styler
from flylogs.render.highlight import apply_spans, match_spans
from flylogs.render.output import Writable
from flylogs.render.sanitize import escape_controls


class PlainSink:
    def __init__(
        self,
        out: Writable,
        styler: Styler,
        *,
        show_app: bool = False,
        highlight: Sequence[re.Pattern[str]] = (),
    ) -> None:
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

    def header(self) -> None:
        """Plain mode has no header: every line stands alone."""

    def event(self, event: LogEvent) -> None:
        self._write(self.format(event).encode("utf-8"))

    def format(self, event: LogEvent) -> str:
        style = self._style
        ts = event.timestamp
        when = f"{ts[:23]}Z" if ts is not None else "-"
        instance = escape_controls(event.instance or "-")
        level = escape_controls(event.level or "-")
        message = escape_controls(event.message)
        if self._highlight:
            message = apply_spans(message, match_spans(message, self._highlight), self._hl)
        parts = [self._time.wrap(when)]
        if self._show_app:
            parts.append(self._app.wrap(escape_controls(event.app or "-")))
        parts.append(
            f"{escape_controls(event.provider or '-')}"
            f"[{style(styles.instance_style(event.instance)).wrap(instance)}]"
        )
        parts.append(self._region.wrap(escape_controls(event.region or "-")))
        if event.malformed is not None:
            parts.append(self._bad.wrap(f"[malformed: {escape_controls(event.malformed)}]"))
        else:
            parts.append(f"[{style(styles.level_style(event.level)).wrap(level)}]")
        parts.append(message)
        return " ".join(parts) + "\n"

    def gap(self, gap: Gap) -> bool:
        """Plain output stays one log per line for grep: gaps go to stderr."""
        return False

    def flush(self) -> None:
        self._out.flush()
