"""The session's driver without a server: counting, --count, closed pipes, flushing, backpressure,
and proof that each specialised hot path writes exactly what the general path writes."""

from __future__ import annotations

import asyncio
import io

import pytest

from flylogs.core.events import Line, NoticeKind, Started
from flylogs.core.gaps import GapReason
from flylogs.core.tail import TailCore
from flylogs.filters import build_filter
from flylogs.render.console import Environment
from flylogs.render.sinks import build_sink
from flylogs.session.driver import Driver
from flylogs.session.plan import StopReason
from flylogs.settings.choices import ColorWhen, OutputMode
from tests.helpers import CASES, Collect

T0 = 1_800_000_000 * 10**9


class Backlog:
    def __init__(self, limit: int = 100) -> None:
        self.backlog = 0
        self.limit = limit
        self.broken = False


def driver(
    sink: object, *, count: int | None = None, backlog: Backlog | None = None, **core: object
) -> Driver:
    stops: list[StopReason] = []
    d = Driver(
        TailCore(build_filter(), start_ns=T0, **core),  # type: ignore[arg-type]
        sink,  # type: ignore[arg-type]
        sink if isinstance(sink, Collect) else Collect(),
        on_stop=stops.append,
        count=count,
        backlog=backlog,
        clock_ns=lambda: T0,
    )
    d.feed(Started())
    d.stops = stops  # type: ignore[attr-defined]
    return d


async def test_counts_and_stops_at_count() -> None:
    sink = Collect()
    d = driver(sink, count=3)
    for case in CASES:
        d.on_line(case.subject, case.payload)
    assert len(sink.events) == 3 and d.stops == [StopReason.COUNT]  # type: ignore[attr-defined]
    assert d.stats.received == 3 and d.stats.shown == 3


async def test_a_closed_pipe_stops_quietly() -> None:
    class Closing(Collect):
        def event(self, event: object) -> None:
            if len(self.events) >= 2:
                raise BrokenPipeError
            super().event(event)  # type: ignore[arg-type]

    d = driver(Closing())
    for case in CASES:
        d.on_line(case.subject, case.payload)
    assert d.stops == [StopReason.PIPE_CLOSED] and d.stats.shown == 2  # type: ignore[attr-defined]


async def test_a_burst_is_flushed_once_when_the_loop_is_idle() -> None:
    flushes = []

    class Counting(Collect):
        def flush(self) -> None:
            flushes.append(1)

    d = driver(Counting())
    await asyncio.sleep(0)
    flushes.clear()
    for case in CASES:
        d.on_line(case.subject, case.payload)
    assert flushes == []
    await asyncio.sleep(0)
    assert flushes == [1]


async def test_an_output_that_falls_behind_drops_into_one_gap_said_once() -> None:
    sink, backlog = Collect(), Backlog(limit=100)
    d = driver(sink, backlog=backlog)
    d.on_line(CASES[0].subject, CASES[0].payload)
    backlog.backlog = 500  # the reader stopped reading
    for case in CASES[:4]:
        d.on_line(case.subject, case.payload)
    assert [n.kind for n in sink.notices] == [NoticeKind.ERROR]  # "not keeping up", once
    backlog.backlog = 40  # drained below half the limit
    d.tick()
    [gap] = sink.gaps
    assert gap.reason is GapReason.SLOW_CONSUMER and gap.dropped == 4
    assert d.stats.dropped == 4 and d.stats.shown == 1


@pytest.mark.parametrize("mode", [OutputMode.TABLE, OutputMode.PLAIN, OutputMode.JSON, OutputMode.RAW])
async def test_each_fast_path_writes_what_the_general_path_writes(mode: OutputMode) -> None:
    def run(fast: bool) -> bytes:
        env = Environment.in_memory(width=100)
        out = io.BytesIO()
        sink = build_sink(mode, env, ColorWhen.ALWAYS, apps=[], out=out)
        d = driver(sink)
        for case in CASES:
            if fast:
                d.on_line(case.subject, case.payload)
            else:
                d.feed(Line(case.subject, case.payload, T0))
        d.flush()
        return out.getvalue()

    fast, general = run(True), run(False)
    assert fast.count(b"\n") >= len(CASES)
    assert fast == general
