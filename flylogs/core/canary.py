"""The canary: what the beats say of Fly's log pipeline, as loki-canary says it of Loki's. Sans I/O.

Per instance and boot (`flylogs.beats`): beats received, **lost** (sequence numbers never seen),
**duplicated**, **out of order** (`reordered`), and **delivery latency** (arrival, put in Fly's time
with the clocks' offset, minus the beat's `at`). A hole is decided only once it is `settle` old:
a late beat is reordered, not lost. A hole inside a gap of flylogs' own is decided after the gap's
backfill: filled whole and still missing, it is lost (the pipeline lost it); not filled, it is
*unknown*, never loss. Alerts: `beats_lost` when a hole is decided lost (resolved after `window`
without one), `beats_late` while the p95 latency is over `late_after`. Must not: do I/O, read a
clock, or format for a terminal.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from flylogs.beats import Beat, parse_beat
from flylogs.core.alerts import Alert, AlertKind
from flylogs.model import LogEvent
from flylogs.timestamps import format_rfc3339

NS = 1_000_000_000
MS = 1_000_000


@dataclass(slots=True)
class _Window:
    start_ns: int
    end_ns: int
    done: bool = False  # its backfill has said
    complete: bool = False  # and read it whole


@dataclass(slots=True)
class Series:
    app: str
    instance: str
    boot: str
    region: str | None = None
    received: int = 0
    duplicated: int = 0
    reordered: int = 0
    lost: int = 0
    unknown: int = 0
    top: int = -1  # the highest seq seen
    decided: int = -1  # every seq up to this one is decided (seen, lost or unknown)
    decided_at: int | None = None  # the `at` (written or estimated) of `decided`
    seen: dict[int, int] = field(default_factory=dict)  # undecided seqs seen -> their `at`
    gone: dict[int, str] = field(default_factory=dict)  # decided missing -> "lost" or "unknown"
    latencies: deque[tuple[int, int]] = field(default_factory=deque)  # (arrival, ms) of the window
    last_loss_ns: int | None = None

    def percentiles(self) -> dict[str, int] | None:
        values = sorted(ms for _, ms in self.latencies)
        if not values:
            return None

        def pick(q: float) -> int:
            return values[min(len(values) - 1, int(q * len(values)))]

        return {"p50": pick(0.5), "p95": pick(0.95), "max": values[-1]}


class Canary:
    def __init__(
        self, *, settle_s: float = 60.0, late_after_s: float = 30.0, window_s: float = 300.0
    ) -> None:
        self.series: dict[tuple[str, str, str], Series] = {}
        self._settle = int(settle_s * NS)
        self._late = int(late_after_s * 1000)
        self._window = int(window_s * NS)
        self._gaps: list[_Window] = []
        self._open: set[tuple[AlertKind, str, str]] = set()
        self.offset_ns: int | None = None  # Fly's clock minus this one, when known

    # --- in ---------------------------------------------------------------------------------------

    def beat(self, app: str, instance: str, region: str | None, beat: Beat, arrival_ns: int | None) -> None:
        """A beat arrived (at `arrival_ns`, this clock), or was read back (`arrival_ns` None: no latency)."""
        series = self.series.get((app, instance, beat.boot))
        if series is None:
            series = self.series[(app, instance, beat.boot)] = Series(app, instance, beat.boot, region)
            series.decided = beat.seq - 1  # a series starts where it is first seen
        series.region = region or series.region
        seq = beat.seq
        verdict = series.gone.pop(seq, None)
        if verdict is not None:  # decided missing, then it came: late, not lost
            series.received += 1
            series.reordered += 1
            if verdict == "lost":
                series.lost -= 1
            else:
                series.unknown -= 1
            return
        if seq <= series.decided or seq in series.seen:
            series.duplicated += 1
            return
        series.received += 1
        if seq < series.top:
            series.reordered += 1
        series.top = max(series.top, seq)
        series.seen[seq] = beat.at_ns
        if arrival_ns is not None:
            latency = arrival_ns + (self.offset_ns or 0) - beat.at_ns
            series.latencies.append((arrival_ns, max(0, latency) // MS))

    def gap(self, start_ns: int, end_ns: int) -> None:
        """A window (in Fly's time) of flylogs' own in which beats may have been missed; its backfill
        is awaited."""
        self._gaps.append(_Window(start_ns, end_ns))

    def backfilled(self, start_ns: int, end_ns: int, complete: bool) -> None:
        for window in self._gaps:
            if (window.start_ns, window.end_ns) == (start_ns, end_ns):
                window.done, window.complete = True, complete

    def no_backfill(self) -> None:
        """No history source: every gap is decided as it is (its holes unknown)."""
        for window in self._gaps:
            window.done = True

    # --- out --------------------------------------------------------------------------------------

    def tick(self, now_ns: int) -> list[Alert]:
        """Decide the holes old enough, and what has become true: `beats_lost`, `beats_late`."""
        alerts: list[Alert] = []
        fly_now = now_ns + (self.offset_ns or 0)
        for series in self.series.values():
            found = self._decide(series, fly_now, now_ns)
            while series.latencies and now_ns - series.latencies[0][0] > self._window:
                series.latencies.popleft()
            key = (series.app, series.instance)
            if found:
                text = f"{series.app} {series.instance}: {found} beat(s) lost (boot {series.boot})"
                alerts += self._open_alert(AlertKind.BEATS_LOST, series, now_ns, text)
            elif series.last_loss_ns is not None and now_ns - series.last_loss_ns >= self._window:
                alerts += self._close_alert(AlertKind.BEATS_LOST, series, now_ns, "no beat lost since")
            figures = series.percentiles()
            if figures is not None and figures["p95"] > self._late:
                text = f"{key[0]} {key[1]}: beats arrive late (p95 {figures['p95'] / 1000:.1f}s)"
                alerts += self._open_alert(AlertKind.BEATS_LATE, series, now_ns, text)
            elif figures is not None:
                alerts += self._close_alert(AlertKind.BEATS_LATE, series, now_ns, "beats on time again")
        return alerts

    def records(self, now_ns: int, window_start_ns: int) -> list[dict[str, Any]]:
        """`{"type":"canary",…}` per instance and boot."""
        return [self._record(s, now_ns, window_start_ns) for s in self.series.values()]

    def _record(self, s: Series, now_ns: int, window_start_ns: int) -> dict[str, Any]:
        return {
            "type": "canary", "app": s.app, "region": s.region, "instance": s.instance, "boot": s.boot,
            "received": s.received, "lost": s.lost, "duplicated": s.duplicated, "reordered": s.reordered,
            "unknown": s.unknown, "latency_ms": s.percentiles(), "approximate": self.offset_ns is None,
            "window": {"start": format_rfc3339(window_start_ns, 3), "end": format_rfc3339(now_ns, 3)},
        }  # fmt: skip

    def summary(self, app: str, instance: str) -> tuple[float, int | None] | None:
        """(loss %, p95 ms) of an instance's beats, all boots; None when it does not beat."""
        mine = [s for s in self.series.values() if s.app == app and s.instance == instance]
        if not mine:
            return None
        lost = sum(s.lost for s in mine)
        total = lost + sum(s.received for s in mine)
        p95 = [f["p95"] for s in mine if (f := s.percentiles()) is not None]
        return (100.0 * lost / total if total else 0.0, max(p95) if p95 else None)

    # --- inside -----------------------------------------------------------------------------------

    def _decide(self, series: Series, fly_now: int, now_ns: int) -> int:
        """Decide the seqs after `decided` whose time is `settle` old; the number found lost."""
        lost = 0
        while series.decided < series.top:
            seq = series.decided + 1
            at = series.seen.get(seq)
            if at is None:
                at = self._estimate(series, seq)
                if fly_now - at < self._settle:
                    break
                window = next((w for w in self._gaps if w.start_ns <= at <= w.end_ns), None)
                if window is not None and not window.done:
                    break  # its backfill may bring it
                if window is not None and not window.complete:
                    series.unknown += 1
                    series.gone[seq] = "unknown"
                else:
                    series.lost += 1
                    series.gone[seq] = "lost"
                    lost += 1
                while len(series.gone) > 1024:  # (a late beat is at most this late)
                    series.gone.pop(next(iter(series.gone)))
            series.seen.pop(seq, None)
            series.decided, series.decided_at = seq, at
        if lost:
            series.last_loss_ns = now_ns
        return lost

    @staticmethod
    def _estimate(series: Series, seq: int) -> int:
        """When a missing beat was written: between its nearest neighbours seen."""
        known = dict(series.seen)
        if series.decided_at is not None:
            known[series.decided] = series.decided_at
        before = max((s for s in known if s < seq), default=None)
        after = min((s for s in known if s > seq), default=None)
        if before is None or after is None:
            edge = before if before is not None else after
            return known[edge] if edge is not None else 0
        span = known[after] - known[before]
        return known[before] + span * (seq - before) // (after - before)

    def _open_alert(self, kind: AlertKind, series: Series, now: int, text: str) -> list[Alert]:
        key = (kind, series.app, series.instance)
        if key in self._open:
            return []
        self._open.add(key)
        return [Alert(kind, series.app, series.instance, now, now, text, region=series.region)]

    def _close_alert(self, kind: AlertKind, series: Series, now: int, why: str) -> list[Alert]:
        key = (kind, series.app, series.instance)
        if key not in self._open:
            return []
        self._open.discard(key)
        text = f"{series.app} {series.instance}: {why}"
        return [Alert(AlertKind.RESUMED, series.app, series.instance, now, now, text, kind, series.region)]


def over_window(
    lines: Iterable[tuple[LogEvent, int]], start_ns: int, end_ns: int, *, listened: bool
) -> Canary:
    """`check --beats`: the canary over a window's lines (each with its time: written when read
    back, arrival when `listened`; latency only then). A hole is decided once a later beat came
    and it is a quarter of the window (at most 30 s) overdue."""
    canary = Canary(settle_s=min(30.0, (end_ns - start_ns) / 4e9))
    for event, at in sorted(lines, key=lambda pair: pair[1]):
        if at < start_ns:  # (history reaches back twice the window, for who should be logging)
            continue
        beat = parse_beat(event.message)
        if beat is not None and event.app and event.instance:
            canary.beat(event.app, event.instance, event.region, beat, at if listened else None)
    canary.tick(end_ns)
    return canary
