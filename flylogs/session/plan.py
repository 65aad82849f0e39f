"""What a tail session is asked to do (`TailPlan`), and how it ended (`Outcome`).

Must not: do I/O.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from flylogs.core.gaps import Gap
from flylogs.filters import Filter
from flylogs.source.flyapi import ApiSpec as ApiSpec  # (the plan's parts, for the CLI to name)
from flylogs.source.nats import ConnectOptions as ConnectOptions


class StopReason(StrEnum):
    COUNT = "count reached"
    END_OF_HISTORY = "end of history"
    WINDOW = "end of the window"  # `check` listened for its window
    PIPE_CLOSED = "output closed"
    INTERRUPTED = "interrupted"
    TERMINATED = "terminated"
    HUNG_UP = "hung up"  # SIGHUP: the terminal closed, an ssh session dropped


@dataclass(frozen=True, slots=True)
class PollSpec:
    """`--transport api`: poll the logs API for these apps, asking for these regions and instances."""

    api: ApiSpec
    regions: tuple[str, ...] = ()
    instances: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class TailPlan:
    connect: ConnectOptions
    subjects: Sequence[str]
    keep: Filter = field(default_factory=Filter)
    count: int | None = None
    # A JetStream stream holding the log subjects: fills gaps, and gives history.
    history_stream: str | None = None
    # Else Fly's HTTP logs API, for the apps followed.
    api: ApiSpec | None = None
    # Print history from this moment (epoch ns) before following; needs a history source.
    since_ns: int | None = None
    # True when that moment was a duration back from now (`--since 10m`): then from Fly's now.
    since_relative: bool = False
    # `--until`: history up to (not including) this moment (epoch ns); no following then.
    until_ns: int | None = None
    until_relative: bool = False
    # False: print the history and stop (`--no-follow`).
    follow: bool = True
    # Only the last N lines of that history (`--tail N`).
    last: int | None = None
    # Poll Fly's logs API instead of subscribing (`--transport api`); `connect` is then unused.
    poll: PollSpec | None = None
    # Poll it while NATS comes up, then hand over (`auto` with apps named and a token).
    bridge: PollSpec | None = None
    # (before, after) context lines around --grep matches, per instance.
    context: tuple[int, int] | None = None
    # Join the lines of a stack trace into one event (`--multiline`).
    multiline: bool = False
    # `--order time`: shown lines in timestamp order within this window (ns); None: arrival order.
    order_window_ns: int | None = None


@dataclass(frozen=True, slots=True)
class Stats:
    received: int = 0
    shown: int = 0
    malformed: int = 0
    dropped: int = 0
    decoded: bool = True  # False: raw output skipped decoding, so malformed lines were not counted


@dataclass(frozen=True, slots=True)
class Outcome:
    reason: StopReason
    stats: Stats
    elapsed: float
    gaps: tuple[Gap, ...] = ()

    @property
    def unfilled_gaps(self) -> tuple[Gap, ...]:
        return tuple(g for g in self.gaps if not g.complete)
