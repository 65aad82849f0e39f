"""The sources a session reads lines from, opened from its plan: the one place that knows which
adapter serves which way (NATS, directly or through flyctl's agent's relay; polling Fly's logs API),
and which history rides along (a JetStream stream on the NATS connection; Fly's logs API).

A new transport is an adapter in `source/` that satisfies `ports.Source`, one branch here, and its
entry in `way.find_way`. Must not: decide what is shown, or print.
"""

from __future__ import annotations

from collections.abc import Callable

from flylogs.core.events import Event
from flylogs.session.plan import TailPlan
from flylogs.session.ports import HistorySource, Source

LineHandler = Callable[[str, bytes], None]


def open_source(
    plan: TailPlan, on_line: LineHandler, emit: Callable[[Event], None], clock_ns: Callable[[], int]
) -> Source:
    """The live source of `plan`: polling when the plan polls, else NATS (its way's options)."""
    if plan.poll is not None:
        from flylogs.source.api_poll import ApiPollSource  # httpx costs 0.2 s to import: only if polling

        poll = plan.poll
        return ApiPollSource(poll.api, poll.regions, poll.instances, on_line, emit, clock_ns=clock_ns)
    from flylogs.source.nats import NatsSource

    return NatsSource(plan.connect, plan.subjects, on_line, emit, clock_ns=clock_ns)


def open_history(plan: TailPlan, source: Source) -> HistorySource | None:
    """What fills gaps and gives `--since`: a JetStream stream on the source's NATS connection, or
    Fly's logs API; None without either."""
    if plan.history_stream and source.client is not None:
        from flylogs.source.jetstream import JetStreamHistory
        from flylogs.source.nats import NatsSource

        assert isinstance(source, NatsSource)  # the one source with a NATS client
        return JetStreamHistory(source, plan.history_stream)
    if plan.api is not None:
        from flylogs.source.flyapi import FlyApiHistory

        return FlyApiHistory(plan.api)
    return None
