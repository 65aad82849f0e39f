"""Notices, the closing summary and errors, written to stderr (stdout carries data only).

One exception, for the screen's sake: when stdout and stderr are the same terminal and the table
keeps a status line there, notices go through the table (`via`), which takes the status line away
first and puts it back after; written to stderr beside it, a notice would be glued to the status
line's text, and could overtake rows still on their way to the terminal.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import tzinfo
from typing import TextIO

from flylogs.core.events import Notice, NoticeKind
from flylogs.render import styles
from flylogs.render.console import Styler
from flylogs.render.gaps import describe_backfill, describe_gap
from flylogs.render.sanitize import escape_controls

_WARN_KINDS = frozenset(
    {NoticeKind.DISCONNECTED, NoticeKind.ERROR, NoticeKind.AUTH_REFUSED, NoticeKind.GAP, NoticeKind.BACKFILL}
)


class NoticeWriter:
    def __init__(
        self, err: TextIO, styler: Styler, via: Callable[[str], None] | None = None, tz: tzinfo | None = None
    ) -> None:
        self._tz = tz  # --tz: gap windows said in that zone (else UTC)
        self._err = err
        self._via = via
        self._plain = styler(styles.NOTICE)
        self._warn = styler(styles.NOTICE_WARN)

    def notice(self, notice: Notice) -> None:
        codes = self._warn if notice.kind in _WARN_KINDS else self._plain
        if notice.backfill is not None:
            text = describe_backfill(notice.backfill, self._tz)
        elif notice.gap is not None:
            text = describe_gap(notice.gap, tz=self._tz)
        else:
            text = notice.text
        self.line(codes.wrap(f"flylogs: {escape_controls(text)}"))

    def line(self, text: str) -> None:
        """A line while the session runs."""
        if self._via is not None:
            self._via(text)
            return
        self.final(text)

    def final(self, text: str) -> None:
        """A line once the session (and its output) has ended: straight to stderr."""
        try:
            self._err.write(text + "\n")
            self._err.flush()
        except (OSError, ValueError):  # stderr gone (a closed pipe, a hung-up terminal): nothing to tell
            pass
