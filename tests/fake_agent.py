"""A fake of flyctl's agent, written from ../shared/docs/fly-log-stream.md: its unix socket, the
2-byte frames, `set-token`, `ping`, `establish`, `probe`, and `connect`, which pipes to a real local
nats-server. It runs on its own thread and loop, and can be killed mid-run (every tunnel dropped,
the socket gone) and started again, as a flyctl upgrade does."""

from __future__ import annotations

import asyncio
import contextlib
import json
import struct
import threading
from pathlib import Path

PEER_IP = "fdaa:0:1234:a7b:8c:1::2"
NATS_IN_6PN = "[fdaa:0:1234::3]:4223"
PRIVATE_KEY = "FAKE-PRIVATE-KEY-never-print-me="


class FakeAgent:
    def __init__(self, path: Path, nats_port: int, *, failing_probes: int = 0) -> None:
        self.path = path
        self.nats_port = nats_port
        self.failing_probes = failing_probes
        self.requests: list[str] = []  # verbs and arguments, set-token's token masked
        self.tokens: list[str] = []
        self.tunnels: set[tuple[str, str]] = set()
        self.connects = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: asyncio.AbstractServer | None = None
        self._conns: set[asyncio.StreamWriter] = set()
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()

    def start(self) -> FakeAgent:
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
            request = await _receive(reader)
            if request.startswith("set-token "):
                self.requests.append("set-token ***")
                self.tokens.append(request.split(" ", 2)[2])
                await _send(writer, "ok")
                request = await _receive(reader)
            self.requests.append(request)
            verb, *args = request.split(" ")
            handler = getattr(self, f"_do_{verb.replace('-', '_')}", None)
            if handler is None:
                await _send(writer, "err unsupported command")
                return
            await handler(args, reader, writer)
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            self._conns.discard(writer)
            writer.close()

    async def _do_ping(self, args: list[str], _r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
        await _send(w, 'ok {"PID":4242,"Version":"0.3.200","Background":true}\n')

    async def _do_establish(self, args: list[str], _r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
        if len(args) != 2:
            await _send(w, "err malformed establish command")
            return
        org, network = args
        self.tunnels.add((org, network))
        reply = {
            "WireGuardState": {
                "org": org,
                "name": "flylogs-laptop",
                "region": "iad",
                "peer": {"peerip": PEER_IP, "endpointip": "1.2.3.4", "pubkey": "PUBKEY"},
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
            await _send(w, "err probe failed: no route yet")
        else:
            await _send(w, "ok")

    async def _do_connect(
        self, args: list[str], reader: asyncio.StreamReader, w: asyncio.StreamWriter
    ) -> None:
        if len(args) != 4:
            await _send(w, "err malformed connect command")
            return
        org, address, _timeout, network = args
        if (org, network) not in self.tunnels:
            await _send(w, "err tunnel unavailable")
            return
        if address != NATS_IN_6PN:
            await _send(w, f"err dial {address}: no route")
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


async def _send(writer: asyncio.StreamWriter, text: str) -> None:
    data = text.encode()
    writer.write(struct.pack("<H", len(data)) + data)
    await writer.drain()


async def _receive(reader: asyncio.StreamReader) -> str:
    (length,) = struct.unpack("<H", await reader.readexactly(2))
    return (await reader.readexactly(length)).decode()


if (
    __name__ == "__main__"
):  # `python -m tests.fake_agent SOCKET NATS_PORT`: what a fake `fly agent start` runs
    import signal
    import sys

    agent = FakeAgent(Path(sys.argv[1]), int(sys.argv[2])).start()
    signal.sigwait({signal.SIGTERM, signal.SIGINT})
    agent.kill()
