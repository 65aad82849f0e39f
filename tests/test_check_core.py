"""`flylogs check`'s judgement, fed with lines and times: who should be logging, and did they."""

from __future__ import annotations

import re

from flylogs.core.check import judge
from flylogs.model import LogEvent

S = 1_000_000_000
T0 = 1_800_000_000 * S
START, END = T0 + 600 * S, T0 + 1200 * S  # a 10-minute window after 10 minutes of lookback


def ev(instance: str, message: str = "hello", app: str = "shop") -> LogEvent:
    return LogEvent(f"logs.{app}.iad.{instance}", b"", message, None, app, "iad", instance, "info")


def verdicts(report) -> dict[tuple[str, str | None], str]:  # type: ignore[no-untyped-def]
    return {(r.app, r.instance): r.verdict.value for r in report.rows}


def test_an_instance_seen_before_the_window_and_not_in_it_is_silent() -> None:
    lines = [(ev("a"), T0 + 100 * S), (ev("a"), START + 5 * S), (ev("b"), T0 + 200 * S)]
    report = judge(lines, apps=["shop"], start_ns=START, end_ns=END)
    assert verdicts(report) == {("shop", "a"): "ok", ("shop", "b"): "silent"}
    assert not report.ok
    assert [(r.instance, r.why) for r in report.silent] == [("b", "no line within the window")]
    assert report.rows[0].instance == "b"  # trouble first


def test_everyone_logging_is_ok() -> None:
    report = judge([(ev("a"), START + 1), (ev("b"), END)], apps=["shop"], start_ns=START, end_ns=END)
    assert report.ok and verdicts(report) == {("shop", "a"): "ok", ("shop", "b"): "ok"}


def test_the_machines_api_says_who_should_be_logging() -> None:
    machines = {("shop", "a"): "started", ("shop", "b"): "stopped", ("shop", "c"): "started"}
    lines = [(ev("a"), START + S), (ev("old"), T0)]  # "old" is gone from the API: not expected
    report = judge(lines, apps=["shop"], start_ns=START, end_ns=END, machines=machines)
    assert verdicts(report) == {("shop", "a"): "ok", ("shop", "b"): "stopped", ("shop", "c"): "silent"}
    assert report.rows[0].machine == "started"


def test_with_a_heartbeat_only_a_beat_counts() -> None:
    beat = re.compile("HEARTBEAT")
    lines = [(ev("a", "HEARTBEAT a iad"), START + S), (ev("b", "busy"), START + S)]
    report = judge(lines, apps=["shop"], start_ns=START, end_ns=END, heartbeat=beat)
    assert verdicts(report) == {("shop", "a"): "ok", ("shop", "b"): "silent"}
    assert report.silent[0].why == "no heartbeat within the window"


def test_an_app_with_nothing_read_is_silent_unless_the_api_says_nothing_runs() -> None:
    assert verdicts(judge([], apps=["shop"], start_ns=START, end_ns=END)) == {("shop", None): "silent"}
    report = judge([], apps=["shop"], start_ns=START, end_ns=END, machines={})
    assert report.ok and report.rows[0].why == "no started Machine: nothing should be logging"
