"""What the session needs of the world around it: a consumer of the core's outputs (a renderer is a
`Sink`), a notice sink, a buffered output's backlog, a source and a history source. Protocols only:
the render package and the sources satisfy them.
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

from flylogs.core.events import Backfill, Notice
from flylogs.core.gaps import Gap
from flylogs.core.status import Status
from flylogs.model import LogEvent


class Consumer(Protocol):
    """What the core's outputs go to: each line kept, and each gap (False: it is said on stderr).
    `watch` and `check` consume; they render nothing else. Optional, taken when present: `recovered`
    (a line a backfill brought back; else `event`), `status` (a change of the connection's state),
    `backfill` (False or absent: it is said on stderr)."""

    def event(self, event: LogEvent) -> None: ...
    def gap(self, gap: Gap, pending: str | None = None) -> bool: ...  # `pending`: a backfill follows


@runtime_checkable
class Sink(Consumer, Protocol):
    """A renderer: a consumer that also draws a header, separators and a status line, and flushes."""

    def header(self) -> None: ...
    def recovered(self, event: LogEvent) -> None: ...
    def separator(self) -> None: ...  # between groups of context lines
    def backfill(self, backfill: Backfill) -> bool: ...
    def status(self, status: Status) -> None: ...
    def progress(
        self, shown: int, gaps: int, now_ns: int, received: int = 0
    ) -> None: ...  # about once a second
    def flush(self) -> None: ...
    def finish(self) -> None: ...  # the session is over: tidy up (the status line) and flush


class Source(Protocol):
    """A way lines arrive (NATS, polling Fly's logs API): started, read through its callbacks, closed."""

    async def start(self, *, subscribe: bool = True) -> None: ...
    async def close(self) -> None: ...
    @property
    def server(self) -> str | None: ...
    @property
    def client(self) -> Any: ...  # the NATS client when there is one (JetStream rides it), else None


class NoticeSink(Protocol):
    def notice(self, notice: Notice) -> None: ...


class Backlog(Protocol):
    """What the session needs to know of a buffered output: how much is waiting, and how much may."""

    @property
    def backlog(self) -> int: ...
    @property
    def limit(self) -> int: ...
    @property
    def broken(self) -> bool: ...


class HistorySource(Protocol):
    """Somewhere a window of the past can be read back: JetStream, or Fly's HTTP logs API."""

    name: str  # for a person: "Fly's logs API", a stream's name
    label: str  # for a program: "api", "jetstream"
    # True: a window is chosen by the lines' own timestamps (Fly's clock); False: by when a server
    # stored them (JetStream: its clock, taken to be about this one).
    by_line_time: bool

    async def check(self) -> None: ...
    async def offset(self) -> tuple[int, int] | None: ...  # Fly's clock minus this one, ± (None: unknown)
    async def replay(
        self, start_ns: int, end_ns: int | None, *, fresh: bool = False
    ) -> list[tuple[str, bytes]]: ...
