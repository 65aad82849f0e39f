"""A tail session from connecting to the outcome: the one place sources, core and sink are wired.

Owns the order of a session: hold live lines, connect, check the history source, write the header,
read `--since` history, release the held lines, follow until told to stop (or the driver stops at
`--count` or a closed pipe), then wind down: abandon running backfills, close the connection, report
a gap still open, and tidy the output. Must not: parse flags, print, or decide exit codes.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from flylogs.core.backoff import Backoff
from flylogs.core.clock import MARGIN_NS, ClockSkew, significant
from flylogs.core.events import HistoryRead, Notice, NoticeKind, Problem, Started
from flylogs.core.multiline import Joiner
from flylogs.core.order import Reorder
from flylogs.core.tail import TailCore
from flylogs.errors import FlylogsError
from flylogs.session.backfill import Backfills
from flylogs.session.driver import Driver
from flylogs.session.plan import Outcome, StopReason, TailPlan
from flylogs.session.ports import Backlog, Consumer, HistorySource, NoticeSink
from flylogs.session.sources import open_history, open_source
from flylogs.source.flyapi import ApiError, FlyApiHistory, ReplayCapped

if TYPE_CHECKING:
    from flylogs.session.handover import Bridge

TICK = 0.25  # seconds between checks of the output (closed pipe, caught up)
# While the logs API bridges, a way to the stream that failed is tried again after these seconds,
# about doubling: the tunnel may come up later (a slow new WireGuard peer, an agent started meanwhile).
RETRY_STREAM_FIRST = 5.0
RETRY_STREAM_MAX = 60.0
PROGRESS_EVERY = 4  # ticks between updates of the status line


async def history_window(
    plan: TailPlan, history: HistorySource, skew: ClockSkew, clock_ns: Callable[[], int]
) -> tuple[int, int | None, tuple[int, int] | None]:
    """The window `--since` asks for, in the history's time, and with `--until` the exact window
    the lines shown must fall in ([since, until), by their timestamps). A history indexed by the
    lines' own timestamps (Fly's logs API) is asked in Fly's time: a duration back from Fly's now,
    up to Fly's now (`--no-follow`), widened by what its `Date` header leaves unknown. With Fly's
    clock 5 minutes ahead, `--since 10m --no-follow` asked by this clock printed half the lines."""
    assert plan.since_ns is not None
    since, until = plan.since_ns, plan.until_ns
    start, end = since, until if until is not None else None if plan.follow else clock_ns()
    relative = plan.since_relative or plan.until_relative or not plan.follow
    offset = within = 0
    if history.by_line_time and relative and (measured := await history.offset()) is not None:
        offset, within = measured
        offset = significant(offset, within)  # (within its uncertainty: the clocks agree)
        skew.told(offset, within)  # and gaps before the first live line are said in Fly's time too
    if plan.since_relative:
        since += offset
        start = since - within
    if until is not None and plan.until_relative:
        until += offset
    if end is not None:
        end = (until if until is not None else end + offset) + within + MARGIN_NS
    return start, end, (since, until) if until is not None else None


async def run_tail(
    plan: TailPlan,
    sink: Consumer,
    notices: NoticeSink,
    stop: asyncio.Future[StopReason],
    clock: Callable[[], float] = time.monotonic,
    clock_ns: Callable[[], int] = time.time_ns,
    backlog: Backlog | None = None,
    prepare: Callable[[Callable[[str], None]], Awaitable[object]] | None = None,
) -> Outcome:
    """Follow the stream until `stop` resolves (or the driver resolves it). Raises on a failed start.

    `prepare(say)` runs first (the way to the stream: flyctl's agent's tunnel); what it says goes
    through the notices, in order with the output."""
    started = clock()

    def request_stop(reason: StopReason) -> None:
        if not stop.done():
            stop.set_result(reason)

    name = plan.history_stream or (FlyApiHistory.NAME if plan.api or plan.bridge else None)
    joiner = Joiner() if plan.multiline else None
    reorder = Reorder(plan.order_window_ns) if plan.order_window_ns else None
    core = TailCore(
        plan.keep, start_ns=clock_ns(), context=plan.context, history=name, joiner=joiner, reorder=reorder
    )
    driver = Driver(
        core, sink, notices, on_stop=request_stop, count=plan.count, backlog=backlog, clock_ns=clock_ns
    )

    def say(text: str) -> None:
        notices.notice(Notice(NoticeKind.INFO, text))

    def checked(subject: str, data: bytes) -> None:
        # Through the seam's memory: a line the other way already showed is not shown again.
        driver.feed(HistoryRead(((subject, data),)))

    def handed(subject: str, data: bytes) -> None:
        (checked if bridge is not None and bridge.running else driver.on_line)(subject, data)

    source = open_source(plan, driver.on_line if plan.bridge is None else handed, driver.feed, clock_ns)
    history = open_history(plan, source)
    backfills = Backfills(history, driver.feed) if history is not None else None
    if backfills is not None:
        driver.fetch = lambda ask: backfills.start(ask.gap) if not stop.done() else None

    async def ticking() -> None:
        ticks = 0
        while True:
            await asyncio.sleep(TICK)
            driver.tick()
            ticks += 1
            if ticks % PROGRESS_EVERY == 0:
                driver.progress()

    bridge: Bridge | None = None
    if plan.bridge is not None:
        from flylogs.session.handover import Bridge

        bridge = Bridge(plan.bridge, checked, driver.feed, clock_ns)

    async def bridged() -> None:
        # Lines from the logs API at once, while the way to NATS is prepared and subscribed; then
        # NATS alone. If NATS cannot be had, the API stays the way, and NATS is tried again.
        nonlocal source
        assert bridge is not None
        driver.header()
        driver.feed(Started())
        await bridge.start()
        driver.progress()
        waits = Backoff(RETRY_STREAM_FIRST, RETRY_STREAM_MAX)  # its failures count the attempts
        while True:
            try:
                if prepare is not None:
                    await prepare(say)
                await source.start()
                break
            except FlylogsError as exc:
                if not bridge.running:
                    raise
                wait = waits.next()
                if waits.failures == 1:
                    driver.feed(
                        Problem(f"{exc.message}; staying on Fly's logs API (polling), and trying the "
                                f"stream again in {wait:.0f}s")
                    )  # fmt: skip
            await asyncio.sleep(wait)
            # A source that failed to start is closed: the next attempt gets a fresh one.
            source = open_source(plan, handed, driver.feed, clock_ns)
        if waits.failures:
            say(f"flylogs: reached the stream after {waits.failures + 1} attempts; leaving Fly's logs API")
        bridge.hand_over(clock_ns())

    async def begin() -> None:
        if bridge is not None:
            await bridged()
            return
        if prepare is not None:
            await prepare(say)
        # Lines that arrive while we start wait (bounded) in the core until the header, and any
        # history, is out: nothing before the header, no live line before older history, no hole,
        # no line twice.
        await source.start(subscribe=plan.follow)
        if history is not None:
            await history.check()
        try:
            driver.header()
        except BrokenPipeError:
            request_stop(StopReason.PIPE_CLOSED)
            return
        if plan.since_ns is not None and history is not None:
            try:
                start, end, exact = await history_window(plan, history, core.skew, clock_ns)
                driver.say_skew("the logs API's Date")
                messages = await history.replay(start, end)
            except ApiError as exc:
                raise exc.at_start() from None
            except ReplayCapped as capped:  # what was read is shown, and said to be short
                messages = capped.messages
                driver.feed(Problem(f"the history is short: {capped.reason}"))
            driver.feed(HistoryRead(messages, plan.last, exact))
        driver.feed(Started())
        driver.progress()
        if not plan.follow:
            request_stop(StopReason.END_OF_HISTORY)

    ticker = asyncio.create_task(ticking())
    try:
        starting = asyncio.create_task(begin())
        waiting: set[asyncio.Future[Any]] = {starting, stop}
        await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
        if not starting.done():  # stopped (Ctrl-C) while still connecting
            starting.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await starting
        else:
            starting.result()  # raises AuthError / UnreachableError / HistoryUnavailableError
            await stop
    finally:
        if backfills is not None:
            await backfills.abandon()
        if bridge is not None:
            await bridge.close()
        await source.close()
        ticker.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await ticker
        driver.apply(core.joined(clock_ns(), all_held=True))  # a held stack trace still goes out
        driver.apply(core.ordered(clock_ns(), all_held=True))  # and lines held for their order
        driver.apply(core.end(clock_ns()))
        driver.finish()
    return Outcome(stop.result(), driver.stats, clock() - started, core.gaps)
