"""`--transport api`: following by polling Fly's logs API (a fake on loopback) with its cursor."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from flylogs.cli import app
from flylogs.core.events import NoticeKind
from flylogs.session.plan import PollSpec, TailPlan
from flylogs.source.flyapi import ApiSpec
from flylogs.source.nats import ConnectOptions
from tests.fakes.flyapi import FakeFlyApi, entry
from tests.helpers import Tail, log_records

TOKEN = "fm2_poll-token"
APP = "api"


@pytest.fixture
def logs_api() -> Iterator[FakeFlyApi]:
    with FakeFlyApi(TOKEN) as api:
        yield api


def later(
    seconds: float, message: str, instance: str = "m1", region: str = "iad"
) -> tuple[int, dict[str, object]]:
    """An entry stamped ahead of now: the poller starts at its own now and asks for what comes after."""
    return entry(time.time_ns() + int(seconds * 1e9), message, instance, region)


@pytest.mark.slow
async def test_polling_follows_new_lines_and_an_outage_loses_nothing_the_api_keeps(
    logs_api: FakeFlyApi,
) -> None:
    spec = PollSpec(ApiSpec((APP,), TOKEN, logs_api.url, timeout=2.0))
    tail = Tail(TailPlan(ConnectOptions(("nats://unused:1",)), [], poll=spec))
    await tail.until(lambda: tail.notices(NoticeKind.SUBSCRIBED), "the first poll")
    logs_api.entries += [later(60, f"line {i}") for i in range(5)]
    await tail.until(lambda: len(tail.sink.events) == 5, "five lines")
    logs_api.fail_with = [500, 500, 503]  # the API falls over for a while...
    logs_api.entries += [later(61, f"more {i}") for i in range(4)]  # ...while the app goes on logging
    await tail.until(lambda: len(tail.sink.events) == 9, "the lines logged during the outage")
    outcome = await tail.end()
    assert [e.message for e in tail.sink.events] == [f"line {i}" for i in range(5)] + [
        f"more {i}" for i in range(4)
    ]
    assert outcome.gaps == ()  # nothing the API still holds is a gap
    errors = tail.notices(NoticeKind.ERROR)
    assert any("retrying" in n for n in errors) and any("again" in n and "behind" in n for n in errors)
    assert all(auth == f"FlyV1 {TOKEN}" for _, auth in logs_api.requests)


def test_transport_api_through_the_cli_filters_regions_on_the_client_too(logs_api: FakeFlyApi) -> None:
    # The API's own filters are not trusted (the instance filter has been flaky): filtered again here.
    logs_api.entries += [
        later(60, "in iad", region="iad"),
        later(60.1, "in lhr", region="lhr"),
        later(60.2, "iad 2"),
    ]
    args = [
        "tail",
        APP,
        "--transport",
        "api",
        "--api-url",
        logs_api.url,
        "-r",
        "iad",
        "--json",
        "--count",
        "2",
    ]
    result = CliRunner().invoke(app, args, env={"FLYLOGS_TOKEN": TOKEN})
    assert result.exit_code == 0, result.stderr
    assert [r["message"] for r in log_records(result.stdout)] == ["in iad", "iad 2"]
    assert "via Fly's logs API, polling" in result.stderr and TOKEN not in result.stderr
    assert "region=iad" in logs_api.requests[-1][0]


def test_auto_polls_the_api_with_no_agent_and_no_fly_but_a_token_and_apps(
    logs_api: FakeFlyApi, tmp_path: Path
) -> None:
    logs_api.entries += [later(60, "polled")]
    env = {
        "FLYLOGS_TOKEN": TOKEN,
        "FLY_AGENT_SOCKET_PATH": str(tmp_path / "none.sock"),
        "PATH": os.path.dirname(sys.executable),  # no fly, no flyctl
    }
    result = CliRunner().invoke(
        app, ["tail", APP, "--api-url", logs_api.url, "--json", "--count", "1"], env=env
    )
    assert result.exit_code == 0, result.stderr
    assert [r["message"] for r in log_records(result.stdout)] == ["polled"]
    assert "via Fly's logs API, polling" in result.stderr


def test_transport_api_without_apps_or_token_is_a_usage_error() -> None:
    result = CliRunner().invoke(app, ["tail", "--all", "--transport", "api"], env={"FLYLOGS_TOKEN": TOKEN})
    assert result.exit_code == 2 and "polls Fly's logs API per app" in result.stderr


def test_a_refused_token_at_the_first_poll_is_exit_4(logs_api: FakeFlyApi) -> None:
    logs_api.fail_with = [401]
    args = ["tail", APP, "--transport", "api", "--api-url", logs_api.url]
    result = CliRunner().invoke(app, args, env={"FLYLOGS_TOKEN": TOKEN})
    assert result.exit_code == 4, result.stderr


@pytest.mark.slow
async def test_the_status_says_how_far_behind_the_polled_lines_are(logs_api: FakeFlyApi) -> None:
    from flylogs.timestamps import format_rfc3339

    spec = PollSpec(ApiSpec((APP,), TOKEN, logs_api.url, timeout=2.0))
    tail = Tail(TailPlan(ConnectOptions(("nats://unused:1",)), [], poll=spec))
    await tail.until(lambda: tail.notices(NoticeKind.SUBSCRIBED), "the first poll")
    key, late = later(60, "late line")  # paged as new, but its own timestamp is 30 s old: an indexing lag
    attributes = late["attributes"]
    assert isinstance(attributes, dict)
    attributes["timestamp"] = format_rfc3339(time.time_ns() - 30 * 10**9)
    logs_api.entries.append((key, late))
    await tail.until(lambda: any(s.behind_s for s in tail.sink.statuses), "a status saying how far behind")
    await tail.end()
    assert 29 <= next(s.behind_s for s in tail.sink.statuses if s.behind_s) <= 32
