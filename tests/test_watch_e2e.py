"""`flylogs watch` and `flylogs check` as a user runs them: a real process, a real nats-server that
is killed and restarted, a fleet of three instances one of which stops logging, a real shell hook,
and a fake Machines API (from the shared doc). Thresholds are seconds, not minutes."""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from flylogs.demo.server import NatsServer
from tests.fakes.fleet import Fleet
from tests.fakes.machines import FakeMachinesApi
from tests.helpers import wait_for

TOKEN = "fm2_watch-token"

pytestmark = pytest.mark.slow  # real processes and terminals: the full suite only


def spawn(*args: str, env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "flylogs", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, **(env or {})},
    )


def records(path: Path) -> list[dict[str, Any]]:
    return [json.loads(x) for x in path.read_text().splitlines()] if path.exists() else []


def kinds(path: Path) -> list[tuple[str, str | None, str | None]]:
    return [(r["kind"], r["instance"], r["closes"]) for r in records(path)]


def test_one_silent_instance_one_alert_one_resume_and_none_for_a_disconnect(
    nats_server: NatsServer, tmp_path: Path
) -> None:
    alerts = tmp_path / "alerts.ndjson"
    proc = spawn(
        "watch", "shop", "--server", nats_server.url, "--silent-after", "3s", "--group-wait", "0",
        "--output", "json", "--on-alert", f"cat >> {alerts}",
    )  # fmt: skip
    fleet = Fleet(nats_server, ["a1", "b2", "c3"])
    try:
        wait_for(lambda: nats_server.subscription_count() >= 1, what="the subscription")
        fleet.settled(("a1", "b2", "c3"))
        fleet.quiet.add("c3")
        stopped = time.monotonic()
        wait_for(lambda: kinds(alerts), timeout=15, what="an alert")
        detected = time.monotonic() - stopped
        assert kinds(alerts) == [("silent", "c3", None)]
        silent = records(alerts)[0]
        assert silent["app"] == "shop" and silent["region"] == "iad"
        assert silent["text"].startswith("shop c3: no line for 3.")
        assert 3.0 <= detected <= 5.0, detected
        fleet.quiet.discard("c3")
        wait_for(lambda: len(kinds(alerts)) == 2, what="the resume")
        assert kinds(alerts)[1] == ("resumed", "c3", "silent")

        # The stream goes down for longer than --silent-after: that is the gap's to say, not a silence.
        nats_server.kill()
        wait_for(lambda: len(kinds(alerts)) == 3, what="the disconnection")
        assert kinds(alerts)[2] == ("disconnected", None, None)
        time.sleep(4)  # down for longer than --silent-after: the point of the test, not a guess
        nats_server.start()
        wait_for(lambda: ("gap", None, None) in kinds(alerts), timeout=20, what="the gap")
        wait_for(lambda: len(fleet.last) == 3 and time.monotonic() - min(fleet.last.values()) < 1)
        # An absence can only be watched for: a false silence would come at the first ticks after
        # the return (every last line is over 4 s old by then), so a second of them is watched.
        time.sleep(1)
        assert sorted(kinds(alerts)[3:], key=str) == [("gap", None, None), ("resumed", None, "disconnected")]
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=20)
    finally:
        fleet.stop()
        proc.kill()
    assert proc.returncode == 130, err
    stdout_alerts = [r for r in map(json.loads, out.decode().splitlines()) if r["type"] == "alert"]
    assert [(r["kind"], r["instance"]) for r in stdout_alerts] == [
        (r["kind"], r["instance"]) for r in records(alerts)
    ]
    assert b"flylogs: alert " in err and b"Traceback" not in err
    assert err.decode().strip().splitlines()[-1].endswith("0 alert(s) open at exit")


def test_a_stopped_machine_is_not_flagged_and_a_started_one_that_never_logs_is(
    nats_server: NatsServer, tmp_path: Path
) -> None:
    machines = {"shop": {"a1": ("iad", "started"), "s9": ("iad", "stopped"), "z0": ("ams", "started")}}
    with FakeMachinesApi({"shop": ("personal", "")}, TOKEN, machines) as api:
        env = {"FLY_FLAPS_BASE_URL": api.url, "FLY_API_TOKEN": TOKEN}
        proc = spawn(
            "watch",
            "shop",
            "--server",
            nats_server.url,
            "--silent-after",
            "2s",
            "--group-wait",
            "0",
            "--json",
            env=env,
        )
        fleet = Fleet(nats_server, ["a1"])
        try:
            assert proc.stdout is not None
            seen: list[dict[str, Any]] = []
            deadline = time.monotonic() + 20
            while not any(r.get("kind") == "silent" for r in seen):
                assert time.monotonic() < deadline, seen
                seen.append(json.loads(proc.stdout.readline()))
            # An absence can only be watched for: s9 was known at the same poll as z0, so a false
            # alert would have come with z0's; a second more of ticks is watched to be sure.
            time.sleep(1)
            proc.send_signal(signal.SIGINT)
            out, err = proc.communicate(timeout=20)
        finally:
            fleet.stop()
            proc.kill()
    seen += [json.loads(x) for x in out.decode().splitlines()]
    flagged = [(r["kind"], r["instance"]) for r in seen if r["type"] == "alert"]
    assert flagged == [("silent", "z0")], err
    (last,) = [r for r in seen if r["type"] == "instances"][-1:]
    rows = {r["instance"]: (r["machine"], r["verdict"], r["region"]) for r in last["instances"]}
    assert rows == {
        "a1": ("started", "ok", "iad"),
        "s9": ("stopped", "stopped", "iad"),
        "z0": ("started", "silent", "ams"),
    }
    assert any(path.endswith("/machines") for path, _ in api.requests)
    assert TOKEN.encode() not in out + err


@pytest.mark.parametrize("term", ["xterm", "xterm-256color"])
def test_the_live_view_in_a_real_terminal_at_80_then_200_columns(nats_server: NatsServer, term: str) -> None:
    from tests.terminal import SGR, Terminal

    screen = Terminal("watch", "shop", "--server", nats_server.url, "--silent-after", "2s", term=term)
    fleet = Fleet(nats_server, ["a1", "b2"])
    try:
        screen.until(rb"\x1b\[\?1049h")  # the alternate screen: the user's scrollback is left alone
        screen.until(rb"flylogs watch  NATS connected  0 alerts open  2 instances")
        fleet.quiet.add("b2")
        # One whole frame with the alert: a frame may be read half written, so wait for its rows.
        whole = rb"(?s)flylogs watch  NATS connected  1 alert open.*?silent\s+shop\s+iad\s+b2\s+\d+s"
        screen.until(whole)
        found = re.findall(whole, SGR.sub(b"", screen.seen))
        frame = found[-1].decode(errors="replace")
        assert "VERDICT  APP   REGION  INSTANCE  LAST  /MIN  WARN  ERR" in frame
        assert re.search(r"silent\s+shop\s+iad\s+b2\s+\d+s", frame), frame
        assert "! " in frame and "shop b2: no line for 2." in frame  # the banner
        assert "GROUP" not in frame  # 80 columns: the essentials only
        screen.resize(200)
        screen.until(rb"VERDICT  APP   REGION  INSTANCE  GROUP  MACHINE  LAST  LINES/M  WARN/M  ERR/M")
        fleet.quiet.discard("b2")
        screen.until(rb"resumed \(silent\) +shop b2: logging again")  # at the foot of the view
        assert b"\x1b[" in screen.seen  # coloured
        if term == "xterm":
            assert b"38;5;" not in screen.seen  # 16 colours where the terminal says no more
        screen.interrupt()
        screen.until(rb"alert\(s\) open at exit")
    finally:
        fleet.stop()
        code = screen.close()
    assert code == 130
    tail = SGR.sub(b"", screen.seen.rsplit(b"\x1b[?1049l", 1)[1]).decode(errors="replace")
    assert re.search(r"flylogs: alert \d\d:\d\d:\d\d silent +shop b2: no line for 2\.", tail), tail
    assert re.search(r"flylogs: alert \d\d:\d\d:\d\d resumed \(silent\) +shop b2: logging again", tail)
    assert "interrupted after" in tail and "Traceback" not in tail


def test_a_missed_heartbeat_alerts_while_other_lines_flow_and_resumes_with_the_beat(
    nats_server: NatsServer, tmp_path: Path
) -> None:
    alerts = tmp_path / "alerts.ndjson"
    proc = spawn(
        "watch", "shop", "--server", nats_server.url, "--heartbeat", "^HEARTBEAT ", "--every", "2s",
        "--on-alert", f"cat >> {alerts}",
    )  # fmt: skip
    fleet = Fleet(nats_server, ["a1", "b2"])
    try:
        wait_for(lambda: len(fleet.last) == 2, what="two instances logging")
        fleet.busy.add("b2")
        wait_for(lambda: kinds(alerts), timeout=15, what="an alert")
        assert kinds(alerts) == [("heartbeat_missed", "b2", None)]
        fleet.busy.discard("b2")
        wait_for(lambda: len(kinds(alerts)) == 2, what="the beat again")
        assert kinds(alerts)[1] == ("resumed", "b2", "heartbeat_missed")
        assert records(alerts)[1]["text"] == "shop b2: its heartbeat is back"
    finally:
        fleet.stop()
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=20)


def full_pipe() -> tuple[int, int]:
    """A pipe whose buffer is already full and whose read end nobody reads: the next write blocks."""
    read_end, write_end = os.pipe()
    os.set_blocking(write_end, False)
    with contextlib.suppress(BlockingIOError):
        while True:
            os.write(write_end, b"x" * 4096)
    os.set_blocking(write_end, True)
    return read_end, write_end


@pytest.mark.parametrize("output", ["json", "plain"])
def test_a_stdout_nobody_reads_never_silences_an_alert_or_a_signal(
    nats_server: NatsServer, tmp_path: Path, output: str
) -> None:
    """`flylogs watch --output json | (sleep 600)`: the reader never reads and the pipe is full; the
    alert still reaches the hook in the usual time, and SIGTERM still ends watch within 3 s."""
    alerts = tmp_path / "alerts.ndjson"
    read_end, write_end = full_pipe()
    proc = subprocess.Popen(
        [sys.executable, "-m", "flylogs", "watch", "shop", "--server", nats_server.url,
         "--silent-after", "3s", "--group-wait", "0", "--output", output, "--on-alert", f"cat >> {alerts}"],
        stdout=write_end, stderr=subprocess.PIPE, env=dict(os.environ),
    )  # fmt: skip
    os.close(write_end)
    fleet = Fleet(nats_server, ["a1", "b2", "c3"])
    try:
        wait_for(lambda: nats_server.subscription_count() >= 1, what="the subscription")
        fleet.settled(("a1", "b2", "c3"))
        fleet.quiet.add("c3")
        stopped = time.monotonic()
        wait_for(lambda: kinds(alerts), timeout=15, what="an alert")
        assert kinds(alerts) == [("silent", "c3", None)]
        assert time.monotonic() - stopped <= 5.0
        proc.send_signal(signal.SIGTERM)
        started = time.monotonic()
        proc.wait(timeout=10)
        assert time.monotonic() - started <= 3.0
        assert proc.returncode == 143
    finally:
        fleet.stop()
        if proc.poll() is None:
            proc.kill()
        proc.communicate()
        os.close(read_end)


def test_check_and_tail_with_a_stdout_nobody_reads_still_end_and_say_by_exit_code(
    nats_server: NatsServer,
) -> None:
    """`check --listen` needs no stdout for its verdict: the exit code says it even when the report
    cannot be written; `tail` ends on SIGTERM within 3 s with its output stuck."""
    read_end, write_end = full_pipe()
    try:
        fleet = Fleet(nats_server, ["a1"])
        check = subprocess.Popen(
            [sys.executable, "-m", "flylogs", "check", "shop", "--server", nats_server.url,
             "--listen", "--within", "2s"],
            stdout=write_end, stderr=subprocess.PIPE, env=dict(os.environ),
        )  # fmt: skip
        tail = subprocess.Popen(
            [sys.executable, "-m", "flylogs", "tail", "shop", "--server", nats_server.url,
             "--output", "plain"],
            stdout=write_end, stderr=subprocess.PIPE, env=dict(os.environ),
        )  # fmt: skip
        try:
            _, err = check.communicate(timeout=20)
            assert check.returncode == 0, err  # a1 logged within the window
            wait_for(lambda: nats_server.subscription_count() >= 1, what="the tail's subscription")
            sent = fleet.sent["a1"]
            wait_for(lambda: fleet.sent["a1"] >= sent + 3, what="lines for the tail's stuck stdout")
            tail.send_signal(signal.SIGTERM)
            started = time.monotonic()
            tail.communicate(timeout=10)
            assert time.monotonic() - started <= 3.0 and tail.returncode == 143
        finally:
            fleet.stop()
            for proc in (check, tail):
                if proc.poll() is None:
                    proc.kill()
                    proc.communicate()
    finally:
        os.close(write_end)
        os.close(read_end)


def test_a_watcher_run_as_a_service_is_configured_by_environment_and_file(
    nats_server: NatsServer, tmp_path: Path
) -> None:
    """FLYLOGS_SILENT_AFTER and a config file's `on-alert`: no flag at all."""
    alerts = tmp_path / "alerts.ndjson"
    config = tmp_path / "flylogs.toml"
    config.write_text(f'on-alert = "cat >> {alerts}"\nmachines = false\ngroup-wait = "0s"\n')
    env = {"FLYLOGS_SILENT_AFTER": "2s", "FLYLOGS_CONFIG": str(config)}
    proc = spawn("watch", "shop", "--server", nats_server.url, "--output", "plain", env=env)
    fleet = Fleet(nats_server, ["a1", "b2"])
    try:
        wait_for(lambda: nats_server.subscription_count() >= 1, what="the subscription")
        fleet.settled(("a1", "b2"))
        fleet.quiet.add("b2")
        stopped = time.monotonic()
        wait_for(lambda: kinds(alerts), timeout=15, what="an alert")
        assert kinds(alerts) == [("silent", "b2", None)]
        assert records(alerts)[0]["text"].startswith("shop b2: no line for 2.")
        assert time.monotonic() - stopped <= 4.0
    finally:
        fleet.stop()
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=20)
