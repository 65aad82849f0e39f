"""A fake of flyctl's agent, as strict as the real one, with a real nats-server behind `connect`.

Follows flyctl (superfly/flyctl, snapshot of 2026-08-21):
- `agent/server/session.go`: every connection first stats the agent's config file (`err can't stat
  config file: …`); one frame, split on single spaces (`strings.Split`, so an empty last argument
  counts); exact argument counts (`err malformed <verb> command`); `ping` takes none; `establish`
  finds the org by its *web* slug among the token's organizations (`fetchOrg`: `err no such
  organization`); `connect` parses its timeout as a 32-bit unsigned integer (`strconv.ParseUint`)
  and needs a tunnel established for exactly (org, network) (`err tunnel unavailable`);
  `set-token` takes exactly two arguments, `cfg <path>` (the agent reads `access_token` from the
  file itself) or `str <tokens>`, answers `ok`, then runs the next command on the same connection;
  an unknown verb is `err unsupported command`.
- `agent/internal/proto/proto.go`: frames are a 2-byte little-endian length and the bytes.
- `agent/server/server.go`: the agent removes a stale socket file before binding; `probe` needs the
  tunnel (`tunnel unavailable`).
It runs on its own thread and loop, and can be killed mid-run (every tunnel dropped, the socket gone)
and started again, as a flyctl upgrade does. `establish` can be made slow (`establish_delay`), as a
new WireGuard peer is.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import signal
import struct
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

PEER_IP = "fdaa:0:1234:a7b:8c:1::2"
NATS_IN_6PN = "[fdaa:0:1234::3]:4223"
PRIVATE_KEY = "FAKE-PRIVATE-KEY-never-print-me="
PERSONAL_RAW = "jane-doe-123"
_ACCESS_TOKEN = re.compile(r"^access_token:\s*(.*?)\s*$", re.MULTILINE)


class FakeAgent:
    def __init__(
        self,
        path: Path,
        nats_port: int,
        *,
        config: Path | None = None,
        orgs: tuple[str, ...] = ("personal", "acme"),
        failing_probes: int = 0,
        establish_delay: float = 0.0,
        knows_set_token: bool = True,
        peer_ip: str = PEER_IP,
    ) -> None:
        self.path = path
        self.nats_port = nats_port
        # The agent's own config.yml (`fly agent run` is given it): stat on every connection.
        self.config = config if config is not None else _default_config(path)
        self.orgs = orgs  # web slugs, as Fly's GraphQL organizations list has them
        self.failing_probes = failing_probes
        self.establish_delay = establish_delay
        self.knows_set_token = knows_set_token  # an agent older than set-token: `err unsupported command`
        self.peer_ip = peer_ip
        self.requests: list[str] = []  # verbs and arguments, set-token's token masked
        self.tokens: list[tuple[str, str]] = []  # ("cfg", path) or ("str", tokens), as set-token got them
        self.file_tokens: list[str] = []  # what a `set-token cfg` read from the file, each time
        self.tunnels: set[tuple[str, str]] = set()
        self.connects = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: asyncio.AbstractServer | None = None
        self._conns: set[asyncio.StreamWriter] = set()
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()

    def start(self) -> FakeAgent:
        if not self.config.exists():
            self.config.write_text("access_token: fm2_agent-own\n")
        self._ready.clear()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        assert self._ready.wait(10), "the fake agent did not start"
        return self

    def kill(self) -> None:
        """Gone, as when flyctl replaces its agent: connections cut, tunnels dropped, socket removed."""
        loop = self._loop
        if loop is None:
            return
        asyncio.run_coroutine_threadsafe(self._shutdown(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        assert self._thread is not None
        self._thread.join(10)
        self._loop = None
        self.tunnels.clear()
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()

    def __enter__(self) -> FakeAgent:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.kill()

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        with contextlib.suppress(FileNotFoundError):  # server.go `bind`: a stale socket is removed first
            self.path.unlink()
        self._server = loop.run_until_complete(asyncio.start_unix_server(self._serve, str(self.path)))
        self._ready.set()
        loop.run_forever()
        loop.close()

    async def _shutdown(self) -> None:
        assert self._server is not None
        self._server.close()
        for writer in list(self._conns):
            writer.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._conns.add(writer)
        try:
            try:  # session.go runSession: checkForConfigChange first
                os.stat(self.config)
            except OSError:
                await _send(
                    writer, f"err can't stat config file: stat {self.config}: no such file or directory"
                )
                return
            await self._command(reader, writer)
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            self._conns.discard(writer)
            writer.close()

    async def _command(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        request = await _receive(reader)
        verb, *args = request.split(" ")
        self.requests.append("set-token ***" if verb == "set-token" else request)
        if verb == "set-token" and not self.knows_set_token:
            await _send(writer, "err unsupported command")
            return
        handler = getattr(self, f"_do_{verb.replace('-', '_')}", None)
        if handler is None:
            await _send(writer, "err unsupported command")
            return
        await handler(args, reader, writer)

    async def _do_set_token(self, args: list[str], r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
        if len(args) != 2:
            await _send(w, "err malformed set-token command")
            return
        kind, value = args
        if kind == "cfg":  # config.ReadAccessToken(path): the agent reads the file itself
            try:
                text = Path(value).read_text()
            except OSError:
                await _send(w, f"err open {value}: no such file or directory")
                return
            match = _ACCESS_TOKEN.search(text)
            self.file_tokens.append(match.group(1).strip("'\"") if match else "")
        self.tokens.append((kind, value))
        await _send(w, "ok")
        await self._command(r, w)

    async def _do_ping(self, args: list[str], _r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
        if args:
            await _send(w, "err malformed ping command")
            return
        await _send(w, 'ok {"PID":4242,"Version":"0.3.200","Background":true}\n')

    async def _do_establish(self, args: list[str], _r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
        if len(args) != 2:
            await _send(w, "err malformed establish command")
            return
        org, network = args
        if org not in self.orgs:  # fetchOrg compares org.Slug: the web slug only
            await _send(w, "err no such organization")
            return
        if self.establish_delay:
            await asyncio.sleep(self.establish_delay)  # a new WireGuard peer, through Fly's API
        self.tunnels.add((org, network))
        reply = {
            "WireGuardState": {
                "org": org,
                "name": "flylogs-laptop",
                "region": "iad",
                "peer": {"peerip": self.peer_ip, "endpointip": "1.2.3.4", "pubkey": "PUBKEY"},
                "LocalPrivate": PRIVATE_KEY,
            },
            "TunnelConfig": {"PrivateKey": PRIVATE_KEY},
        }
        await _send(w, "ok " + json.dumps(reply) + "\n")

    async def _do_probe(self, args: list[str], _r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
        if len(args) != 2:
            await _send(w, "err malformed probe command")
        elif tuple(args) not in self.tunnels:
            await _send(w, "err tunnel unavailable")
        elif self.failing_probes > 0:
            self.failing_probes -= 1
            await _send(w, f'err Error contacting Fly.io API when probing "{args[0]}": timed out')
        else:
            await _send(w, "ok")

    async def _do_connect(
        self, args: list[str], reader: asyncio.StreamReader, w: asyncio.StreamWriter
    ) -> None:
        if len(args) != 4:
            await _send(w, "err malformed connect command")
            return
        org, address, timeout, network = args
        if not timeout.isdigit():
            await _send(w, f'err strconv.ParseUint: parsing "{timeout}": invalid syntax')
            return
        if int(timeout) >= 2**32:
            await _send(w, f'err strconv.ParseUint: parsing "{timeout}": value out of range')
            return
        if (org, network) not in self.tunnels:
            await _send(w, "err tunnel unavailable")
            return
        if address != NATS_IN_6PN:
            await _send(w, f"err dial tcp {address}: connect: connection refused")
            return
        up_r, up_w = await asyncio.open_connection("127.0.0.1", self.nats_port)
        self.connects += 1
        self._conns.add(up_w)
        await _send(w, "ok")

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            with contextlib.suppress(OSError, asyncio.IncompleteReadError):
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()

        tasks = [asyncio.ensure_future(pipe(reader, up_w)), asyncio.ensure_future(pipe(up_r, w))]
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        for task in tasks:
            task.cancel()
        up_w.close()
        self._conns.discard(up_w)


@contextlib.contextmanager
def fake_fly(folder: Path, sock: Path, nats_port: int) -> Iterator[Path]:
    """A `fly` in `folder`, as far as `fly agent start` goes (`agent/start.go` forks `fly agent run`,
    which binds the socket): it starts this fake agent in the background. Yields the file where each
    call's arguments are written; the agent is stopped at the end."""
    calls, pidfile = folder / "calls", folder / "agent.pid"
    root = Path(__file__).parent.parent.parent
    fly = folder / "fly"
    fly.write_text(
        "#!/bin/sh\n"
        f'echo "$@" >> {calls}\n'
        f"(cd {root} && exec {sys.executable} -m tests.fakes.agent {sock} {nats_port}) >/dev/null 2>&1 &\n"
        f"echo $! > {pidfile}\n"
    )
    fly.chmod(0o755)
    try:
        yield calls
    finally:
        if pidfile.exists():
            os.kill(int(pidfile.read_text()), signal.SIGTERM)


def _default_config(path: Path) -> Path:
    return path.with_name(path.name + ".config.yml")


async def _send(writer: asyncio.StreamWriter, text: str) -> None:
    data = text.encode()
    writer.write(struct.pack("<H", len(data)) + data)
    await writer.drain()


async def _receive(reader: asyncio.StreamReader) -> str:
    (length,) = struct.unpack("<H", await reader.readexactly(2))
    return (await reader.readexactly(length)).decode()


if __name__ == "__main__":  # `python -m tests.fakes.agent SOCKET NATS_PORT`: a fake `fly agent start` runs it
    agent = FakeAgent(Path(sys.argv[1]), int(sys.argv[2])).start()
    signal.sigwait({signal.SIGTERM, signal.SIGINT})
    agent.kill()
