"""Starting on Fly's logs API and handing over to NATS: neither a hole nor a duplicate at the seam,
with lines published (to both, as Fly does) all through the hand-over."""

from __future__ import annotations

import asyncio
import threading
import time

import nats
import pytest

from flylogs.core.events import NoticeKind
from flylogs.demo.server import NatsServer
from flylogs.session.plan import PollSpec, TailPlan
from flylogs.source.flyapi import ApiSpec
from flylogs.source.nats import ConnectOptions
from tests.fakes.flyapi import FakeFlyApi, entry
from tests.helpers import SUBJECT, Tail, payload, seq_of

APP = "seq-app"  # tests.helpers.SUBJECT's app
INSTANCE = "0000000000seq1"


class BothWays:
    """Each line to NATS and into the logs API's store, as Fly's platform does, at `rate` lines/s."""

    def __init__(self, server: NatsServer, api: FakeFlyApi, rate: float = 200.0) -> None:
        self.server, self.api, self.rate = server, api, rate
        self.sent: dict[int, int] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=lambda: asyncio.run(self._run()), daemon=True)

    def start(self) -> BothWays:
        self._thread.start()
        return self

    def stop(self) -> dict[int, int]:
        self._stop.set()
        self._thread.join(10)
        return self.sent

    async def _run(self) -> None:
        nc = await nats.connect(self.server.url)
        started, seq = time.monotonic(), 0
        while not self._stop.is_set():
            while seq < int((time.monotonic() - started) * self.rate):
                seq += 1
                ts = time.time_ns()
                await nc.publish(SUBJECT, payload(seq, ts))
                self.api.entries.append(entry(ts, f"seq={seq}", instance=INSTANCE))
                self.sent[seq] = ts
            await asyncio.sleep(0.005)
        await nc.flush()
        await nc.close()


@pytest.mark.slow
async def test_the_hand_over_from_the_api_to_nats_has_no_hole_and_no_duplicate(
    nats_server: NatsServer,
) -> None:
    with FakeFlyApi("fm2_tok") as api:
        both = BothWays(nats_server, api).start()
        bridge = PollSpec(ApiSpec((APP,), "fm2_tok", api.url, timeout=2.0))
        tail = Tail(TailPlan(ConnectOptions((nats_server.url,)), [SUBJECT], bridge=bridge))
        await tail.until(lambda: len(tail.notices(NoticeKind.SUBSCRIBED)) >= 2, "the API, then NATS")
        first_via = tail.notices(NoticeKind.SUBSCRIBED)[0]
        await tail.until(lambda: len(tail.seqs()) > 600, "lines well past the hand-over", timeout=30)
        sent = both.stop()
        last = max(sent)
        await tail.until(lambda: last in tail.seqs(), "the last line")
        await tail.end()
    shown = [seq_of(e.message) for e in tail.sink.events]
    assert "polling" in first_via  # the first lines came from the API
    assert len(shown) == len(set(shown)), "a line was shown twice at the seam"
    first = min(shown)
    assert set(shown) == set(range(first, last + 1)), (
        f"hole: {sorted(set(range(first, last + 1)) - set(shown))[:10]}"
    )
    assert (
        first < min(s for s in sent if sent[s] >= 0) + 400
    )  # started on the API within ~2 s of the first line


@pytest.mark.slow
async def test_when_nats_cannot_be_had_the_api_stays_the_way() -> None:
    from flylogs.errors import UnreachableError
    from flylogs.session.plan import StopReason
    from flylogs.session.run import run_tail
    from tests.helpers import Collect, free_port

    async def agent_gone(
        _say: object,
    ) -> None:  # what the agent route raises when flyctl's agent is not there
        raise UnreachableError("flyctl's agent is not running", "fly agent start")

    with FakeFlyApi("fm2_tok") as api:
        bridge = PollSpec(ApiSpec((APP,), "fm2_tok", api.url, timeout=2.0))
        plan = TailPlan(ConnectOptions((f"nats://127.0.0.1:{free_port()}",)), [SUBJECT], bridge=bridge)
        sink = Collect()
        stop: asyncio.Future[StopReason] = asyncio.get_running_loop().create_future()
        task = asyncio.create_task(run_tail(plan, sink, sink, stop, prepare=agent_gone))
        deadline = time.monotonic() + 15
        while not any("staying on Fly's logs API" in n.text for n in sink.notices):
            assert time.monotonic() < deadline and not task.done(), sink.notices
            await asyncio.sleep(0.02)
        api.entries.append(entry(time.time_ns() + 60 * 10**9, "still polled", instance=INSTANCE))
        while not sink.events:
            assert time.monotonic() < deadline and not task.done()
            await asyncio.sleep(0.02)
        stop.set_result(StopReason.INTERRUPTED)
        await asyncio.wait_for(task, 10)
    assert [e.message for e in sink.events] == ["still polled"]
