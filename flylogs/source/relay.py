"""The loopback relay: nats-py's way through flyctl's agent.

Each NATS connection nats-py opens to the relay becomes one agent `connect` to the stream, piped
both ways, so reconnects, stall detection and gaps work exactly as on a direct connection. A
refused `connect` closes the client's connection and is said once (`on_problem`, `problem`).
Must not: print, or log the tunnel's keys.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import Callable

from flylogs.source.agent import Agent, AgentError, Tunnel


class Relay:
    """A loopback TCP listener for nats-py: each connection to it becomes one agent `connect` to the
    stream, piped both ways until either side closes. A refused `connect` (the agent gone, the
    tunnel dropped by a flyctl upgrade) closes the client's connection, so nats-py reconnects as
    it would to a dead server, and the next connection re-establishes the tunnel first."""

    def __init__(
        self, agent: Agent, org: str, network: str = "", on_problem: Callable[[str], None] = lambda _: None
    ) -> None:
        self.agent = agent
        self.org, self.network = org, network  # `establish` sends `default` as the empty string
        self.tunnel: Tunnel | None = None
        self.on_problem = on_problem
        # The agent's last refusal, until a connect succeeds again: the reason of the outage it caused.
        self.problem: str | None = None
        # Bound now, so the URL nats-py is given is known before the loop runs.
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._server: asyncio.Server | None = None
        self._pipes: set[asyncio.Task[None]] = set()

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    async def start(self) -> Tunnel:
        """Establish the tunnel, wait until it passes traffic, and start listening (again: a first
        attempt that failed can be repeated)."""
        self.tunnel = await self.agent.establish(self.org, self.network)
        await self.agent.probe(self.tunnel)
        if self._server is None:
            self._server = await asyncio.start_server(self._handle, sock=self._listener)
        return self.tunnel

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
        else:
            self._listener.close()
        for task in list(self._pipes):
            task.cancel()
        with contextlib.suppress(Exception):
            await asyncio.gather(*self._pipes, return_exceptions=True)

    async def _handle(self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._pipes.add(task)
        try:
            try:
                if self.tunnel is None:  # the last connect failed: the tunnel may be gone with the agent
                    self.tunnel = await self.agent.establish(self.org, self.network)
                upstream_r, upstream_w = await self.agent.connect(self.tunnel, self.tunnel.nats)
            except AgentError as exc:
                self.tunnel = None
                # Said once per kind of refusal, not once per reconnect attempt (nor again when only
                # its detail changes: "nobody listening", then "no socket", as the agent goes).
                if _kind(str(exc)) != _kind(self.problem or ""):
                    self.on_problem(str(exc))
                self.problem = str(exc)
                return
            self.problem = None
            await _pipe_both(client_r, client_w, upstream_r, upstream_w)
        except asyncio.CancelledError:
            return  # the relay is closing: a handler's end, not an error for asyncio to log
        finally:
            client_w.close()
            if task is not None:
                self._pipes.discard(task)


async def _pipe_both(
    a_r: asyncio.StreamReader, a_w: asyncio.StreamWriter, b_r: asyncio.StreamReader, b_w: asyncio.StreamWriter
) -> None:
    async def pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
        with contextlib.suppress(OSError, asyncio.IncompleteReadError):
            while data := await source.read(65536):
                sink.write(data)
                await sink.drain()

    one, two = asyncio.ensure_future(pipe(a_r, b_w)), asyncio.ensure_future(pipe(b_r, a_w))
    try:
        await asyncio.wait({one, two}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in (one, two):
            task.cancel()
        for writer in (a_w, b_w):
            writer.close()


def _kind(problem: str) -> str:
    return problem.split(" (", 1)[0]
