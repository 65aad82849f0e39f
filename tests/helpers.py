"""What the tests share: the Fly fixtures, an in-memory keyring, sinks that keep what they are given,
a tail harness in the test's own loop, publishers (plain and sequence-numbered), clusters, and
`wait_for` (a condition with a deadline, never a guessed sleep). Test modules import from here, never
from each other.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import socket
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import keyring.backend
import keyring.errors
import nats
import nats.errors

from flylogs.core.events import Backfill, Notice, NoticeKind
from flylogs.core.gaps import Gap
from flylogs.core.status import Status
from flylogs.demo.server import NatsServer
from flylogs.model import LogEvent
from flylogs.session.plan import Outcome, StopReason, TailPlan
from flylogs.session.run import run_tail
from flylogs.source.nats import ConnectOptions
from flylogs.timestamps import format_rfc3339

FIXTURES = Path(__file__).parent / "fixtures" / "fly-messages.jsonl"


@dataclass(frozen=True)
class Case:
    subject: str
    payload: bytes
    note: str


def load_cases() -> list[Case]:
    cases = []
    for line in FIXTURES.read_text(encoding="utf-8").splitlines():
        data = json.loads(line)
        cases.append(Case(data["subject"], data["payload"].encode("utf-8"), data["note"]))
    return cases


CASES = load_cases()


class MemoryKeyring(keyring.backend.KeyringBackend):
    """A keyring that lives and dies with the test: the user's real keyring is never touched."""

    priority = 1

    def __init__(self) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self.store: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.store.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.store[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        if self.store.pop((service, username), None) is None:
            raise keyring.errors.PasswordDeleteError("not found")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for(condition: Callable[[], object], timeout: float = 10.0, what: str = "condition") -> None:
    """Poll `condition` until true or fail after `timeout` seconds (never a guessed sleep)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.01)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


async def until(condition: Callable[[], object], what: str = "the condition", timeout: float = 15.0) -> None:
    """Await `condition`, checked every 20 ms, for `timeout` seconds at most (then fail naming `what`)."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.02)


def publish_when_subscribed(
    server: NatsServer,
    messages: list[tuple[str, bytes]],
    *,
    subscriptions: int = 1,
    user: str | None = None,
    password: str | None = None,
    timeout: float = 10.0,
) -> threading.Thread:
    """In a thread: wait (up to `timeout` s) until the server holds `subscriptions` subscriptions,
    then publish `messages`."""
    import asyncio

    import nats

    def run() -> None:
        wait_for(lambda: server.subscription_count() >= subscriptions, timeout, what="the subscriber")

        async def publish() -> None:
            kwargs = {"user": user, "password": password} if user else {}
            nc = await nats.connect(server.url, **kwargs)
            for subject, payload in messages:
                await nc.publish(subject, payload)
            await nc.flush()
            await nc.close()

        asyncio.run(publish())

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


class Collect:
    """A sink and notice sink that keep what they are given, in order (`log` interleaves everything)."""

    def __init__(self) -> None:
        self.events: list[LogEvent] = []
        self.recovered_lines: list[LogEvent] = []
        self.notices: list[Notice] = []
        self.headers = 0
        self.events_before_header = -1
        self.gaps: list[Gap] = []
        self.backfills: list[Backfill] = []
        self.statuses: list[Status] = []
        self.log: list[tuple[str, object]] = []

    def header(self) -> None:
        self.headers += 1
        self.events_before_header = len(self.events)

    def event(self, event: LogEvent) -> None:
        self.events.append(event)
        self.log.append(("line", event))

    def recovered(self, event: LogEvent) -> None:
        self.events.append(event)
        self.recovered_lines.append(event)
        self.log.append(("recovered", event))

    def gap(self, gap: Gap, pending: str | None = None) -> bool:
        self.gaps.append(gap)
        self.log.append(("gap", gap))
        return True

    def backfill(self, backfill: Backfill) -> bool:
        self.backfills.append(backfill)
        self.log.append(("backfill", backfill))
        return True

    def status(self, status: Status) -> None:
        self.statuses.append(status)
        self.log.append(("status", status))

    def progress(self, shown: int, gaps: int, now_ns: int, received: int = 0) -> None:
        pass

    def separator(self) -> None:
        self.log.append(("separator", None))

    def flush(self) -> None:
        pass

    def finish(self) -> None:
        pass

    def notice(self, notice: Notice) -> None:
        self.notices.append(notice)


def msg(app: str, region: str, instance: str, text: str) -> tuple[str, bytes]:
    payload = {
        "event": {"provider": "app"},
        "fly": {"app": {"instance": instance, "name": app}, "region": region},
        "log": {"level": "info"},
        "message": text,
        "timestamp": "2026-11-20T09:14:03.120456789Z",
    }
    return f"logs.{app}.{region}.{instance}", json.dumps(payload).encode()


class Tail:
    """run_tail in the test's loop, with everything it produced kept for assertions."""

    def __init__(self, plan: TailPlan) -> None:
        self.sink = Collect()
        self.stop: asyncio.Future[StopReason] = asyncio.get_running_loop().create_future()
        self.task = asyncio.create_task(run_tail(plan, self.sink, self.sink, self.stop))

    @classmethod
    def on(
        cls,
        servers: list[str],
        stall_timeout: float = 15.0,
        user: str | None = None,
        password: str | None = None,
        **plan: Any,
    ) -> Tail:
        options = ConnectOptions(
            tuple(servers), user=user, password=password, stall_timeout=stall_timeout, connect_timeout=2.0
        )
        return cls(TailPlan(options, plan.pop("subjects", [SUBJECT]), **plan))

    def seqs(self) -> set[int]:
        return {seq_of(e.message) for e in self.sink.events}

    def notices(self, kind: NoticeKind) -> list[str]:
        return [n.text for n in self.sink.notices if n.kind is kind]

    async def until(self, condition: Callable[[], object], what: str, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            assert not self.task.done(), f"tail ended early: {self.task}"
            assert time.monotonic() < deadline, (
                f"timed out waiting for {what}; notices: {self.sink.notices}; "
                f"log: {[(k, getattr(o, 'message', o)) for k, o in self.sink.log][-30:]}"
            )
            await asyncio.sleep(0.02)

    async def finish(self, publisher: SeqPublisher) -> tuple[Outcome, dict[int, int]]:
        """Stop publishing, wait for the last line, stop the tail."""
        sent = publisher.stop()
        last = max(sent)
        await self.until(lambda: last in self.seqs(), "the last line")
        return await self.end(), sent

    async def end(self) -> Outcome:
        self.stop.set_result(StopReason.INTERRUPTED)
        return await asyncio.wait_for(self.task, 15)


async def follow(
    plan: TailPlan, publish: list[tuple[str, bytes]], server: NatsServer, **connect: str
) -> tuple[Outcome, Collect]:
    """Run a tail until `plan.count` lines; publish once the subscription is in place."""
    sink = Collect()
    stop: asyncio.Future[StopReason] = asyncio.get_running_loop().create_future()
    task = asyncio.create_task(run_tail(plan, sink, sink, stop))
    deadline = time.monotonic() + 10
    while not any(n.kind is NoticeKind.SUBSCRIBED for n in sink.notices):
        assert time.monotonic() < deadline, "never subscribed"
        assert not task.done(), task
        await asyncio.sleep(0.01)
    nc = await nats.connect(server.url, **connect)
    for subject, payload in publish:
        await nc.publish(subject, payload)
    await nc.flush()
    await nc.close()
    outcome = await asyncio.wait_for(task, 10)
    return outcome, sink


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
        self,
        url: str,
        rate: float = 200.0,
        user: str | None = None,
        password: str | None = None,
        skew_ns: int = 0,  # Fly's clock against ours: added to every line's timestamp
    ) -> None:
        self.url = url
        self.rate = rate
        self.skew_ns = skew_ns
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
        # Its own reconnects, with a fresh client each time: under load, a nats-py client left to
        # reconnect by itself was seen to stop publishing for good after a server restart.
        async def quiet(_exc: Exception) -> None:
            pass

        nc: Any = None
        seq = 0
        started = time.monotonic()
        while not self._stop.is_set():
            if nc is None or not nc.is_connected:
                if nc is not None:
                    with contextlib.suppress(Exception):
                        await nc.close()
                try:
                    nc = await nats.connect(
                        self.url, allow_reconnect=False, connect_timeout=1, error_cb=quiet, **self.auth
                    )
                except Exception:
                    nc = None
                    await asyncio.sleep(0.05)
                    continue
            due = int((time.monotonic() - started) * self.rate)
            while seq < due and nc.is_connected:
                seq += 1
                ts = time.time_ns() + self.skew_ns
                self.sent[seq] = ts
                try:
                    await nc.publish(SUBJECT, payload(seq, ts))
                except Exception:  # the connection went: that line was never sent
                    del self.sent[seq]
            await asyncio.sleep(0.005)
        if nc is not None:
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


@contextmanager
def cluster(size: int = 3, extra_args: Sequence[str] = ()) -> Iterator[list[NatsServer]]:
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
                *extra_args,
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


class StdoutLines:
    """A process's stdout, read line by line in a thread as it comes: what it printed so far is
    `lines`; waiting on one of them is `wait_for(lambda: …)`."""

    def __init__(self, stream: Any) -> None:
        self.lines: list[bytes] = []
        self._thread = threading.Thread(target=self._read, args=(stream,), daemon=True)
        self._thread.start()

    def _read(self, stream: Any) -> None:
        for line in iter(stream.readline, b""):
            self.lines.append(line)

    def rest(self, timeout: float = 20.0) -> bytes:
        """Everything it printed, once the stream has ended (the process exited)."""
        self._thread.join(timeout)
        assert not self._thread.is_alive(), "stdout never closed"
        return b"".join(self.lines)


def restart_in_lame_duck_mode(server: NatsServer, size: int, timeout: float = 30.0) -> None:
    """A rolling restart's step, as Fly upgrades its NATS nodes: lame duck mode (SIGUSR2, what
    `nats-server --signal ldm` sends), then, once the server has let its clients go and exited, the
    same node again on the same port, back in the cluster. Blocking: run it in a thread."""
    proc = server._proc
    assert proc is not None
    os.kill(proc.pid, signal.SIGUSR2)
    proc.wait(timeout)
    server._proc = None
    server.start()
    wait_for(lambda: route_count(server) >= size - 1, what="the restarted node's routes")


def route_count(server: NatsServer) -> int:
    from urllib.request import urlopen

    with urlopen(f"http://127.0.0.1:{server.monitor_port}/routez", timeout=5) as response:
        return int(json.load(response)["num_routes"])


def ndjson(out: str | bytes) -> list[dict[str, Any]]:
    """Every NDJSON record in `out`."""
    text = out.decode() if isinstance(out, bytes) else out
    return [json.loads(line) for line in text.splitlines()]


def log_records(out: str | bytes) -> list[dict[str, Any]]:
    """The `log` records only (JSON output also carries `status`, `gap` and `backfill` records)."""
    return [r for r in ndjson(out) if r["type"] == "log"]
