"""`flylogs doctor`: each step checked against faithful fakes (agent, Machines API, logs API) and a
real nats-server; the failing step is named, with a hint, and the exit code says if any way works."""

from __future__ import annotations

import json
import os
import re
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from flylogs.cli import app
from flylogs.demo.server import NatsServer
from tests.fakes.agent import PERSONAL_RAW, PRIVATE_KEY, FakeAgent
from tests.fakes.flyapi import FakeFlyApi
from tests.fakes.machines import FakeMachinesApi

TOKEN = "fm2_doctor-token"


@pytest.fixture
def short_dir() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(dir="/tmp", prefix="fd") as folder:
        yield Path(folder)


def doctor(env: dict[str, str], *args: str) -> tuple[int, dict[str, dict[str, object]], str]:
    result = CliRunner().invoke(
        app, ["doctor", *args, "--json"], env={"PATH": os.path.dirname(sys.executable), **env}
    )
    checks = {c["check"]: c for c in json.loads(result.stdout)["checks"]}
    return result.exit_code, checks, result.stdout + result.stderr


def test_everything_working_is_exit_0_with_every_step_ticked(short_dir: Path) -> None:
    """A personal-org user: the Machines API gives the raw slug (the NATS user), Fly's organizations
    endpoint maps it to `personal` (the agent's name), and every step of that way passes."""
    with (
        NatsServer(user=PERSONAL_RAW, password=TOKEN) as server,
        FakeMachinesApi({"shop": (PERSONAL_RAW, "default")}, TOKEN) as machines,
        FakeAgent(short_dir / "a.sock", server.port) as agent,
        FakeFlyApi(TOKEN) as web,
    ):
        env = {
            "FLYLOGS_TOKEN": TOKEN,
            "FLY_FLAPS_BASE_URL": machines.url,
            "FLY_UIEX_BASE_URL": web.url,
            "FLY_AGENT_SOCKET_PATH": str(agent.path),
        }
        code, checks, text = doctor(env, "shop", "--api-url", web.url)
    assert code == 0, text
    for name in (
        "token",
        "machines api",
        "agent org",
        "agent socket",
        "agent ping",
        "establish",
        "probe",
        "nats via agent",
        "logs api",
    ):
        assert checks[name]["ok"], (name, checks[name])
    assert "org jane-doe-123 (its raw slug: the NATS user)" in str(checks["machines api"]["detail"])
    assert "is personal to the agent (establish personal; NATS user jane-doe-123)" in str(
        checks["agent org"]["detail"]
    )
    assert "0.3.200" in str(checks["agent ping"]["detail"])
    assert "[fdaa:0:1234::3]:4223" in str(checks["establish"]["detail"])
    assert "as NATS user jane-doe-123" in str(checks["nats via agent"]["detail"])
    assert "establish personal " in agent.requests
    assert TOKEN not in text and PRIVATE_KEY not in text


def test_with_the_agent_gone_the_failing_step_is_named_and_the_api_still_makes_it_exit_0(
    short_dir: Path,
) -> None:
    with FakeFlyApi(TOKEN) as logs:
        env = {"FLYLOGS_TOKEN": TOKEN, "FLY_AGENT_SOCKET_PATH": str(short_dir / "gone.sock")}
        code, checks, _ = doctor(env, "shop", "--api-url", logs.url)
    assert code == 0
    assert not checks["agent socket"]["ok"] and "no agent socket" in str(checks["agent socket"]["detail"])
    assert checks["agent socket"]["hint"] and checks["logs api"]["ok"]


@pytest.mark.parametrize(("ahead_s", "ok"), [(0, True), (300, False), (-7, False)])
def test_the_clock_step_says_the_measured_offset_to_flys_clock(
    short_dir: Path, ahead_s: int, ok: bool
) -> None:
    with FakeFlyApi(TOKEN) as logs:
        logs.ahead_ns = ahead_s * 10**9
        env = {"FLYLOGS_TOKEN": TOKEN, "FLY_AGENT_SOCKET_PATH": str(short_dir / "gone.sock")}
        code, checks, _ = doctor(env, "shop", "--api-url", logs.url)
    assert code == 0  # a clock that is off is a warning: the logs API still works
    detail = str(checks["clock"]["detail"])
    said = re.match(
        r"Fly's clock is (\d+\.\d)s (ahead of|behind) this one \(±(\d+\.\d)s, from the API's Date\)", detail
    )
    assert said, detail
    measured = float(said[1]) * (-1 if said[2] == "behind" else 1)
    assert abs(measured - ahead_s) <= float(said[3]) + 0.1, detail  # within what it says it may be off
    assert checks["clock"]["ok"] is ok


def test_no_way_at_all_is_exit_5(short_dir: Path) -> None:
    env = {"FLYLOGS_TOKEN": TOKEN, "FLY_AGENT_SOCKET_PATH": str(short_dir / "gone.sock")}
    code, checks, _ = doctor(env, "shop", "--api-url", "http://127.0.0.1:9")
    assert code == 5
    assert not checks["logs api"]["ok"] and "unreachable" in str(checks["logs api"]["detail"])


def test_every_way_refusing_the_token_is_exit_4(short_dir: Path) -> None:
    with FakeFlyApi(TOKEN) as logs:
        logs.fail_with = [401]
        env = {"FLYLOGS_TOKEN": TOKEN, "FLY_AGENT_SOCKET_PATH": str(short_dir / "gone.sock")}
        code, checks, _ = doctor(env, "shop", "--api-url", logs.url)
    assert code == 4
    assert checks["logs api"]["refused"] and "fly tokens create readonly" in str(checks["logs api"]["hint"])


def test_a_refusing_nats_server_through_the_agent_is_named(auth_server: NatsServer, short_dir: Path) -> None:
    with FakeAgent(short_dir / "a.sock", auth_server.port) as agent:
        env = {"FLYLOGS_TOKEN": "fm2_wrong", "FLY_AGENT_SOCKET_PATH": str(agent.path)}
        code, checks, text = doctor(env)
    assert checks["probe"]["ok"] and not checks["nats via agent"]["ok"]
    assert "refused the credentials" in str(checks["nats via agent"]["detail"])
    assert code == 4 and "fm2_wrong" not in text


@pytest.mark.slow
def test_a_tunnel_that_never_passes_traffic_is_named_at_probe(
    nats_server: NatsServer, short_dir: Path
) -> None:
    with FakeAgent(short_dir / "a.sock", nats_server.port, failing_probes=1000) as agent:
        code, checks, _ = doctor({"FLY_AGENT_SOCKET_PATH": str(agent.path)})
    assert checks["establish"]["ok"] and not checks["probe"]["ok"]
    assert (
        "Error contacting Fly.io API when probing" in str(checks["probe"]["detail"])
        and checks["probe"]["hint"]
    )
    assert code == 5


def test_an_app_the_machines_api_does_not_know_is_named(short_dir: Path) -> None:
    with FakeMachinesApi({}, TOKEN) as machines, FakeFlyApi(TOKEN) as logs:
        env = {
            "FLYLOGS_TOKEN": TOKEN,
            "FLY_FLAPS_BASE_URL": machines.url,
            "FLY_AGENT_SOCKET_PATH": str(short_dir / "x"),
        }
        _, checks, _ = doctor(env, "nope", "--api-url", logs.url)
    assert not checks["machines api"]["ok"] and "no app 'nope'" in str(checks["machines api"]["detail"])


def test_the_report_for_a_person_marks_each_step_and_gives_hints(short_dir: Path) -> None:
    env = {"FLY_AGENT_SOCKET_PATH": str(short_dir / "gone.sock"), "PATH": os.path.dirname(sys.executable)}
    result = CliRunner().invoke(app, ["doctor", "shop"], env=env)
    assert result.exit_code == 5
    lines = result.stdout.splitlines()
    assert lines[0].startswith("✗ token ") and lines[1].startswith("  hint: log in with flyctl")
    assert any(line.startswith("✗ agent socket ") for line in lines)
    assert any(line.startswith("- establish ") and "skipped: no agent" in line for line in lines)
