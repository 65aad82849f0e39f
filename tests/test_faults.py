"""Real faults on real servers: every missed line must fall inside a reported gap window."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import pytest

from flylogs.core.events import NoticeKind
from flylogs.core.gaps import GapReason
from flylogs.demo.server import NatsServer
from tests.helpers import SeqPublisher, Tail, assert_gaps_cover, cluster


def receiving_after(tail: Tail, publisher: SeqPublisher) -> Callable[[], bool]:
    mark = max(publisher.sent)
    return lambda: any(s > mark for s in tail.seqs())


@pytest.mark.slow
async def test_server_killed_and_restarted_on_the_same_port(nats_server: NatsServer) -> None:
    tail = Tail.on([nats_server.url])
    await tail.until(lambda: tail.notices(NoticeKind.SUBSCRIBED), "subscription")
    publisher = SeqPublisher(nats_server.url).start()
    await tail.until(lambda: len(tail.seqs()) > 20, "first lines")

    nats_server.kill()
    await tail.until(lambda: tail.notices(NoticeKind.DISCONNECTED), "the disconnect notice")
    await asyncio.to_thread(nats_server.start)  # same port
    await tail.until(lambda: tail.notices(NoticeKind.RECONNECTED), "the reconnect")
    await tail.until(receiving_after(tail, publisher), "lines after the restart")

    outcome, sent = await tail.finish(publisher)
    assert [g.reason for g in tail.sink.gaps] == [GapReason.DISCONNECTED]
    missing = assert_gaps_cover(sent, tail.seqs(), tail.sink.gaps)
    assert outcome.gaps == tuple(tail.sink.gaps)
    assert tail.sink.gaps[0].server == nats_server.url
    print(f"restart: {len(missing)} lines missed, all inside {tail.sink.gaps[0].duration_s}s gap")


async def test_cluster_node_killed_client_moves_to_another() -> None:
    with cluster(3) as (a, b, c):
        tail = Tail.on([a.url])  # only one seed: the others are learned from the cluster
        await tail.until(lambda: tail.notices(NoticeKind.SUBSCRIBED), "subscription")
        await tail.until(
            lambda: c.subscription_count() == 0 and a.subscription_count() == 1, "subscription on a"
        )
        publisher = SeqPublisher(c.url).start()
        await tail.until(lambda: len(tail.seqs()) > 20, "first lines")

        a.kill()
        await tail.until(lambda: tail.notices(NoticeKind.RECONNECTED), "the reconnect")
        moved_to = tail.notices(NoticeKind.RECONNECTED)[0]
        assert b.url in moved_to or c.url in moved_to
        await tail.until(receiving_after(tail, publisher), "lines after the failover")
        _, sent = await tail.finish(publisher)
    assert len(tail.sink.gaps) == 1
    assert_gaps_cover(sent, tail.seqs(), tail.sink.gaps)


@pytest.mark.slow
@pytest.mark.parametrize(
    "skew_s", [0, 3, -4, -300], ids=["same-clock", "fly-3s-ahead", "fly-4s-behind", "fly-5m-behind"]
)
async def test_frozen_server_is_abandoned_within_the_stall_timeout(skew_s: int) -> None:
    """And the gap said covers every line lost, in the lines' own time, whatever Fly's clock says
    (3 s ahead, the window measured here missed 596 lines)."""
    with cluster(3) as (a, _b, c):
        tail = Tail.on([a.url], stall_timeout=3.0)
        await tail.until(lambda: tail.notices(NoticeKind.SUBSCRIBED), "subscription")
        publisher = SeqPublisher(c.url, skew_ns=skew_s * 10**9).start()
        await tail.until(lambda: len(tail.seqs()) > 20, "first lines")

        a.freeze()
        frozen_at = time.monotonic()
        try:
            await tail.until(lambda: tail.notices(NoticeKind.DISCONNECTED), "stall detection", timeout=15)
            detected_after = time.monotonic() - frozen_at
            await tail.until(lambda: tail.notices(NoticeKind.RECONNECTED), "the move to another node")
            await tail.until(receiving_after(tail, publisher), "lines after the move")
        finally:
            a.thaw()
        _, sent = await tail.finish(publisher)
    assert 2.0 <= detected_after <= 6.0, detected_after  # the 3 s timeout, give or take a heartbeat
    assert "no answer from" in tail.notices(NoticeKind.DISCONNECTED)[0]
    assert [g.reason for g in tail.sink.gaps] == [GapReason.STALLED]
    missing = assert_gaps_cover(sent, tail.seqs(), tail.sink.gaps)
    assert missing  # lines published while frozen were lost, and are inside the window


@pytest.mark.slow
async def test_credentials_refused_after_connecting_then_accepted_again(auth_server: NatsServer) -> None:
    tail = Tail.on([auth_server.url], user="my-org", password="fm2_secret-token")
    await tail.until(lambda: tail.notices(NoticeKind.SUBSCRIBED), "subscription")

    # The platform changes: the same server now wants other credentials.
    await asyncio.to_thread(auth_server.restart, password="fm2_rotated")
    await tail.until(lambda: tail.notices(NoticeKind.AUTH_REFUSED), "the auth-refused notice")
    assert len(tail.notices(NoticeKind.AUTH_REFUSED)) == 1  # said once, not once per retry

    # ... and goes back: flylogs resumes by itself.
    await asyncio.to_thread(auth_server.restart, password="fm2_secret-token")
    await tail.until(lambda: tail.notices(NoticeKind.RECONNECTED), "the reconnect", timeout=30)
    publisher = SeqPublisher(auth_server.url, user="my-org", password="fm2_secret-token").start()
    outcome, sent = await tail.finish(publisher)
    assert sent.keys() <= tail.seqs()  # nothing published after the recovery was missed
    assert [g.reason for g in outcome.gaps] == [GapReason.DISCONNECTED]
    assert "fm2_" not in " ".join(n.text for n in tail.sink.notices)


@pytest.mark.slow
async def test_with_flys_clock_ahead_a_gap_is_read_back_in_flys_time_and_nothing_is_lost() -> None:
    """Fly's timestamps 3 s ahead of this clock: the gap (measured here) was asked of the logs API in
    this clock's time, and every line missed in it was lost outside every window while the backfill
    said complete. Now the window is shifted by the offset measured from the lines."""
    from flylogs.source.flyapi import ApiSpec
    from tests.fakes.flyapi import FakeFlyApi, entry
    from tests.helpers import SUBJECT

    instance = SUBJECT.rsplit(".", 1)[1]
    with cluster(3) as (a, _b, c), FakeFlyApi("fm2_secret") as api:
        spec = ApiSpec(("seq-app",), "fm2_secret", api.url, index_lag=0.5)
        tail = Tail.on([a.url], stall_timeout=3.0, api=spec)
        await tail.until(lambda: tail.notices(NoticeKind.SUBSCRIBED), "subscription")
        publisher = SeqPublisher(c.url, skew_ns=3 * 10**9).start()
        # The logs API holds every line the pipeline wrote, as it is being written.
        api.feed = lambda: [
            (ts, entry(ts, f"seq={n}", instance)[1]) for n, ts in list(publisher.sent.items())
        ]
        await tail.until(lambda: len(tail.seqs()) > 100, "first lines (and the clocks' offset)")
        a.freeze()
        try:
            await tail.until(lambda: tail.notices(NoticeKind.RECONNECTED), "the move to another node", 20)
            await tail.until(lambda: tail.sink.backfills, "the backfill", timeout=30)
        finally:
            a.thaw()
        _, sent = await tail.finish(publisher)
    assert [g.reason for g in tail.sink.gaps] == [GapReason.STALLED]
    [backfill] = tail.sink.backfills
    assert backfill.complete and backfill.recovered > 0
    missing = sorted(set(sent) - tail.seqs())
    assert not missing, f"{len(missing)} lines lost: {missing[:5]}…"
    assert any("Fly's clock is about 3." in n.text and "ahead of" in n.text for n in tail.sink.notices)
