"""What watching costs: the CPU time of `flylogs watch` and of plain `flylogs tail` following the same
stream side by side (100 instances, 2,000 lines/s by default), as a ratio measured in the same run.

    python bench/watch_cost.py [--instances 100] [--rate 2000] [--seconds 20]

Both processes subscribe to one embedded nats-server; a publisher process writes Fly-shaped lines
round-robin over the instances at the rate. CPU time (user + system) comes from the kernel's
accounting of each child (`os.wait4`), so start-up counts the same for both.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import subprocess
import sys
import time

from flylogs.demo.server import NatsServer
from flylogs.timestamps import format_rfc3339


async def publish(url: str, instances: int, rate: float, seconds: float) -> None:
    import nats

    nc = await nats.connect(url)
    names = [f"{n:014x}" for n in range(instances)]
    started, sent, total = time.monotonic(), 0, int(rate * seconds)
    while sent < total:
        due = min(total, int((time.monotonic() - started) * rate) + 1)
        while sent < due:
            name = names[sent % instances]
            payload = {
                "event": {"provider": "app"},
                "fly": {"app": {"instance": name, "name": "shop"}, "region": "iad"},
                "log": {"level": "info"},
                "message": f"GET /api/products/{sent} 200 3.1ms",
                "timestamp": format_rfc3339(time.time_ns()),
            }
            await nc.publish(f"logs.shop.iad.{name}", json.dumps(payload).encode())
            sent += 1
        await nc.flush()
        await asyncio.sleep(0.005)
    await nc.close()


def cpu_of(proc: subprocess.Popen[bytes]) -> float:
    proc.send_signal(signal.SIGINT)
    _, _, usage = os.wait4(proc.pid, 0)
    proc.returncode = 0
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--instances", type=int, default=100)
    parser.add_argument("--rate", type=float, default=2000.0)
    parser.add_argument("--seconds", type=float, default=20.0)
    args = parser.parse_args()
    with NatsServer(monitor=True) as server:
        common = ["--server", server.url, "--all", "--output", "plain"]
        run = [sys.executable, "-m", "flylogs"]
        quiet = subprocess.DEVNULL
        tail = subprocess.Popen([*run, "tail", *common], stdout=quiet, stderr=quiet)
        watch = subprocess.Popen([*run, "watch", *common, "--silent-after", "5s"], stdout=quiet, stderr=quiet)
        deadline = time.monotonic() + 20
        while server.subscription_count() < 2:
            assert time.monotonic() < deadline, "the two subscribers never came"
            time.sleep(0.05)
        asyncio.run(publish(server.url, args.instances, args.rate, args.seconds))
        time.sleep(0.5)  # (the last lines delivered)
        tail_s, watch_s = cpu_of(tail), cpu_of(watch)
    lines = int(args.rate * args.seconds)
    print(f"{args.instances} instances, {args.rate:g} lines/s for {args.seconds:g} s ({lines:,} lines)")
    print(f"tail  --output plain: {tail_s:6.2f} s CPU ({tail_s / args.seconds:.0%} of a core)")
    print(f"watch               : {watch_s:6.2f} s CPU ({watch_s / args.seconds:.0%} of a core)")
    print(f"watch / tail        : {watch_s / tail_s:.2f}")


if __name__ == "__main__":
    main()
