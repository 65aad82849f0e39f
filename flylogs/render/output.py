"""Non-blocking output: the event loop never waits for stdout.

A log tail whose reader stops (a paused `less`, a stuck pipe, a terminal scrolled back in tmux) must
keep answering the server, or the server cuts it off and every line in between is lost silently. So
sinks write into memory and a writer thread does the blocking writes. The backlog is bounded: past
`limit` bytes the pipeline drops lines and reports them as a gap, instead of growing without bound.
Must not: format anything.
"""

from __future__ import annotations

import contextlib
import os
import select
import threading
import time
from collections import deque
from typing import BinaryIO, Protocol

DEFAULT_LIMIT = 8 * 1024 * 1024
# Hand a chunk to the writer once this much is buffered, without waiting for the burst to end.
HANDOFF = 64 * 1024
# The writer thread's writes to a descriptor: at most PIPE_BUF bytes, which a pipe takes atomically.
PIECE = select.PIPE_BUF


class Writable(Protocol):
    """What a sink writes to: stdout's buffer, a BytesIO, or a ThreadedOutput."""

    def write(self, data: bytes, /) -> int: ...
    def flush(self) -> None: ...


def failure(exc: BaseException) -> str | None:
    """What failed, for a person; None when the reader went away (a closed pipe: a quiet end)."""
    if isinstance(exc, BrokenPipeError | ConnectionResetError):
        return None
    if isinstance(exc, OSError) and exc.strerror:
        return f"cannot write to standard output: {exc.strerror}"
    return "cannot write to standard output: it is closed"


def write_all(out: BinaryIO, data: bytes | bytearray) -> None:
    """All of `data`: an unbuffered stdout (PYTHONUNBUFFERED) may take a write in parts."""
    view = memoryview(data)
    while view:
        written = out.write(view)
        if written is None:  # a non-blocking descriptor that is full: nothing was written yet
            time.sleep(0.001)
            continue
        view = view[written:]


class DirectOutput:
    """For stdout that cannot block for long (a regular file, /dev/null): buffered writes, in line.

    A file does not wait for a reader, so a writer thread would only add a hand-off per chunk and,
    on two cores, compete with the event loop for the GIL. The buffering is ours: with
    PYTHONUNBUFFERED set (common in containers) `sys.stdout.buffer` would make a syscall per line.
    """

    limit = DEFAULT_LIMIT
    backlog = 0
    broken = False
    # Why stdout cannot be written (a full disk, an I/O error): the session ends as for a closed
    # pipe (every write raises BrokenPipeError from then on), then says it (exit 8).
    failed: str | None = None

    def unwritten(self) -> tuple[int, int]:
        return 0, 0  # writes to a file are done in line: nothing is left behind

    def __init__(self, out: BinaryIO) -> None:
        self._out = out
        self._buffer = bytearray()

    def write(self, data: bytes) -> int:
        if self.broken:
            raise BrokenPipeError
        self._buffer += data
        if len(self._buffer) >= HANDOFF:
            self._write()
        return len(data)

    def flush(self) -> None:
        if self.broken:
            raise BrokenPipeError
        self._write()

    def _write(self) -> None:
        try:
            if self._buffer:
                write_all(self._out, self._buffer)
                self._buffer.clear()
            self._out.flush()
        except (OSError, ValueError) as exc:
            self.broken, self.failed = True, failure(exc)
            self._buffer = bytearray()  # (a view of the old one may live on in the traceback)
            raise BrokenPipeError from None

    def close(self, timeout: float | None = None) -> bool:
        with contextlib.suppress(BrokenPipeError):
            self.flush()
        return True

    def drain(self, timeout: float) -> bool:
        return self.close(timeout)


def open_output(out: BinaryIO) -> DirectOutput | ThreadedOutput:
    """A writer thread where stdout can block (a pipe, a socket, a terminal); direct writes elsewhere."""
    import stat

    try:
        fd = out.fileno()
        mode = os.fstat(fd).st_mode
        blocking = stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode) or os.isatty(fd)
    except (AttributeError, OSError, ValueError):  # not a real file (tests: BytesIO)
        blocking = True
    return ThreadedOutput(out) if blocking else DirectOutput(out)


class ThreadedOutput:
    """A file-like sink target: `write` buffers, `flush` hands the buffer to the writer thread."""

    def __init__(self, out: BinaryIO, limit: int = DEFAULT_LIMIT) -> None:
        self._out = out
        self._bound = limit
        # The backlog past which lines are dropped: the bound plus the largest line seen, so a single
        # line bigger than the bound is written, not taken for a stuck reader. An attribute, not a
        # property: the driver reads it for every line.
        self.limit = limit
        self._largest = 0
        self._buffer = bytearray()
        self._inflight: bytes | memoryview = b""  # what the writer thread has still to write
        self._chunks: deque[bytes] = deque()
        self._backlog = 0
        self._cond = threading.Condition()
        self._closing = False
        self.broken = False  # the reader went away (EPIPE): the session should end quietly
        self.failed: str | None = None  # or stdout failed (ENOSPC, EIO…): ended, then said (exit 8)
        self._thread = threading.Thread(target=self._run, name="flylogs-output", daemon=True)
        self._thread.start()

    @property
    def backlog(self) -> int:
        """Bytes written but not yet accepted by stdout."""
        return self._backlog + len(self._buffer)

    def unwritten(self) -> tuple[int, int]:
        """After `close`: the bytes, and the lines (newlines), that stdout never took."""
        with self._cond:
            chunks = [bytes(self._inflight), *self._chunks, bytes(self._buffer)]
        return sum(map(len, chunks)), sum(c.count(b"\n") for c in chunks)

    def write(self, data: bytes) -> int:
        if self.broken:
            raise BrokenPipeError
        if len(data) > self._largest:
            self._largest = len(data)
            self.limit = self._bound + self._largest
        self._buffer += data
        if len(self._buffer) >= HANDOFF:
            self.flush()  # a long burst: let the writer thread start on it now
        return len(data)

    def flush(self) -> None:
        if self.broken:
            raise BrokenPipeError
        if not self._buffer:
            return
        chunk = bytes(self._buffer)
        self._buffer.clear()
        with self._cond:
            self._chunks.append(chunk)
            self._backlog += len(chunk)
            self._cond.notify()

    def drain(self, timeout: float) -> bool:
        """Hand over what is buffered and wait, `timeout` s at most, until stdout has taken it all:
        what is said next on stderr then lands after it (one terminal shows both)."""
        with contextlib.suppress(BrokenPipeError):
            self.flush()
        deadline = time.monotonic() + timeout
        with self._cond:
            while (self._backlog or self._inflight) and not self.broken:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(min(left, 0.05))
        return True

    def close(self, timeout: float | None = None) -> bool:
        """Write what is buffered and stop the thread; False if stdout did not take it within `timeout`."""
        if not self.broken:
            self.flush()
        with self._cond:
            self._closing = True
            self._cond.notify()
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def _run(self) -> None:
        fd = _descriptor(self._out)
        while True:
            with self._cond:
                while not self._chunks and not self._closing:
                    self._cond.wait()
                if not self._chunks:
                    return
                chunk = self._chunks.popleft()
                self._inflight = chunk
            try:
                if fd is None:
                    write_all(self._out, chunk)
                    self._out.flush()
                else:  # straight to the descriptor, so what stdout took is known to the byte
                    view = memoryview(chunk)
                    while view:
                        try:  # pieces a pipe takes whole or not at all: nothing half-counted
                            view = view[os.write(fd, view[:PIECE]) :]
                        except BlockingIOError:  # a non-blocking stdout that is full
                            select.select([], [fd], [], 0.1)
                            continue
                        self._inflight = view
            except (ValueError, OSError) as exc:
                self.failed = failure(exc)
                self.broken = True
                with self._cond:
                    self._chunks.clear()
                    self._backlog = 0
                return
            with self._cond:
                self._backlog -= len(chunk)
                self._inflight = b""


def _descriptor(out: BinaryIO) -> int | None:
    """stdout's file descriptor, its Python buffer emptied first; None for an in-memory stream."""
    try:
        fd = out.fileno()
        out.flush()
    except (AttributeError, OSError, ValueError):
        return None
    return fd
