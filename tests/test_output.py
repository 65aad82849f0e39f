"""The writer thread: bounded, never blocking the stream, and exact about what stdout took."""

from __future__ import annotations

import os
import threading

from flylogs.render.output import ThreadedOutput
from flylogs.session.backpressure import Backpressure
from tests.helpers import wait_for


def test_what_a_blocked_stdout_never_took_is_known_to_the_line() -> None:
    read_fd, write_fd = os.pipe()
    with os.fdopen(write_fd, "wb") as pipe, os.fdopen(read_fd, "rb") as reader:
        out = ThreadedOutput(pipe)
        lines = [b"line %06d %s\n" % (i, b"x" * 90) for i in range(5000)]  # 500 kB: far past a pipe
        for line in lines:
            out.write(line)
        out.flush()
        wait_for(lambda: out.unwritten()[0] < len(b"".join(lines)), what="the pipe to take its fill")
        assert out.close(timeout=0.3) is False  # nobody reads: the writer is stuck
        unwritten_bytes, unwritten_lines = out.unwritten()
        os.set_blocking(read_fd, False)
        taken = b""
        while chunk := reader.read(1 << 16) or b"":
            taken += chunk
        total = b"".join(lines)
        assert len(taken) + unwritten_bytes == len(total)
        assert taken.count(b"\n") + unwritten_lines == len(lines)
        assert 0 < unwritten_lines < len(lines)


def test_one_line_bigger_than_the_limit_is_written_and_the_next_one_is_not_dropped() -> None:
    read_fd, write_fd = os.pipe()
    got = bytearray()

    def drain() -> None:
        while chunk := os.read(read_fd, 1 << 16):
            got.extend(chunk)

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    with os.fdopen(write_fd, "wb") as pipe:
        out = ThreadedOutput(pipe, limit=1000)  # the reader keeps up; one line is 5x the limit
        pressure = Backpressure(out)
        out.write(b"y" * 5000 + b"\n")
        out.flush()
        assert pressure.overloaded() is False  # before: the backlog (5 kB) > limit: "dropping"
        out.write(b"next\n")
        assert out.close(timeout=5)
    reader.join(5)
    os.close(read_fd)
    assert bytes(got).endswith(b"y\nnext\n")
