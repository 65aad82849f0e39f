"""The pure gap bookkeeping, backoff, time specs and de-duplication."""

from __future__ import annotations

import random

from hypothesis import given
from hypothesis import strategies as st

from flylogs.core.backoff import CAP, backoff_delay
from flylogs.core.dedupe import RecentLines
from flylogs.core.gaps import Gap, GapReason, GapTracker
from flylogs.model import LogEvent
from flylogs.render.gaps import describe_gap, gap_record
from flylogs.timestamps import NS, parse_since

S = NS  # one second in ns


def test_disconnection_window_runs_from_the_last_answered_ping_less_the_margin() -> None:
    tracker = GapTracker(now_ns=100 * S, margin_ns=1 * S)
    tracker.alive(105 * S)
    tracker.alive(104 * S)  # late answers never move it back
    tracker.lost(GapReason.DISCONNECTED)
    tracker.alive(107 * S)  # pings answered during an outage do not count
    gap = tracker.restored(112 * S, "nats://x:1")
    assert gap == Gap(104 * S, 112 * S, GapReason.DISCONNECTED, server="nats://x:1")
    assert gap.duration_s == 8.0
    assert tracker.restored(113 * S, None) is None  # reported once
    assert tracker.last_alive_ns == 112 * S


def test_a_stall_during_an_outage_is_named_stalled() -> None:
    tracker = GapTracker(0, margin_ns=0)
    tracker.lost(GapReason.DISCONNECTED)
    tracker.lost(GapReason.STALLED)
    gap = tracker.restored(5 * S, None)
    assert gap is not None and gap.reason is GapReason.STALLED


def test_drops_become_one_window_over_their_timestamps() -> None:
    tracker = GapTracker(0)
    tracker.dropped(50 * S, 50 * S)
    tracker.dropped(40 * S, 40 * S)
    tracker.dropped(60 * S, 61 * S, count=2)
    gap = tracker.drops_settled()
    assert gap == Gap(40 * S, 61 * S, GapReason.SLOW_CONSUMER, dropped=4)
    assert tracker.drops_settled() is None


@given(
    st.lists(
        st.tuples(
            st.sampled_from(["msg", "ping", "lose", "restore"]), st.integers(min_value=0, max_value=50)
        ),
        max_size=80,
    )
)
def test_every_line_published_while_down_falls_inside_a_reported_window(
    script: list[tuple[str, int]],
) -> None:
    """A model of the stream: lines published while the connection is down are missed; the windows the
    tracker reports must contain every one of them."""
    now = 0
    tracker = GapTracker(now, margin_ns=0)
    connected = True
    missed: list[int] = []
    reported: list[Gap] = []
    for action, step in script:
        now += step * S // 10
        if action == "msg" and not connected:
            missed.append(now)
        elif action == "ping" and connected:
            tracker.alive(now)
        elif action == "lose" and connected:
            connected = False
            tracker.lost(GapReason.DISCONNECTED)
        elif action == "restore" and not connected:
            connected = True
            gap = tracker.restored(now, None)
            assert gap is not None
            reported.append(gap)
    if not connected:
        gap = tracker.open_gap(now)
        assert gap is not None
        reported.append(gap)
    assert all(any(g.start_ns <= t <= g.end_ns for g in reported) for t in missed)


def test_gap_record_is_the_documented_shape() -> None:
    gap = Gap(1795166043_120456789, 1795166051_870456789, GapReason.DISCONNECTED, server="nats://a:1")
    assert gap_record(gap) == {
        "type": "gap",
        "start": "2026-11-20T09:14:03.120456789Z",
        "end": "2026-11-20T09:14:11.870456789Z",
        "duration_s": 8.75,
        "reason": "disconnected",
        "dropped": None,
        "backfilled": 0,
        "server": "nats://a:1",
    }
    assert describe_gap(gap) == (
        "gap 2026-11-20T09:14:03.120Z → 2026-11-20T09:14:11.870Z (8.75s, disconnected): "
        "logs in this window may be missing"
    )


def test_backoff_is_immediate_then_jittered_and_capped() -> None:
    rng = random.Random(1)
    assert backoff_delay(1, rng) == 0.0
    delays = [backoff_delay(n, rng) for n in range(2, 40)]
    assert all(0 < d <= CAP for d in delays)
    assert delays[0] <= 0.1 and max(delays) > CAP / 2
    assert len(set(delays)) == len(delays)  # jittered, not lockstep


def test_one_backoff_for_every_retry_loop_grows_from_about_base_to_the_cap_and_resets() -> None:
    from flylogs.core.backoff import Backoff

    waits = Backoff(5.0, 60.0, random.Random(7))
    first = [waits.next() for _ in range(8)]
    assert 2.5 <= first[0] <= 5.0  # about the base: between half and all of it
    assert all(2.5 <= w <= 60.0 for w in first) and max(first) > 30.0  # grows, never past the cap
    assert first[3] > first[0]
    waits.reset()
    assert 2.5 <= waits.next() <= 5.0 and waits.failures == 1


def test_parse_since() -> None:
    now = 1_000_000 * S
    assert parse_since("90s", now) == now - 90 * S
    assert parse_since("10m", now) == now - 600 * S
    assert parse_since("1h30m", now) == now - 5400 * S
    assert parse_since("7d", now) == now - 7 * 86400 * S
    assert parse_since("2026-11-20T09:14:03Z", now) == 1795166043 * S
    assert parse_since("", now) is None
    assert parse_since("yesterday", now) is None
    assert parse_since("10x", now) is None


def test_recent_lines_forget_the_oldest() -> None:
    recent = RecentLines(capacity=3)
    keys = [RecentLines.key(LogEvent("s", str(i).encode(), "m")) for i in range(4)]
    for key in keys:
        recent.add(key)
    assert len(recent) == 3
    assert keys[0] not in recent and keys[3] in recent


def test_the_clocks_offset_is_the_freshest_lines_and_a_window_is_widened_by_the_late_ones() -> None:
    from flylogs.core.clock import MARGIN_NS, ClockSkew

    skew = ClockSkew()
    assert skew.offset_ns is None and skew.window(10 * S, 20 * S) == (10 * S - MARGIN_NS, 20 * S + MARGIN_NS)
    # Fly 3 s ahead; lines arrive 10 ms to 500 ms after they were written.
    for arrival, delay in ((100 * S, S // 100), (101 * S, S // 2), (102 * S, S // 10)):
        skew.observe(arrival, arrival + 3 * S - delay)
    assert skew.offset_ns == 3 * S - S // 100  # the freshest line's view
    assert skew.late_ns == S // 2 - S // 100
    skew.observe(300 * S, 300 * S - 3600 * S)  # an hour old: not a live line's view of the clocks
    assert skew.offset_ns == 3 * S - S // 100
    start, end = skew.window(200 * S, 205 * S)
    assert start == 200 * S + skew.offset_ns - skew.late_ns - MARGIN_NS
    assert end == 205 * S + skew.offset_ns + MARGIN_NS
