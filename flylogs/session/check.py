"""`flylogs check`'s reading: the lines of a window, with the time each was written (history) or
arrived (listening), and the Machines' states once.

Owns: where the window comes from, in order of preference: Fly's logs API read directly (no stream
needed), a JetStream stream (through a tail session that reads history and stops), or listening to
the stream for the window. Must not: judge (the core does), parse flags, or print.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import replace

from flylogs.core.clock import MARGIN_NS, significant
from flylogs.core.events import Notice, NoticeKind
from flylogs.core.gaps import Gap
from flylogs.decode import decode
from flylogs.model import LogEvent
from flylogs.session.plan import StopReason, TailPlan
from flylogs.session.ports import NoticeSink
from flylogs.session.run import run_tail
from flylogs.source.flyapi import ApiError, FlyApiHistory, ReplayCapped
from flylogs.source.machines import MachinesApiError, MachineStates
from flylogs.timestamps import parse_rfc3339

Lines = list[tuple[LogEvent, int]]


class Collecting:
    """What a check's tail session feeds (a `Consumer`): every line with its time (written, else
    arrived); a line a backfill recovered counts as well."""

    def __init__(self, clock_ns: Callable[[], int], written: bool) -> None:
        self.lines: Lines = []
        self._clock_ns = clock_ns
        self._written = written

    def event(self, event: LogEvent) -> None:
        at = _written(event) if self._written else None
        self.lines.append((event, at if at is not None else self._clock_ns()))

    def recovered(self, event: LogEvent) -> None:
        self.event(event)

    def gap(self, gap: Gap, pending: str | None = None) -> bool:
        return False  # said on stderr: a check that listened through a gap may have missed a line


def _written(event: LogEvent) -> int | None:
    return parse_rfc3339(event.timestamp) if event.timestamp else None


async def read_window(
    plan: TailPlan,
    notices: NoticeSink,
    stop: asyncio.Future[StopReason],
    *,
    start_ns: int,
    listen_s: float,
    prepare: Callable[[Callable[[str], None]], Awaitable[object]] | None = None,
    clock_ns: Callable[[], int] = time.time_ns,
) -> tuple[Lines, str, StopReason, int]:
    """The lines from `start_ns` to now, where they came from (for a person), how the reading
    ended (`WINDOW` or `END_OF_HISTORY`: whole; interrupted: no verdict can be had), and Fly's
    clock minus this one when the lines' times are Fly's (its logs API's `Date`; else 0): the
    window to judge is that much later in the lines' time."""
    if plan.api is not None and plan.history_stream is None:
        history = FlyApiHistory(plan.api)
        try:
            offset, within = await history.offset() or (0, 0)
            offset = significant(offset, within)  # (within its uncertainty: the clocks agree)
            end = clock_ns() + offset + within + MARGIN_NS
            messages = await history.replay(start_ns + offset - within, end)
        except ApiError as exc:
            raise exc.at_start("or --listen to listen to the stream for the window instead") from None
        except ReplayCapped as capped:  # the verdict from what was read, and the shortfall said
            messages = capped.messages
            notices.notice(Notice(NoticeKind.ERROR, f"the history read is short: {capped.reason}"))
        lines = []
        for subject, data in messages:
            event = decode(subject, data)
            at = _written(event)
            if at is not None:
                lines.append((event, at))
        return lines, FlyApiHistory.NAME, StopReason.END_OF_HISTORY, offset
    if plan.history_stream is not None:
        sink = Collecting(clock_ns, written=True)
        reading = replace(plan, since_ns=start_ns, follow=False)
        outcome = await run_tail(reading, sink, notices, stop, clock_ns=clock_ns, prepare=prepare)
        return sink.lines, f"the stream {plan.history_stream}", outcome.reason, 0
    sink = Collecting(clock_ns, written=False)
    notices.notice(Notice(NoticeKind.INFO, f"no history source: listening for {listen_s:g} s"))
    timer = asyncio.get_running_loop().call_later(listen_s, _resolve, stop, StopReason.WINDOW)
    try:
        outcome = await run_tail(plan, sink, notices, stop, clock_ns=clock_ns, prepare=prepare)
    finally:
        timer.cancel()
    return sink.lines, "listening", outcome.reason, 0


def _resolve(stop: asyncio.Future[StopReason], reason: StopReason) -> None:
    if not stop.done():
        stop.set_result(reason)


async def machine_states(
    states: MachineStates | None, notices: NoticeSink, groups: frozenset[str] = frozenset()
) -> tuple[dict[tuple[str, str], str], dict[tuple[str, str], str | None]] | None:
    """Each Machine's state and region, once (of these process groups, when given; "-": none
    named); None (the instances seen will do) when the API cannot say."""
    if states is None:
        return None
    try:
        found = await states.fetch()
    except MachinesApiError as exc:
        notices.notice(Notice(NoticeKind.ERROR, f"{exc}; checking the instances seen instead"))
        return None
    finally:
        await states.close()
    found = [m for m in found if not groups or (m.group or "-") in groups]
    return {(m.app, m.id): m.state for m in found}, {(m.app, m.id): m.region for m in found}
