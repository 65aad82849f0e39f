"""The watcher's decisions, fed with lines and a fake clock: silence, heartbeats, bursts, stopped
Machines, connection gaps, and alerts that open once and close once."""

from __future__ import annotations

import re

from flylogs.core.watch import AlertKind, Verdict, Watcher
from flylogs.model import LogEvent

S = 1_000_000_000
T0 = 1_800_000_000 * S


def ev(instance: str, message: str = "hello", level: str = "info", app: str = "shop") -> LogEvent:
    return LogEvent(f"logs.{app}.iad.{instance}", b"", message, None, app, "iad", instance, level)


def kinds(alerts: list) -> list[tuple[str, str | None, str | None]]:  # type: ignore[type-arg]
    return [(a.kind.value, a.instance, a.closes.value if a.closes else None) for a in alerts]


def test_an_instance_that_stops_logging_is_silent_once_and_resumed_once() -> None:
    w = Watcher(start_ns=T0, silent_after_s=5)
    for i in ("a", "b", "c"):
        w.line(ev(i), T0)
    for t in range(1, 10):  # a and b keep logging, c has stopped
        w.line(ev("a"), T0 + t * S)
        w.line(ev("b"), T0 + t * S)
        alerts = w.tick(T0 + t * S)
        assert kinds(alerts) == ([("silent", "c", None)] if t == 5 else []), t
    assert w.verdict(w.instances[("shop", "c")], T0 + 9 * S) is Verdict.SILENT
    assert w.rows(T0 + 9 * S)[0][1].instance == "c"  # trouble on top
    assert kinds(w.line(ev("c"), T0 + 10 * S)) == [("resumed", "c", "silent")]
    assert kinds(w.tick(T0 + 10 * S)) == []


def test_no_silence_is_blamed_on_an_instance_while_the_stream_is_down() -> None:
    w = Watcher(start_ns=T0, silent_after_s=5)
    w.line(ev("a"), T0)
    assert kinds(w.connection(False, T0 + 1 * S, "connection refused")) == [("disconnected", None, None)]
    assert w.connection(False, T0 + 2 * S) == []  # already down: not said twice
    assert w.tick(T0 + 20 * S) == []  # down for 19 s: the gap says so, not a silence
    back = w.connection(True, T0 + 20 * S)
    assert kinds(back) == [("resumed", None, "disconnected")]
    assert back[0].text == "the stream is back after 19s"
    assert w.tick(T0 + 24 * S) == []  # a fresh window from the stream's return
    assert kinds(w.tick(T0 + 25 * S)) == [("silent", "a", None)]


def test_a_stopped_machine_is_stopped_not_silent() -> None:
    w = Watcher(start_ns=T0, silent_after_s=5)
    w.line(ev("a"), T0)
    w.line(ev("b"), T0)
    w.machines({("shop", "b"): "stopped", ("shop", "a"): "started"}, T0)
    for t in range(1, 8):
        w.line(ev("a"), T0 + t * S)
        assert w.tick(T0 + t * S) == []
    assert w.verdict(w.instances[("shop", "b")], T0 + 7 * S) is Verdict.STOPPED


def test_a_started_machine_that_never_logged_is_silent_after_the_window() -> None:
    w = Watcher(start_ns=T0, silent_after_s=5)
    w.machines({("shop", "z"): "started"}, T0)
    assert w.tick(T0 + 4 * S) == []
    assert ("silent", "z", None) in kinds(w.tick(T0 + 5 * S))


def test_a_missed_heartbeat_is_an_alert_even_when_other_lines_flow() -> None:
    w = Watcher(start_ns=T0, silent_after_s=600, heartbeat=re.compile(r"HEARTBEAT"), every_s=10)
    w.line(ev("a", "HEARTBEAT a iad"), T0)
    for t in range(1, 11):
        w.line(ev("a", "busy"), T0 + t * S)
        assert w.tick(T0 + t * S) == []
    assert kinds(w.tick(T0 + 11 * S)) == [("heartbeat_missed", "a", None)]  # 10 s + a tenth of grace
    assert kinds(w.tick(T0 + 12 * S)) == []  # open: never repeated
    assert kinds(w.line(ev("a", "HEARTBEAT a iad"), T0 + 13 * S)) == [("resumed", "a", "heartbeat_missed")]


def test_an_error_burst_opens_over_the_limit_and_closes_under_it() -> None:
    w = Watcher(start_ns=T0, silent_after_s=600, errors_over=3)
    for i in range(4):
        w.line(ev("a", f"boom {i}", "error"), T0 + i * S)
    assert kinds(w.tick(T0 + 4 * S)) == [("error_burst", "a", None)]
    assert kinds(w.tick(T0 + 70 * S)) == [("resumed", "a", "error_burst")]  # the minute has passed


def test_an_app_all_of_whose_instances_are_silent_is_silent_as_a_whole() -> None:
    w = Watcher(start_ns=T0, silent_after_s=5)
    w.line(ev("a"), T0)
    w.line(ev("b"), T0)
    alerts = w.tick(T0 + 5 * S)
    assert sorted(kinds(alerts), key=str) == sorted(
        [("silent", "a", None), ("silent", "b", None), ("silent", None, None)], key=str
    )
    assert ("resumed", None, "silent") in kinds(w.line(ev("a"), T0 + 6 * S))


def test_the_first_connection_is_no_disconnection_and_a_gap_is_reported_once() -> None:
    w = Watcher(start_ns=T0, silent_after_s=5, up=False)  # connecting
    assert w.connection(True, T0) == []
    alerts = w.gap(T0 + 1 * S, T0 + 4 * S, T0 + 5 * S, filled=True)
    assert kinds(alerts) == [("gap", None, None)]
    assert alerts[0].text == "lines from a 3.0s window may be missing (filled from history)"
    assert alerts[0].since_ns == T0 + 1 * S


def test_open_alerts_are_counted_for_the_header() -> None:
    w = Watcher(start_ns=T0, silent_after_s=5)
    w.line(ev("a"), T0)
    w.line(ev("b"), T0)
    w.tick(T0 + 5 * S)  # a, b and the app
    assert w.open_count() == 3
    w.connection(False, T0 + 6 * S)
    assert w.open_count() == 4


def test_machines_bring_region_and_group_and_a_vanished_machine_is_forgotten() -> None:
    w = Watcher(start_ns=T0, silent_after_s=5)
    details = {("shop", "a"): ("iad", "app"), ("shop", "b"): ("ams", "worker")}
    w.machines({("shop", "a"): "started", ("shop", "b"): "started"}, T0, details)
    rows = {r.instance: r for r in w.snapshot(T0)}
    assert (rows["b"].region, rows["b"].group, rows["b"].machine) == ("ams", "worker", "started")
    w.line(ev("b"), T0 + S)
    w.line(ev("a"), T0 + 5 * S)
    assert kinds(w.tick(T0 + 6 * S)) == [("silent", "b", None)]
    alerts = w.machines({("shop", "a"): "started"}, T0 + 7 * S)  # b is gone from the list: destroyed
    assert kinds(alerts) == [("resumed", "b", "silent")] and alerts[0].text == "shop b: the Machine is gone"
    assert ("shop", "b") not in w.instances  # its row goes: deploys do not pile up rows
    assert w.machines({}, T0 + 8 * S, apps=["shop"]) == [] and w.instances == {}  # no Machine left


def test_a_machine_started_again_gets_a_fresh_window_and_stopping_closes_its_alerts() -> None:
    w = Watcher(start_ns=T0, silent_after_s=5)
    w.line(ev("a"), T0)
    assert kinds(w.tick(T0 + 5 * S)) == [("silent", "a", None)]
    assert kinds(w.machines({("shop", "a"): "stopped"}, T0 + 6 * S)) == [("resumed", "a", "silent")]
    assert w.tick(T0 + 30 * S) == []
    w.machines({("shop", "a"): "started"}, T0 + 30 * S)
    assert w.tick(T0 + 34 * S) == []  # counted from its start, not from its last line
    assert kinds(w.tick(T0 + 35 * S)) == [("silent", "a", None)]


def test_the_snapshot_counts_the_last_minute() -> None:
    w = Watcher(start_ns=T0, silent_after_s=600)
    for t in range(90):
        w.line(ev("a", level="error" if t % 10 == 0 else "info"), T0 + t * S)
    row = w.snapshot(T0 + 89 * S)[0]
    assert (row.per_min, row.errors_per_min, row.last_ns) == (61, 6, T0 + 89 * S)
    assert sum(r.per_min for r in w.snapshot(T0 + 89 * S)) == 61  # what the header's rate sums


def test_an_alert_record_names_its_source_and_window() -> None:
    w = Watcher(start_ns=T0, silent_after_s=5)
    w.line(ev("a"), T0)
    (alert,) = w.tick(T0 + 5 * S)
    assert alert.record() == {
        "type": "alert", "kind": "silent", "app": "shop", "region": "iad", "instance": "a",
        "since": "2027-01-15T08:00:00.000Z", "at": "2027-01-15T08:00:05.000Z", "closes": None,
        "text": "shop a: no line for 5.0s", "status": "firing", "instances": None, "fingerprint": None,
        "id": None, "started_at": None, "duration_s": None, "backfilled": None, "repeat": None,
        "restarted": None,
    }  # fmt: skip


def test_the_process_group_comes_from_the_lines_too() -> None:
    w = Watcher(start_ns=T0)
    event = LogEvent("logs.shop.iad.a", b"", "hi", None, "shop", "iad", "a", "info", process_group="worker")
    w.line(event, T0)
    assert w.snapshot(T0)[0].group == "worker"


def test_a_machine_the_api_lists_is_silent_only_on_the_apis_word_given_after_its_silence_fell_due() -> None:
    """Measured before: a Machine that stopped was flagged when --silent-after (10 s) was shorter than
    the 30 s poll, and closed at the next poll, hooks fired for it."""
    w = Watcher(start_ns=T0, silent_after_s=10, machines_every_s=5)
    w.machines({("shop", "a"): "started"}, T0)
    w.line(ev("a"), T0)
    w.machines({("shop", "a"): "started"}, T0 + 5 * S)
    assert w.tick(T0 + 10 * S) == [] and w.tick(T0 + 14 * S) == []  # due, but the API said so before
    assert w.machines({("shop", "a"): "stopped"}, T0 + 15 * S) == []  # it had stopped: no alert at all
    assert w.tick(T0 + 20 * S) == []
    w2 = Watcher(start_ns=T0, silent_after_s=10, machines_every_s=5)
    w2.machines({("shop", "a"): "started"}, T0)
    w2.line(ev("a"), T0)
    w2.machines({("shop", "a"): "started"}, T0 + 10 * S)  # said started once the silence was due
    assert kinds(w2.tick(T0 + 10 * S)) == [("silent", "a", None)]
    # An API that stops answering does not hold the judgement for ever: three rounds.
    w3 = Watcher(start_ns=T0, silent_after_s=10, machines_every_s=5)
    w3.machines({("shop", "a"): "started"}, T0)
    w3.line(ev("a"), T0)
    assert w3.tick(T0 + 14 * S) == []
    assert kinds(w3.tick(T0 + 15 * S)) == [("silent", "a", None)]


def test_a_machine_just_started_is_warming_and_its_silence_counts_from_its_start() -> None:
    w = Watcher(start_ns=T0, silent_after_s=10)
    w.line(ev("a"), T0)
    started = T0 + 20 * S  # its start event (the Machine restarted)
    w.machines({("shop", "a"): "started"}, T0 + 21 * S, {("shop", "a"): ("iad", "app", started, "v1")})
    assert w.verdict(w.instances[("shop", "a")], T0 + 22 * S) is Verdict.WARMING
    assert w.tick(T0 + 29 * S) == []
    assert kinds(w.tick(T0 + 30 * S)) == [("silent", "a", None)]


def test_a_deploy_replacing_machines_is_one_notice_and_their_silence_is_not_alerted() -> None:
    w = Watcher(start_ns=T0, silent_after_s=5)
    for name in ("a", "b"):
        w.line(ev(name), T0)
    details = {("shop", "a"): ("iad", "app", None, "v1"), ("shop", "b"): ("iad", "app", None, "v1")}
    w.machines({("shop", "a"): "started", ("shop", "b"): "started"}, T0, details)
    alerts = w.machines({("shop", "a"): "replacing", ("shop", "b"): "started"}, T0 + S, details)
    assert [(a.kind.value, a.app, a.instance) for a in alerts] == [("deploy", "shop", None)]
    assert alerts[0].text == "shop: a deploy is going on (1 Machine(s) being replaced)"
    w.line(ev("b"), T0 + 6 * S)
    assert w.tick(T0 + 6 * S) == []  # a, silent for 6 s, is being replaced: not alerted
    assert w.verdict(w.instances[("shop", "a")], T0 + 6 * S) is Verdict.REPLACING
    details[("shop", "a")] = ("iad", "app", None, "v2")  # back, as a new version: a fresh window
    alerts = w.machines({("shop", "a"): "started", ("shop", "b"): "started"}, T0 + 7 * S, details)
    assert alerts == []  # still going on (a new version this round): said once already
    alerts = w.machines({("shop", "a"): "started", ("shop", "b"): "started"}, T0 + 8 * S, details)
    assert [(a.kind.value, a.closes) for a in alerts] == [("resumed", AlertKind.DEPLOY)]
    assert alerts[0].text == "shop: the deploy has settled"
    w.line(ev("b"), T0 + 11 * S)
    assert w.tick(T0 + 11 * S) == []  # a's window runs from its new version (T0 + 7 s)
    assert kinds(w.tick(T0 + 12 * S)) == [("silent", "a", None)]


def test_while_a_gaps_backfill_is_pending_no_silence_is_judged_and_recovered_lines_count_as_heard() -> None:
    w = Watcher(start_ns=T0, silent_after_s=5)
    w.line(ev("a"), T0)
    w.held = True  # a gap closed at T0 + 2 s; its backfill is reading the window
    assert w.tick(T0 + 6 * S) == []
    w.heard(ev("a"), T0 + 3 * S)  # the backfill found a line of a's, written at T0 + 3 s
    w.held = False
    assert w.tick(T0 + 7 * S) == []  # silence counts from that line
    assert kinds(w.tick(T0 + 8 * S)) == [("silent", "a", None)]
