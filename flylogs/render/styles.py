"""Which style each part of a line gets: levels, instances, highlights.

Owns: the colour vocabulary shared by the table and plain modes. Must not: write anything.
"""

from __future__ import annotations

import zlib

from rich.color import ColorSystem
from rich.style import Style

from flylogs.model import LogEvent, level_rank
from flylogs.settings.choices import ColorBy

# Red and yellow mean error and warning; no instance may wear them. With 256 colours or more:
INSTANCE_PALETTE: tuple[str, ...] = (
    "green",
    "magenta",
    "cyan",
    "bright_green",
    "bright_magenta",
    "bright_cyan",
    "bright_blue",
    "medium_purple",
    "spring_green2",
    "deep_sky_blue1",
    "orchid",
    "turquoise2",
    "slate_blue1",
    "pale_green1",
    "violet",
    "steel_blue1",
)

# On a 16-colour terminal (TERM=xterm: containers, CI) the names above collapse onto a few codes;
# these are the 16-colour system's own, less red and yellow (and black and white, unreadable on one
# background or the other).
STANDARD_PALETTE: tuple[str, ...] = (
    "green",
    "magenta",
    "cyan",
    "blue",
    "bright_green",
    "bright_magenta",
    "bright_cyan",
    "bright_blue",
)
_FORBIDDEN = ("red", "bright_red", "yellow", "bright_yellow")


def palette(system: ColorSystem) -> tuple[str, ...]:
    """The instance colours for `system`, compared as they will be emitted: each gives a code of its
    own, and none the code of red or yellow."""
    names = STANDARD_PALETTE if system in (ColorSystem.STANDARD, ColorSystem.WINDOWS) else INSTANCE_PALETTE
    forbidden = {_code(name, system) for name in _FORBIDDEN}
    seen: set[str] = set()
    chosen = []
    for name in names:
        code = _code(name, system)
        if code not in forbidden and code not in seen:
            seen.add(code)
            chosen.append(name)
    return tuple(chosen)


def _code(name: str, system: ColorSystem) -> str:
    return Style.parse(name).render("\0", color_system=system).partition("\0")[0]


TIME = "dim"
REGION = "green"
APP = "bold"
MALFORMED = "bold red"
MALFORMED_NOTE = "red"
HIGHLIGHT = "reverse bold"
HEADER = "bold underline"
NOTICE = "dim"
NOTICE_WARN = "yellow"
GAP = "bold black on yellow"
STATUS = "reverse"


def level_style(level: str | None) -> str:
    """debug cyan, info blue, warn yellow, error red (as `fly logs`); the canary's beats dim; unknown
    levels magenta."""
    rank = level_rank(level)
    if rank is None:
        return "dim" if level == "beat" else "magenta" if level else ""
    if rank < 20:
        return "cyan"
    if rank < 30:
        return "blue"
    if rank < 40:
        return "yellow"
    return "bold red"


class Colors:
    """Colours for instances (or apps, or regions: `--color-by`), distinct where it matters.

    Each key starts from a colour given by its hash, so it keeps the same colour from run to run; if
    another key of the same group (the same app, for instances) already wears it, the next free one is
    taken, so two instances of one app never share a colour while the palette has room.
    """

    def __init__(self, by: ColorBy = ColorBy.INSTANCE, colours: tuple[str, ...] = INSTANCE_PALETTE) -> None:
        self.by = by
        self._palette = colours
        self._given: dict[str | None, str] = {}
        self._taken: dict[str | None, set[int]] = {}

    def style(self, event: LogEvent) -> str:
        key = (
            event.instance
            if self.by is ColorBy.INSTANCE
            else event.app
            if self.by is ColorBy.APP
            else event.region
        )
        given = self._given.get(key)
        if given is not None:
            return given
        if not key:
            return ""
        group = event.app if self.by is ColorBy.INSTANCE else None
        taken = self._taken.setdefault(group, set())
        size = len(self._palette)
        start = zlib.crc32(key.encode()) % size
        index = next((i % size for i in range(start, start + size) if i % size not in taken), start)
        taken.add(index)
        self._given[key] = self._palette[index]
        return self._palette[index]
