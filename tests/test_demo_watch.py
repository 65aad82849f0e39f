"""The demo's scripted troubles, fed through the watcher with a fake clock: within a minute an
instance goes silent and comes back, and one misses its heartbeat and beats again."""

from __future__ import annotations

import random
import re

from flylogs.core.watch import Watcher
from flylogs.decode import decode
from flylogs.demo.fleet import QUIET, SKIPS_BEAT, Fleet

S = 1_000_000_000
T0 = 1_800_000_000 * S


def test_the_demo_opens_and_closes_a_silence_and_a_missed_heartbeat_within_a_minute() -> None:
    now = [T0]
    fleet = Fleet(random.Random(3), clock_ns=lambda: now[0], scripted=True)
    watcher = Watcher(start_ns=T0, silent_after_s=10, heartbeat=re.compile("HEARTBEAT"), every_s=20)
    seen: list[tuple[float, str, str | None, str | None]] = []
    for step in range(70 * 20):  # 70 s at 20 lines/s
        now[0] = T0 + step * S // 20
        messages = [fleet.next(), *fleet.heartbeats()]
        for subject, data in messages:
            for alert in watcher.line(decode(subject, data), now[0]):
                seen.append(((now[0] - T0) / S, alert.kind.value, alert.instance, alert.closes))
        if step % 20 == 0:
            for alert in watcher.tick(now[0]):
                seen.append(((now[0] - T0) / S, alert.kind.value, alert.instance, alert.closes))
    quiet, skipper = QUIET[1], SKIPS_BEAT[1]
    assert [(k, i, c) for _, k, i, c in seen] == [
        ("silent", quiet, None),  # (its beats are missed too: silent says more, and first)
        ("resumed", quiet, "silent"),
        # (the canary's beats are heartbeats too: its last, at 0:18, makes the beat due at 0:40)
        ("heartbeat_missed", skipper, None),
        ("resumed", skipper, "heartbeat_missed"),
    ], seen
    times = [t for t, *_ in seen]
    assert 25 <= times[0] <= 27 and times[-1] <= 60  # opened and closed within the first minute


def test_the_demos_canary_shows_a_lossy_machine_and_a_late_one() -> None:
    from flylogs.beats import parse_beat
    from flylogs.core.canary import Canary
    from flylogs.demo.fleet import LATE, LOSSY

    now = [T0]
    fleet = Fleet(random.Random(3), clock_ns=lambda: now[0], scripted=True)
    canary = Canary(settle_s=10)
    for step in range(70 * 20):  # 70 s at 20 lines/s
        now[0] = T0 + step * S // 20
        for subject, data in [fleet.next(), *fleet.heartbeats()]:
            event = decode(subject, data)
            beat = parse_beat(event.message)
            if beat is not None and event.app and event.instance:
                canary.beat(event.app, event.instance, event.region, beat, now[0])
    alerts = canary.tick(now[0] + 20 * S)  # the last holes settled
    figures = {(s.app, s.instance): s for s in canary.series.values()}
    lossy, late = figures[LOSSY[:2]], figures[LATE[:2]]
    assert lossy.lost == 3 and lossy.received == 31  # 34 beats in 68 s, 1 in 10 lost
    assert late.lost == 0 and late.percentiles() == {"p50": 1500, "p95": 1500, "max": 1500}
    others = [s for key, s in figures.items() if key not in (LOSSY[:2], LATE[:2])]
    assert others and all(s.lost == s.duplicated == s.reordered == 0 for s in others)
    assert [(a.kind.value, a.instance) for a in alerts] == [("beats_lost", LOSSY[1])]
