"""A fleet of Fly Machines logging into a real nats-server, as Fly's log pipeline publishes their
lines: instances that write a line every 0.2 s (a heartbeat, or busy lines without one), that can be
made quiet, and that reconnect by themselves when the server comes back."""

from __future__ import annotations

import asyncio
import threading
import time

from flylogs.demo.server import NatsServer
from tests.helpers import msg


class Fleet:
    """Instances writing a line every 0.2 s from a thread; `quiet` ones write nothing. Reconnects
    by itself when the server comes back."""

    def __init__(self, server: NatsServer, instances: list[str], app: str = "shop") -> None:
        self.quiet: set[str] = set()
        self.busy: set[str] = set()  # logging, but no heartbeat
        self.every: dict[str, float] = {}  # an instance's own period (seconds), instead of 0.2
        self.last: dict[str, float] = {}
        self.sent: dict[str, int] = {}
        self._server, self._instances, self._app = server, instances, app
        self._stop = threading.Event()
        self._thread = threading.Thread(target=lambda: asyncio.run(self._run()), daemon=True)
        self._thread.start()

    async def _run(self) -> None:
        import nats

        nc = await nats.connect(
            self._server.url, max_reconnect_attempts=-1, reconnect_time_wait=0.1, allow_reconnect=True
        )
        n = 0
        while not self._stop.is_set():
            for instance in self._instances:
                slow = self.every.get(instance)
                if slow and time.monotonic() - self.last.get(instance, 0.0) < slow:
                    continue
                if instance not in self.quiet and nc.is_connected:
                    text = f"busy {n}" if instance in self.busy else f"HEARTBEAT {instance} iad {n}"
                    await nc.publish(*msg(self._app, "iad", instance, text))  # (watch goes by arrival)
                    self.last[instance] = time.monotonic()
                    self.sent[instance] = self.sent.get(instance, 0) + 1
            n += 1
            await asyncio.sleep(0.2)
        await nc.close()

    def settled(self, instances: tuple[str, ...], lines: int = 3) -> None:
        """Wait until each of `instances` has sent `lines` more lines from now (those sent before a
        subscription were never seen)."""
        from tests.helpers import wait_for

        before = dict(self.sent)
        wait_for(
            lambda: all(self.sent.get(i, 0) >= before.get(i, 0) + lines for i in instances),
            what=f"{lines} lines from each of {', '.join(instances)}",
        )

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(10)
