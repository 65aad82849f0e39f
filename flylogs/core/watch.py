"""Watching the sources: is every instance still logging? (`flylogs watch`, `flylogs check`.)

Owns, sans I/O and fed with a clock's readings: per instance (and per app) the last line, rates, the
last heartbeat, the Machine's state when known, a verdict (`ok`, `quiet`, `silent`, `stopped`), and
alerts that open once and close once (`resumed`), never repeated while open. Silence while the
connection itself is down is not the instance's fault: the gap says so, and each instance gets a
fresh window once the stream is back. Must not: do I/O, read a clock, or format for a terminal.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from flylogs.beats import PREFIX
from flylogs.core.alerts import Alert, AlertKind, Row, Verdict
from flylogs.core.watch_machines import REPLACING_STATES, STOPPED_STATES, Instance, MachinesView
from flylogs.levels import level_rank
from flylogs.model import LogEvent

__all__ = ["STOPPED_STATES", "Alert", "AlertKind", "Instance", "Row", "Verdict", "Watcher"]


NS = 1_000_000_000
ORDER = (Verdict.SILENT, Verdict.QUIET, Verdict.REPLACING, Verdict.WARMING, Verdict.STOPPED, Verdict.OK)
MINUTE = 60 * NS


class Watcher(MachinesView):
    def __init__(
        self,
        *,
        start_ns: int,
        silent_after_s: float = 300.0,
        heartbeat: re.Pattern[str] | None = None,
        every_s: float = 1800.0,
        errors_over: int | None = None,
        up: bool = True,  # False: still connecting (the first connection is no return)
        machines_every_s: float | None = None,  # how often the Machines API is asked (None: never)
    ) -> None:
        self.instances: dict[tuple[str, str], Instance] = {}
        self._start_ns = start_ns
        self._silent_ns = int(silent_after_s * NS)
        self._heartbeat = heartbeat
        self._beat_ns = int(every_s * 1.1 * NS)  # the period plus a grace of a tenth
        self._errors_over = errors_over
        self._up = up
        self._down_since: int | None = None  # an open `disconnected` alert
        self._apps_open: set[str] = set()
        self.held = False  # a gap's backfill is pending: no silence is judged until its outcome
        # A Machine the API lists is judged silent only on its word given after the silence was due
        # (a stopped Machine is not silent), unless it has not answered for three rounds.
        self._stale_ns = int(machines_every_s * 3 * NS) if machines_every_s else None
        self._deploys: set[str] = set()  # apps a deploy is going on in

    # --- state that outlives a run ---------------------------------------------------------------

    def export(self) -> dict[str, Any]:
        """What a restarted watcher needs: each instance's last line and open alerts, and the
        stream's own."""
        items = [
            {"app": i.app, "instance": i.instance, "region": i.region, "group": i.group,
             "last_ns": i.last_ns, "open": sorted(k.value for k in i.open)}
            for i in self.instances.values()
        ]  # fmt: skip
        return {"instances": items, "down_since": self._down_since, "apps_open": sorted(self._apps_open)}

    def restore(self, saved: Mapping[str, Any], now_ns: int) -> None:
        """A restart: instances come back with their last line and open alerts (not opened, so not
        told, again); silence is counted afresh from now."""
        for entry in saved.get("instances") or ():
            item = self._instance(str(entry["app"]), str(entry["instance"]), now_ns)
            item.region, item.group = entry.get("region"), entry.get("group")
            item.last_ns = entry.get("last_ns")
            item.open = {AlertKind(k) for k in entry.get("open") or ()}
        self._down_since = saved.get("down_since")
        self._apps_open = set(saved.get("apps_open") or ())

    def members(self, app: str, region: str | None) -> int:
        """How many instances of `app` in `region` should be logging (not stopped)."""
        return sum(
            1 for i in self.instances.values() if i.app == app and i.region == region and not self._stopped(i)
        )

    def heard(self, event: LogEvent, written_ns: int | None) -> None:
        """A line a backfill brought back: the instance was heard then (never later than now)."""
        if event.app is None or event.instance is None or written_ns is None:
            return
        item = self.instances.get((event.app, event.instance))
        if item is not None and written_ns > (item.last_ns or 0):
            item.last_ns = written_ns
            item.counted_from = max(item.counted_from, written_ns)

    # --- what comes in -------------------------------------------------------------------------

    def line(self, event: LogEvent, now_ns: int) -> list[Alert]:
        if event.app is None or event.instance is None:
            return []
        item = self._instance(event.app, event.instance, now_ns)
        item.region = event.region or item.region
        item.group = event.process_group or item.group
        item.last_ns = item.counted_from = now_ns
        item.recent.append(now_ns)
        rank = level_rank(event.shown_level())
        if rank is not None and rank >= 30:
            item.troubled.append(now_ns)
        if rank is not None and rank >= 40:
            item.errors.append(now_ns)
        alerts: list[Alert] = []
        message = event.message
        if self._heartbeat is not None and (message.startswith(PREFIX) or self._heartbeat.search(message)):
            item.last_beat_ns = item.beat_from = now_ns
            alerts += self._close(item, AlertKind.HEARTBEAT_MISSED, now_ns, "its heartbeat is back")
        alerts += self._close(item, AlertKind.SILENT, now_ns, "logging again")
        if item.app in self._apps_open:
            self._apps_open.discard(item.app)
            text = f"{item.app} is logging again"
            alerts.append(Alert(AlertKind.RESUMED, item.app, None, now_ns, now_ns, text, AlertKind.SILENT))
        return alerts

    def connection(self, up: bool, now_ns: int, why: str | None = None) -> list[Alert]:
        """The stream went down (`up` False) or came back: silence is counted afresh from its return.
        Going down after having been up opens `disconnected`; coming back closes it."""
        alerts: list[Alert] = []
        if up and not self._up:
            for item in self.instances.values():
                item.counted_from = max(item.counted_from, now_ns)
                item.beat_from = max(item.beat_from, now_ns)
            if self._down_since is not None:
                text = f"the stream is back after {_ago(now_ns - self._down_since)}"
                alerts.append(
                    Alert(AlertKind.RESUMED, None, None, now_ns, now_ns, text, AlertKind.DISCONNECTED)
                )
                self._down_since = None
        elif not up and self._up:
            self._down_since = now_ns
            text = "the stream is down" + (f": {why}" if why else "") + "; silences are not counted"
            alerts.append(Alert(AlertKind.DISCONNECTED, None, None, now_ns, now_ns, text))
        self._up = up
        return alerts

    def gap(self, start_ns: int, end_ns: int, now_ns: int, filled: bool = False) -> list[Alert]:
        """A window that may hold missed lines (the stream was down, stalled, or lines were dropped)."""
        text = f"lines from a {_ago(end_ns - start_ns)} window may be missing"
        text += " (filled from history)" if filled else ""
        return [Alert(AlertKind.GAP, None, None, start_ns, now_ns, text)]

    def tick(self, now_ns: int) -> list[Alert]:
        """Whatever has become true by `now_ns`: silences, missed beats, error bursts."""
        alerts: list[Alert] = []
        for item in self.instances.values():
            self._trim(item, now_ns)
            if not self._up or self.held or self._stopped(item):
                continue
            if item.machine in REPLACING_STATES:
                continue
            due = item.counted_from + self._silent_ns
            stale = self._stale_ns
            if stale and item.machine and item.machine_at_ns < due <= now_ns < item.machine_at_ns + stale:
                continue  # the Machines API's word on it must be fresher than its silence
            if now_ns >= due and (item.last_ns is not None or item.machine):
                since = item.last_ns or item.counted_from
                alerts += self._open(
                    item, AlertKind.SILENT, since, now_ns, f"no line for {_ago(now_ns - since)}"
                )
            beat_due = self._heartbeat is not None and now_ns - item.beat_from >= self._beat_ns
            if beat_due and AlertKind.SILENT not in item.open:  # silent says more, and said it first
                alerts += self._open(
                    item, AlertKind.HEARTBEAT_MISSED, item.beat_from, now_ns, "missed its heartbeat"
                )
            if self._errors_over is not None:
                if len(item.errors) > self._errors_over:
                    text = f"{len(item.errors)} errors in the last minute"
                    alerts += self._open(item, AlertKind.ERROR_BURST, item.errors[0], now_ns, text)
                else:
                    alerts += self._close(item, AlertKind.ERROR_BURST, now_ns, "errors back under the limit")
        alerts += self._app_silences(now_ns)
        return alerts

    # --- what goes out --------------------------------------------------------------------------

    def verdict(self, item: Instance, now_ns: int) -> Verdict:
        if self._stopped(item):
            return Verdict.STOPPED
        if AlertKind.SILENT in item.open:
            return Verdict.SILENT
        if item.machine in REPLACING_STATES:
            return Verdict.REPLACING
        started = item.started_ns
        if started is not None and now_ns - started < self._silent_ns and (item.last_ns or 0) < started:
            return Verdict.WARMING
        if now_ns - item.counted_from >= self._silent_ns // 2:
            return Verdict.QUIET
        return Verdict.OK

    def rows(self, now_ns: int) -> list[tuple[Verdict, Instance]]:
        """Every instance with its verdict, trouble first (silent, quiet, stopped, ok)."""
        order = {
            Verdict.SILENT: 0,
            Verdict.QUIET: 1,
            Verdict.REPLACING: 2,
            Verdict.WARMING: 3,
            Verdict.STOPPED: 4,
        }
        order[Verdict.OK] = 5
        rows = [(self.verdict(item, now_ns), item) for item in self.instances.values()]
        return sorted(rows, key=lambda r: (order[r[0]], bool(not r[1].open), r[1].app, r[1].instance))

    def snapshot(self, now_ns: int) -> list[Row]:
        """The rows as a view shows them now (trouble first), immutable."""
        rows = []
        for verdict, item in self.rows(now_ns):
            self._trim(item, now_ns)
            rows.append(
                Row(
                    item.app, item.instance, verdict, item.region, item.group, item.machine,
                    item.last_ns, len(item.recent), len(item.troubled), len(item.errors),
                    item.last_beat_ns, frozenset(item.open),
                )
            )  # fmt: skip
        return rows

    # --- inside ---------------------------------------------------------------------------------

    def _instance(self, app: str, instance: str, now_ns: int) -> Instance:
        item = self.instances.get((app, instance))
        if item is None:
            item = self.instances[(app, instance)] = Instance(
                app, instance, counted_from=now_ns, beat_from=now_ns
            )
        return item

    @staticmethod
    def _stopped(item: Instance) -> bool:
        return item.machine in STOPPED_STATES

    @staticmethod
    def _trim(item: Instance, now_ns: int) -> None:
        for times in (item.recent, item.troubled, item.errors):
            while times and now_ns - times[0] > MINUTE:
                times.popleft()

    def open_count(self) -> int:
        """Alerts open now: per instance, per app, and the stream's own."""
        instances = sum(len(item.open) for item in self.instances.values())
        return instances + len(self._apps_open) + (self._down_since is not None)

    def _open(self, item: Instance, kind: AlertKind, since: int, now: int, text: str) -> list[Alert]:
        if kind in item.open:
            return []
        item.open.add(kind)
        text = f"{item.app} {item.instance}: {text}"
        return [Alert(kind, item.app, item.instance, since, now, text, region=item.region)]

    def _close(self, item: Instance, kind: AlertKind, now: int, text: str) -> list[Alert]:
        if kind not in item.open:
            return []
        item.open.discard(kind)
        text = f"{item.app} {item.instance}: {text}"
        return [Alert(AlertKind.RESUMED, item.app, item.instance, now, now, text, kind, item.region)]

    def _app_silences(self, now_ns: int) -> list[Alert]:
        """An app none of whose (unstopped) instances logged for the window is silent as a whole."""
        alerts = []
        apps: dict[str, list[Instance]] = {}
        for item in self.instances.values():
            apps.setdefault(item.app, []).append(item)
        for app, items in apps.items():
            live = [i for i in items if not self._stopped(i)]
            if (
                len(live) >= 2  # one instance alone: its own alert says it all
                and self._up
                and all(AlertKind.SILENT in i.open for i in live)
                and app not in self._apps_open
            ):
                self._apps_open.add(app)
                alerts.append(Alert(AlertKind.SILENT, app, None, now_ns, now_ns, f"{app}: no instance logs"))
        return alerts


def _ago(ns: int) -> str:
    seconds = max(0.0, ns / NS)
    if seconds < 10:
        return f"{seconds:.1f}s"
    if seconds < 120:
        return f"{seconds:.0f}s"
    return f"{seconds / 60:.0f}m" if seconds < 7200 else f"{seconds / 3600:.1f}h"
