"""Alerts a person can trust, end to end: a real nats-server, a fleet logging into it, `flylogs watch`
as a process with a real `--on-alert` command, a fake healthchecks.io for `--ping-url`."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from flylogs.demo.server import NatsServer
from tests.fakes.fleet import Fleet
from tests.fakes.ping import FakePings
from tests.helpers import wait_for

pytestmark = pytest.mark.slow


def watch(server: NatsServer, alerts: Path, *args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "flylogs", "watch", "shop", "--server", server.url, "--output", "plain",
         "--no-machines", "--on-alert", f"cat >> {alerts}", *args],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=dict(os.environ),
    )  # fmt: skip


def told(path: Path) -> list[dict[str, Any]]:
    return [json.loads(x) for x in path.read_text().splitlines()] if path.exists() else []


def stop(proc: subprocess.Popen[bytes]) -> str:
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=20)
    return err.decode()


def test_a_flapping_instance_raises_a_handful_of_notifications_one_of_them_flapping(
    nats_server: NatsServer, tmp_path: Path
) -> None:
    """A line every 3.5 s against --silent-after 3s: silent, resumed, over and over, forever, before."""
    alerts = tmp_path / "alerts.ndjson"
    fleet = Fleet(nats_server, ["f1", "a1"])
    fleet.every["f1"] = 3.5
    proc = watch(nats_server, alerts, "--silent-after", "3s", "--flap-window", "1m")
    try:
        wait_for(lambda: any(a["kind"] == "flapping" for a in told(alerts)), timeout=40, what="flapping")
        flapping_at = time.monotonic()
        wait_for(lambda: time.monotonic() - flapping_at > 8, what="8 s more of flapping")  # 2 more rounds
        err = stop(proc)
    finally:
        fleet.stop()
        proc.kill()
    kinds = [(a["kind"], a["instance"]) for a in told(alerts)]
    assert len(kinds) <= 5 and kinds.count(("flapping", "f1")) == 1, kinds
    assert kinds[-1] == ("flapping", "f1"), kinds  # and nothing of f1 after it
    [flap] = [a for a in told(alerts) if a["kind"] == "flapping"]
    assert flap["status"] == "firing" and flap["fingerprint"] and "opened 3 times in 1m" in flap["text"]
    assert "Traceback" not in err


def test_instances_of_one_region_going_quiet_together_are_one_notification(
    nats_server: NatsServer, tmp_path: Path
) -> None:
    alerts = tmp_path / "alerts.ndjson"
    fleet = Fleet(nats_server, ["a1", "b2", "c3", "d4"])
    proc = watch(nats_server, alerts, "--silent-after", "2s", "--group-wait", "3s")
    try:
        wait_for(lambda: nats_server.subscription_count() >= 1, what="the subscription")
        fleet.settled(("a1", "b2", "c3", "d4"))
        fleet.quiet |= {"b2", "c3", "d4"}
        wait_for(lambda: told(alerts), timeout=15, what="the notification")
        fleet.quiet.clear()
        wait_for(lambda: len(told(alerts)) >= 2, timeout=15, what="the resolve")
        err = stop(proc)
    finally:
        fleet.stop()
        proc.kill()
    first, resolved = told(alerts)
    assert first["text"] == "3 of 4 shop instances in iad silent: b2, c3, d4", first
    assert first["instances"] == ["b2", "c3", "d4"] and first["instance"] is None
    assert resolved["status"] == "resolved" and resolved["text"] == "shop in iad: all 3 logging again"
    assert resolved["fingerprint"] == first["fingerprint"] and resolved["id"] == first["id"]
    assert resolved["duration_s"] > 0
    assert "flylogs: --on-alert: 2 delivered, 0 failed, 0 dropped" in err  # every delivery counted
    assert "Traceback" not in err


def test_a_restarted_watcher_tells_no_second_silent_and_exactly_one_resumed(
    nats_server: NatsServer, tmp_path: Path
) -> None:
    alerts, state = tmp_path / "alerts.ndjson", tmp_path / "state.json"
    fleet = Fleet(nats_server, ["a1", "c3"])
    args = ("--silent-after", "2s", "--group-wait", "0", "--state", str(state))
    first = watch(nats_server, alerts, *args)
    try:
        wait_for(lambda: nats_server.subscription_count() >= 1, what="the subscription")
        fleet.settled(("a1", "c3"))
        fleet.quiet.add("c3")
        wait_for(lambda: told(alerts), timeout=15, what="the silence")
        first.send_signal(signal.SIGTERM)  # killed with the alert open
        first.communicate(timeout=20)
        assert json.loads(state.read_text())["notifier"], "the open alert was kept"
        second = watch(nats_server, alerts, *args)
        try:
            wait_for(lambda: nats_server.subscription_count() >= 1, what="the new subscription")
            fleet.settled(("a1",), lines=25)  # 5 s: over twice --silent-after, c3 still quiet
            fleet.quiet.discard("c3")
            wait_for(lambda: len(told(alerts)) >= 2, timeout=15, what="the resume")
            fleet.settled(("a1", "c3"), lines=5)  # a second more: nothing else is told
            err = stop(second)
        finally:
            second.kill()
    finally:
        fleet.stop()
        first.kill()
    kinds = [(a["kind"], a["instance"]) for a in told(alerts)]
    assert kinds == [("silent", "c3"), ("resumed", "c3")], kinds
    silent, resumed = told(alerts)
    assert resumed["restarted"] is True and resumed["id"] == silent["id"]
    assert resumed["duration_s"] >= 5
    assert "Traceback" not in err


def test_the_watcher_pings_a_dead_mans_switch_and_says_fail_once_when_its_stream_is_down(
    nats_server: NatsServer, tmp_path: Path
) -> None:
    alerts = tmp_path / "alerts.ndjson"
    fleet = Fleet(nats_server, ["a1"])
    with FakePings() as pings:
        proc = watch(
            nats_server, alerts, "--silent-after", "3s", "--ping-url", pings.url, "--ping-every", "1s"
        )
        try:
            wait_for(lambda: pings.kinds().count("ok") >= 3, timeout=15, what="regular pings")
            nats_server.kill()
            down_at = time.monotonic()
            wait_for(lambda: "fail" in pings.kinds(), timeout=15, what="the /fail")
            failed_after = time.monotonic() - down_at
            wait_for(lambda: time.monotonic() - down_at >= 10, timeout=15, what="a 10 s outage")
            nats_server.start()
            back = len(pings.pings)
            wait_for(lambda: pings.kinds()[back:].count("ok") >= 2, timeout=20, what="pings again")
            err = stop(proc)
        finally:
            fleet.stop()
            proc.kill()
        during = [kind for at, kind in pings.pings if down_at < at]
    assert during.count("fail") == 1 and during.index("fail") < during.index("ok"), during
    assert 3.0 <= failed_after <= 6.0, failed_after
    assert pings.uuid not in err  # the URL is a secret
    assert "Traceback" not in err


def test_a_machine_that_stops_is_never_flagged_silent_even_with_a_short_silent_after(
    nats_server: NatsServer, tmp_path: Path
) -> None:
    """Measured before: with --silent-after 10s a Machine that stopped was flagged silent (its state
    was up to 30 s old), closed at the next poll, hooks fired for it."""
    from tests.fakes.machines import FakeMachinesApi

    token = "fm2_machines-token"
    alerts = tmp_path / "alerts.ndjson"
    machines = {"shop": {"a1": ("iad", "started"), "s1": ("iad", "started")}}
    fleet = Fleet(nats_server, ["a1", "s1"])
    with FakeMachinesApi({"shop": ("personal", "")}, token, machines) as api:
        env = {**os.environ, "FLY_FLAPS_BASE_URL": api.url, "FLY_API_TOKEN": token}
        proc = subprocess.Popen(
            [sys.executable, "-m", "flylogs", "watch", "shop", "--server", nats_server.url,
             "--output", "plain", "--silent-after", "3s", "--group-wait", "0",
             "--on-alert", f"cat >> {alerts}"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env,
        )  # fmt: skip
        try:
            wait_for(lambda: nats_server.subscription_count() >= 1, what="the subscription")
            fleet.settled(("a1", "s1"))
            fleet.quiet.add("s1")  # it stops: no more lines, and the API says so
            api.machines["shop"]["s1"] = ("iad", "stopped")
            quiet_at = time.monotonic()
            # Silence falls due at 3 s; the API, asked every 2 s, says stopped by then. Watched for
            # 3 s past that: a false alert would come at the due moment.
            fleet.settled(("a1",), lines=30)
            assert time.monotonic() - quiet_at >= 6
            api.machines["shop"]["z0"] = ("iad", "started")  # started, never logs: that one is silent
            wait_for(lambda: told(alerts), timeout=20, what="the silent Machine's alert")
            err = stop(proc)
        finally:
            fleet.stop()
            proc.kill()
    assert [(a["kind"], a["instance"]) for a in told(alerts)] == [("silent", "z0")], err


def test_the_demos_watch_keeps_no_state_between_runs(tmp_path: Path) -> None:
    """A new synthetic fleet each run: a state kept from the last would show its instances, silent."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "flylogs", "demo", "--watch", "--json"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=dict(os.environ),
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        first = json.loads(proc.stdout.readline())  # running: the first record is out
        err = stop(proc)
    finally:
        proc.kill()
    assert first["type"] in ("status", "alert", "instances"), first
    home = Path(os.environ["HOME"])
    assert not (home / ".local" / "state").exists(), list((home / ".local" / "state").rglob("*"))
    assert "Traceback" not in err
