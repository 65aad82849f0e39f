"""What of the watcher's alerts is told, and when: the habits of the monitors users trust, sans I/O.

The watcher (`core/watch.py`) says what is true (an instance went silent, it logs again). This decides
what is *told* (the view's alert lines, NDJSON, `--on-alert`, `--webhook`), fed with the watcher's
alerts and a clock's readings (`feed`, `tick`):

- **identity**: every notification carries `status` (firing/resolved), a `fingerprint` (kind, app, and
  instance or group: the same across restarts and across two watchers, so a receiver de-duplicates on
  it), an `id` per opening and when it started; a resolve says how long it lasted.
- **flap damping** (Prometheus' hysteresis, healthchecks' "after N"): an alert that opened `flap_count`
  times within `flap_window` becomes one `flapping` alert; its resolve is told once the instance has
  stayed in one state for a whole window (still silent then: the `silent` is told again).
- **grouping** (Alertmanager's `group_wait`): openings of one kind in one app and region within
  `group_wait` are told as one, naming every instance; the group resolves when all of them have.
  An opening that resolves before it was told is never told.
- **repeat** (Alertmanager's `repeat_interval`): a told alert still open is told again.
- **quiet hours**: `quiet(now)` says when hooks hold their notifications; when they end, one `summary`
  of what is still open.

The stream's own alerts (disconnected, gap) and an app's are told at once. Must not: do I/O or read
a clock.
"""

from __future__ import annotations

import hashlib
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from flylogs.core.alerts import Alert, AlertKind

NS = 1_000_000_000
DAMPED = frozenset({AlertKind.SILENT, AlertKind.HEARTBEAT_MISSED, AlertKind.ERROR_BURST})
_WORDS = {AlertKind.SILENT: "silent", AlertKind.HEARTBEAT_MISSED: "missing their heartbeat",
          AlertKind.ERROR_BURST: "in an error burst", AlertKind.FLAPPING: "flapping"}  # fmt: skip


def fingerprint(kind: AlertKind, app: str | None, scope: str | None) -> str:
    """Stable for one kind of trouble of one thing: the same in every watcher, run after run."""
    text = f"{kind.value}\0{app or ''}\0{scope or ''}"
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def opening_id(print_: str, started_ns: int) -> str:
    return hashlib.sha256(f"{print_}\0{started_ns}".encode()).hexdigest()[:16]


@dataclass(slots=True)
class _Told:
    """A firing notification that was told, and what it still covers."""

    alert: Alert
    open: set[str]  # the instances still in trouble ("" for an app's or the stream's own)
    sent_ns: int
    repeats: int = 0
    recovered: int = 0  # lines a backfill brought back for it


@dataclass(slots=True)
class _Pending:
    """Openings of one kind in one app and region, waiting out `group_wait`."""

    due_ns: int
    alerts: dict[str, Alert] = field(default_factory=dict)  # instance -> its opening


@dataclass(slots=True)
class _Flaps:
    openings: deque[int] = field(default_factory=deque)
    flapping: Alert | None = None  # the told `flapping` alert
    is_open: bool = False  # the watcher's own view, while flapping
    opened: Alert | None = None  # the opening of the state it is in, while flapping
    changed_ns: int = 0


class Notifier:
    def __init__(
        self,
        *,
        group_wait_s: float = 10.0,
        flap_window_s: float = 600.0,
        flap_count: int = 3,
        repeat_every_s: float | None = None,
        quiet: Callable[[int], bool] = lambda _now: False,
        members: Callable[[str, str | None], int] = lambda _app, _region: 0,
    ) -> None:
        self._wait = int(group_wait_s * NS)
        self._flap_window = int(flap_window_s * NS)
        self._flap_count = flap_count
        self._repeat = int(repeat_every_s * NS) if repeat_every_s else None
        self.quiet = quiet
        self._members = members  # how many instances an app has in a region (for "3 of 4")
        self._told: dict[str, _Told] = {}  # fingerprint -> the open notification
        self._pending: dict[tuple[AlertKind, str, str | None], _Pending] = {}
        self._flaps: dict[tuple[AlertKind, str, str], _Flaps] = {}
        self._was_quiet = False

    # --- in ---------------------------------------------------------------------------------------

    def feed(self, alerts: list[Alert], now_ns: int) -> list[Alert]:
        out: list[Alert] = []
        for alert in alerts:
            out += self._one(alert, now_ns)
        return out

    def tick(self, now_ns: int) -> list[Alert]:
        out: list[Alert] = []
        for key, pending in list(self._pending.items()):
            if now_ns >= pending.due_ns:
                del self._pending[key]
                out += self._tell_group(key, pending, now_ns)
        for key, flaps in list(self._flaps.items()):
            out += self._flap_settled(key, flaps, now_ns)
        if self._repeat is not None:
            for told in self._told.values():
                if now_ns - told.sent_ns >= self._repeat:
                    told.sent_ns, told.repeats = now_ns, told.repeats + 1
                    out.append(replace(told.alert, at_ns=now_ns, repeat=told.repeats))
        quiet = self.quiet(now_ns)
        if self._was_quiet and not quiet:
            out += self._summary(now_ns)
        self._was_quiet = quiet
        return out

    def recovered(self, app: str, instance: str) -> None:
        """A backfill brought back a line of `instance`: it counts for its open alerts."""
        for told in self._told.values():
            if told.alert.app == app and instance in told.open:
                told.recovered += 1

    # --- state that outlives a run ----------------------------------------------------------------

    def state(self) -> list[dict[str, Any]]:
        return [
            {"alert": _alert_state(t.alert), "open": sorted(t.open), "sent_ns": t.sent_ns}
            for t in self._told.values()
        ]

    def restore(self, saved: list[dict[str, Any]]) -> None:
        """Open alerts told before a restart: not told again; their resolves say `restarted`."""
        for item in saved:
            alert = replace(_alert_from(item["alert"]), restarted=True)
            assert alert.fingerprint is not None
            self._told[alert.fingerprint] = _Told(alert, set(item["open"]), int(item["sent_ns"]))

    def flapping(self) -> set[tuple[str, str]]:
        """(app, instance) of every instance flapping now (the view marks them)."""
        return {(app, instance) for (_k, app, instance), f in self._flaps.items() if f.flapping is not None}

    @property
    def open_count(self) -> int:
        return len(self._told)

    # --- inside -----------------------------------------------------------------------------------

    def _one(self, alert: Alert, now: int) -> list[Alert]:
        if alert.kind is AlertKind.RESUMED:
            return self._resolved(alert, now)
        if alert.kind not in DAMPED or alert.app is None or alert.instance is None:
            return self._tell(_stamped(alert, alert.instance or ""), now)  # the stream's, an app's
        flaps = self._flaps.setdefault((alert.kind, alert.app, alert.instance), _Flaps())
        while flaps.openings and now - flaps.openings[0] > self._flap_window:
            flaps.openings.popleft()
        flaps.openings.append(now)
        if flaps.flapping is not None:
            flaps.is_open, flaps.opened, flaps.changed_ns = True, alert, now
            return []
        if len(flaps.openings) >= self._flap_count:
            text = (f"{alert.app} {alert.instance}: flapping ({alert.kind.value} opened "
                    f"{len(flaps.openings)} times in {_span(self._flap_window)})")  # fmt: skip
            flap = replace(alert, kind=AlertKind.FLAPPING, text=text, since_ns=flaps.openings[0])
            flaps.flapping, flaps.is_open, flaps.opened, flaps.changed_ns = flap, True, alert, now
            alert = flap
        key = (alert.kind, alert.app or "", alert.region)
        pending = self._pending.setdefault(key, _Pending(now + self._wait))
        pending.alerts[alert.instance or ""] = alert
        if self._wait <= 0:
            del self._pending[key]
            return self._tell_group(key, pending, now)
        return []

    def _resolved(self, alert: Alert, now: int) -> list[Alert]:
        closes, app, instance = alert.closes, alert.app, alert.instance or ""
        if closes is None:
            return [alert]
        flaps = self._flaps.get((closes, app or "", instance))
        if flaps is not None and flaps.flapping is not None:
            flaps.is_open, flaps.opened, flaps.changed_ns = False, None, now
            return []
        for key, pending in self._pending.items():  # resolved before it was told: never told
            if key[0] is closes and key[1] == app and instance in pending.alerts:
                del pending.alerts[instance]
                if not pending.alerts:
                    del self._pending[key]
                return []
        for told in list(self._told.values()):
            if told.alert.kind is closes and told.alert.app == app and instance in told.open:
                told.open.discard(instance)
                if told.open:
                    return []
                return [self._close(told, alert, now)]
        return [_stamped(alert, instance)]  # nothing was told of it (an app's, one told elsewhere)

    def _tell_group(self, key: tuple[AlertKind, str, str | None], pending: _Pending, now: int) -> list[Alert]:
        kind, app, region = key
        alerts = list(pending.alerts.values())
        if not alerts:
            return []
        if len(alerts) == 1:
            return self._tell(_stamped(alerts[0], alerts[0].instance or ""), now)
        names = tuple(sorted(a.instance or "" for a in alerts))
        total = max(self._members(app, region), len(names))
        where = f" in {region}" if region else ""
        what = _WORDS.get(kind, kind.value)
        text = f"{len(names)} of {total} {app} instances{where} {what}: {', '.join(names)}"
        since = min(a.since_ns for a in alerts)
        group = Alert(kind, app, None, since, now, text, region=region, instances=names)
        return self._tell(_stamped(group, f"region:{region or ''}"), now)

    def _tell(self, alert: Alert, now: int) -> list[Alert]:
        assert alert.fingerprint is not None
        if alert.fingerprint in self._told:  # open already (told before a restart): not again
            return []
        if alert.kind is not AlertKind.GAP:
            self._told[alert.fingerprint] = _Told(alert, set(alert.instances or (alert.instance or "",)), now)
        return [alert]

    def _close(self, told: _Told, resumed: Alert, now: int) -> Alert:
        first = told.alert
        assert first.fingerprint is not None
        del self._told[first.fingerprint]
        text = resumed.text
        if first.instances:
            text = (
                f"{first.app} in {first.region or 'every region'}: all {len(first.instances)} logging again"
            )
        return replace(
            resumed, text=text, instance=first.instance, instances=first.instances, region=first.region,
            fingerprint=first.fingerprint, id=first.id, started_ns=first.started_ns,
            duration_s=round((now - (first.started_ns or now)) / NS, 3),
            backfilled=told.recovered or None, restarted=first.restarted,
        )  # fmt: skip

    def _flap_settled(self, key: tuple[AlertKind, str, str], flaps: _Flaps, now: int) -> list[Alert]:
        """A flapping instance that stayed in one state for a whole window: the flapping resolves;
        still open then, what it is in is told again."""
        if flaps.flapping is None or now - flaps.changed_ns < self._flap_window:
            return []
        kind, app, instance = key
        flap, still = flaps.flapping, flaps.opened if flaps.is_open else None
        del self._flaps[key]
        text = f"{app} {instance}: no longer flapping ({'still ' + kind.value if still else 'logging'})"
        resumed = Alert(AlertKind.RESUMED, app, instance, now, now, text, AlertKind.FLAPPING, flap.region)
        out = self._resolved(resumed, now)
        if still is not None:
            out += self._one(still, now)
        return out

    def _summary(self, now: int) -> list[Alert]:
        told = [t.alert for t in self._told.values()]
        names = "; ".join(a.text for a in told) if told else "nothing is open"
        text = f"quiet hours over: {len(told)} alert(s) open: {names}"
        return [Alert(AlertKind.SUMMARY, None, None, now, now, text)]


def _stamped(alert: Alert, scope: str) -> Alert:
    """The alert with its identity: fingerprint, and for an opening its id and start."""
    kind = alert.closes if alert.kind is AlertKind.RESUMED and alert.closes else alert.kind
    print_ = fingerprint(kind, alert.app, scope)
    started = alert.since_ns
    return replace(alert, fingerprint=print_, id=opening_id(print_, started), started_ns=started)


def _span(ns: int) -> str:
    seconds = ns / NS
    return f"{seconds / 60:g}m" if seconds >= 60 else f"{seconds:g}s"


def _alert_state(alert: Alert) -> dict[str, Any]:
    return {
        "kind": alert.kind.value, "app": alert.app, "instance": alert.instance, "since_ns": alert.since_ns,
        "at_ns": alert.at_ns, "text": alert.text, "region": alert.region, "instances": list(alert.instances),
        "fingerprint": alert.fingerprint, "id": alert.id, "started_ns": alert.started_ns,
    }  # fmt: skip


def _alert_from(item: dict[str, Any]) -> Alert:
    return Alert(
        AlertKind(item["kind"]), item["app"], item["instance"], int(item["since_ns"]), int(item["at_ns"]),
        str(item["text"]), region=item["region"], instances=tuple(item["instances"]),
        fingerprint=item["fingerprint"], id=item["id"], started_ns=item["started_ns"],
    )  # fmt: skip
