"""Through flyctl's agent (a faithful fake on a unix socket) to a real nats-server."""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from flylogs.core.events import NoticeKind
from flylogs.core.gaps import GapReason
from flylogs.demo.server import NatsServer
from flylogs.source.agent import Agent, AgentError, Relay, Tunnel, nats_address, socket_path
from tests.fake_agent import NATS_IN_6PN, PEER_IP, PRIVATE_KEY, FakeAgent
from tests.helpers import SeqPublisher, Tail, assert_gaps_cover


@pytest.fixture
def agent_dir() -> Iterator[Path]:
    # A unix socket's path must be short (108 bytes): not under pytest's deep tmp_path.
    with tempfile.TemporaryDirectory(dir="/tmp", prefix="fa") as folder:
        yield Path(folder)


def test_the_stream_address_comes_from_the_peer_ip() -> None:
    assert nats_address("fdaa:0:1234:a7b:8c:1::2") == "[fdaa:0:1234::3]:4223"
    assert nats_address(PEER_IP) == NATS_IN_6PN
    assert nats_address("fdaa:9:ffff:0:1:2:3:4") == "[fdaa:9:ffff::3]:4223"


def test_the_socket_is_found_where_flyctl_puts_it(tmp_path: Path) -> None:
    assert socket_path({}, tmp_path) == tmp_path / ".fly" / "fly-agent.sock"
    assert socket_path({"FLY_CONFIG_DIR": "/c"}, tmp_path) == Path("/c/fly-agent.sock")
    assert socket_path({"FLY_AGENT_SOCKET_PATH": "/s.sock", "FLY_CONFIG_DIR": "/c"}, tmp_path) == Path(
        "/s.sock"
    )


async def test_ping_establish_probe_and_connect(nats_server: NatsServer, agent_dir: Path) -> None:
    with FakeAgent(agent_dir / "a.sock", nats_server.port, failing_probes=2) as fake:
        agent = Agent(fake.path, token="fm2_tok")
        assert (await agent.ping())["Version"] == "0.3.200"
        tunnel = await agent.establish("acme", "default")
        assert tunnel == Tunnel("acme", "", PEER_IP, "iad") and PRIVATE_KEY not in repr(tunnel)
        await agent.probe(tunnel, pause=0.01)  # fails twice, as a fresh tunnel may
        reader, writer = await agent.connect(tunnel, tunnel.nats)
        assert (await reader.readline()).startswith(b"INFO ")  # the real server, through the pipe
        writer.close()
        assert fake.tokens and set(fake.tokens) == {"fm2_tok"}
        assert "establish acme " in fake.requests  # default network: an empty last argument
        with pytest.raises(AgentError, match=r"refused connect: dial .* no route"):
            await agent.connect(tunnel, "[fdaa:0:1234::9]:4223")
    with pytest.raises(AgentError, match="not running"):
        await Agent(agent_dir / "a.sock").ping()


async def test_a_tail_through_the_agent_survives_the_agent_being_replaced(
    nats_server: NatsServer, agent_dir: Path
) -> None:
    fake = FakeAgent(agent_dir / "a.sock", nats_server.port).start()
    problems: list[str] = []
    try:
        agent = Agent(fake.path)
        tunnel = await agent.establish("personal", "")
        relay = Relay(agent, tunnel, problems.append)
        await relay.start()
        tail = Tail.on([relay.url], stall_timeout=3.0)
        await tail.until(lambda: tail.notices(NoticeKind.SUBSCRIBED), "subscription via the agent")
        publisher = SeqPublisher(nats_server.url).start()
        await tail.until(lambda: len(tail.seqs()) > 20, "lines via the agent")

        await asyncio.to_thread(fake.kill)  # a flyctl upgrade: every tunnel dropped
        await tail.until(lambda: tail.notices(NoticeKind.DISCONNECTED), "the loss")
        await asyncio.to_thread(fake.start)
        await tail.until(lambda: tail.notices(NoticeKind.RECONNECTED), "the reconnect via a new tunnel")
        mark = max(publisher.sent)
        await tail.until(lambda: any(s > mark for s in tail.seqs()), "lines after the agent came back")
        _, sent = await tail.finish(publisher)
        await relay.close()
    finally:
        fake.kill()
    assert [g.reason for g in tail.sink.gaps] == [GapReason.DISCONNECTED]
    assert_gaps_cover(sent, tail.seqs(), tail.sink.gaps)
    # The new agent knew no tunnel: the relay established one again before connecting.
    assert fake.requests.count("establish personal ") >= 2 and fake.connects >= 2
    assert any("not running" in p for p in problems)
    assert all(PRIVATE_KEY not in text for text in problems + [n.text for n in tail.sink.notices])


def test_through_a_relay_the_servers_a_cluster_advertises_are_never_tried() -> None:
    from urllib.parse import urlparse

    from nats.aio.client import Srv

    from flylogs.source.nats import ConnectOptions, NatsSource

    seed = Srv(urlparse("nats://127.0.0.1:4999"))
    advertised = Srv(urlparse("nats://[fdaa:0:1234::4]:4223"))
    advertised.discovered = True
    events: list[object] = []
    source = NatsSource(
        ConnectOptions((seed.uri.geturl(),), seeds_only=True), ["logs.>"], lambda s, d: None, events.append
    )
    for _ in range(5):
        chosen, _delay = source._choose_server([advertised, seed], {})
        assert chosen is seed
    plain = NatsSource(ConnectOptions((seed.uri.geturl(),)), ["logs.>"], lambda s, d: None, events.append)
    assert {plain._choose_server([advertised, seed], {})[0].uri.netloc for _ in range(5)} >= {
        advertised.uri.netloc
    }
