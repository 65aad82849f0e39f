"""`flylogs` in a real pseudo-terminal, for the tests of what a person sees: everything it writes,
read from the master side, matched without colour codes; resized as a terminal emulator does."""

from __future__ import annotations

import fcntl
import os
import pty
import re
import select
import signal
import struct
import subprocess
import sys
import termios
import time

SGR = re.compile(rb"\x1b\[[0-9;]*m")


class Terminal:
    """`flylogs` on the slave side of a pty (80 columns); everything it writes, read from the master."""

    def __init__(self, *args: str, term: str = "xterm", columns: int = 80) -> None:
        self.master, slave = pty.openpty()
        os.set_blocking(self.master, False)
        self._size(columns)
        env = {**os.environ, "TERM": term, "COLUMNS": str(columns), "LINES": "24"}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "flylogs", *args], stdin=slave, stdout=slave, stderr=slave, env=env
        )
        os.close(slave)
        self.seen = b""
        self.interrupted = False

    def until(self, pattern: bytes, timeout: float = 15.0) -> float:
        """Read until `pattern` (a regex over the bytes with colour codes removed); when it appeared."""
        deadline = time.monotonic() + timeout
        while not re.search(pattern, SGR.sub(b"", self.seen)):
            remaining = deadline - time.monotonic()
            assert remaining > 0, f"never saw {pattern!r}; saw {self.seen[-600:]!r}"
            ready, _, _ = select.select([self.master], [], [], min(remaining, 0.1))
            if ready:
                try:
                    self.seen += os.read(self.master, 65536)
                except OSError:  # the child closed the terminal
                    break
        return time.monotonic()

    def _size(self, columns: int) -> None:
        fcntl.ioctl(self.master, termios.TIOCSWINSZ, struct.pack("HHHH", 24, columns, 0, 0))

    def resize(self, columns: int) -> None:
        """What a terminal emulator does when its window changes: a new size, and SIGWINCH."""
        self._size(columns)
        self.proc.send_signal(signal.SIGWINCH)

    def interrupt(self) -> None:
        """Ctrl-C, once: `close` then waits for the end instead of interrupting it a second time
        (a second SIGINT while the process exits kills it with the default action)."""
        self.interrupted = True
        self.proc.send_signal(signal.SIGINT)

    def close(self) -> int:
        if self.proc.poll() is None and not self.interrupted:
            self.proc.send_signal(2)
        code = self.proc.wait(15)
        os.close(self.master)
        return code
