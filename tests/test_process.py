"""The real `flylogs` process: signals, pipes, and what a shell user sees."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from flylogs.natsserver import NatsServer
from tests.conftest import CASES, publish_when_subscribed, wait_for


def spawn(*args: str, stdout: int | None = subprocess.PIPE) -> subprocess.Popen[bytes]:
    env = dict(os.environ)
    return subprocess.Popen(
        [sys.executable, "-m", "flylogs", *args], stdout=stdout, stderr=subprocess.PIPE, env=env
    )


def read_stderr_until(proc: subprocess.Popen[bytes], needle: bytes, timeout: float = 15) -> bytes:
    assert proc.stderr is not None
    seen = b""
    deadline = time.monotonic() + timeout
    while needle not in seen:
        assert time.monotonic() < deadline, seen
        line = proc.stderr.readline()
        assert line, f"stderr closed before {needle!r}: {seen!r}"
        seen += line
    return seen


def test_ctrl_c_exits_130_with_a_summary_and_no_traceback(nats_server: NatsServer) -> None:
    proc = spawn("tail", "--server", nats_server.url, "--all", "--output", "plain")
    try:
        read_stderr_until(proc, b"following logs.>")
        publish_when_subscribed(nats_server, [(c.subject, c.payload) for c in CASES[:3]]).join(10)
        assert proc.stdout is not None
        for _ in range(3):
            assert proc.stdout.readline()
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=15)
    finally:
        proc.kill()
    assert proc.returncode == 130
    assert b"Traceback" not in err
    summary = err.decode().strip().splitlines()[-1]
    assert summary.startswith("flylogs: interrupted after 0:00:")
    assert "3 lines shown, 0 malformed, 3 received" in summary


def test_ctrl_c_while_waiting_for_a_server(tmp_path: Path) -> None:
    proc = spawn("tail", "--server", "nats://127.0.0.1:1", "--wait")
    try:
        read_stderr_until(proc, b"waiting for")
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=15)
    finally:
        proc.kill()
    assert proc.returncode == 130 and b"Traceback" not in err


def test_a_closed_pipe_ends_quietly(nats_server: NatsServer) -> None:
    shell = (
        f"{sys.executable} -m flylogs tail --server {nats_server.url} --all --output plain | head -1; "
        'echo "status=${PIPESTATUS[0]}" >&2'
    )
    proc = subprocess.Popen(["bash", "-c", shell], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    # Many lines, so flylogs is still writing when head has gone.
    thread = publish_when_subscribed(nats_server, [(c.subject, c.payload) for c in CASES] * 40)
    out, err = proc.communicate(timeout=30)
    thread.join(10)
    assert out.decode().startswith("2026-11-20T09:14:03.120Z ")
    assert len(out.splitlines()) == 1
    assert "status=0" in err.decode()
    assert "Traceback" not in err.decode() and "BrokenPipe" not in err.decode()


def test_json_output_parses_line_by_line(nats_server: NatsServer) -> None:
    proc = spawn("tail", "--server", nats_server.url, "shop-api", "--json", "--count", "16")
    try:
        read_stderr_until(proc, b"following logs.shop-api.>")
        publish_when_subscribed(nats_server, [(c.subject, c.payload) for c in CASES]).join(10)
        out, err = proc.communicate(timeout=15)
    finally:
        proc.kill()
    assert proc.returncode == 0, err
    records = [json.loads(line) for line in out.decode().splitlines()]
    assert len(records) == 16
    assert all(r["app"] == "shop-api" for r in records)
    assert records[2]["message"] == "ERROR payment gateway timeout after 30s"


def test_sigterm_exits_143(nats_server: NatsServer) -> None:
    proc = spawn("tail", "--server", nats_server.url)
    try:
        read_stderr_until(proc, b"following")
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=15)
    finally:
        proc.kill()
    assert proc.returncode == 143 and b"terminated after" in err


def test_demo_cleans_up_its_server_on_ctrl_c() -> None:
    proc = spawn("demo", "--output", "plain")
    try:
        seen = read_stderr_until(proc, b"following logs.>")
        port = seen.decode().split("nats://127.0.0.1:")[1].split(";")[0]
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=15)
    finally:
        proc.kill()
    assert proc.returncode == 130 and b"Traceback" not in err

    def port_closed() -> bool:
        import socket

        with socket.socket() as s:
            return s.connect_ex(("127.0.0.1", int(port))) != 0

    wait_for(port_closed, what="the demo server to stop")


def test_demo_serve_prints_a_url_that_tail_can_follow() -> None:
    proc = spawn("demo", "--serve", "--rate", "200")
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().decode().strip()
        assert url.startswith("nats://127.0.0.1:")
        tail = subprocess.run(
            [sys.executable, "-m", "flylogs", "tail", "--server", url, "--all", "--json", "--count", "3"],
            capture_output=True,
            timeout=30,
            check=False,
        )
        assert tail.returncode == 0, tail.stderr
        assert [json.loads(line)["type"] for line in tail.stdout.splitlines()] == ["log", "log", "log"]
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=15)
    finally:
        proc.kill()
    assert proc.returncode == 0
