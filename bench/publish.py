"""Benchmark publisher (a process of its own): N realistic Fly-shaped messages, as fast as possible
or at a steady rate. Prints `go` just before the first message and `done N` after the last flush.

    python bench/publish.py URL N [--rate R] [--seed S]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import time

import nats

from flylogs.demo.fleet import Fleet


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("count", type=int)
    parser.add_argument("--rate", type=float, default=0.0, help="lines per second; 0: as fast as possible")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    fleet = Fleet(random.Random(args.seed))
    nc = await nats.connect(args.url, pending_size=256 * 1024 * 1024, flush_timeout=60)
    if args.rate <= 0:
        messages = [fleet.next() for _ in range(args.count)]  # generated before the clock starts
        print("go", flush=True)
        for n, (subject, payload) in enumerate(messages, 1):
            await nc.publish(subject, payload)
            if n % 5000 == 0:
                # A round trip now and then: nats-py's buffer stays small and nothing is lost when the
                # server slows its readers down for a subscriber that lags behind.
                await nc.flush(timeout=120)
    else:
        print("go", flush=True)
        started = time.monotonic()
        sent = 0
        while sent < args.count:
            due = min(args.count, int((time.monotonic() - started) * args.rate) + 1)
            while sent < due:
                await nc.publish(*fleet.next())  # stamped now: latency is measured from here
                sent += 1
            await nc.flush()
            await asyncio.sleep(0.001)
    await nc.flush(timeout=120)
    await nc.close()
    print(f"done {args.count}", flush=True)


if __name__ == "__main__":
    asyncio.run(main())
    sys.exit(0)
