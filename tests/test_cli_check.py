"""`flylogs check`: exit 0 when every instance that should be logging did within the window, else 7;
from Fly's logs API (a fake), or by listening to a real nats-server, with a fake Machines API."""

from __future__ import annotations

import json
import time

import pytest
from typer.testing import CliRunner

from flylogs.cli import app
from flylogs.demo.server import NatsServer
from tests.fakes.fleet import Fleet
from tests.fakes.flyapi import FakeFlyApi, entry
from tests.fakes.machines import FakeMachinesApi

TOKEN = "fm2_check-token"
S = 1_000_000_000


def invoke(*args: str, machines: FakeMachinesApi | None = None) -> tuple[int, str, str]:
    env = {"FLY_API_TOKEN": TOKEN, "FLY_FLAPS_BASE_URL": machines.url if machines else "http://127.0.0.1:9"}
    result = CliRunner().invoke(app, ["check", *args], env=env)
    assert TOKEN not in result.stdout + result.stderr
    return result.exit_code, result.stdout, result.stderr


def test_an_instance_quiet_for_the_window_fails_the_check_with_exit_7() -> None:
    now = time.time_ns()
    with FakeFlyApi(TOKEN) as logs:
        logs.entries = [
            entry(now - 900 * S, "last words", instance="m2"),  # 15 minutes ago: before the window
            entry(now - 30 * S, "still here", instance="m1"),
        ]
        code, out, err = invoke("shop", "--within", "10m", "--api-url", logs.url, "--transport", "nats")
    assert code == 7, err
    lines = out.splitlines()
    assert lines[0] == "flylogs check: 1 silent within 10m (2 instance(s); read from Fly's logs API)"
    assert lines[1].split()[:4] == ["silent", "shop", "iad", "m2"]
    assert lines[1].endswith("last line 15m     no line within the window")
    assert lines[2].split()[:4] == ["ok", "shop", "iad", "m1"]
    assert "could not look up the org" in err  # (no Machines API here: said, and checked anyway)


def test_every_instance_logging_passes_and_json_says_so() -> None:
    now = time.time_ns()
    with FakeFlyApi(TOKEN) as logs:
        logs.entries = [entry(now - 60 * S, "a", instance="m1"), entry(now - 5 * S, "b", instance="m2")]
        code, out, err = invoke("shop", "--within", "10m", "--api-url", logs.url, "--json")
    assert code == 0, err
    document = json.loads(out)
    assert document["ok"] is True and document["silent"] == []
    assert [(r["instance"], r["verdict"]) for r in document["instances"]] == [("m1", "ok"), ("m2", "ok")]
    assert document["source"] == "Fly's logs API" and document["within_s"] == 600


@pytest.mark.parametrize("ahead_s", [300, -300], ids=["fly-5m-ahead", "fly-5m-behind"])
def test_the_window_is_judged_by_flys_clock_when_this_one_is_off(ahead_s: int) -> None:
    """m1 logged 20 s ago and m2 90 s ago, by Fly's clock; the window is a minute. Judged by this
    clock 5 minutes off, both were silent (Fly ahead: the window ended before their lines) or both
    fine (Fly behind: the window reached back over m2's silence)."""
    with FakeFlyApi(TOKEN) as logs:
        logs.ahead_ns = ahead_s * S
        fly_now = time.time_ns() + logs.ahead_ns
        logs.entries = [
            entry(fly_now - 90 * S, "a", instance="m2"),
            entry(fly_now - 20 * S, "b", instance="m1"),
        ]
        code, out, err = invoke("shop", "--within", "1m", "--api-url", logs.url, "--json")
    assert code == 7, err
    document = json.loads(out)
    assert [(r["instance"], r["verdict"]) for r in document["instances"]] == [("m2", "silent"), ("m1", "ok")]


def test_the_machines_api_decides_who_should_be_logging() -> None:
    now = time.time_ns()
    machines = {"shop": {"m1": ("iad", "started"), "m3": ("ams", "started"), "m4": ("iad", "stopped")}}
    with FakeFlyApi(TOKEN) as logs, FakeMachinesApi({"shop": ("personal", "")}, TOKEN, machines) as api:
        logs.entries = [entry(now - 60 * S, "a", instance="m1")]
        code, out, err = invoke("shop", "--within", "10m", "--api-url", logs.url, "--json", machines=api)
    assert code == 7, err
    document = json.loads(out)
    assert [(r["instance"], r["verdict"]) for r in document["instances"]] == [
        ("m3", "silent"), ("m4", "stopped"), ("m1", "ok"),
    ]  # fmt: skip
    assert document["machines_api"] is True


def test_with_a_heartbeat_only_beats_count() -> None:
    now = time.time_ns()
    with FakeFlyApi(TOKEN) as logs:
        logs.entries = [
            entry(now - 60 * S, "HEARTBEAT m1 iad", instance="m1"),
            entry(now - 5 * S, "busy, but no beat", instance="m2"),
        ]
        code, out, _ = invoke("shop", "--within", "10m", "--api-url", logs.url, "--heartbeat", "HEARTBEAT")
    assert code == 7
    assert "no heartbeat within the window" in out and " m2 " in out


@pytest.mark.slow
@pytest.mark.slow
def test_with_no_history_it_listens_for_the_window(nats_server: NatsServer) -> None:
    machines = {"shop": {"a1": ("iad", "started")}}
    with FakeMachinesApi({"shop": ("personal", "")}, TOKEN, machines) as api:
        fleet = Fleet(nats_server, ["a1"])
        try:
            code, out, err = invoke(
                "shop", "--server", nats_server.url, "--within", "2s", "--listen", machines=api
            )
            assert code == 0, err
            assert "no history source: listening for 2 s" in err
            assert out.startswith("flylogs check: all logging within 2s (1 instance(s); read from listening)")
            api.machines["shop"]["z9"] = ("ams", "started")  # started, and never logs
            code, out, err = invoke(
                "shop", "--server", nats_server.url, "--within", "2s", "--listen", machines=api
            )
        finally:
            fleet.stop()
    assert code == 7, err
    assert [ln.split()[:4] for ln in out.splitlines()[1:]] == [
        ["silent", "shop", "ams", "z9"], ["ok", "shop", "iad", "a1"],
    ]  # fmt: skip


def test_check_needs_the_apps() -> None:
    code, _, err = invoke("--within", "10m")
    assert code == 2
    assert "check needs the apps to check" in err


@pytest.mark.slow
def test_an_unreachable_logs_api_is_exit_5_with_a_way_out() -> None:
    code, out, err = invoke("shop", "--within", "10m", "--api-url", "http://127.0.0.1:9")
    assert code == 5 and out == ""
    assert "flylogs: error: cannot read the history: the logs API is unreachable" in err
    assert "--listen to listen to the stream for the window instead" in err


def test_check_beats_counts_the_canarys_beats_and_fails_on_a_loss() -> None:
    from flylogs.beats import beat_line

    now = time.time_ns()
    with FakeFlyApi(TOKEN) as logs:
        for seq in range(30):  # a beat a minute for the last half hour, from two Machines
            at = now - (30 - seq) * 60 * S
            if seq not in (5, 6):
                logs.entries.append(entry(at, beat_line(seq, at, "bootA"), instance="m1"))
            logs.entries.append(entry(at, beat_line(seq, at, "bootB"), instance="m2"))
        logs.entries.append(
            entry(now - 10 * S, beat_line(8, now - 22 * 60 * S, "bootA"), instance="m1")
        )  # 8 again
        code, out, err = invoke("shop", "--within", "1h", "--beats", "--api-url", logs.url)
        json_code, json_out, _ = invoke("shop", "--within", "1h", "--beats", "--api-url", logs.url, "--json")
    assert code == 7 == json_code, err
    beats = [line for line in out.splitlines() if line.startswith("beats ")]
    assert beats[0].split()[:5] == ["beats", "lost", "shop", "iad", "m1"], beats
    assert beats[0].endswith("28 received, 2 lost, 1 duplicated, 0 reordered, 0 unknown")
    assert beats[1].split()[:2] == ["beats", "ok"] and "30 received, 0 lost" in beats[1]
    document = json.loads(json_out)
    assert document["ok"] is False and document["silent"] == []  # both log: only beats were lost
    assert {r["instance"]: r["lost"] for r in document["beats"]} == {"m1": 2, "m2": 0}


def test_check_with_a_process_group_judges_only_the_machines_of_that_group() -> None:
    now = time.time_ns()
    worker = {"fly_platform_version": "v2", "fly_process_group": "worker"}
    machines = {"shop": {"m1": ("iad", "started"), "w1": ("iad", "started", worker)}}
    with FakeFlyApi(TOKEN) as logs, FakeMachinesApi({"shop": ("personal", "")}, TOKEN, machines) as api:
        logs.entries = [entry(now - 60 * S, "a", instance="w1")]  # the worker logs; m1 (app) does not
        code, out, err = invoke(
            "shop", "--within", "10m", "--api-url", logs.url, "--json", "-p", "worker", machines=api
        )
        all_code, _, _ = invoke("shop", "--within", "10m", "--api-url", logs.url, "--json", machines=api)
    assert code == 0, (out, err)
    assert [(r["instance"], r["verdict"]) for r in json.loads(out)["instances"]] == [("w1", "ok")]
    assert all_code == 7  # without it, m1 (the app group) is silent
