"""The hot path without a server: counting, --count, closed pipes, flush coalescing."""

from __future__ import annotations

import asyncio

from flylogs.core.gaps import Gap
from flylogs.filters import build_filter
from flylogs.model import LogEvent
from flylogs.pipeline import Pipeline, StopReason
from tests.conftest import CASES


class Sink:
    def __init__(self, fail_after: int | None = None) -> None:
        self.events: list[LogEvent] = []
        self.flushes = 0
        self.fail_after = fail_after

    def header(self) -> None:
        pass

    def event(self, event: LogEvent) -> None:
        if self.fail_after is not None and len(self.events) >= self.fail_after:
            raise BrokenPipeError
        self.events.append(event)

    def gap(self, gap: Gap) -> bool:
        return False

    def separator(self) -> None:
        pass

    def flush(self) -> None:
        self.flushes += 1


async def test_counts_and_stops_at_count() -> None:
    sink, stops = Sink(), list[StopReason]()
    pipeline = Pipeline(sink, build_filter(), count=3, on_stop=stops.append)
    for case in CASES:
        pipeline.handle(case.subject, case.payload)
    assert len(sink.events) == 3 and stops == [StopReason.COUNT]
    assert pipeline.stats.received == 3


async def test_malformed_counted_and_filtered_lines_not_shown() -> None:
    sink = Sink()
    pipeline = Pipeline(sink, build_filter(grep=["json|JSON"]))
    for case in CASES:
        pipeline.handle(case.subject, case.payload)
    assert pipeline.stats.received == len(CASES)
    assert pipeline.stats.malformed == 5
    assert [e.message for e in sink.events] == [
        "this payload is not JSON at all",
        '{"message": "truncated json',
    ]
    assert pipeline.stats.shown == 2


async def test_a_burst_is_flushed_once_when_the_loop_is_idle() -> None:
    sink = Sink()
    pipeline = Pipeline(sink, build_filter())
    for case in CASES:
        pipeline.handle(case.subject, case.payload)
    assert sink.flushes == 0
    await asyncio.sleep(0)
    assert sink.flushes == 1


async def test_a_closed_pipe_stops_quietly() -> None:
    sink, stops = Sink(fail_after=2), list[StopReason]()
    pipeline = Pipeline(sink, build_filter(), on_stop=stops.append)
    for case in CASES:
        pipeline.handle(case.subject, case.payload)
    assert stops == [StopReason.PIPE_CLOSED]
    assert pipeline.stats.shown == 2


async def test_held_and_replayed_lines_go_through_context_too() -> None:
    from flylogs.core.context import Context
    from flylogs.decode import decode

    sink = Sink()
    pipeline = Pipeline(sink, build_filter(grep=["gateway"]), context=Context(before=0, after=1))
    pipeline.hold()
    for case in CASES[:5]:
        pipeline.handle(case.subject, case.payload)
    assert sink.events == []  # held
    pipeline.release()
    # Only the match and, after it, the next line of the same instance: not every held line.
    assert [e.message for e in sink.events] == [
        "ERROR payment gateway timeout after 30s",
        "WARN retrying in 2s",
    ]
    replayed = pipeline.prepare([(c.subject, c.payload) for c in CASES[:2]])
    pipeline.show_all(replayed)
    assert len(sink.events) == 2  # non-matching replayed lines are not shown as if they matched
    assert decode(CASES[0].subject, CASES[0].payload).message not in [e.message for e in sink.events]
