"""Terminal facts and styles, in one injected object.

Owns: `Environment` (stdout, stderr, whether each is a terminal, its width, the environment variables
that steer colour), the colour decision (`--color`, `NO_COLOR`, `FORCE_COLOR`), and turning Rich style
names into ANSI codes once, up front, so the hot path only concatenates strings. Tests build an
`Environment` over in-memory streams. Must not: decide what a line says.
"""

from __future__ import annotations

import io
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import BinaryIO, TextIO

from rich.color import ColorSystem
from rich.style import Style

from flylogs.errors import OutputError
from flylogs.settings.choices import ColorWhen


@dataclass
class Environment:
    """Where output goes and what the terminal can do."""

    stdout: BinaryIO
    stderr: TextIO
    stdout_isatty: bool = False
    stderr_isatty: bool = False
    env: Mapping[str, str] = field(default_factory=dict)
    width: int | None = None
    # stdout and stderr are one terminal: what is said on either lands on the same screen.
    shared_terminal: bool = False

    @classmethod
    def from_process(cls, *, need_stdout: bool = True) -> Environment:
        """The process's streams. A closed stdout (`flylogs … >&-`: Python then has none) is an
        OutputError (exit 8), or, with `need_stdout` False (`check`: its verdict is its exit
        code), a stdout that keeps nothing."""
        if sys.stdout is None or not hasattr(sys.stdout, "buffer"):
            if need_stdout:
                raise OutputError(
                    "standard output is closed: there is nowhere to write the logs",
                    hint="run it with a standard output (`>/dev/null` discards the lines)",
                )
            return cls(stdout=io.BytesIO(), stderr=sys.stderr, env=dict(os.environ))
        stdout_isatty = _isatty(sys.stdout)
        width = None
        if stdout_isatty:
            try:
                width = os.get_terminal_size(sys.stdout.fileno()).columns
            except OSError:
                width = None
        stderr_isatty = _isatty(sys.stderr)
        return cls(
            stdout=sys.stdout.buffer,
            stderr=sys.stderr,
            stdout_isatty=stdout_isatty,
            stderr_isatty=stderr_isatty,
            env=dict(os.environ),
            width=width,
            shared_terminal=stdout_isatty and stderr_isatty and _same_file(sys.stdout, sys.stderr),
        )

    @classmethod
    def in_memory(
        cls, *, isatty: bool = False, width: int | None = 100, env: Mapping[str, str] | None = None
    ) -> Environment:
        """An environment over StringIO/BytesIO, for tests and embedding."""
        return cls(
            stdout=io.BytesIO(),
            stderr=io.StringIO(),
            stdout_isatty=isatty,
            stderr_isatty=isatty,
            env=dict(env or {}),
            width=width,
        )

    def current_width(self) -> int:
        """The terminal's width now (after a resize); 0 when it cannot be read."""
        try:
            return os.get_terminal_size(self.stdout.fileno()).columns
        except (AttributeError, OSError, ValueError):
            return 0

    def terminal_width(self) -> int:
        if self.width:
            return self.width
        columns = self.env.get("COLUMNS", "")
        return int(columns) if columns.isdigit() and int(columns) > 0 else 100

    @property
    def can_redraw(self) -> bool:
        """stdout is a terminal that can move its cursor and erase (not `TERM=dumb`): a status line
        and a full-screen view are for it; anything else gets plain lines as they happen."""
        return self.stdout_isatty and self.env.get("TERM") != "dumb"

    def use_color(self, when: ColorWhen, *, stream_isatty: bool | None = None) -> bool:
        """Colour for a stream: the flag first, then NO_COLOR, then FORCE_COLOR (`0` or `false`: no
        colour, as Node's tools read it; any other value: colour), then whether it is a TTY."""
        if when is ColorWhen.ALWAYS:
            return True
        if when is ColorWhen.NEVER:
            return False
        if self.env.get("NO_COLOR"):
            return False
        force = self.env.get("FORCE_COLOR", "").strip().lower()
        if force:
            return force not in ("0", "false", "no", "off")
        isatty = self.stdout_isatty if stream_isatty is None else stream_isatty
        return isatty and self.env.get("TERM") != "dumb"

    def color_system(self) -> ColorSystem:
        """The colour system Rich detects for this environment (TERM, COLORTERM; kitty, *-256color,
        *-16color, …), assuming colour is wanted at all; 16 colours where Rich cannot tell."""
        from rich.console import Console

        console = Console(file=io.StringIO(), force_terminal=True, _environ=dict(self.env))
        return _SYSTEMS.get(console.color_system or "", ColorSystem.STANDARD)


_SYSTEMS = {
    "standard": ColorSystem.STANDARD,
    "256": ColorSystem.EIGHT_BIT,
    "truecolor": ColorSystem.TRUECOLOR,
    "windows": ColorSystem.WINDOWS,
}


def _same_file(a: object, b: object) -> bool:
    try:
        return os.path.samestat(os.fstat(a.fileno()), os.fstat(b.fileno()))  # type: ignore[attr-defined]
    except (AttributeError, OSError, ValueError):
        return False


def _isatty(stream: object) -> bool:
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty and isatty())
    except ValueError:  # closed stream
        return False


@dataclass(frozen=True, slots=True)
class Codes:
    """The ANSI codes that open and close one style: `on + text + off`."""

    on: str = ""
    off: str = ""

    def wrap(self, text: str) -> str:
        return f"{self.on}{text}{self.off}" if self.on else text


NO_CODES = Codes()


class Styler:
    """Style names turned into ANSI codes once, then looked up. With colour off, every code is empty."""

    def __init__(self, enabled: bool, system: ColorSystem = ColorSystem.STANDARD) -> None:
        self.enabled = enabled
        self.system = system
        self._cache: dict[str, Codes] = {}

    def __call__(self, style: str) -> Codes:
        codes = self._cache.get(style)
        if codes is None:
            codes = self._make(style)
            self._cache[style] = codes
        return codes

    def _make(self, style: str) -> Codes:
        if not self.enabled or not style:
            return NO_CODES
        rendered = Style.parse(style).render("\0", color_system=self.system)
        on, _, off = rendered.partition("\0")
        return Codes(on, off)
