"""History and backfill from a JetStream stream: no hole and no duplicate at the seams."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import nats
import pytest

from flylogs.core.events import NoticeKind
from flylogs.core.gaps import GapReason
from flylogs.demo.server import NatsServer
from flylogs.errors import UsageError
from flylogs.session.plan import StopReason, TailPlan
from flylogs.session.run import run_tail
from flylogs.source.nats import ConnectOptions
from tests.helpers import SUBJECT, Collect, SeqPublisher, Tail, assert_gaps_cover, payload, seq_of, wait_for

STREAM = "LOGS"


@pytest.fixture
def js_server(tmp_path: Path) -> Iterator[NatsServer]:
    with NatsServer(jetstream_dir=tmp_path / "js", monitor=True) as server:

        async def create() -> None:
            nc = await nats.connect(server.url)
            await nc.jetstream().add_stream(name=STREAM, subjects=["logs.>"])
            await nc.close()

        asyncio.run(create())
        yield server


async def publish(server: NatsServer, seqs: range) -> dict[int, int]:
    sent = {}
    nc = await nats.connect(server.url)
    js = nc.jetstream()
    for seq in seqs:
        sent[seq] = time.time_ns()
        await js.publish(SUBJECT, payload(seq, sent[seq]))  # acknowledged: stored before we go on
    await nc.close()
    return sent


def plan(server: NatsServer, **kw: object) -> TailPlan:
    return TailPlan(ConnectOptions((server.url,)), [SUBJECT], history_stream=STREAM, **kw)  # type: ignore[arg-type]


async def test_no_follow_prints_the_history_and_stops(js_server: NatsServer) -> None:
    await publish(js_server, range(1, 51))
    sink = Collect()
    stop: asyncio.Future[StopReason] = asyncio.get_running_loop().create_future()
    outcome = await asyncio.wait_for(
        run_tail(plan(js_server, since_ns=time.time_ns() - 3600 * 10**9, follow=False), sink, sink, stop), 20
    )
    assert outcome.reason is StopReason.END_OF_HISTORY
    assert [seq_of(e.message) for e in sink.events] == list(range(1, 51))


async def test_history_with_lines_at_the_edges_of_the_calendar_is_shown_whole(js_server: NatsServer) -> None:
    nc = await nats.connect(js_server.url)
    js = nc.jetstream()
    for seq, ts in (
        (1, "2026-11-20T09:14:03.120456789Z"),
        (2, "0001-01-01T00:00:00.000000000Z"),
        (3, "9999-12-31T23:59:59.999999999Z"),
    ):
        await js.publish(SUBJECT, payload(seq, 0).replace(b"1970-01-01T00:00:00.000000000Z", ts.encode()))
    await nc.close()
    sink = Collect()
    stop: asyncio.Future[StopReason] = asyncio.get_running_loop().create_future()
    tail_plan = plan(js_server, since_ns=time.time_ns() - 3600 * 10**9, follow=False)
    outcome = await asyncio.wait_for(run_tail(tail_plan, sink, sink, stop), 20)
    assert outcome.reason is StopReason.END_OF_HISTORY
    assert sorted(seq_of(e.message) for e in sink.events) == [1, 2, 3]
    assert [e.malformed is not None for e in sorted(sink.events, key=lambda e: seq_of(e.message))] == [
        False, True, True,
    ]  # fmt: skip


async def test_tail_n_starts_with_the_last_n_lines_then_follows(js_server: NatsServer) -> None:
    await publish(js_server, range(1, 51))
    sink = Collect()
    stop: asyncio.Future[StopReason] = asyncio.get_running_loop().create_future()
    task = asyncio.create_task(
        run_tail(plan(js_server, since_ns=time.time_ns() - 3600 * 10**9, last=5), sink, sink, stop)
    )
    await asyncio.to_thread(lambda: wait_for(lambda: len(sink.events) >= 5, what="the last 5 lines"))
    await publish(js_server, range(51, 54))  # live, after the start
    await asyncio.to_thread(lambda: wait_for(lambda: len(sink.events) >= 8, what="the live lines"))
    stop.set_result(StopReason.INTERRUPTED)
    await asyncio.wait_for(task, 10)
    assert [seq_of(e.message) for e in sink.events] == [46, 47, 48, 49, 50, 51, 52, 53]


async def test_since_then_follow_has_no_hole_and_no_duplicate_at_the_seam(js_server: NatsServer) -> None:
    publisher = SeqPublisher(js_server.url, rate=500).start()
    # Lines land in the stream before the tail starts: only the history can show them.
    await asyncio.to_thread(
        lambda: wait_for(lambda: len(publisher.sent) >= 100, what="lines before the start")
    )
    stored_before = min(publisher.sent)
    tail_plan = plan(js_server, since_ns=time.time_ns() - 3600 * 10**9)
    sink = Collect()
    stop: asyncio.Future[StopReason] = asyncio.get_running_loop().create_future()
    task = asyncio.create_task(run_tail(tail_plan, sink, sink, stop))
    deadline = time.monotonic() + 20
    while len(sink.events) < 300:
        assert time.monotonic() < deadline and not task.done()
        await asyncio.sleep(0.01)
    sent = publisher.stop()
    while seq_of(sink.events[-1].message) != max(sent) if sink.events else True:
        assert time.monotonic() < deadline and not task.done()
        await asyncio.sleep(0.01)
    stop.set_result(StopReason.INTERRUPTED)
    await asyncio.wait_for(task, 10)
    shown = [seq_of(e.message) for e in sink.events]
    assert shown[0] == stored_before, "the history before the start was not replayed"
    assert len(shown) == len(set(shown)), "a line was shown twice"
    assert set(shown) == set(sent), f"missing: {sorted(set(sent) - set(shown))[:10]}"


@pytest.mark.slow
async def test_a_restart_gap_is_backfilled_from_jetstream(js_server: NatsServer) -> None:
    tail = Tail(
        TailPlan(ConnectOptions((js_server.url,), connect_timeout=2.0), [SUBJECT], history_stream=STREAM)
    )
    await tail.until(lambda: tail.notices(NoticeKind.SUBSCRIBED), "subscription")
    publisher = SeqPublisher(js_server.url).start()
    await tail.until(lambda: len(tail.seqs()) > 50, "first lines")
    js_server.kill()
    await tail.until(lambda: tail.notices(NoticeKind.DISCONNECTED), "the disconnect")
    # With the event loop (and so the tail) held still, the server comes back and stores lines the
    # tail cannot see live: only the backfill can show them.
    js_server.start()
    lost_live = range(1_000_001, 1_000_021)
    thread = threading.Thread(target=lambda: asyncio.run(publish(js_server, lost_live)))
    thread.start()
    thread.join(20)
    await tail.until(lambda: tail.sink.backfills, "the backfill", timeout=30)
    outcome, sent = await tail.finish(publisher)

    [gap] = tail.sink.gaps
    assert gap.reason is GapReason.DISCONNECTED
    [backfill] = tail.sink.backfills
    assert backfill.complete and backfill.source == "jetstream" and backfill.gap == gap
    shown = [seq_of(e.message) for e in tail.sink.events]
    recovered = {seq_of(e.message) for e in tail.sink.recovered_lines}
    assert set(lost_live) <= recovered, "lines stored during the outage were not recovered"
    assert backfill.recovered == len(tail.sink.recovered_lines) >= len(lost_live)
    assert len(shown) == len(set(shown)), "a recovered line was also shown live"
    # Whatever the crash itself lost (never stored) is still inside the reported window.
    assert_gaps_cover(sent, set(shown), tail.sink.gaps)
    assert outcome.unfilled_gaps == ()


async def test_a_missing_stream_is_a_clear_error(nats_server: NatsServer) -> None:
    sink = Collect()
    stop: asyncio.Future[StopReason] = asyncio.get_running_loop().create_future()
    with pytest.raises(UsageError, match="no JetStream stream 'LOGS'"):
        await asyncio.wait_for(run_tail(plan(nats_server), sink, sink, stop), 20)


async def test_since_until_through_jetstream_is_exactly_the_lines_stamped_in_the_window(
    js_server: NatsServer,
) -> None:
    sent = await publish(js_server, range(1, 51))
    sink = Collect()
    stop: asyncio.Future[StopReason] = asyncio.get_running_loop().create_future()
    window = plan(js_server, since_ns=sent[10], until_ns=sent[30], follow=False)
    outcome = await asyncio.wait_for(run_tail(window, sink, sink, stop), 20)
    assert outcome.reason is StopReason.END_OF_HISTORY
    assert [seq_of(e.message) for e in sink.events] == list(range(10, 30))  # [since, until)
