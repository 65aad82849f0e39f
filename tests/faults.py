"""Helpers for fault tests: a sequence-numbered publisher, clusters, and the coverage check."""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import nats

from flylogs.core.gaps import Gap
from flylogs.demo.server import NatsServer
from flylogs.timestamps import format_rfc3339
from tests.conftest import wait_for

SUBJECT = "logs.seq-app.iad.0000000000seq1"


def payload(seq: int, ts_ns: int) -> bytes:
    return json.dumps(
        {
            "event": {"provider": "app"},
            "fly": {"app": {"instance": "0000000000seq1", "name": "seq-app"}, "region": "iad"},
            "log": {"level": "info"},
            "message": f"seq={seq}",
            "timestamp": format_rfc3339(ts_ns),
        }
    ).encode()


def seq_of(message: str) -> int:
    return int(message.removeprefix("seq="))


class SeqPublisher:
    """Publishes `seq=N` lines at a steady rate from its own thread and loop, riding out faults."""

    def __init__(
        self, url: str, rate: float = 200.0, user: str | None = None, password: str | None = None
    ) -> None:
        self.url = url
        self.rate = rate
        self.auth = {"user": user, "password": password} if user else {}
        self.sent: dict[int, int] = {}  # seq -> timestamp (ns) in the payload
        self._stop = threading.Event()
        self._thread = threading.Thread(target=lambda: asyncio.run(self._run()), daemon=True)

    def start(self) -> SeqPublisher:
        self._thread.start()
        wait_for(lambda: len(self.sent) > 0, what="the publisher to start")
        return self

    def stop(self) -> dict[int, int]:
        self._stop.set()
        self._thread.join(15)
        return dict(self.sent)

    async def _run(self) -> None:
        async def quiet(_exc: Exception) -> None:
            pass

        options: dict[str, Any] = {"reconnect_time_wait": 0.05, **self.auth}
        nc = await nats.connect(self.url, max_reconnect_attempts=-1, error_cb=quiet, **options)
        seq = 0
        started = time.monotonic()
        while not self._stop.is_set():
            due = int((time.monotonic() - started) * self.rate)
            while seq < due:
                seq += 1
                ts = time.time_ns()
                self.sent[seq] = ts
                await nc.publish(SUBJECT, payload(seq, ts))
            await asyncio.sleep(0.005)
        with contextlib.suppress(Exception):  # the server may be gone at the end of a fault test
            await asyncio.wait_for(nc.flush(), 5)
        await nc.close()


def assert_gaps_cover(sent: dict[int, int], received: set[int], gaps: list[Gap]) -> list[int]:
    """The promise: every line published and not shown falls inside a reported gap window."""
    missing = sorted(set(sent) - received)
    uncovered = [s for s in missing if not any(g.start_ns <= sent[s] <= g.end_ns for g in gaps)]
    assert not uncovered, (
        f"{len(uncovered)} of {len(missing)} missed lines outside every gap: seqs {uncovered[:10]}…, "
        f"gaps {[(g.start_ns, g.end_ns, g.reason) for g in gaps]}, first ts {sent[uncovered[0]]}"
    )
    return missing


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def cluster(size: int = 3) -> Iterator[list[NatsServer]]:
    """`size` servers with full-mesh routes, each with monitoring; yields when the routes are up."""
    cluster_ports = [free_port() for _ in range(size)]
    routes = ",".join(f"nats://127.0.0.1:{p}" for p in cluster_ports)
    servers = [
        NatsServer(
            monitor=True,
            extra_args=[
                "--cluster_name",
                "flylogs-test",
                "--cluster",
                f"nats://127.0.0.1:{port}",
                "--routes",
                routes,
            ],
        )
        for port in cluster_ports
    ]
    try:
        for server in servers:
            server.start()
        for server in servers:
            wait_for(lambda s=server: route_count(s) >= size - 1, what="cluster routes")  # type: ignore[misc]
        yield servers
    finally:
        for server in servers:
            server.close()


def route_count(server: NatsServer) -> int:
    from urllib.request import urlopen

    with urlopen(f"http://127.0.0.1:{server.monitor_port}/routez", timeout=5) as response:
        return int(json.load(response)["num_routes"])


__all__ = ["SUBJECT", "Path", "SeqPublisher", "assert_gaps_cover", "cluster", "free_port", "seq_of"]
