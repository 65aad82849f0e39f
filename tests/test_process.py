"""The real `flylogs` process: signals, pipes, and what a shell user sees."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from flylogs.demo.server import NatsServer
from tests.helpers import CASES, log_records, msg, ndjson, publish_when_subscribed, wait_for

pytestmark = pytest.mark.slow  # real processes and terminals: the full suite only


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


@pytest.mark.parametrize(
    ("command", "first"),
    [
        ("tail --all --output plain", rb"^2026-11-20T09:14:03\.120Z "),
        ("watch shop-api --json", rb'"type":"status"'),  # `watch --json | head -1`: it ends too
    ],
)
def test_a_closed_pipe_ends_quietly(nats_server: NatsServer, command: str, first: bytes) -> None:
    shell = (
        f"{sys.executable} -m flylogs {command} --server {nats_server.url} | head -1; "
        'echo "status=${PIPESTATUS[0]}" >&2'
    )
    proc = subprocess.Popen(["bash", "-c", shell], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    # Many lines, so flylogs is still writing when head has gone.
    thread = publish_when_subscribed(nats_server, [(c.subject, c.payload) for c in CASES] * 40)
    out, err = proc.communicate(timeout=30)
    thread.join(10)
    assert re.search(first, out), out
    assert len(out.splitlines()) == 1
    assert "status=0" in err.decode(), err.decode()
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
    records = log_records(out)
    assert len(records) == 16
    assert all(r["app"] == "shop-api" for r in records)
    assert records[2]["message"] == "ERROR payment gateway timeout after 30s"


EDGE_TIMESTAMPS = (
    "0001-01-01T00:00:00.000000000Z",
    "9999-12-31T23:59:59.999999999Z",
    "2026-02-30T10:00:00.000000000Z",
)


@pytest.mark.parametrize("zone", ["UTC-14", "UTC+12"])  # POSIX TZ: 14 h east, 12 h west of UTC
@pytest.mark.parametrize(
    "mode", [("--output", "table"), ("--output", "plain", "--time", "local"), ("--json",)]
)
def test_lines_with_edge_timestamps_are_shown_and_counted_never_dropped(
    nats_server: NatsServer, zone: str, mode: tuple[str, ...]
) -> None:
    messages = []
    for i, ts in enumerate((*EDGE_TIMESTAMPS, "2026-11-20T09:14:03.120456789Z")):
        subject, data = msg("edge", "iad", "m1", f"line {i}")
        messages.append((subject, data.replace(b"2026-11-20T09:14:03.120456789Z", ts.encode())))
    proc = subprocess.Popen(
        [sys.executable, "-m", "flylogs", "tail", "--server", nats_server.url, "edge", *mode],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env={**os.environ, "TZ": zone},
    )  # fmt: skip
    out = b""
    try:
        read_stderr_until(proc, b"following logs.edge.>")
        publish_when_subscribed(nats_server, messages).join(10)
        assert proc.stdout is not None
        deadline = time.monotonic() + 15
        while out.count(b"line ") < 4:
            assert time.monotonic() < deadline, out
            out += proc.stdout.readline()
        proc.send_signal(signal.SIGINT)
        rest, err = proc.communicate(timeout=15)
        out += rest
    finally:
        proc.kill()
    assert proc.returncode == 130, err
    text = out.decode()
    assert all(f"line {i}" in text for i in range(4)), text
    assert "4 lines shown, 3 malformed, 4 received" in err.decode()
    assert b"out of range" not in err and b"Traceback" not in err
    if mode == ("--json",):
        records = log_records(out)
        assert [r["timestamp"] for r in records] == [None, None, None, "2026-11-20T09:14:03.120456789Z"]
        assert all(r["malformed"] for r in records[:3])


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
        hint = read_stderr_until(proc, b"in another terminal")
        assert f"flylogs tail --server {url} --all --stream LOGS".encode() in hint
        tail = subprocess.run(
            [
                sys.executable,
                "-m",
                "flylogs",
                "tail",
                "--server",
                url,
                "--all",
                "--json",
                "--count",
                "3",
                "--stream",
                "LOGS",
            ],
            capture_output=True,
            timeout=30,
            check=False,
        )
        assert tail.returncode == 0, tail.stderr
        types = [r["type"] for r in ndjson(tail.stdout)]
        assert types == ["status", "log", "log", "log"]
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=15)
    finally:
        proc.kill()
    assert proc.returncode == 0


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


def test_blocked_stdout_drops_lines_into_a_gap_with_bounded_memory(nats_server: NatsServer) -> None:
    import threading

    import nats

    from tests.helpers import SUBJECT, payload, seq_of

    total = 60_000
    sent: dict[int, int] = {}

    def publish(first: int, last: int) -> None:
        async def run() -> None:
            nc = await nats.connect(nats_server.url, pending_size=64 * 1024 * 1024)
            for seq in range(first, last + 1):
                sent[seq] = time.time_ns()
                await nc.publish(SUBJECT, payload(seq, sent[seq]))
            await nc.flush(timeout=30)
            await nc.close()

        import asyncio

        asyncio.run(run())

    proc = spawn("tail", "--server", nats_server.url, "--all", "--json")  # stdout: a pipe nobody reads yet
    try:
        read_stderr_until(proc, b"following logs.>")
        publish(1, total)
        read_stderr_until(proc, b"output is not keeping up")
        # Memory stays bounded while the reader is away (the backlog is capped at 8 MiB).
        assert rss_mb(proc.pid) < 150

        records: list[dict[str, object]] = []
        assert proc.stdout is not None
        stdout = proc.stdout

        def read() -> None:
            for line in stdout:
                records.append(json.loads(line))

        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        wait_for(lambda: any(r["type"] == "gap" for r in records), timeout=30, what="the gap record")
        publish(total + 1, total + 1)  # the stream recovered: a new line gets through
        wait_for(
            lambda: any(r.get("message") == f"seq={total + 1}" for r in records), timeout=30, what="recovery"
        )

        def accounted() -> bool:  # a later dropping spell's record comes once the backlog has drained
            shown_now = {seq_of(str(r["message"])) for r in list(records) if r["type"] == "log"}
            dropped = sum(int(str(r["dropped"])) for r in list(records) if r["type"] == "gap")
            return dropped == len(set(sent) - shown_now)

        wait_for(accounted, timeout=30, what="a gap record for every dropped line")
        proc.send_signal(signal.SIGINT)
        proc.wait(15)
        reader.join(10)
    finally:
        proc.kill()
        proc.communicate(timeout=15)

    shown = {seq_of(str(r["message"])) for r in records if r["type"] == "log"}
    gaps = [r for r in records if r["type"] == "gap"]
    assert all(g["reason"] == "slow_consumer" for g in gaps)
    missing = set(sent) - shown
    assert missing, "nothing was dropped: the test did not block the output"
    assert sum(int(g["dropped"]) for g in gaps) == len(missing)  # type: ignore[call-overload]
    from flylogs.timestamps import parse_rfc3339

    windows = [(parse_rfc3339(str(g["start"])), parse_rfc3339(str(g["end"]))) for g in gaps]
    assert all(
        any(s is not None and e is not None and s <= sent[m] <= e for s, e in windows) for m in missing
    )


def test_after_ctrl_c_with_stdout_blocked_the_summary_counts_what_was_written(
    nats_server: NatsServer,
) -> None:
    import fcntl
    import struct
    import termios

    from tests.helpers import SUBJECT, payload

    proc = spawn("tail", "--server", nats_server.url, "--all", "--json")  # stdout: a pipe nobody reads
    assert proc.stdout is not None
    try:
        read_stderr_until(proc, b"following logs.>")
        publish_when_subscribed(
            nats_server, [(SUBJECT, payload(i, time.time_ns())) for i in range(1, 5001)]
        ).join(30)

        def in_pipe() -> int:
            raw = fcntl.ioctl(proc.stdout.fileno(), termios.FIONREAD, b"\0\0\0\0")  # type: ignore[union-attr]
            return int(struct.unpack("i", raw)[0])

        def delivered() -> int:  # messages the server has sent to flylogs' connection
            import json as _json
            from urllib.request import urlopen

            with urlopen(f"http://127.0.0.1:{nats_server.monitor_port}/connz?subs=1", timeout=5) as r:
                conns = _json.load(r)["connections"]
            return sum(c.get("out_msgs", 0) for c in conns if c.get("name") == "flylogs")

        # All 5000 (1.7 MB) delivered, and the pipe holding some: the rest waits for stdout.
        wait_for(lambda: delivered() >= 5000 and in_pipe() > 0, timeout=15, what="delivery and a full pipe")
        proc.send_signal(signal.SIGINT)
        proc.wait(15)  # still not reading: what stdout has not taken at exit is discarded
        out, err = proc.communicate(timeout=15)
    finally:
        proc.kill()
    assert proc.returncode == 130, err
    records = log_records(out.rsplit(b"\n", 1)[0] + b"\n")  # complete lines only
    summary = err.decode().strip().splitlines()[-1]
    import re

    match = re.search(r"([\d,]+) lines shown, ([\d,]+) discarded at exit \(stdout was not reading\), "
                      r"0 malformed, ([\d,]+) received", summary)  # fmt: skip
    assert match, summary
    shown, discarded, received = (int(g.replace(",", "")) for g in match.groups())
    assert shown == len(records) and discarded > 0
    assert shown + discarded == received


def test_fail_on_gap_exits_6_after_a_restart(nats_server: NatsServer) -> None:
    proc = spawn("tail", "--server", nats_server.url, "--all", "--json", "--count", "1", "--fail-on-gap")
    try:
        read_stderr_until(proc, b"following logs.>")
        nats_server.kill()
        read_stderr_until(proc, b"disconnected")
        nats_server.start()
        read_stderr_until(proc, b"reconnected to")
        publish_when_subscribed(nats_server, [(CASES[0].subject, CASES[0].payload)]).join(10)
        out, err = proc.communicate(timeout=15)
    finally:
        proc.kill()
    assert proc.returncode == 6, err
    records = ndjson(out)
    said = [r.get("state") or r["type"] for r in records]
    # Every change of state as it happened, then the gap the moment the stream is back, then the line.
    assert said in (
        ["connected", "disconnected", "reconnecting", "connected", "gap", "log"],
        ["connected", "disconnected", "connected", "gap", "log"],  # back at the first attempt
    ), said
    gap = records[-2]
    assert gap["reason"] == "disconnected" and gap["backfilled"] == 0
    assert "1 gap(s)" in err.decode() and "(1 not filled)" in err.decode()


def test_demo_chaos_restarts_the_server_and_reports_filled_gaps() -> None:
    proc = spawn("demo", "--chaos", "--json", "--rate", "200", "--seed", "2")
    records: list[dict[str, object]] = []
    try:
        assert proc.stdout is not None
        deadline = time.monotonic() + 30
        while not any(r["type"] == "gap" for r in records) or records[-1]["type"] == "gap":
            assert time.monotonic() < deadline, "no gap within 30 s"
            records.append(json.loads(proc.stdout.readline()))
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=15)
    finally:
        proc.kill()
    assert proc.returncode == 130, err.decode()
    [gap, *_] = [r for r in records if r["type"] == "gap"]
    assert gap["reason"] == "disconnected" and isinstance(gap["backfilled"], int)
    assert b"reconnected to" in err
    logs = [(r["timestamp"], r["message"]) for r in records if r["type"] == "log"]
    assert len(set(logs)) == len(logs)  # no line twice, backfill included


def test_json_says_the_stream_is_down_at_once_and_the_gap_the_moment_it_is_back(
    nats_server: NatsServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With backfill on and an API that accepts connections and never answers: the status record
    comes within 2 s of the cut, the gap record within 1 s of the stream's return, before any
    later line, and the backfill's own record does not hold either back."""
    import socket
    import threading

    silent_api = socket.socket()
    silent_api.bind(("127.0.0.1", 0))
    silent_api.listen(16)  # the kernel completes connections; nobody ever answers
    monkeypatch.setenv("FLY_API_TOKEN", "fm2_secret")
    proc = spawn(
        "tail", "shop-api", "--server", nats_server.url, "--json",
        "--api-url", f"http://127.0.0.1:{silent_api.getsockname()[1]}",
    )  # fmt: skip
    arrivals: list[tuple[float, dict[str, object]]] = []

    def read() -> None:
        assert proc.stdout is not None
        for raw in proc.stdout:
            arrivals.append((time.monotonic(), json.loads(raw)))

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        read_stderr_until(proc, b"following logs.shop-api.>")
        cut = time.monotonic()
        nats_server.kill()
        wait_for(lambda: any(r.get("state") == "disconnected" for _, r in arrivals), what="the status record")
        [down_at] = [t for t, r in arrivals if r.get("state") == "disconnected"]
        assert down_at - cut < 2.0
        nats_server.start()
        wait_for(lambda: any(r["type"] == "gap" for _, r in arrivals), what="the gap record")
        [gap_at] = [t for t, r in arrivals if r["type"] == "gap"]
        [back_at] = [t for t, r in arrivals if r.get("state") == "connected"][1:]
        assert gap_at - back_at < 1.0
        publish_when_subscribed(nats_server, [(CASES[0].subject, CASES[0].payload)]).join(10)
        wait_for(lambda: any(r["type"] == "log" for _, r in arrivals), what="the line after the resume")
        proc.send_signal(signal.SIGINT)
        proc.wait(20)  # (not communicate(): the reader thread owns stdout)
        assert proc.stderr is not None
        err = proc.stderr.read()
    finally:
        proc.kill()
        silent_api.close()
        reader.join(10)
        for pipe in (proc.stdout, proc.stderr):
            if pipe is not None:
                pipe.close()
    assert proc.returncode == 130, err
    types = [r["type"] for _, r in arrivals]
    assert types.index("gap") < types.index("log")
    # The backfill did not finish before the end: it says so, and the gap is counted as not filled.
    backfills = [r for _, r in arrivals if r["type"] == "backfill"]
    assert [(b["complete"], b["source"]) for b in backfills] == [(False, "api")]
    assert b"(1 not filled)" in err
    assert b"fm2_secret" not in err


@pytest.mark.parametrize("command", ["tail", "watch"])
def test_a_full_disk_is_one_line_and_exit_8_at_once(nats_server: NatsServer, command: str) -> None:
    """`flylogs tail … > /dev/full`: every write fails with ENOSPC. One line says what failed, and the
    process ends at once with exit 8 (it used to print a traceback per flush, forever)."""
    args = [sys.executable, "-m", "flylogs", command, "--server", nats_server.url, "shop-api"]
    args += ["--output", "plain"] if command == "tail" else ["--output", "json"]
    with open("/dev/full", "wb") as full:
        proc = subprocess.Popen(args, stdout=full, stderr=subprocess.PIPE, env=dict(os.environ))
    thread = publish_when_subscribed(nats_server, [(c.subject, c.payload) for c in CASES] * 20)
    try:
        _, err = proc.communicate(timeout=20)
    finally:
        thread.join(10)
        if proc.poll() is None:
            proc.kill()
    said = err.decode()
    assert proc.returncode == 8, said
    assert "flylogs: error: cannot write to standard output: No space left on device" in said
    assert "Traceback" not in said and "unexpected" not in said and said.count("error:") == 1


@pytest.mark.parametrize("command", ["tail", "watch"])
def test_a_closed_stdout_is_a_clear_error(command: str) -> None:
    shell = f"{sys.executable} -m flylogs {command} --server nats://127.0.0.1:1 shop >&-"
    proc = subprocess.run(["bash", "-c", shell], capture_output=True, timeout=20, check=False)
    said = proc.stderr.decode()
    assert proc.returncode == 8, said
    assert "flylogs: error: standard output is closed" in said and "unexpected" not in said


def test_check_with_a_closed_stdout_says_its_verdict_by_exit_code(nats_server: NatsServer) -> None:
    shell = (
        f"{sys.executable} -m flylogs check shop --server {nats_server.url} --listen --within 1s "
        "--no-machines >&-"
    )
    proc = subprocess.run(["bash", "-c", shell], capture_output=True, timeout=20, check=False)
    assert proc.returncode == 7, proc.stderr.decode()  # nothing logged in the window: silent
    assert "unexpected" not in proc.stderr.decode()


@pytest.mark.parametrize("command", ["tail", "watch"])
def test_sighup_ends_like_sigterm_with_a_summary_and_exit_129(nats_server: NatsServer, command: str) -> None:
    """The terminal closed or the ssh session dropped: records flushed, a summary, exit 129 (the
    default action killed flylogs without a word)."""
    proc = spawn(command, "--server", nats_server.url, "shop-api", "--output", "json")
    try:
        read_stderr_until(proc, b"following logs.shop-api.>")
        proc.send_signal(signal.SIGHUP)
        out, err = proc.communicate(timeout=15)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 129, err
    assert b"hung up after" in err and b"Traceback" not in err
    assert b'"type":"status"' in out  # the records written before the signal reached stdout


def test_a_keyring_backend_that_cannot_load_is_a_configuration_error() -> None:
    env = {**os.environ, "PYTHON_KEYRING_BACKEND": "no.such.Module"}
    proc = subprocess.run(
        [sys.executable, "-m", "flylogs", "auth", "status"],
        capture_output=True,
        env=env,
        timeout=20,
        check=False,
    )
    said = proc.stderr.decode()
    assert proc.returncode == 3, said
    assert "the keyring backend named in keyring's configuration cannot be loaded" in said
    assert "PYTHON_KEYRING_BACKEND" in said and "unexpected" not in said


def test_a_short_command_piped_to_head_ends_quietly() -> None:
    shell = f'{sys.executable} -m flylogs config show | head -1; echo "status=${{PIPESTATUS[0]}}" >&2'
    proc = subprocess.run(["bash", "-c", shell], capture_output=True, timeout=20, check=False)
    assert len(proc.stdout.splitlines()) == 1
    assert "status=0" in proc.stderr.decode() and "unexpected" not in proc.stderr.decode()


@pytest.mark.parametrize("mode", ["plain", "table", "json"])
def test_a_lone_surrogate_in_a_field_drops_no_line(nats_server: NatsServer, mode: str) -> None:
    """An instance `5683d927\\ud800` (valid JSON text, no UTF-8): the line is shown, escaped, in every
    mode (table and plain lost it: "'utf-8' codec can't encode character")."""
    subject, payload = msg("shop", "iad", "5683d927", "hi")
    lone = payload.replace(b'"instance": "5683d927"', b'"instance": "5683d927\\ud800"')
    assert b"\\ud800" in lone
    proc = spawn("tail", "--server", nats_server.url, "--all", "--output", mode, "--count", "2")
    thread = publish_when_subscribed(nats_server, [(subject, lone), msg("shop", "iad", "m2", "next")])
    out, err = proc.communicate(timeout=20)
    thread.join(10)
    assert proc.returncode == 0, err
    assert b"next" in out and b"can't encode" not in err
    if mode == "json":  # valid NDJSON, the escape as text
        assert [r["instance"] for r in log_records(out)] == ["5683d927\\ud800", "m2"]
    else:
        assert b"5683d927\\ud800" in out
