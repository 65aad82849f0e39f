"""Through flyctl's agent (a faithful fake on a unix socket) to a real nats-server."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path
from typing import Any

import pytest

from flylogs.core.events import NoticeKind
from flylogs.core.gaps import GapReason
from flylogs.demo.server import NatsServer
from flylogs.source.agent import Agent, AgentError, Tunnel, nats_address, socket_path
from flylogs.source.relay import Relay
from tests.fakes.agent import NATS_IN_6PN, PEER_IP, PERSONAL_RAW, PRIVATE_KEY, FakeAgent
from tests.fakes.machines import FakeMachinesApi
from tests.helpers import SeqPublisher, Tail, assert_gaps_cover


def test_the_stream_address_comes_from_the_peer_ip() -> None:
    assert nats_address("fdaa:0:1234:a7b:8c:1::2") == "[fdaa:0:1234::3]:4223"
    assert nats_address(PEER_IP) == NATS_IN_6PN
    assert nats_address("fdaa:9:ffff:0:1:2:3:4") == "[fdaa:9:ffff::3]:4223"


def test_the_socket_is_found_where_flyctl_puts_it(tmp_path: Path) -> None:
    assert socket_path({}, tmp_path) == tmp_path / ".fly" / "fly-agent.sock"
    assert socket_path({"FLY_CONFIG_DIR": "/c"}, tmp_path) == Path("/c/fly-agent.sock")
    assert socket_path({"FLY_CONFIG_DIR": "/c"}, tmp_path, "/s.sock") == Path("/s.sock")
    # helpers.GetConfigDirectory: set but empty is still set (Go joins "" and the name: the cwd)
    assert socket_path({"FLY_CONFIG_DIR": ""}, tmp_path) == Path("fly-agent.sock")


async def test_ping_establish_probe_and_connect(nats_server: NatsServer, agent_dir: Path) -> None:
    with FakeAgent(agent_dir / "a.sock", nats_server.port, failing_probes=2) as fake:
        agent = Agent(fake.path, tokens=lambda: ("str", "fm2_tok,fo1_user"))
        assert (await agent.ping())["Version"] == "0.3.200"
        tunnel = await agent.establish("acme", "default")
        assert tunnel == Tunnel("acme", "", PEER_IP, "iad") and PRIVATE_KEY not in repr(tunnel)
        await agent.probe(tunnel, pause=0.01)  # fails twice, as a fresh tunnel may
        reader, writer = await agent.connect(tunnel, tunnel.nats)
        assert (await reader.readline()).startswith(b"INFO ")  # the real server, through the pipe
        writer.close()
        assert set(fake.tokens) == {("str", "fm2_tok,fo1_user")}  # every token, as `toks.All()`
        assert "establish acme " in fake.requests  # default network: an empty last argument
        with pytest.raises(AgentError, match=r"refused connect: dial .* connection refused"):
            await agent.connect(tunnel, "[fdaa:0:1234::9]:4223")
    with pytest.raises(AgentError, match="not running"):
        await Agent(agent_dir / "a.sock").ping()


async def test_the_fake_agent_refuses_what_flyctls_agent_refuses(
    nats_server: NatsServer, agent_dir: Path
) -> None:
    """session.go, word for word: argument counts, orgs by web slug, connect's uint32 timeout, a
    connect without an established tunnel, and the config file stat on every connection."""
    with FakeAgent(agent_dir / "a.sock", nats_server.port) as fake:
        agent = Agent(fake.path)
        for verb, args, said in [
            ("ping", ("x",), "malformed ping command"),
            ("establish", ("personal",), "malformed establish command"),
            ("establish", ("jane-doe-123", ""), "no such organization"),  # the raw slug: unknown
            ("probe", ("personal", ""), "tunnel unavailable"),
            ("connect", ("personal", NATS_IN_6PN, "5000", ""), "tunnel unavailable"),
            ("connect", ("personal", NATS_IN_6PN, "-1", ""), 'parsing "-1": invalid syntax'),
            ("connect", ("personal", NATS_IN_6PN, str(2**32), ""), "value out of range"),
            ("set-token", ("str",), "malformed set-token command"),
            ("frobnicate", (), "unsupported command"),
        ]:
            with pytest.raises(AgentError, match=said):
                await agent.call(verb, *args)
        fake.config.unlink()  # the agent's config.yml gone: every command refused
        with pytest.raises(AgentError, match="can't stat config file"):
            await agent.ping()


async def test_tokens_go_to_the_agent_as_flyctl_sends_them(nats_server: NatsServer, agent_dir: Path) -> None:
    """agent/client.go `do`: `set-token cfg <path>` for config.yml (the agent reads the file itself,
    and again each time), `str` otherwise; an agent that refuses set-token is used without tokens."""
    config = agent_dir / "config.yml"
    config.write_text("access_token: fm2_first\n")
    with FakeAgent(agent_dir / "a.sock", nats_server.port) as fake:
        agent = Agent(fake.path, tokens=lambda: ("cfg", str(config)))
        await agent.ping()
        config.write_text("access_token: fm2_rotated\n")  # flyctl rewrote it
        await agent.ping()
        assert fake.tokens == [("cfg", str(config))] * 2
        assert fake.file_tokens == ["fm2_first", "fm2_rotated"]

        huge = Agent(fake.path, tokens=lambda: ("str", "fm2_" + "x" * 70_000))  # longer than a frame
        assert (await huge.ping())["PID"] == 4242 and huge.refused_tokens
    with FakeAgent(agent_dir / "b.sock", nats_server.port, knows_set_token=False) as old:
        agent = Agent(old.path, tokens=lambda: ("str", "fm2_tok"))
        assert (await agent.ping())["PID"] == 4242 and agent.refused_tokens
        await agent.ping()
        assert old.requests == ["set-token ***", "ping", "ping"]  # refused once, then never sent again


async def test_an_establish_reply_without_a_peer_address_is_the_agents_error(
    nats_server: NatsServer, agent_dir: Path
) -> None:
    with (
        FakeAgent(agent_dir / "a.sock", nats_server.port, peer_ip="") as fake,
        pytest.raises(AgentError, match="without a usable peer address"),
    ):
        await Agent(fake.path).establish("personal")


@pytest.mark.slow
async def test_establish_is_waited_for_as_long_as_it_takes(nats_server: NatsServer, agent_dir: Path) -> None:
    """ "this goes out to the API; don't time it out aggressively" (agent/client.go doEstablish)."""
    with FakeAgent(agent_dir / "a.sock", nats_server.port, establish_delay=1.5) as fake:
        agent = Agent(fake.path, timeout=0.5)  # every other answer is expected within 0.5 s
        tunnel = await agent.establish("personal")
        assert tunnel.peer_ip == PEER_IP


@pytest.mark.slow
async def test_a_tail_through_the_agent_survives_the_agent_being_replaced(
    nats_server: NatsServer, agent_dir: Path
) -> None:
    fake = FakeAgent(agent_dir / "a.sock", nats_server.port).start()
    problems: list[str] = []
    try:
        relay = Relay(Agent(fake.path), "personal", "default", problems.append)
        assert (await relay.start()).nats == NATS_IN_6PN
        tail = Tail.on([relay.url], stall_timeout=3.0)
        await tail.until(lambda: tail.notices(NoticeKind.SUBSCRIBED), "subscription via the agent")
        publisher = SeqPublisher(nats_server.url).start()
        await tail.until(lambda: len(tail.seqs()) > 20, "lines via the agent")

        await asyncio.to_thread(fake.kill)  # a flyctl upgrade: every tunnel dropped
        await tail.until(lambda: tail.notices(NoticeKind.DISCONNECTED), "the loss")
        # A reconnect meets the missing agent before it is back (else nothing is refused to say).
        await tail.until(lambda: problems, "a reconnect refused by the missing agent")
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


def test_a_personal_org_user_reaches_the_stream_through_the_agent_even_with_fly_org_set(
    agent_dir: Path, personal_user: dict[str, str]
) -> None:
    """The issue's user: `establish personal` to the agent, NATS user = the raw slug, password = the
    macaroon; FLY_ORG naming another org changes nothing (`fly logs` uses the app's own org)."""
    from typer.testing import CliRunner

    from flylogs.cli import app
    from tests.helpers import log_records, msg, publish_when_subscribed

    with NatsServer(user=PERSONAL_RAW, password="fm2_from-flyctl", monitor=True) as server:
        config = Path.home() / ".fly" / "config.yml"
        with FakeAgent(agent_dir / "a.sock", server.port, config=config) as fake:
            lines = [msg("jane-blog", "iad", "m1", f"line {i}") for i in range(3)]
            thread = publish_when_subscribed(server, lines, user=PERSONAL_RAW, password="fm2_from-flyctl")
            env = {**personal_user, "FLY_ORG": "acme"}
            args = ["tail", "jane-blog", "--json", "--count", "3", "--transport", "agent"]
            result = CliRunner().invoke(app, args, env=env)
            thread.join(10)
    assert result.exit_code == 0, result.stderr
    assert [r["message"] for r in log_records(result.stdout)] == ["line 0", "line 1", "line 2"]
    assert (
        "flylogs: via flyctl's agent (agent org personal, NATS user jane-doe-123, "
        "nats://[fdaa:0:1234::3]:4223)" in result.stderr
    )
    assert "establish personal " in fake.requests and "probe personal " in fake.requests
    assert fake.tokens and set(fake.tokens) == {("cfg", str(config))}  # the file, as flyctl sends it
    assert "fm2_from-flyctl" not in result.stderr and PRIVATE_KEY not in result.stdout + result.stderr


def test_with_the_agent_asked_for_and_not_there_the_error_says_how_to_start_it(agent_dir: Path) -> None:
    from typer.testing import CliRunner

    from flylogs.cli import app

    env = {"FLY_AGENT_SOCKET_PATH": str(agent_dir / "none.sock"), "PATH": str(agent_dir)}  # no fly either
    result = CliRunner().invoke(app, ["tail", "shop", "--transport", "agent"], env=env)
    assert result.exit_code == 5, result.stderr
    assert "flyctl's agent is not running" in result.stderr and "fly agent start" in result.stderr


@pytest.mark.slow
def test_the_org_and_network_come_from_the_app_through_the_machines_api(
    nats_server: NatsServer, agent_dir: Path
) -> None:
    from typer.testing import CliRunner

    from flylogs.cli import app
    from tests.helpers import log_records, msg, publish_when_subscribed

    token = "fm2_machines-token"
    with (
        FakeMachinesApi({"shop": ("acme", "acme-net"), "other": ("globex", "default")}, token) as machines,
        FakeAgent(agent_dir / "a.sock", nats_server.port) as fake,
    ):
        env = {
            "FLY_AGENT_SOCKET_PATH": str(fake.path),
            "FLY_FLAPS_BASE_URL": machines.url,
            "FLYLOGS_TOKEN": token,
        }
        thread = publish_when_subscribed(nats_server, [msg("shop", "iad", "m1", "hello acme")])
        result = CliRunner().invoke(app, ["tail", "shop", "--json", "--count", "1"], env=env)
        thread.join(10)
        assert result.exit_code == 0, result.stderr
        assert [r["message"] for r in log_records(result.stdout)] == ["hello acme"]
        assert "via flyctl's agent (org acme," in result.stderr
        assert "establish acme acme-net" in fake.requests  # the app's own network
        assert machines.requests[0] == ("/v1/apps/shop", f"FlyV1 {token}")

        mixed = CliRunner().invoke(app, ["tail", "shop", "other"], env=env)
        assert mixed.exit_code == 2 and "different orgs: shop (acme), other (globex)" in mixed.stderr
        missing = CliRunner().invoke(app, ["tail", "nope"], env=env)
        assert missing.exit_code == 2 and "no app 'nope'" in missing.stderr
        refused = CliRunner().invoke(app, ["tail", "shop"], env={**env, "FLYLOGS_TOKEN": "fm2_wrong"})
        assert refused.exit_code == 4 and "fm2_wrong" not in refused.stderr
        # FLY_ORG or --org naming another org does not move the app: `fly logs` uses its own org.
        asked = len(machines.requests)
        told = CliRunner().invoke(
            app, ["tail", "shop", "--org", "mine", "--since", "9999d", "--stream", "L"], env=env
        )
        assert told.exit_code == 2 and len(machines.requests) == asked + 1
        assert "shop is in org acme: following it there (--org mine does not apply)" in told.stderr
        mine = CliRunner().invoke(
            app, ["tail", "shop", "--since", "9999d", "--stream", "L"], env={**env, "FLY_ORG": "mine"}
        )
        assert mine.exit_code == 2 and len(machines.requests) == asked + 2 and "mine" not in mine.stderr


def test_config_show_gives_the_way_tail_would_take(agent_dir: Path) -> None:
    from typer.testing import CliRunner

    from flylogs.cli import app

    (agent_dir / "a.sock").touch()
    path = os.path.dirname(sys.executable)
    shown = CliRunner().invoke(
        app, ["config", "show"], env={"FLY_AGENT_SOCKET_PATH": str(agent_dir / "a.sock"), "PATH": path}
    )
    assert next(row for row in shown.stdout.splitlines() if row.startswith("way ")).split()[1:3] == [
        "agent:",
        "flyctl's",
    ]
    direct = CliRunner().invoke(app, ["config", "show", "--server", "nats://h:1"], env={"PATH": path})
    assert "way           nats: straight to nats://h:1" in direct.stdout


@pytest.mark.parametrize(
    ("flags", "env", "socket", "fly", "apps", "way"),
    [
        ({"servers": ("nats://mine:4222",)}, {}, True, True, ("shop",), "nats"),  # a server given
        ({}, {"FLY_MACHINE_ID": "148e"}, True, True, ("shop",), "nats"),  # inside a Fly Machine
        ({}, {}, True, False, ("shop",), "agent"),  # the agent is there
        ({}, {}, False, True, ("shop",), "agent"),  # fly can start it
        ({}, {"FLYLOGS_TOKEN": "fm2_t"}, False, False, ("shop",), "api"),  # a token and apps
        ({}, {"FLYLOGS_TOKEN": "fm2_t"}, False, False, (), "nats"),  # no app: the API cannot help
        ({"transport": "api"}, {}, True, True, (), "api"),  # asked for
    ],
)
def test_every_rung_of_the_auto_ladder(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    flags: dict[str, object],
    env: dict[str, str],
    socket: bool,
    fly: bool,
    apps: tuple[str, ...],
    way: str,
) -> None:
    from flylogs.session import way as transport
    from flylogs.settings.choices import Transport
    from flylogs.settings.resolve import Flags, resolve

    sock = tmp_path / "a.sock"
    if socket:
        sock.touch()
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    if fly:
        (bin_dir / "fly").write_text("#!/bin/sh\n")
        (bin_dir / "fly").chmod(0o755)
    monkeypatch.setenv("PATH", str(bin_dir))
    values: dict[str, Any] = {k: (Transport(str(v)) if k == "transport" else v) for k, v in flags.items()}
    env = {**env, "FLY_AGENT_SOCKET_PATH": str(sock)}
    settings = resolve(Flags(**values), env, tmp_path)
    assert transport.choose(settings, env, tmp_path, apps) == Transport(way)


async def test_a_freshly_started_agent_is_waited_for_until_it_listens_not_only_until_its_socket_exists(
    agent_dir: Path,
) -> None:
    """The socket file appears when it is bound, a moment before it listens: under load, connecting in
    between was refused ("nobody listening") and the tail failed at start (seen in the suite)."""
    from flylogs.source.agent import ensure_running

    sock, pidfile = agent_dir / "a.sock", agent_dir / "pid"
    agent = (
        "import socket, sys, time\n"
        "s = socket.socket(socket.AF_UNIX)\n"
        f"s.bind({str(sock)!r})\n"
        "time.sleep(0.5)\n"  # bound, not yet listening
        "s.listen()\n"
        "while True:\n"
        "    c = s.accept()[0]\n"
        "    c.recv(int.from_bytes(c.recv(2), 'little'))\n"  # the ping
        '    body = b\'ok {"PID":1,"Version":"0.3.200","Background":true}\\n\'\n'
        "    c.sendall(len(body).to_bytes(2, 'little') + body)\n"
        "    c.close()\n"
    )
    (agent_dir / "agent.py").write_text(agent)
    fly = agent_dir / "fly"
    fly.write_text(
        f"#!/bin/sh\n{sys.executable} {agent_dir / 'agent.py'} >/dev/null 2>&1 &\necho $! > {pidfile}\n"
    )
    fly.chmod(0o755)
    try:
        assert await ensure_running(Agent(sock), str(fly), wait=10)
        _, writer = await asyncio.open_unix_connection(str(sock))  # refused before the fix
        writer.close()
    finally:
        if pidfile.exists():
            os.kill(int(pidfile.read_text()), 15)
