"""The watch session in the test's loop: a real nats-server, the fake Machines API failing once and
then answering, a view and a hook that keep what they get; texts redacted on their way out."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from flylogs.core.alerts import Alert, Frame
from flylogs.core.events import NoticeKind
from flylogs.core.status import Status
from flylogs.core.watch import Watcher
from flylogs.demo.server import NatsServer
from flylogs.session.plan import StopReason, TailPlan
from flylogs.session.watch import WatchSpec, run_watch
from flylogs.source.machines import MachineStates
from flylogs.source.nats import ConnectOptions
from tests.fakes.fleet import Fleet
from tests.fakes.machines import FakeMachinesApi
from tests.helpers import Collect, until

TOKEN = "fm2_session-token"


class Kept:
    """A view and a hook at once: frames and alerts, kept."""

    def __init__(self) -> None:
        self.frames: list[Frame] = []
        self.alerts: list[Alert] = []
        self.notes: list[str] = []
        self.statuses: list[Status] = []
        self.canaries: list[dict[str, Any]] = []
        self.finished = self.closed = False

    def show(self, frame: Frame) -> None:
        self.frames.append(frame)

    def status(self, status: Status) -> None:
        self.statuses.append(status)

    def alert(self, alert: Alert) -> None:
        self.alerts.append(alert)

    def canary(self, records: list[dict[str, Any]]) -> None:
        self.canaries.extend(records)

    def note(self, text: str) -> None:
        self.notes.append(text)

    def finish(self) -> None:
        self.finished = True

    async def close(self, timeout: float = 0.0) -> None:
        self.closed = True


@pytest.mark.slow
@pytest.mark.slow
async def test_machine_states_come_and_go_with_the_api_and_every_alert_is_redacted(
    nats_server: NatsServer,
) -> None:
    machines = {"shop": {"a1": ("iad", "started"), "s9": ("iad", "stopped"), "z0": ("ams", "started")}}
    with FakeMachinesApi({}, TOKEN, machines) as api:
        api.failing = 1
        view, hook, notices = Kept(), Kept(), Collect()
        watcher = Watcher(start_ns=time.time_ns(), silent_after_s=1.0, up=False)
        plan = TailPlan(ConnectOptions((nats_server.url,), connect_timeout=2.0), ["logs.shop.>"])
        stop: asyncio.Future[StopReason] = asyncio.get_running_loop().create_future()
        spec = WatchSpec("NATS", refresh=0.1, machines_every=0.2)
        states = MachineStates(("shop",), TOKEN, api.url)
        task = asyncio.create_task(
            run_watch(
                plan, watcher, view, [hook], notices, stop, spec, machines=states,
                redact=lambda text: text.replace("z0", "**"),
            )
        )  # fmt: skip
        fleet = Fleet(nats_server, ["a1"])
        try:
            await until(lambda: any(a.kind.value == "silent" for a in hook.alerts), "the silence")
            errors = [n.text for n in notices.notices if n.kind is NoticeKind.ERROR]
            assert errors == [
                "the Machines API answered 503 for app 'shop'; Machine states unknown until it answers"
            ]
            assert "the Machines API answers again" in [n.text for n in notices.notices]
        finally:
            fleet.stop()
            stop.set_result(StopReason.INTERRUPTED)
            outcome = await asyncio.wait_for(task, 15)
    assert outcome.reason is StopReason.INTERRUPTED
    assert [(a.kind.value, a.instance) for a in hook.alerts] == [("silent", "z0")]
    assert hook.alerts[0].text.startswith("shop **: no line for 1.")  # redacted on its way out
    assert view.alerts == hook.alerts
    rows = {r.instance: (r.machine, r.verdict.value) for r in view.frames[-1].rows}
    assert rows == {"a1": ("started", "ok"), "s9": ("stopped", "stopped"), "z0": ("started", "silent")}
    assert view.frames[-1].state.value == "connected" and view.frames[-1].open_alerts == 1
    assert view.frames[-1].per_min >= 5  # a1's lines of the last minute (five a second, for over a second)
    assert view.finished and hook.closed
