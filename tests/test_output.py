"""The writer thread: bounded, never blocking the stream, and exact about what stdout took."""

from __future__ import annotations

import fcntl
import os
import select
import struct
import termios
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

        def in_pipe() -> int:  # what the pipe holds, counted without reading it
            raw = fcntl.ioctl(reader.fileno(), termios.FIONREAD, b"\0\0\0\0")
            return int(struct.unpack("i", raw)[0])

        # Full: no room for another piece, so the writer is stuck and nothing moves from here on.
        wait_for(
            lambda: in_pipe() > fcntl.fcntl(write_fd, fcntl.F_GETPIPE_SZ) - select.PIPE_BUF,
            what="a full pipe",
        )
        assert out.close(timeout=0.3) is False  # nobody reads: the writer is stuck
        unwritten_bytes, unwritten_lines = out.unwritten()
        in_pipe_now = in_pipe()
        total = b"".join(lines)
        assert in_pipe_now + unwritten_bytes == len(total)
        assert total[:in_pipe_now].count(b"\n") + unwritten_lines == len(lines)
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
