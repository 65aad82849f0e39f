"""`flylogs beat` and the POSIX sh loop: lines exact to the beat format, parsed back by the canary's
parser; a new boot each start; SIGTERM is exit 0; a reader that goes away is a quiet end."""

from __future__ import annotations

import itertools
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from flylogs.beats import parse_beat

SCRIPT = Path(__file__).parent.parent / "contrib" / "flylogs-beat.sh"


def beats(out: bytes) -> list[tuple[int, str]]:
    found = [parse_beat(line) for line in out.decode().splitlines()]
    assert all(b is not None for b in found), out
    return [(b.seq, b.boot) for b in found if b is not None]


def test_flylogs_beat_prints_count_beats_on_a_grid_and_exits_0() -> None:
    started = time.time_ns()
    done = subprocess.run(
        [sys.executable, "-m", "flylogs", "beat", "--every", "100ms", "--count", "4"],
        capture_output=True, timeout=20, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    found = beats(done.stdout)
    assert [seq for seq, _ in found] == [0, 1, 2, 3] and len({boot for _, boot in found}) == 1
    stamps = [parse_beat(line).at_ns for line in done.stdout.decode().splitlines()]  # type: ignore[union-attr]
    assert started <= stamps[0] and all(b - a >= 90_000_000 for a, b in itertools.pairwise(stamps))
    again = subprocess.run(
        [sys.executable, "-m", "flylogs", "beat", "--count", "1"],
        capture_output=True,
        timeout=20,
        check=False,
    )
    assert beats(again.stdout)[0][1] != found[0][1]  # a new boot each start


@pytest.mark.slow
def test_sigterm_ends_flylogs_beat_with_exit_0() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "flylogs", "beat", "--every", "50ms"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdout is not None
    assert parse_beat(proc.stdout.readline().decode()) is not None  # running (and its signals set)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=10)
    assert proc.returncode == 0, err
    assert err == b""


def test_a_bad_period_is_a_usage_error() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "flylogs", "beat", "--every", "soon"],
        capture_output=True,
        timeout=20,
        check=False,
    )
    assert done.returncode == 2 and b"--every 'soon' is not a duration" in done.stderr


def test_the_sh_loop_prints_the_same_format() -> None:
    env = {**os.environ, "FLYLOGS_BEAT_EVERY": "0.1", "FLYLOGS_BEAT_COUNT": "3"}
    done = subprocess.run(["sh", str(SCRIPT)], capture_output=True, env=env, timeout=20, check=False)
    assert done.returncode == 0, done.stderr
    found = beats(done.stdout)
    assert [seq for seq, _ in found] == [0, 1, 2] and len({boot for _, boot in found}) == 1
