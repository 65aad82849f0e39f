"""Which style each part of a line gets: levels, instances, highlights.

Owns: the colour vocabulary shared by the table and plain modes. Must not: write anything.
"""

from __future__ import annotations

import zlib

from flylogs.model import level_rank

# Red and yellow mean error and warning; no instance may wear them.
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
    """debug cyan, info blue, warn yellow, error red (as `fly logs`); unknown levels magenta."""
    rank = level_rank(level)
    if rank is None:
        return "magenta" if level else ""
    if rank < 20:
        return "cyan"
    if rank < 30:
        return "blue"
    if rank < 40:
        return "yellow"
    return "bold red"


def instance_style(instance: str | None) -> str:
    """A colour that is the same for an instance in every run (a hash, not the order of arrival)."""
    if not instance:
        return ""
    return INSTANCE_PALETTE[zlib.crc32(instance.encode()) % len(INSTANCE_PALETTE)]
