"""The baseline subscriber: a minimal nats-py callback that only counts. The practical ceiling of any
Python client here. Exits after N messages (or 3 s without one) and prints how many it got.

    python bench/baseline.py URL N
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
import time

import nats


async def main() -> None:
    url, expected = sys.argv[1], int(sys.argv[2])
    nc = await nats.connect(url)
    done = asyncio.Event()
    count = 0
    last = time.monotonic()

    async def cb(_msg: object) -> None:
        nonlocal count, last
        count += 1
        last = time.monotonic()
        if count >= expected:
            done.set()

    await nc.subscribe("logs.>", cb=cb, pending_msgs_limit=-1, pending_bytes_limit=-1)
    await nc.flush()
    while not done.is_set() and (count == 0 or time.monotonic() - last < 3):
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(done.wait(), 0.05)
    print(count, flush=True)
    await nc.close()


if __name__ == "__main__":
    asyncio.run(main())
