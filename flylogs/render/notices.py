"""Notices, the closing summary and errors, written to stderr (stdout carries data only)."""

from __future__ import annotations

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
    def __init__(self, err: TextIO, styler: Styler) -> None:
        self._err = err
        self._plain = styler(styles.NOTICE)
        self._warn = styler(styles.NOTICE_WARN)

    def notice(self, notice: Notice) -> None:
        codes = self._warn if notice.kind in _WARN_KINDS else self._plain
        if notice.backfill is not None:
            text = describe_backfill(notice.backfill)
        elif notice.gap is not None:
            text = describe_gap(notice.gap)
        else:
            text = notice.text
        self.line(codes.wrap(f"flylogs: {escape_controls(text)}"))

    def line(self, text: str) -> None:
        try:
            self._err.write(text + "\n")
            self._err.flush()
        except (BrokenPipeError, ValueError):  # stderr gone: nothing left to tell
            pass
