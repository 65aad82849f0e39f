"""The laptop path as flyctl's code has it (issue 16), against the strict fakes in tests/fakes/: a
stale agent socket, a slow `establish`, `personal` typed by hand, tokens that flyctl rotates, the
Machines list as fly-go's `ListActive` reads it, and polling as `logs/polling.go` does."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from flylogs.cli import app
from flylogs.core.events import Event, Problem
from flylogs.demo.server import NatsServer
from flylogs.settings.tokens import TokenKeeper
from flylogs.source.api_poll import ApiPollSource
from flylogs.source.flyapi import ApiSpec
from flylogs.source.machines import parse_machines
from tests.fakes.agent import PERSONAL_RAW, FakeAgent, fake_fly
from tests.fakes.flyapi import FakeFlyApi, entry
from tests.helpers import log_records, msg, publish_when_subscribed, until, wait_for

FLYCTL_TOKEN = "fm2_from-flyctl"

pytestmark = pytest.mark.slow  # real processes and terminals: the full suite only


@pytest.mark.parametrize("left", ["nothing", "a stale socket"])
def test_with_no_agent_answering_fly_agent_start_is_run_once_and_then_the_stream(
    agent_dir: Path, personal_user: dict[str, str], left: str
) -> None:
    """flyctl pings, and starts the agent when no ping is answered: no socket, or one left behind by
    a crash with nobody listening (the new agent removes it before binding)."""
    sock = agent_dir / "a.sock"
    if left == "a stale socket":
        stale = socket.socket(socket.AF_UNIX)
        stale.bind(str(sock))  # bound, never listening, closed: a file and nobody behind it
        stale.close()
    with (
        NatsServer(user=PERSONAL_RAW, password=FLYCTL_TOKEN, monitor=True) as server,
        fake_fly(agent_dir, sock, server.port) as calls,
    ):
        thread = publish_when_subscribed(
            server, [msg("jane-blog", "iad", "m1", "hello")], user=PERSONAL_RAW, password=FLYCTL_TOKEN
        )
        env = {**personal_user, "PATH": f"{agent_dir}{os.pathsep}{os.environ['PATH']}"}
        result = CliRunner().invoke(app, ["tail", "jane-blog", "--json", "--count", "1"], env=env)
        thread.join(10)
    assert result.exit_code == 0, result.stderr
    assert [r["message"] for r in log_records(result.stdout)] == ["hello"]
    assert calls.read_text().splitlines() == ["agent start"]


def test_an_establish_of_12_seconds_ends_on_the_stream_not_on_polling(
    agent_dir: Path, personal_user: dict[str, str]
) -> None:
    """A new WireGuard peer can take many seconds: the logs API shows lines meanwhile, the wait is
    said, and the tail moves to the stream when the tunnel is there (it gave up after 10 s)."""
    web_url = personal_user["FLY_API_BASE_URL"]
    with (
        NatsServer(user=PERSONAL_RAW, password=FLYCTL_TOKEN, monitor=True) as server,
        FakeAgent(agent_dir / "a.sock", server.port, establish_delay=12.0) as fake,
    ):
        thread = publish_when_subscribed(
            server,
            [msg("jane-blog", "iad", "m1", f"stream {i}") for i in range(2)],
            user=PERSONAL_RAW,
            password=FLYCTL_TOKEN,
            timeout=30,
        )
        result = CliRunner().invoke(
            app, ["tail", "jane-blog", "--json", "--count", "2", "--api-url", web_url], env=personal_user
        )
        thread.join(10)
    assert result.exit_code == 0, result.stderr
    assert [r["message"] for r in log_records(result.stdout)] == ["stream 0", "stream 1"]
    assert "setting up the WireGuard tunnel to org personal through flyctl's agent" in result.stderr
    assert "via flyctl's agent (agent org personal, NATS user jane-doe-123" in result.stderr
    assert "staying on Fly's logs API" not in result.stderr
    assert fake.requests.count("establish personal ") == 1


def test_personal_typed_by_hand_is_the_agents_name_and_its_raw_slug_is_the_nats_user(
    agent_dir: Path, personal_user: dict[str, str]
) -> None:
    """No app named: the org is `personal` (the default); NATS wants the raw slug, which Fly's
    organizations endpoint gives."""
    with (
        NatsServer(user=PERSONAL_RAW, password=FLYCTL_TOKEN, monitor=True) as server,
        FakeAgent(agent_dir / "a.sock", server.port) as fake,
    ):
        thread = publish_when_subscribed(
            server, [msg("jane-blog", "iad", "m1", "hi")], user=PERSONAL_RAW, password=FLYCTL_TOKEN
        )
        result = CliRunner().invoke(app, ["tail", "--all", "--json", "--count", "1"], env=personal_user)
        thread.join(10)
    assert result.exit_code == 0, result.stderr
    assert [r["message"] for r in log_records(result.stdout)] == ["hi"]
    assert "establish personal " in fake.requests
    shown = CliRunner().invoke(app, ["config", "show"], env=personal_user)
    assert "agent org personal; NATS user: the personal org's raw slug" in shown.stdout


def test_a_token_flyctl_rewrote_is_read_again_when_the_server_refuses_the_old_one(tmp_path: Path) -> None:
    """flyctl rotates config.yml's token while it runs: after the server refuses the old one, the
    file is read again and the tail resumes by itself, within a reconnect or two."""
    config = Path.home() / ".fly" / "config.yml"
    config.parent.mkdir(exist_ok=True)
    config.write_text(f"access_token: {FLYCTL_TOKEN}\n")
    with NatsServer(user="acme", password=FLYCTL_TOKEN, monitor=True) as server:
        args = ["tail", "--server", server.url, "--org", "acme", "--all", "--output", "plain"]
        proc = subprocess.Popen(
            [sys.executable, "-m", "flylogs", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=dict(os.environ),
        )
        try:
            assert proc.stdout is not None and proc.stderr is not None
            publish_when_subscribed(
                server, [msg("shop", "iad", "m1", "before")], user="acme", password=FLYCTL_TOKEN
            ).join(15)
            assert b"before" in proc.stdout.readline()
            config.write_text("access_token: fm2_rotated\n")  # flyctl wrote a new token ...
            server.restart(password="fm2_rotated")  # ... and the old one is refused from now on
            publish_when_subscribed(
                server, [msg("shop", "iad", "m1", "after")], user="acme", password="fm2_rotated", timeout=30
            ).join(35)
            assert b"after" in proc.stdout.readline()
        finally:
            proc.send_signal(signal.SIGINT)
            _, err = proc.communicate(timeout=15)
    said = err.decode()
    assert "the token was refused; its source holds a new one: reconnecting with it" in said
    assert "credentials refused" not in said  # renewed at the first refusal: no outage to report
    assert "fm2_rotated" not in said and FLYCTL_TOKEN not in said


async def test_polling_reads_the_token_again_on_a_401_and_goes_on() -> None:
    with FakeFlyApi("fm2_old") as api:
        fresh = ["fm2_old"]
        keeper = TokenKeeper("fm2_old", reread=lambda: fresh[0])
        spec = ApiSpec(("shop",), "fm2_old", api.url, tokens=keeper)
        lines: list[bytes] = []
        events: list[Event] = []
        source = ApiPollSource(spec, (), (), lambda _s, d: lines.append(d), events.append, idle=0.05)
        await source.start()
        try:
            api.token = fresh[0] = "fm2_new"  # rotated: the old one is refused from now on
            api.entries.append(entry(time.time_ns(), "after the rotation", "m1"))
            await until(lambda: lines, "a line polled with the new token")
        finally:
            await source.close()
    assert keeper.token == "fm2_new" and keeper.renewed == 1
    assert any(isinstance(e, Problem) and "holds a new one" in e.description for e in events)
    assert api.requests[-1][1] == "FlyV1 fm2_new"


@pytest.mark.parametrize(
    ("regions", "instances", "sent"),
    [
        ((), (), []),
        (("iad",), (), [("region", "iad")]),
        (("iad", "lhr"), (), []),  # the API takes one: poll wider, the core filters
        (("iad",), ("m1",), [("instance", "m1")]),  # the region dropped when an instance is given
        ((), ("m1", "m2"), []),
    ],
)
async def test_polling_asks_the_api_as_flyctl_does(
    regions: tuple[str, ...], instances: tuple[str, ...], sent: list[tuple[str, str]]
) -> None:
    from urllib.parse import parse_qsl, urlsplit

    with FakeFlyApi() as api:
        source = ApiPollSource(ApiSpec(("shop",), "fm2_secret", api.url), regions, instances, print, print)
        await source.start(subscribe=False)
        await source.close()
    query = [(k, v) for k, v in parse_qsl(urlsplit(api.requests[0][0]).query) if k != "next_token"]
    assert query == sent


async def test_the_cursor_moves_only_with_a_page_that_had_entries() -> None:
    """An empty page's `next_token` is "now": taking it skips lines the index has not caught up with
    yet (flyctl's `logs/polling.go` keeps its cursor then)."""
    with FakeFlyApi(lag=1.0) as api:
        lines: list[bytes] = []
        spec = ApiSpec(("shop",), "fm2_secret", api.url)
        source = ApiPollSource(spec, (), (), lambda _s, d: lines.append(d), lambda _e: None, idle=0.05)
        await source.start()
        try:
            api.entries.append(entry(time.time_ns(), "indexed a second later"))
            await until(lambda: lines, "the line, once indexed")
        finally:
            await source.close()
    assert b"indexed a second later" in lines[0]


def test_the_machines_that_should_be_logging_are_those_fly_gos_list_active_keeps() -> None:
    def machine(mid: str, state: str, **metadata: str) -> dict[str, object]:
        return {"id": mid, "state": state, "region": "iad", "config": {"metadata": metadata}}

    v2 = {"fly_platform_version": "v2"}
    listed = [
        machine("a", "started", fly_process_group="app", **v2),
        machine("b", "destroyed", fly_process_group="app", **v2),
        machine("c", "destroying", fly_process_group="app", **v2),
        machine("d", "started", fly_process_group="fly_app_release_command", **v2),
        machine("e", "stopped", process_group="release_command"),
        machine("f", "started", fly_process_group="fly_app_console", **v2),
        machine("g", "started", process_group="worker"),  # the older key, a fallback
        machine("h", "started", fly_process_group="fly_app_console"),  # not Apps v2: not a console
    ]
    kept = parse_machines("shop", listed)
    assert [(m.id, m.group) for m in kept] == [("a", "app"), ("g", "worker"), ("h", "fly_app_console")]


def test_an_isolated_agent_is_said_not_waited_for(agent_dir: Path, personal_user: dict[str, str]) -> None:
    env = {**personal_user, "FLY_AGENT_ISOLATED": "1"}
    result = CliRunner().invoke(app, ["tail", "jane-blog", "--transport", "agent"], env=env)
    assert result.exit_code == 5, result.stderr
    assert "FLY_AGENT_ISOLATED is set" in result.stderr and "hint: unset FLY_AGENT_ISOLATED" in result.stderr


def test_doctor_says_a_stale_socket_is_one(agent_dir: Path, personal_user: dict[str, str]) -> None:
    import json

    stale = socket.socket(socket.AF_UNIX)
    stale.bind(personal_user["FLY_AGENT_SOCKET_PATH"])
    stale.close()
    result = CliRunner().invoke(app, ["doctor", "jane-blog", "--json"], env=personal_user)
    checks = {c["check"]: c for c in json.loads(result.stdout)["checks"]}
    assert checks["agent org"]["ok"] and "is personal to the agent" in checks["agent org"]["detail"]
    assert not checks["agent ping"]["ok"]
    assert "a socket left behind by an agent that is gone" in checks["agent ping"]["detail"]
    assert "fly agent start" in checks["agent ping"]["hint"]


def test_a_failed_first_way_to_the_stream_is_tried_again_while_the_api_bridges(
    agent_dir: Path, personal_user: dict[str, str]
) -> None:
    """The tunnel does not pass traffic within the first ten probes: the logs API stays the way for
    a while, and the stream is tried again (it stayed on polling for the whole session)."""
    web_url = personal_user["FLY_API_BASE_URL"]
    with (
        NatsServer(user=PERSONAL_RAW, password=FLYCTL_TOKEN, monitor=True) as server,
        FakeAgent(agent_dir / "a.sock", server.port, failing_probes=10) as fake,
    ):
        thread = publish_when_subscribed(
            server, [msg("jane-blog", "iad", "m1", "via nats")], user=PERSONAL_RAW, password=FLYCTL_TOKEN,
            timeout=40,
        )  # fmt: skip
        result = CliRunner().invoke(
            app, ["tail", "jane-blog", "--json", "--count", "1", "--api-url", web_url], env=personal_user
        )
        thread.join(10)
    assert result.exit_code == 0, result.stderr
    assert [r["message"] for r in log_records(result.stdout)] == ["via nats"]
    assert re.search(
        r"staying on Fly's logs API \(polling\), and trying the stream again in [345]s", result.stderr
    )
    assert "reached the stream after 2 attempts; leaving Fly's logs API" in result.stderr
    assert fake.requests.count("establish personal ") == 2


def test_the_agents_own_refusal_during_a_reconnect_reaches_the_user(
    agent_dir: Path, personal_user: dict[str, str]
) -> None:
    """The agent replaced mid-run (a flyctl upgrade) and not back: the user reads why, in the agent's
    words, once, and the status record carries it as its reason (not a bare disconnect)."""
    with (
        NatsServer(user=PERSONAL_RAW, password=FLYCTL_TOKEN, monitor=True) as server,
        FakeAgent(agent_dir / "a.sock", server.port) as fake,
    ):
        proc = subprocess.Popen(
            [sys.executable, "-m", "flylogs", "tail", "jane-blog", "--json", "--transport", "agent",
             "--no-backfill"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env={**os.environ, **personal_user},
        )  # fmt: skip
        try:
            wait_for(lambda: server.subscription_count() >= 1, 20, what="the subscription")
            fake.kill()  # gone, its socket too: every reconnect is refused by the missing agent
            assert proc.stdout is not None
            status = b""
            while b'"state":"disconnected"' not in status:
                status = proc.stdout.readline()
        finally:
            proc.send_signal(signal.SIGINT)
            _, err = proc.communicate(timeout=15)
    said = err.decode()
    assert said.count("flylogs: flyctl's agent is not running") == 1, said
    assert "reconnecting" in said
