"""flyctl's agent: the adapter that reaches Fly's private network from a laptop, as `fly logs` does.

The agent is a background flyctl process holding WireGuard tunnels in user space. Its unix socket
speaks frames (a 2-byte little-endian length, then that many bytes), one command per connection
except `set-token`, which precedes the real command on the same connection. `connect` turns the
socket into a raw two-way TCP stream to a 6PN address. Owns: finding the socket, `ping`,
`establish`, `probe`, `connect` (the loopback relay that uses it is `source/relay.py`).
Must not: log or return the `establish` reply whole (it holds the tunnel's private key), print, or
decide exit codes (it raises AgentError).
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import json
import struct
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flylogs.core.backoff import Backoff
from flylogs.settings.tokens import flyctl_dir

NATS_PORT = 4223


class AgentError(Exception):
    """The agent is not there, or answered `err …`."""


def socket_path(env: Mapping[str, str], home: Path, override: str | None = None) -> Path:
    """flyctl's `agent.PathToSocket`: `fly-agent.sock` in flyctl's config directory (`FLY_CONFIG_DIR`
    when set at all, else `~/.fly`). `override` (the `agent_socket` setting: `FLY_AGENT_SOCKET_PATH`)
    is flylogs' own (flyctl does not read it): for an agent started elsewhere by hand."""
    if override:
        return Path(override).expanduser()
    return flyctl_dir(env, home) / "fly-agent.sock"


def nats_address(peer_ip: str) -> str:
    """The stream's address for a tunnel: the peer's first 48 bits, the rest zero, the last byte 3.

    `fdaa:0:1234:a7b:8c:1::2` gives `[fdaa:0:1234::3]:4223`.
    """
    packed = bytearray(ipaddress.IPv6Address(peer_ip).packed)
    packed[6:] = bytes(10)
    packed[15] = 3
    return f"[{ipaddress.IPv6Address(bytes(packed))}]:{NATS_PORT}"


@dataclass(frozen=True, slots=True)
class Tunnel:
    """What a tail needs of `establish`'s reply (never the keys)."""

    org: str
    network: str
    peer_ip: str
    region: str | None = None

    @property
    def nats(self) -> str:
        return nats_address(self.peer_ip)


# What `set-token` sends (`agent/client.go` `do`): ("cfg", path of config.yml) when the token came
# from flyctl's file (the agent reads, and later re-reads, it itself), else ("str", every token).
TokenArgs = Callable[[], tuple[str, str] | None]
MAX_FRAME = 0xFFFF  # a frame's length is two bytes


@dataclass(slots=True)
class Agent:
    """One agent, reached through its unix socket; every call opens a connection of its own.

    As flyctl's client (`agent/client.go`): each connection starts with `set-token` when there is a
    token; an agent that answers anything but `ok` (an older one, a token it cannot use) is used
    without tokens from then on (`agentRefusedTokens`), as is one whose tokens do not fit a frame.
    `establish` goes out to Fly's API and may create a WireGuard peer: it has no timeout."""

    path: Path
    tokens: TokenArgs = field(default=lambda: None, repr=False)
    timeout: float = 10.0
    refused_tokens: bool = False

    async def _open(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        reader, writer = await self._connect()
        args = None if self.refused_tokens else self.tokens()
        if args is None:
            return reader, writer
        request = " ".join(("set-token", *args))
        if len(request.encode()) > MAX_FRAME:
            self.refused_tokens = True  # flyctl's frame would overflow; the agent's own tokens serve
            return reader, writer
        await _send(writer, request)
        try:
            reply = await asyncio.wait_for(_receive(reader), self.timeout)
        except (OSError, TimeoutError, asyncio.IncompleteReadError) as exc:
            writer.close()
            raise AgentError(f"flyctl's agent did not answer set-token ({_why(exc)})") from None
        if reply == "ok":
            return reader, writer
        writer.close()
        if not reply.startswith("err "):
            raise AgentError("flyctl's agent sent something unexpected to set-token")
        self.refused_tokens = True  # as flyctl: go on without tokens (the agent's own)
        return await self._connect()

    async def _connect(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        try:
            return await asyncio.wait_for(asyncio.open_unix_connection(str(self.path)), self.timeout)
        except (OSError, TimeoutError) as exc:
            raise AgentError(f"flyctl's agent is not running ({self.path}: {_why(exc)})") from None

    async def _expect_ok(self, reader: asyncio.StreamReader, verb: str, patient: bool = False) -> str:
        try:
            reply = await asyncio.wait_for(_receive(reader), None if patient else self.timeout)
        except (OSError, TimeoutError, asyncio.IncompleteReadError) as exc:
            raise AgentError(f"flyctl's agent did not answer {verb} ({_why(exc)})") from None
        if reply == "ok" or reply.startswith("ok "):
            return reply[3:]
        message = reply.removeprefix("err ").strip() or reply
        raise AgentError(f"flyctl's agent refused {verb}: {message}")

    async def call(self, verb: str, *args: str, patient: bool = False) -> str:
        """One command on a connection of its own: its `ok` payload, or AgentError. `patient`: wait
        for the answer as long as it takes."""
        reader, writer = await self._open()
        try:
            await _send(writer, " ".join((verb, *args)))
            return await self._expect_ok(reader, verb, patient)
        finally:
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    async def ping(self) -> dict[str, Any]:
        """`{"PID":…,"Version":"…","Background":…}`."""
        reply = _json(await self.call("ping"), "ping")
        return reply if isinstance(reply, dict) else {}

    async def establish(self, org: str, network: str = "") -> Tunnel:
        """A tunnel to `org`'s network; `org` is the *web* slug (`personal` for a personal org), and
        `default` is sent as the empty string. No timeout: it may create a WireGuard peer."""
        network = "" if network == "default" else network
        reply = _json(await self.call("establish", org, network, patient=True), "establish")
        state = reply.get("WireGuardState") if isinstance(reply, dict) else None
        peer = state.get("peer") if isinstance(state, dict) else None
        peer_ip = peer.get("peerip") if isinstance(peer, dict) else None
        if not isinstance(peer_ip, str) or not _is_ipv6(peer_ip):
            raise AgentError(
                "flyctl's agent sent a tunnel without a usable peer address "
                f"({'none' if not peer_ip else 'not an IPv6 address'}): try `fly agent restart`"
            )
        region = state.get("region") if isinstance(state, dict) else None
        return Tunnel(org, network, peer_ip, region if isinstance(region, str) else None)

    async def probe(self, tunnel: Tunnel, attempts: int = 10, pause: float = 0.5) -> None:
        """Until the tunnel passes traffic (it may not for a few seconds after `establish`): waits
        of about `pause` seconds, growing to twice that."""
        waits = Backoff(pause, cap=pause * 2)
        for attempt in range(attempts):
            try:
                await self.call("probe", tunnel.org, tunnel.network)
                return
            except AgentError:
                if attempt == attempts - 1:
                    raise
                await asyncio.sleep(waits.next())

    async def connect(
        self, tunnel: Tunnel, address: str, timeout_ms: int = 5000
    ) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        """A raw stream to `address` inside the tunnel's network."""
        reader, writer = await self._open()
        try:
            await _send(writer, f"connect {tunnel.org} {address} {timeout_ms} {tunnel.network}")
            await self._expect_ok(reader, "connect")
        except BaseException:
            writer.close()
            raise
        return reader, writer


def _is_ipv6(text: str) -> bool:
    try:
        ipaddress.IPv6Address(text)
    except ValueError:
        return False
    return True


async def _send(writer: asyncio.StreamWriter, text: str) -> None:
    data = text.encode()
    if len(data) > MAX_FRAME:
        raise AgentError(f"a command of {len(data)} bytes does not fit the agent's frame")
    writer.write(struct.pack("<H", len(data)) + data)
    # The agent may answer (`err can't stat config file: …`) and hang up before reading a word:
    # its answer, read next, says why; a connection that says nothing is reported there.
    with contextlib.suppress(ConnectionError):
        await writer.drain()


async def _receive(reader: asyncio.StreamReader) -> str:
    try:
        (length,) = struct.unpack("<H", await reader.readexactly(2))
        data = await reader.readexactly(length)
    except ConnectionError:
        # Our write failed because the agent had answered and hung up (`err can't stat config
        # file`): asyncio then raises the write's error on every read, though the answer arrived.
        data = _answered_before_hanging_up(reader)
    return data.decode("utf-8", "replace").rstrip("\n")


def _answered_before_hanging_up(reader: asyncio.StreamReader) -> bytes:
    buffered = bytes(getattr(reader, "_buffer", b""))  # what arrived before the error
    if len(buffered) >= 2:
        (length,) = struct.unpack("<H", buffered[:2])
        if len(buffered) >= 2 + length:
            return buffered[2 : 2 + length]
    raise asyncio.IncompleteReadError(buffered, None)


def _json(payload: str, verb: str) -> Any:
    try:
        return json.loads(payload)
    except ValueError:
        raise AgentError(f"flyctl's agent sent something that is not JSON for {verb}") from None


def _why(exc: BaseException) -> str:
    if isinstance(exc, TimeoutError):
        return "timed out"
    if isinstance(exc, FileNotFoundError):
        return "no socket"
    if isinstance(exc, ConnectionRefusedError):
        return "nobody listening"
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror.lower()
    return type(exc).__name__


async def ensure_running(agent: Agent, fly: str | None, wait: float = 15.0) -> bool:
    """The agent answers `ping`, after `fly agent start` (once) if it did not and `fly` is on PATH,
    as flyctl's `Establish` does: a socket file left by a dead agent is no agent (the new one removes
    it before binding). "Another instance is already running" is fine; False when none answers."""
    with contextlib.suppress(AgentError):
        await agent.ping()
        return True
    if fly is None:
        return False
    with contextlib.suppress(OSError):
        process = await asyncio.create_subprocess_exec(
            fly, "agent", "start", stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL
        )
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(process.wait(), wait)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + wait
    while loop.time() < deadline:
        # The socket file appears when it is bound, a moment before it listens: wait for an answer.
        with contextlib.suppress(AgentError):
            await agent.ping()
            return True
        await asyncio.sleep(0.05)
    return False
