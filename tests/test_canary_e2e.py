"""The canary end to end: a real nats-server, two instances beating every 0.2 s, `flylogs watch
--json` as a process. A's seq 5 and 6 are never published and its seq 8 twice; B is clean; every
beat is stamped 2 s before it is published."""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import sys
import time
from typing import Any

import nats
import pytest

from flylogs.beats import beat_line
from flylogs.demo.server import NatsServer
from tests.helpers import StdoutLines, msg, wait_for

pytestmark = pytest.mark.slow


async def beat(server: NatsServer, rounds: int = 20) -> None:
    nc = await nats.connect(server.url)
    for seq in range(rounds):
        at = time.time_ns() - 2 * 10**9  # written 2 s ago: 2 s on its way
        if seq not in (5, 6):
            for _ in range(2 if seq == 8 else 1):
                await nc.publish(*msg("shop", "iad", "a1", beat_line(seq, at, "bootA")))
        await nc.publish(*msg("shop", "iad", "b2", beat_line(seq, at, "bootB")))
        await nc.flush()
        await asyncio.sleep(0.2)
    await nc.close()


def test_watch_counts_lost_duplicated_beats_and_their_latency(nats_server: NatsServer) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "flylogs", "watch", "shop", "--server", nats_server.url, "--json",
         "--no-machines", "--state", "off", "--late-after", "3s", "--silent-after", "1m"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    stdout = StdoutLines(proc.stdout)
    try:
        wait_for(lambda: nats_server.subscription_count() >= 1, what="the subscription")
        asyncio.run(beat(nats_server))
        # Past --late-after the holes are decided: A's loss is alerted, and then it is counted.
        wait_for(lambda: any(b'"kind":"beats_lost"' in line for line in stdout.lines), 15, "A's loss")
        proc.send_signal(signal.SIGINT)
        out = stdout.rest()
        _, err = proc.communicate(timeout=20)  # (stdout is at its end: stderr, and both closed)
    finally:
        proc.kill()
    records = [json.loads(line) for line in out.decode().splitlines()]
    canary: dict[str, dict[str, Any]] = {r["instance"]: r for r in records if r["type"] == "canary"}
    a, b = canary["a1"], canary["b2"]
    assert (a["received"], a["lost"], a["duplicated"], a["reordered"], a["unknown"]) == (18, 2, 1, 0, 0), a
    assert (b["received"], b["lost"], b["duplicated"]) == (20, 0, 0), b
    assert 1900 <= b["latency_ms"]["p50"] <= 2600, b["latency_ms"]
    assert a["boot"] == "bootA" and a["approximate"] is True  # no logs API here: no measured offset
    lost = [r for r in records if r["type"] == "alert" and r["kind"] == "beats_lost"]
    assert [(r["instance"], r["status"]) for r in lost] == [("a1", "firing")], lost
    assert "Traceback" not in err.decode()


def test_check_beats_listening_to_the_stream_exits_7_for_the_app_that_lost_beats(
    nats_server: NatsServer,
) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "flylogs", "check", "shop", "--server", nats_server.url, "--beats",
         "--listen", "--within", "6s", "--no-machines"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        wait_for(lambda: nats_server.subscription_count() >= 1, what="the subscription")
        asyncio.run(beat(nats_server))
        out, err = proc.communicate(timeout=30)
    finally:
        proc.kill()
    assert proc.returncode == 7, (out, err)
    beats = [line.split() for line in out.decode().splitlines() if line.startswith("beats ")]
    assert [(b[1], b[4]) for b in beats] == [("lost", "a1"), ("ok", "b2")], out
    assert "2 lost, 1 duplicated" in out.decode()
