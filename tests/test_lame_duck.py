"""A rolling restart of the NATS cluster, node by node in lame duck mode, as Fly upgrades its own:
flylogs moves to another node before the one it is on lets it go, so nothing is lost, nothing is
shown twice, and no gap is reported. With a single server, it says the server is going away."""

from __future__ import annotations

import asyncio
from collections import Counter
from pathlib import Path

import pytest

from flylogs.core.events import NoticeKind
from flylogs.core.status import State
from flylogs.demo.server import NatsServer
from flylogs.source.nats_move import Overlap
from tests.helpers import SeqPublisher, Tail, cluster, restart_in_lame_duck_mode, seq_of

# After a grace second in which it only stops taking new clients, a server lets them go one a second at
# most and exits (30 s is the least duration nats-server takes; Fly's run over minutes).
LAME_DUCK = 'lame_duck_duration: "30s"\nlame_duck_grace_period: "1s"\n'


def lame_duck_config(tmp_path: Path) -> list[str]:
    config = tmp_path / "lame-duck.conf"
    config.write_text(LAME_DUCK)
    return ["-c", str(config)]


@pytest.mark.slow
async def test_a_rolling_restart_loses_nothing_shows_nothing_twice_and_reports_no_gap(tmp_path: Path) -> None:
    # The publisher has a node of its own, never restarted: what it sends reaches the cluster.
    with cluster(4, lame_duck_config(tmp_path)) as (a, b, c, d):
        tail = Tail.on([a.url, b.url, c.url], stall_timeout=3.0)
        await tail.until(lambda: tail.notices(NoticeKind.SUBSCRIBED), "subscription")
        publisher = SeqPublisher(d.url, rate=400).start()
        await tail.until(lambda: len(tail.seqs()) > 100, "first lines")
        for node in (a, b, c):
            await asyncio.to_thread(restart_in_lame_duck_mode, node, 4)
            seen = len(tail.seqs())
            await tail.until(lambda seen=seen: len(tail.seqs()) > seen + 100, "lines after the restart")  # type: ignore[misc]
        _, sent = await tail.finish(publisher)
    shown = Counter(seq_of(e.message) for e in tail.sink.events)
    said = [n.text for n in tail.sink.notices]
    lost = sorted(set(sent) - set(shown))
    assert not lost, f"{len(lost)} lines lost ({lost[:3]}…); notices: {said}"
    twice = [seq for seq, n in shown.items() if n > 1]
    assert not twice, f"{len(twice)} shown twice ({twice[:3]}…); notices: {said}"
    assert tail.sink.gaps == []
    assert tail.notices(NoticeKind.DISCONNECTED) == []
    assert any(t.endswith("is going away (lame duck mode): moving to another server first") for t in said)
    assert any(t.startswith("moved to nats://127.0.0.1:") and "shutdown (lame duck mode)" in t for t in said)


@pytest.mark.slow
async def test_a_lone_server_going_away_is_said_before_it_goes(tmp_path: Path) -> None:
    with NatsServer(extra_args=lame_duck_config(tmp_path)) as server:
        tail = Tail.on([server.url], stall_timeout=3.0)
        await tail.until(lambda: tail.notices(NoticeKind.SUBSCRIBED), "subscription")
        assert server.pid is not None
        import os
        import signal

        os.kill(server.pid, signal.SIGUSR2)
        await tail.until(lambda: any("going away" in n.text for n in tail.sink.notices), "the warning")
        # Said while still connected: the status names the reason before the connection ends.
        going = [s for s in tail.sink.statuses if s.reason and "going away" in s.reason]
        assert going and going[0].state is State.CONNECTED
        await tail.end()


def test_two_connections_overlapping_deliver_each_line_once() -> None:
    shown: list[bytes] = []
    overlap = Overlap(lambda _subject, data: shown.append(data))
    old, new = overlap.side(0), overlap.side(1)
    old("s", b"1")
    old("s", b"2")
    new("s", b"2")  # the new connection's first line: the old one had it
    new("s", b"3")
    old("s", b"3")  # the old one, a little behind
    old("s", b"4")
    old("s", b"4")  # the same bytes twice on one connection are two lines
    new("s", b"4")
    new("s", b"4")
    new("t", b"4")  # another subject: another line
    assert shown == [b"1", b"2", b"3", b"4", b"4", b"4"]
    assert overlap.twice == 4
