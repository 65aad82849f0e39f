"""`--order time`: lines in timestamp order across instances within a window; a later line at once,
marked late; the stream's own records keep their place in time."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest

from flylogs.core.order import Reorder
from flylogs.decode import decode
from flylogs.demo.server import NatsServer
from flylogs.model import LogEvent
from flylogs.timestamps import format_rfc3339
from tests.helpers import StdoutLines, log_records, publish_when_subscribed, wait_for

S = 1_000_000_000
MS = 1_000_000
T0 = 1_800_000_000 * S


def payload(instance: str, ts_ns: int, text: str) -> tuple[str, bytes]:
    body = {"fly": {"app": {"instance": instance, "name": "shop"}, "region": "iad"}, "log": {"level": "info"},
            "message": text, "timestamp": format_rfc3339(ts_ns)}  # fmt: skip
    return f"logs.shop.iad.{instance}", json.dumps(body).encode()


def event(instance: str, ts_ns: int, text: str) -> LogEvent:
    return decode(*payload(instance, ts_ns, text))


def test_lines_go_in_timestamp_order_once_their_window_has_passed() -> None:
    order = Reorder(S)
    assert order.push(event("b", T0 + 300 * MS, "b1"), T0 + 400 * MS) == []
    assert order.push(event("a", T0 + 100 * MS, "a1"), T0 + 900 * MS) == []  # 800 ms late: still in time
    assert order.next_due == T0 + 1100 * MS
    assert [e.message for e in order.due(T0 + 1100 * MS)] == ["a1"]
    assert [e.message for e in order.due(T0 + 1300 * MS)] == ["b1"]
    [late] = order.push(event("c", T0 + 200 * MS, "c1"), T0 + 3200 * MS)  # 3 s late: at once, marked
    assert late.message == "c1" and late.late
    [untimed] = order.push(decode("logs.shop.iad.d", b"not json"), T0 + 3300 * MS)
    assert not untimed.late


def test_a_gap_lets_the_held_lines_go_first() -> None:
    from flylogs.core.events import Lost, Show, Started, StatusChanged
    from flylogs.core.gaps import GapReason
    from flylogs.core.tail import TailCore
    from flylogs.filters import build_filter

    core = TailCore(build_filter(), start_ns=T0, reorder=Reorder(S))
    core.feed(Started(), T0)
    from flylogs.core.events import Line

    assert core.feed(Line(*payload("a", T0, "a1"), T0 + 10 * MS), T0) == []
    out = core.feed(Lost(GapReason.DISCONNECTED, "nats://x"), T0 + 20 * MS)
    kinds = [type(o).__name__ for o in out]
    assert kinds[0] == "Show" and isinstance(out[0], Show) and out[0].event.message == "a1"
    assert any(isinstance(o, StatusChanged) for o in out[1:])


@pytest.mark.slow
def test_out_of_order_lines_are_printed_in_order_and_a_late_one_at_once_marked(
    nats_server: NatsServer,
) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "flylogs", "tail", "shop", "--server", nats_server.url, "--json",
         "--order", "time", "--count", "7"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    stdout = StdoutLines(proc.stdout)
    wait_for(lambda: nats_server.subscription_count() >= 1, what="the subscription")
    now = time.time_ns()
    # Written up to 800 ms apart by three instances, delivered out of that order (the freshest first).
    sent = [("c", 0, "sixth"), ("a", -800, "first"), ("b", -500, "third"), ("a", -600, "second"),
            ("c", -300, "fifth"), ("b", -400, "fourth")]  # fmt: skip
    publish_when_subscribed(nats_server, [payload(i, now + ms * MS, text) for i, ms, text in sent]).join(10)
    # Once the six are out (their window has passed), a line 3 s late.
    wait_for(lambda: len(log_records(b"".join(stdout.lines))) == 6, 10, "the six lines")
    late = payload("a", time.time_ns() - 3 * S, "late")
    publish_when_subscribed(nats_server, [late]).join(10)
    out = stdout.rest()
    _, err = proc.communicate(timeout=20)  # (stdout is at its end: stderr, and both closed)
    assert proc.returncode == 0, err
    records = log_records(out)
    assert [r["message"] for r in records] == ["first", "second", "third", "fourth", "fifth", "sixth", "late"]
    assert records[-1]["late"] is True and all("late" not in r for r in records[:-1])
    status = [json.loads(x) for x in out.decode().splitlines() if '"type":"status"' in x]
    assert "in time order within 1s" in status[0]["reason"]


def test_raw_output_is_put_in_time_order_too() -> None:
    """Raw output skips decoding when nothing needs it; --order time needs the timestamps."""
    import asyncio
    import io

    from flylogs.core.events import Started
    from flylogs.core.tail import TailCore
    from flylogs.filters import build_filter
    from flylogs.render.jsonl import RawSink
    from flylogs.session.driver import Driver

    class Quiet:
        def notice(self, _notice: object) -> None:
            pass

    async def run() -> bytes:
        out = io.BytesIO()
        now = time.time_ns()
        core = TailCore(build_filter(), start_ns=now, reorder=Reorder(S))
        driver = Driver(core, RawSink(out, escape=False), Quiet(), on_stop=lambda _r: None)
        driver.feed(Started())
        for instance, ms, text in (("b", -200, "second"), ("a", -400, "first")):
            driver.on_line(*payload(instance, now + ms * MS, text))
        driver.apply(core.ordered(now, all_held=True))
        driver.flush()
        return out.getvalue()

    lines = asyncio.run(run()).decode().splitlines()
    assert [json.loads(x)["message"] for x in lines] == ["first", "second"]
