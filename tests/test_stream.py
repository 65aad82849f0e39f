"""The NATS adapter and the session against a real nats-server."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import nats
import pytest

from flylogs.core.events import Event, NoticeKind
from flylogs.demo.server import NatsServer
from flylogs.errors import AuthError, UnreachableError
from flylogs.filters import build_filter
from flylogs.session.plan import StopReason, TailPlan
from flylogs.session.run import run_tail
from flylogs.source.nats import ConnectOptions, NatsSource
from flylogs.subjects import plan_subjects
from tests.helpers import Collect, follow, free_port, msg


async def test_user_and_password_auth_and_delivery(auth_server: NatsServer) -> None:
    plan = TailPlan(
        ConnectOptions((auth_server.url,), user="my-org", password="fm2_secret-token"), ["logs.>"], count=2
    )
    outcome, sink = await follow(
        plan,
        [msg("api", "iad", "m1", "one"), msg("api", "iad", "m1", "two")],
        auth_server,
        user="my-org",
        password="fm2_secret-token",
    )
    assert outcome.reason is StopReason.COUNT
    assert [e.message for e in sink.events] == ["one", "two"]
    assert outcome.stats.shown == 2 and sink.headers == 1


async def test_refused_credentials_at_start_raise_auth_error(auth_server: NatsServer) -> None:
    plan = TailPlan(ConnectOptions((auth_server.url,), user="my-org", password="wrong-token"), ["logs.>"])
    sink = Collect()
    stop: asyncio.Future[StopReason] = asyncio.get_running_loop().create_future()
    with pytest.raises(AuthError) as info:
        await asyncio.wait_for(run_tail(plan, sink, sink, stop), 10)
    assert "wrong-token" not in str(info.value) + str(info.value.hint)
    assert sink.headers == 0


async def test_unreachable_server_fails_fast_with_a_hint() -> None:
    url = f"nats://127.0.0.1:{free_port()}"
    plan = TailPlan(ConnectOptions((url,)), ["logs.>"])
    sink = Collect()
    stop: asyncio.Future[StopReason] = asyncio.get_running_loop().create_future()
    started = time.monotonic()
    with pytest.raises(UnreachableError) as info:
        await asyncio.wait_for(run_tail(plan, sink, sink, stop), 10)
    assert time.monotonic() - started < 5
    assert url in info.value.message
    assert info.value.hint is not None and "WireGuard" in info.value.hint


@pytest.mark.slow
async def test_wait_keeps_trying_until_the_server_appears() -> None:
    port = free_port()
    plan = TailPlan(ConnectOptions((f"nats://127.0.0.1:{port}",), wait=True), ["logs.>"], count=1)
    sink = Collect()
    stop: asyncio.Future[StopReason] = asyncio.get_running_loop().create_future()
    task = asyncio.create_task(run_tail(plan, sink, sink, stop))
    deadline = time.monotonic() + 10
    while not any(n.kind is NoticeKind.ERROR and "waiting" in n.text for n in sink.notices):
        assert time.monotonic() < deadline and not task.done()
        await asyncio.sleep(0.01)
    with NatsServer(port=port) as server:
        while not any(n.kind is NoticeKind.SUBSCRIBED for n in sink.notices):
            assert time.monotonic() < deadline and not task.done()
            await asyncio.sleep(0.01)
        nc = await nats.connect(server.url)
        await nc.publish(*msg("api", "iad", "m1", "late"))
        await nc.flush()
        await nc.close()
        outcome = await asyncio.wait_for(task, 10)
    assert [e.message for e in sink.events] == ["late"]
    assert outcome.reason is StopReason.COUNT


FLEET = [
    msg(app, region, inst, f"{app}/{region}/{inst}")
    for app in ("api", "web")
    for region in ("iad", "lhr")
    for inst in ("m1", "m2")
]


@pytest.mark.parametrize(
    ("apps", "regions", "instances", "expected"),
    [
        (["api"], [], [], {"api/iad/m1", "api/iad/m2", "api/lhr/m1", "api/lhr/m2"}),
        ([], ["iad"], [], {"api/iad/m1", "api/iad/m2", "web/iad/m1", "web/iad/m2"}),
        (["web"], ["lhr"], ["m2"], {"web/lhr/m2"}),
        (["api", "web"], ["iad"], ["m1"], {"api/iad/m1", "web/iad/m1"}),
    ],
)
async def test_filters_reach_exactly_the_right_subjects(
    nats_server: NatsServer, apps: list[str], regions: list[str], instances: list[str], expected: set[str]
) -> None:
    subjects = plan_subjects(apps, regions, instances)
    # A marker every plan matches is counted in, so a stray line would take an expected one's place.
    # (Several subscriptions each deliver in order, but not in order with each other.)
    marker = msg(
        apps[0] if apps else "api",
        regions[0] if regions else "iad",
        instances[0] if instances else "m1",
        "END",
    )
    plan = TailPlan(
        ConnectOptions((nats_server.url,)),
        subjects.subjects,
        build_filter(exclude=[]),
        count=len(expected) + 1,
    )
    outcome, sink = await follow(plan, [*FLEET, marker], nats_server)
    got = [e.message for e in sink.events]
    assert sorted(got) == sorted([*expected, "END"])
    assert outcome.stats.received == len(expected) + 1


async def test_client_side_filters_when_subjects_are_widened(nats_server: NatsServer) -> None:
    subjects = plan_subjects(["api"], [], ["m1", "m2"], limit=1)
    assert subjects.subjects == ("logs.api.>",) and subjects.filter_instances
    keep = build_filter(instances=["m2"], grep=["lhr|END"])
    plan = TailPlan(ConnectOptions((nats_server.url,)), subjects.subjects, keep, count=2)
    outcome, sink = await follow(plan, [*FLEET, msg("api", "iad", "m2", "END")], nats_server)
    assert [e.message for e in sink.events] == ["api/lhr/m2", "END"]
    assert outcome.stats.received == 5  # every api line reached the client; the filter chose


async def test_a_bad_message_never_ends_the_stream(nats_server: NatsServer) -> None:
    from tests.helpers import CASES

    plan = TailPlan(ConnectOptions((nats_server.url,)), ["logs.>"], count=len(CASES))
    outcome, sink = await follow(plan, [(c.subject, c.payload) for c in CASES], nats_server)
    assert [e.raw for e in sink.events] == [c.payload for c in CASES]
    assert outcome.stats.malformed == 5


async def test_stop_while_connecting_ends_cleanly() -> None:
    plan = TailPlan(ConnectOptions((f"nats://127.0.0.1:{free_port()}",), wait=True), ["logs.>"])
    sink = Collect()
    stop: asyncio.Future[StopReason] = asyncio.get_running_loop().create_future()
    task = asyncio.create_task(run_tail(plan, sink, sink, stop))
    deadline = time.monotonic() + 10
    while not sink.notices:
        assert time.monotonic() < deadline
        await asyncio.sleep(0.01)
    stop.set_result(StopReason.INTERRUPTED)
    outcome = await asyncio.wait_for(task, 10)
    assert outcome.reason is StopReason.INTERRUPTED and sink.headers == 0


async def test_a_refused_subscription_is_an_auth_error_at_start(tmp_path: Path) -> None:
    config = tmp_path / "perms.conf"
    config.write_text(
        'authorization { users = [ { user: "my-org", password: "tok", '
        'permissions: { subscribe: { allow: ["logs.mine.>", "_INBOX.>"] }, publish: ">" } } ] }\n'
    )
    with NatsServer(extra_args=["-c", str(config)]) as server:
        allowed = TailPlan(
            ConnectOptions((server.url,), user="my-org", password="tok"), ["logs.mine.>"], count=1
        )
        _, sink = await follow(
            allowed, [msg("mine", "iad", "m1", "ok")], server, user="my-org", password="tok"
        )
        assert [e.message for e in sink.events] == ["ok"]

        denied = TailPlan(ConnectOptions((server.url,), user="my-org", password="tok"), ["logs.theirs.>"])
        stop: asyncio.Future[StopReason] = asyncio.get_running_loop().create_future()
        with pytest.raises(AuthError, match="refuses the subscription"):
            await asyncio.wait_for(run_tail(denied, Collect(), Collect(), stop), 10)


async def test_closing_while_a_heartbeat_ping_is_unanswered_still_ends(nats_server: NatsServer) -> None:
    """Closing must not wait on a heartbeat whose pong will never come."""
    events: list[Event] = []
    stream = NatsSource(
        ConnectOptions((nats_server.url,), heartbeat=0.01, stall_timeout=30),
        ["logs.>"],
        lambda _subject, _data: None,
        events.append,
    )
    await stream.start()
    nats_server.freeze()  # the next ping is never answered: the heartbeat waits inside flush()
    try:
        deadline = time.monotonic() + 10
        while not stream.pinging:
            assert time.monotonic() < deadline
            await asyncio.sleep(0.001)
        await asyncio.wait_for(stream.close(), 5)
    finally:
        nats_server.thaw()


async def test_the_header_comes_before_any_line_even_when_lines_pour_in_at_start(
    nats_server: NatsServer,
) -> None:
    from tests.helpers import SUBJECT, SeqPublisher

    publisher = SeqPublisher(nats_server.url, rate=5000).start()
    try:
        plan = TailPlan(ConnectOptions((nats_server.url,)), [SUBJECT], count=200)
        sink = Collect()
        stop: asyncio.Future[StopReason] = asyncio.get_running_loop().create_future()
        outcome = await asyncio.wait_for(run_tail(plan, sink, sink, stop), 20)
    finally:
        publisher.stop()
    assert outcome.reason is StopReason.COUNT
    assert sink.events_before_header == 0


@pytest.mark.parametrize("direct", [True, False])
async def test_the_direct_client_delivers_what_nats_py_delivers(
    nats_server: NatsServer, direct: bool
) -> None:
    """The hot path's shortcut past nats-py's Msg and queue gives the same lines as nats-py's own
    path: the same subjects and payloads, every one, a message with headers included."""
    from tests.helpers import CASES

    got: list[tuple[str, bytes]] = []
    events: list[Event] = []
    source = NatsSource(
        ConnectOptions((nats_server.url,)),
        ["logs.>"],
        lambda subject, data: got.append((subject, data)),
        events.append,
        direct=direct,
    )
    await source.start()
    sent = [(c.subject, c.payload) for c in CASES]
    nc = await nats.connect(nats_server.url)
    for subject, payload in sent:
        await nc.publish(subject, payload)
    await nc.publish("logs.api.iad.hdr1", b'{"message":"with headers"}', headers={"X-Test": "1"})
    await nc.flush()
    await nc.close()
    deadline = time.monotonic() + 10
    while len(got) < len(sent) + 1:
        assert time.monotonic() < deadline, got
        await asyncio.sleep(0.01)
    await source.close()
    assert got == [*sent, ("logs.api.iad.hdr1", b'{"message":"with headers"}')]
