"""The watcher's view of the fleet from Fly's Machines API: which Machines should be logging.

Part of the watcher (`core/watch.py`'s `Watcher` is a `MachinesView`). A Machine the API lists is
known, `started` or not. One that stopped or was suspended is `stopped`, never silent; one that a
deploy is replacing (`replacing`/`updating`) is `replacing`, and its silence is not alerted; one that
started (its `start` event) or came back as a new version (`instance_id`) less than `--silent-after`
ago is `warming`: silence is counted from then. A deploy going on in an app is one `deploy` alert,
resolved when every Machine has settled. One the API lists no more is gone: its alerts close and its
row goes. Must not: do I/O, read a clock, or format for a terminal.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from flylogs.core.alerts import Alert, AlertKind

STOPPED_STATES = frozenset({"stopped", "suspended", "destroyed", "destroying", "stopping"})
REPLACING_STATES = frozenset({"replacing", "updating"})
# (region, process group, its latest start in ns, its version): what the API says beside the state
Details = tuple[str | None, str | None, int | None, str | None] | tuple[str | None, str | None]


@dataclass(slots=True)
class Instance:
    app: str
    instance: str
    region: str | None = None
    group: str | None = None  # the process group, from the Machines API
    last_ns: int | None = None  # the last line (None: known from the Machines API only)
    counted_from: int = 0  # silence is measured from here (the last line, or the stream's return)
    last_beat_ns: int | None = None
    beat_from: int = 0  # a beat is due a period after this (the last beat, first sight, the stream's return)
    machine: str | None = None  # the Machines API's state, when known
    recent: deque[int] = field(default_factory=deque)  # line times of the last minute
    troubled: deque[int] = field(default_factory=deque)  # warn+ line times of the last minute
    errors: deque[int] = field(default_factory=deque)  # error+ line times of the last minute
    open: set[AlertKind] = field(default_factory=set)
    machine_was_stopped: bool = False
    machine_at_ns: int = 0  # when the Machines API last said its state
    started_ns: int | None = None  # its latest start, as the API's events say
    version: str | None = None  # its `instance_id`


class MachinesView:
    instances: dict[tuple[str, str], Instance]
    _deploys: set[str]

    def _instance(self, app: str, instance: str, now_ns: int) -> Instance:
        raise NotImplementedError  # (the Watcher's)

    def _close(self, item: Instance, kind: AlertKind, now: int, text: str) -> list[Alert]:
        raise NotImplementedError  # (the Watcher's)

    def machines(
        self,
        states: dict[tuple[str, str], str],
        now_ns: int,
        details: Mapping[tuple[str, str], Details] | None = None,
        apps: Iterable[str] | None = None,
    ) -> list[Alert]:
        """The Machines API's view of `apps` (default: those in `states`; `details`: region, process
        group, latest start and version)."""
        alerts: list[Alert] = []
        listed = set(apps) if apps is not None else {app for app, _ in states}
        gone = [
            key
            for key, item in self.instances.items()
            if item.app in listed and item.machine is not None and key not in states
        ]
        for key in gone:
            item = self.instances.pop(key)
            for kind in sorted(item.open):
                alerts += self._close(item, kind, now_ns, "the Machine is gone")
        deploying: dict[str, int] = {}
        for (app, instance), state in states.items():
            item = self._instance(app, instance, now_ns)
            item.machine, item.machine_at_ns = state, now_ns
            region, group, started, version = (
                *(details or {}).get((app, instance), (None, None)),
                None,
                None,
            )[:4]
            item.region, item.group = item.region or region, group or item.group
            if started is not None and started > (item.started_ns or 0):
                item.started_ns = started  # (re)started: silence counts from then
                item.counted_from = max(item.counted_from, started)
                item.beat_from = max(item.beat_from, started)
            if version is not None and item.version is not None and version != item.version:
                deploying[app] = deploying.get(app, 0) + 1  # a new version of it: a fresh window
                item.started_ns = item.counted_from = item.beat_from = now_ns
            item.version = version or item.version
            if state in STOPPED_STATES or state in REPLACING_STATES:
                why = "is being replaced" if state in REPLACING_STATES else f"is {state}"
                alerts += self._close(item, AlertKind.SILENT, now_ns, f"the Machine {why}")
                alerts += self._close(item, AlertKind.HEARTBEAT_MISSED, now_ns, f"the Machine {why}")
            elif item.machine_was_stopped:
                item.counted_from = item.beat_from = now_ns  # started again: a fresh window
            if state in REPLACING_STATES:
                deploying[app] = deploying.get(app, 0) + 1
            item.machine_was_stopped = state in STOPPED_STATES
        return alerts + self._deploy_alerts(listed, deploying, now_ns)

    def _deploy_alerts(self, apps: set[str], deploying: dict[str, int], now_ns: int) -> list[Alert]:
        """One `deploy` alert per app while Machines are being replaced; resolved once none is."""
        alerts = []
        for app in sorted(apps):
            if deploying.get(app) and app not in self._deploys:
                self._deploys.add(app)
                text = f"{app}: a deploy is going on ({deploying[app]} Machine(s) being replaced)"
                alerts.append(Alert(AlertKind.DEPLOY, app, None, now_ns, now_ns, text))
            elif not deploying.get(app) and app in self._deploys:
                self._deploys.discard(app)
                text = f"{app}: the deploy has settled"
                alerts.append(Alert(AlertKind.RESUMED, app, None, now_ns, now_ns, text, AlertKind.DEPLOY))
        return alerts
