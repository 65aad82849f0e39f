"""`flylogs demo`: a synthetic fleet of Fly apps publishing realistic logs to an embedded server.

Owns: the fleet (apps, regions, machines, and the lines they write: HTTP access logs, warnings, errors
with tracebacks, runner and proxy events) and the publishing loop. The fleet is pure (a seeded RNG and
a clock passed in); publishing goes through stream.Publisher. Must not: print.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import time
from collections.abc import Callable
from dataclasses import dataclass

from flylogs.beats import beat_line
from flylogs.demo.publisher import Publisher
from flylogs.timestamps import format_rfc3339


@dataclass(frozen=True, slots=True)
class Machine:
    app: str
    region: str
    instance: str
    process_group: str = "app"

    @property
    def subject(self) -> str:
        return f"logs.{self.app}.{self.region}.{self.instance}"


FLEET: tuple[Machine, ...] = (
    Machine("shop-api", "iad", "4d891d77b05118"),
    Machine("shop-api", "iad", "3d8d9e3fe46789"),
    Machine("shop-api", "lhr", "e7843ed2f21908"),
    Machine("shop-api", "sin", "148e272b1d5389"),
    Machine("shop-worker", "ams", "9080517f159287", "worker"),
    Machine("shop-worker", "iad", "5683d927c4e748", "worker"),
    Machine("auth-svc", "fra", "1781953c1e0389"),
    Machine("auth-svc", "iad", "d8912e6ce45018"),
)

_PATHS = ("/", "/health", "/api/products", "/api/products/{n}", "/api/cart", "/api/checkout", "/login")
_METHODS = ("GET", "GET", "GET", "GET", "POST", "PUT", "DELETE")


# The scripted fleet's troubles, so `flylogs demo --watch` shows alerts open and close within a
# minute: each minute, one instance goes quiet from 0:15 to 0:40, and one skips its heartbeats from
# 0:20 to 0:45 (while logging the rest); every other instance beats every 10 seconds.
CYCLE_S = 60
QUIET = ("shop-api", "148e272b1d5389", 15, 40)  # app, instance, from, to (seconds into the minute)
SKIPS_BEAT = ("auth-svc", "1781953c1e0389", 20, 45)
BEAT_EVERY_S = 10
# The canary (`flylogs beat`'s lines): every Machine beats every 2 s, except through its spells. The
# chaos: one Machine's pipeline drops 1 beat in 10, another's delivers them 1.5 s late.
CANARY_EVERY_S = 2
LOSSY = ("auth-svc", "d8912e6ce45018", 10)  # app, instance, one in N dropped
LATE = ("shop-worker", "5683d927c4e748", 1_500_000_000)  # app, instance, ns on the way


class Fleet:
    """Generates one Fly-shaped log message at a time; `scripted`: with quiet spells and heartbeats."""

    def __init__(
        self, rng: random.Random, clock_ns: Callable[[], int] = time.time_ns, *, scripted: bool = False
    ) -> None:
        self._rng = rng
        self._clock_ns = clock_ns
        self._job = 8800
        self._scripted = scripted
        self._started = clock_ns()
        self._beats = 0  # heartbeat rounds sent
        self._canary_rounds = 0
        self._seqs: dict[str, int] = {}  # instance -> its next beat's seq
        self._boot = format(rng.getrandbits(48), "012x")  # one boot for the whole run

    def _into_minute(self) -> float:
        return ((self._clock_ns() - self._started) / 1e9) % CYCLE_S

    def _spell(self, machine: Machine, spell: tuple[str, str, int, int]) -> bool:
        app, instance, start, end = spell
        return (machine.app, machine.instance) == (app, instance) and start <= self._into_minute() < end

    def next(self) -> tuple[str, bytes]:
        rng = self._rng
        machine = rng.choice(FLEET)
        if self._scripted:
            while self._spell(machine, QUIET):
                machine = rng.choice(FLEET)
        provider, level, message = self._line(machine)
        return self._message(machine, provider, level, message)

    def heartbeats(self) -> list[tuple[str, bytes]]:
        """The heartbeat lines due now (`HEARTBEAT $FLY_MACHINE_ID $FLY_REGION`), scripted only."""
        if not self._scripted:
            return []
        due = int((self._clock_ns() - self._started) / 1e9 // BEAT_EVERY_S)  # the first at 0:10
        beats = []
        while self._beats < due:
            self._beats += 1
            for m in FLEET:
                if not self._spell(m, QUIET) and not self._spell(m, SKIPS_BEAT):
                    beats.append(self._message(m, "app", "info", f"HEARTBEAT {m.instance} {m.region}"))
        return beats + self._canary()

    def _canary(self) -> list[tuple[str, bytes]]:
        """The canary's beats due now: seq per Machine, a few dropped and some late (the chaos)."""
        due = int((self._clock_ns() - self._started) / 1e9 // CANARY_EVERY_S)
        beats = []
        while self._canary_rounds < due:
            self._canary_rounds += 1
            for m in FLEET:
                if self._spell(m, QUIET) or self._spell(m, SKIPS_BEAT):
                    continue  # (its beater is as quiet as it is)
                seq = self._seqs.get(m.instance, 0)
                self._seqs[m.instance] = seq + 1
                if (m.app, m.instance) == LOSSY[:2] and seq % LOSSY[2] == LOSSY[2] - 1:
                    continue  # lost on its way
                late = LATE[2] if (m.app, m.instance) == LATE[:2] else 0
                beats.append(
                    self._message(m, "app", "info", beat_line(seq, self._clock_ns() - late, self._boot))
                )
        return beats

    def _message(self, machine: Machine, provider: str, level: str, message: str) -> tuple[str, bytes]:
        payload = {
            "event": {"provider": provider},
            "fly": {
                "app": {
                    "instance": machine.instance,
                    "name": machine.app,
                    "process_group": machine.process_group,
                },
                "region": machine.region,
            },
            "host": machine.instance[:4],
            "log": {"level": level},
            "message": message,
            "timestamp": format_rfc3339(self._clock_ns()),
        }
        return machine.subject, json.dumps(payload, separators=(",", ":")).encode()

    def _line(self, machine: Machine) -> tuple[str, str, str]:
        rng = self._rng
        roll = rng.random()
        if machine.process_group == "worker":
            self._job += 1
            if roll < 0.08:
                return (
                    "app",
                    "error",
                    (
                        f"job {self._job} failed\nTraceback (most recent call last):\n"
                        '  File "/app/worker.py", line 88, in run\n    charge(order)\n'
                        "PaymentError: card declined (code=51)"
                    ),
                )
            if roll < 0.2:
                return "app", "warn", f"job {self._job} retrying in {rng.choice((1, 2, 4, 8))}s (attempt 2/5)"
            return "app", "info", f"job {self._job} done in {rng.randint(40, 900)}ms"
        if roll < 0.03:
            return (
                "runner",
                "info",
                rng.choice(
                    (
                        "Machine started in 1.204s",
                        "Health check on port 8080 has passed",
                        "machine exited with exit code 0, not restarting",
                        "Pulling container image registry.fly.io/" + machine.app + ":deployment-01J8",
                    )
                ),
            )
        if roll < 0.05:
            return (
                "proxy",
                "warn",
                rng.choice(
                    (
                        "[PR04] could not find a good candidate within 20 attempts at load balancing",
                        "[PU02] could not complete HTTP request to instance: "
                        "connection closed before message completed",
                    )
                ),
            )
        if roll < 0.09:
            return (
                "app",
                "error",
                rng.choice(
                    (
                        "ERROR payment gateway timeout after 30s",
                        'ERROR db query failed: connection refused (host="top2.nearest.of.db.internal")',
                        'Traceback (most recent call last):\n  File "/app/server.py", line 41, in handle\n'
                        "    user = load_user(uid)\nKeyError: 'uid'",
                    )
                ),
            )
        if roll < 0.16:
            return (
                "app",
                "warn",
                rng.choice(
                    (
                        f"slow query on orders took {rng.randint(500, 4000)}ms (sql=select_orders_by_user)",
                        "WARN retrying upstream in 2s",
                        f"rate limit close: {rng.randint(80, 99)}% of quota used",
                    )
                ),
            )
        if roll < 0.22:
            return "app", "debug", f"debug: pool size {rng.randint(4, 20)} idle {rng.randint(0, 4)}"
        method = rng.choice(_METHODS)
        path = rng.choice(_PATHS).replace("{n}", str(rng.randint(1, 9999)))
        status = rng.choices((200, 201, 204, 301, 404, 500), weights=(70, 5, 5, 3, 12, 2))[0]
        ms = rng.lognormvariate(2.5, 0.8)
        return (
            "app",
            "info",
            f'{method} {path} {status} {ms:.1f}ms ip=203.0.113.{rng.randint(1, 254)} ua="curl/8.5"',
        )


DEMO_STREAM = "LOGS"


async def prepare_stream(server: str) -> None:
    """The demo's JetStream stream over every log subject: history for --since, backfill for gaps."""
    publisher = Publisher()
    await publisher.connect(server)
    try:
        await publisher.ensure_stream(DEMO_STREAM, ["logs.>"], max_age_s=3600)
    finally:
        await publisher.close()


async def run_chaos(restart: Callable[[], object], stop: asyncio.Event, seed: int | None = None) -> int:
    """Restart the server every 3 to 7 seconds until `stop`; returns how many restarts."""
    rng = random.Random(seed)  # noqa: S311  (chaos timing, not secrets)
    restarts = 0
    while not stop.is_set():
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=rng.uniform(3.0, 7.0))
        if stop.is_set():
            break
        await asyncio.to_thread(restart)
        restarts += 1
    return restarts


async def run_fleet(server: str, rate: float, stop: asyncio.Event, seed: int | None = None) -> int:
    """Publish at about `rate` lines per second until `stop` is set; returns how many were sent."""
    fleet = Fleet(random.Random(seed), scripted=True)  # noqa: S311  (synthetic logs, not secrets)
    publisher = Publisher()
    await publisher.connect(server)
    sent = 0
    started = time.monotonic()
    tick = 0.05
    try:
        while not stop.is_set():
            due = int((time.monotonic() - started) * rate) + 1
            while sent < due:
                subject, payload = fleet.next()
                await publisher.publish(subject, payload)
                sent += 1
            for subject, payload in fleet.heartbeats():
                await publisher.publish(subject, payload)
            await publisher.flush()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=tick)
    finally:
        await publisher.close()
    return sent


async def run_demo(
    server: str, rate: float, stop: asyncio.Event, *, seed: int | None, restart: Callable[[], object] | None
) -> None:
    """The fleet, and with `restart` (`--chaos`) the server restarting every few seconds, until `stop`."""
    tasks = [run_fleet(server, rate, stop, seed)]
    if restart is not None:
        tasks.append(run_chaos(restart, stop, seed))
    await asyncio.gather(*tasks)
