"""Fly's HTTP logs API, against a small local server that speaks its JSON:API shape."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator

import nats
import pytest

from flylogs.core.events import NoticeKind
from flylogs.demo.server import NatsServer
from flylogs.errors import ExitCode
from flylogs.session.plan import TailPlan
from flylogs.source.flyapi import ApiError, ApiSpec, FlyApiHistory, authorization
from flylogs.source.nats import ConnectOptions
from tests.fakes.flyapi import FakeFlyApi, entry
from tests.helpers import Tail, free_port, msg

APP = "api"


@pytest.fixture
def logs_api() -> Iterator[FakeFlyApi]:
    with FakeFlyApi("fm2_secret", page=3) as api:  # small pages: paging is what is tested
        yield api


def history(api: FakeFlyApi, token: str = "fm2_secret") -> FlyApiHistory:
    return FlyApiHistory(ApiSpec((APP,), token, api.url, index_lag=0, retries=2))


async def test_pages_through_a_window_and_stops_past_its_end(logs_api: FakeFlyApi) -> None:
    base = 1_800_000_000 * 10**9
    logs_api.entries = [entry(base + i * 10**9, f"line {i}") for i in range(10)]
    found = await history(logs_api).replay(base + 2 * 10**9, base + 7 * 10**9)
    messages = [json.loads(payload)["message"] for _, payload in found]
    assert messages == [f"line {i}" for i in range(2, 8)]
    assert found[0][0] == "logs.api.iad.m1"
    assert logs_api.requests[0][0] == f"/api/v1/apps/api/logs?next_token={base + 2 * 10**9}"
    assert len(logs_api.requests) == 3  # 3 + 3 + (past the end): no reading beyond the window


def test_authorization_header_like_flyctl(logs_api: FakeFlyApi) -> None:
    """fly-go's `BubblegumHeader()`: the macaroons as FlyV1, else the user token as Bearer."""
    assert authorization("fm2_a,fm1r_b") == "FlyV1 fm2_a,fm1r_b"
    assert authorization("legacy") == "Bearer legacy"
    assert authorization("fm2_a,fo1_user") == "FlyV1 fm2_a"  # macaroons and a user token: macaroons


@pytest.mark.slow
async def test_retry_after_is_honoured_bounded(logs_api: FakeFlyApi) -> None:
    """A 429 with `Retry-After: 1` is asked again a second later, not 0.2 s (and not given up)."""
    from flylogs.source.flyapi import retry_after

    logs_api.entries = [entry(1_800_000_000 * 10**9, "x")]
    logs_api.fail_with, logs_api.retry_after = [429, 429], "1"
    assert len(await history(logs_api).replay(0, None)) == 1
    gaps = [b - a for a, b in zip(logs_api.times, logs_api.times[1:], strict=False)]
    assert all(g >= 0.95 for g in gaps[:2]), gaps  # after each of the two 429s
    assert retry_after("120") == 60.0 and retry_after("soon") is None and retry_after(None) is None
    assert retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412470.0) == 10.0


async def test_a_replay_that_reaches_its_page_cap_says_it_is_short(logs_api: FakeFlyApi) -> None:
    from flylogs.source.flyapi import ReplayCapped

    base = 1_800_000_000 * 10**9
    logs_api.entries = [entry(base + i * 10**9, f"line {i}") for i in range(10)]
    capped = FlyApiHistory(ApiSpec((APP,), "fm2_secret", logs_api.url, index_lag=0, max_pages=2))
    with pytest.raises(ReplayCapped) as short:
        await capped.replay(base, base + 9 * 10**9)
    assert len(short.value.messages) == 6  # two pages of three: kept, not thrown away
    assert short.value.reason == f"stopped after 2 pages of {APP}: the window is longer"


@pytest.mark.slow
async def test_server_errors_are_retried_and_401_is_final(logs_api: FakeFlyApi) -> None:
    logs_api.entries = [entry(1_800_000_000 * 10**9, "x")]
    logs_api.fail_with = [500, 503]
    assert len(await history(logs_api).replay(0, None)) == 1
    assert logs_api.requests[-1][1] == "FlyV1 fm2_secret"

    logs_api.fail_with = [401]
    with pytest.raises(ApiError) as info:
        await history(logs_api).replay(0, None)
    assert info.value.final and "401" in str(info.value)
    assert "fm2_secret" not in str(info.value)


async def test_a_gap_is_filled_from_the_api_without_duplicates(
    nats_server: NatsServer, logs_api: FakeFlyApi
) -> None:
    spec = ApiSpec((APP,), "fm2_secret", logs_api.url, index_lag=0)
    tail = Tail(
        TailPlan(ConnectOptions((nats_server.url,), connect_timeout=2.0), [f"logs.{APP}.>"], api=spec)
    )
    await tail.until(lambda: tail.notices(NoticeKind.SUBSCRIBED), "subscription")

    # A line shown live just before the fault: inside the gap window too, so the API returns it again.
    nc = await nats.connect(nats_server.url)
    subject, payload = msg(APP, "iad", "m1", "before the fault")
    await nc.publish(subject, payload)
    await nc.flush()
    await nc.close()
    await tail.until(lambda: tail.sink.events, "the live line")
    live_ts = tail.sink.events[0].ns()
    assert live_ts is not None

    nats_server.kill()
    await tail.until(lambda: tail.notices(NoticeKind.DISCONNECTED), "the disconnect")
    outage = time.time_ns()
    logs_api.entries = [
        entry(live_ts, "before the fault"),
        *(entry(outage + i, f"missed {i}") for i in range(3)),
    ]
    await asyncio.to_thread(nats_server.start)
    await tail.until(lambda: tail.sink.backfills, "the backfill", timeout=30)
    outcome = await tail.end()

    assert [e.message for e in tail.sink.events] == ["before the fault", "missed 0", "missed 1", "missed 2"]
    assert [e.message for e in tail.sink.recovered_lines] == ["missed 0", "missed 1", "missed 2"]
    # The gap is said the moment the stream is back; the backfill's outcome follows, then its lines.
    kinds = [kind for kind, _ in tail.sink.log if kind != "status"]
    assert kinds == ["line", "gap", "backfill", "recovered", "recovered", "recovered"]
    [gap] = tail.sink.gaps
    assert not gap.complete and gap.backfilled == 0
    [backfill] = tail.sink.backfills
    assert (backfill.gap, backfill.recovered, backfill.complete, backfill.source) == (gap, 3, True, "api")
    [final] = outcome.gaps
    assert final.complete and final.backfilled == 3
    assert outcome.unfilled_gaps == ()


def test_no_follow_reads_history_from_the_api_through_the_cli(
    nats_server: NatsServer, logs_api: FakeFlyApi
) -> None:
    from typer.testing import CliRunner

    from flylogs.cli import app

    now = time.time_ns()
    logs_api.entries = [entry(now - (5 - i) * 60 * 10**9, f"minute {i}") for i in range(5)]
    args = [
        "tail",
        APP,
        "--server",
        nats_server.url,
        "--no-follow",
        "--since",
        "10m",
        "--api-url",
        logs_api.url,
    ]
    result = CliRunner().invoke(app, [*args, "--output", "plain"], env={"FLY_API_TOKEN": "FlyV1 fm2_secret"})
    assert result.exit_code == 0, result.stderr
    assert [line.split("] ", 2)[-1] for line in result.stdout.splitlines()] == [
        f"minute {i}" for i in range(5)
    ]
    assert logs_api.requests[0][1] == "FlyV1 fm2_secret"
    assert "fm2_secret" not in result.stdout + result.stderr


@pytest.mark.parametrize("ahead_s", [300, -300, 3], ids=["fly-5m-ahead", "fly-5m-behind", "fly-3s-ahead"])
def test_since_no_follow_is_the_last_minutes_by_flys_clock_whatever_this_one_says(
    nats_server: NatsServer, logs_api: FakeFlyApi, ahead_s: int
) -> None:
    """A line a second for Fly's last 10 minutes, and a few older. With Fly 5 minutes ahead, a window
    asked by this clock printed 301 of the 600, exit 0, no word; now it is asked by Fly's (its
    API's `Date`), and it is the 600, and only they."""
    from typer.testing import CliRunner

    from flylogs.cli import app

    logs_api.page = 100
    logs_api.ahead_ns = ahead_s * 10**9
    fly_now = time.time_ns() + logs_api.ahead_ns
    logs_api.entries = [entry(fly_now - (600 - i) * 10**9 + 10**8, f"line {i}") for i in range(600)]
    logs_api.entries += [entry(fly_now - (660 - i) * 10**9, f"old {i}") for i in range(55)]
    args = [
        "tail",
        APP,
        "--server",
        nats_server.url,
        "--no-follow",
        "--since",
        "10m",
        "--api-url",
        logs_api.url,
    ]
    result = CliRunner().invoke(app, [*args, "--json"], env={"FLY_API_TOKEN": "FlyV1 fm2_secret"})
    assert result.exit_code == 0, result.stderr
    messages = [json.loads(line)["message"] for line in result.stdout.splitlines() if '"type":"log"' in line]
    assert messages == [f"line {i}" for i in range(600)]
    way = "ahead of" if ahead_s > 0 else "behind"
    assert (
        f"Fly's clock is about {abs(ahead_s) - 1}." in result.stderr
        or f"about {abs(ahead_s)}." in result.stderr
    )
    assert f"s {way} this one (from the logs API's Date)" in result.stderr


@pytest.mark.parametrize(
    ("failure", "code", "says"),
    [("closed port", ExitCode.UNREACHABLE, "cannot read the history"), (401, ExitCode.AUTH, "answered 401")],
)
@pytest.mark.slow
def test_history_at_start_without_a_usable_api_is_a_handled_error(
    nats_server: NatsServer, logs_api: FakeFlyApi, failure: object, code: int, says: str
) -> None:
    from typer.testing import CliRunner

    from flylogs.cli import app

    url = logs_api.url
    if failure == "closed port":
        url = f"http://127.0.0.1:{free_port()}"
    else:
        logs_api.fail_with = [int(failure)]  # type: ignore[call-overload]
    args = ["tail", APP, "--server", nats_server.url, "--no-follow", "--api-url", url]
    result = CliRunner().invoke(app, args, env={"FLY_API_TOKEN": "FlyV1 fm2_secret"})
    assert result.exit_code == code, result.stderr
    assert result.stderr.startswith("flylogs: error: ") and says in result.stderr
    assert "unexpected" not in result.stderr and "hint: " in result.stderr
    assert "fm2_secret" not in result.stderr


async def test_a_backfill_from_an_api_that_never_answers_gives_up_in_bounded_time_and_says_so() -> None:
    import socket

    from flylogs.core.events import Backfilled, Event
    from flylogs.core.gaps import Gap, GapReason
    from flylogs.session.backfill import Backfills

    with socket.socket() as silent:  # accepts connections (the kernel's backlog), never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        spec = ApiSpec((APP,), "FlyV1 fm2_tok", f"http://127.0.0.1:{silent.getsockname()[1]}", index_lag=0)
        events: list[Event] = []
        backfills = Backfills(FlyApiHistory(spec), events.append, time_limit=0.5)
        now = time.time_ns()
        gap = Gap(now - 10**9, now, GapReason.DISCONNECTED)
        started = time.monotonic()
        backfills.start(gap)
        while not events:
            assert time.monotonic() - started < 5, "the backfill did not give up"
            await asyncio.sleep(0.02)
    [done] = events
    assert isinstance(done, Backfilled) and done.gap == gap
    assert done.error == "gave up after 0.5s without an answer"
    assert "fm2_tok" not in done.error


def test_since_until_through_the_logs_api_is_exactly_the_window_and_no_following(
    nats_server: NatsServer, logs_api: FakeFlyApi
) -> None:
    from typer.testing import CliRunner

    from flylogs.cli import app

    logs_api.page = 100
    now = time.time_ns()
    logs_api.entries = [entry(now - (k * 60 + 30) * 10**9, f"minute {k}") for k in range(60)]
    env = {"FLY_API_TOKEN": "FlyV1 fm2_secret"}
    base = ["tail", APP, "--server", nats_server.url, "--api-url", logs_api.url]
    result = CliRunner().invoke(app, [*base, "--since", "30m", "--until", "10m", "--json"], env=env)
    assert result.exit_code == 0, result.stderr
    messages = [json.loads(line)["message"] for line in result.stdout.splitlines() if '"type":"log"' in line]
    assert messages == [f"minute {k}" for k in range(29, 9, -1)]  # 29m30s ago … 10m30s ago, oldest first
    bad = CliRunner().invoke(app, [*base, "--since", "10m", "--until", "30m"], env=env)
    assert bad.exit_code == 2 and "is not after --since" in bad.stderr
    future = CliRunner().invoke(app, [*base, "--until", "2099-01-01"], env=env)
    assert future.exit_code == 2 and "is in the future" in future.stderr
