"""JetStream as a history source: windows of the log subjects read back from a stream.

For self-hosted setups and the demo (Fly's own stream keeps no history). Rides on the tail's NATS
connection. Must not: print, decode or filter.
"""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime

from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy

from flylogs.errors import HistoryUnavailableError
from flylogs.source.nats import NatsSource


class JetStreamHistory:
    """Replays windows of the log subjects from a JetStream stream (self-hosted setups, the demo).

    An ephemeral, unacknowledged consumer per subject starts at the window's start time and reads until
    past its end, so a replay costs the server nothing once done.
    """

    def __init__(self, source: NatsSource, name: str) -> None:
        self._source = source
        self.name = name
        self.label = "jetstream"
        self.by_line_time = False

    async def check(self) -> None:
        """Fail early, with a hint, when the stream does not exist or JetStream is off."""
        js = self._source.client.jetstream()
        try:
            await js.stream_info(self.name)
        except Exception:
            raise HistoryUnavailableError(
                f"no JetStream stream {self.name!r} on the server (or JetStream is not enabled there)",
                hint="--stream names a stream that stores the log subjects (`nats stream ls`); "
                "Fly's own log stream keeps no history",
            ) from None

    async def offset(self) -> tuple[int, int] | None:
        """A stream's windows are by its server's clock, taken to be this one's."""
        return None

    async def replay(
        self, start_ns: int, end_ns: int | None, *, fresh: bool = False, limit: int = 200_000
    ) -> list[tuple[str, bytes]]:
        """(subject, payload) of messages stored from `start_ns` to `end_ns` (open-ended: to the present).

        `fresh` (the window just closed) changes nothing here: a stream holds a line once it stored it.
        """
        js = self._source.client.jetstream()
        found: list[tuple[str, bytes]] = []
        start = datetime.fromtimestamp(start_ns / 1e9, UTC)
        for subject in self._source.subjects:
            config = ConsumerConfig(
                deliver_policy=DeliverPolicy.BY_START_TIME,
                opt_start_time=start,
                ack_policy=AckPolicy.NONE,
                inactive_threshold=30.0,
                mem_storage=True,
            )
            sub = await js.pull_subscribe(subject, stream=self.name, config=config)
            try:
                while len(found) < limit:
                    try:
                        batch = await sub.fetch(512, timeout=1.0)
                    except TimeoutError:
                        break
                    past_end = False
                    for msg in batch:
                        stored = msg.metadata.timestamp
                        if end_ns is not None and stored.timestamp() * 1e9 > end_ns + 1_000_000:
                            past_end = True
                            break
                        found.append((msg.subject, msg.data))
                    if past_end or not batch or batch[-1].metadata.num_pending == 0:
                        break
            finally:
                with contextlib.suppress(Exception):
                    await sub.unsubscribe()
        return found
