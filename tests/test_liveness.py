"""Liveness rests on evidence: a PONG actually received, a reader still reading.

Faults from a TCP proxy frozen at chosen moments (mid-subscribe, right after a reconnect's SUB) and
from a raw-socket publisher sending bytes nats-py cannot decode.
"""

from __future__ import annotations

import asyncio
import json
import socket
import time

import pytest

from flylogs.core.events import Event, Lost, NoticeKind, Restored
from flylogs.core.gaps import GapReason
from flylogs.core.status import State
from flylogs.demo.server import NatsServer
from flylogs.errors import UnreachableError
from flylogs.session.plan import TailPlan
from flylogs.source.nats import ConnectOptions, NatsSource
from tests.fakes.proxy import Proxy
from tests.helpers import SUBJECT, SeqPublisher, Tail, assert_gaps_cover, seq_of


def raw_publish(server: NatsServer, *frames: bytes) -> None:
    """Protocol frames straight onto a socket: what no well-behaved client library would send."""
    with socket.create_connection(("127.0.0.1", server.port)) as s:
        s.recv(4096)  # INFO
        s.sendall(
            b'CONNECT {"verbose":false,"pedantic":false,"headers":true}\r\n' + b"".join(frames) + b"PING\r\n"
        )
        seen = b""
        while b"PONG" not in seen:
            chunk = s.recv(4096)
            assert chunk, seen
            seen += chunk


BAD_SUBJECT = b"PUB logs.seq-app.\xff\xfe.i1 5\r\nseq=0\r\n"
_HEADER = b"NATS/1.0 \xff\xfe\r\n\r\n"
BAD_HEADER = b"HPUB logs.seq-app.iad.i1 %d %d\r\n%sseq=0\r\n" % (len(_HEADER), len(_HEADER) + 5, _HEADER)


async def test_undecodable_messages_neither_stop_nor_silence_the_direct_reader(
    nats_server: NatsServer, capfd: pytest.CaptureFixture[str]
) -> None:
    tail = Tail.on([nats_server.url], subjects=["logs.seq-app.>"])
    await tail.until(lambda: tail.notices(NoticeKind.SUBSCRIBED), "subscription")
    publisher = SeqPublisher(nats_server.url).start()
    await tail.until(lambda: len(tail.seqs()) > 20, "first lines")
    await asyncio.to_thread(raw_publish, nats_server, BAD_SUBJECT, BAD_HEADER)
    mark = max(publisher.sent)
    await tail.until(lambda: any(s > mark + 50 for s in tail.seqs()), "lines after the bad ones")
    sent = publisher.stop()
    await tail.until(lambda: max(sent) in tail.seqs(), "the last line")
    outcome = await tail.end()
    assert outcome.gaps == ()
    assert set(sent) <= tail.seqs()  # nothing lost
    shown = [e.subject for e in tail.sink.events if e.message == "seq=0"]
    assert shown == ["logs.seq-app.\ufffd\ufffd.i1", "logs.seq-app.iad.i1"]  # shown, escaped later
    assert "Traceback" not in capfd.readouterr().err


@pytest.mark.slow
async def test_a_dead_reader_is_a_lost_connection_with_a_gap_and_no_traceback(
    nats_server: NatsServer, capfd: pytest.CaptureFixture[str]
) -> None:
    # nats-py's own client (the fallback when the direct one does not fit): a subject that is not
    # UTF-8 ends its reading loop, after which its flush() "succeeds" without a round trip.
    events: list[Event] = []
    seqs: list[int] = []

    def on_line(subject: str, data: bytes) -> None:
        message = json.loads(data).get("message", "") if data.startswith(b"{") else ""
        if message.startswith("seq="):
            seqs.append(seq_of(message))

    source = NatsSource(
        ConnectOptions((nats_server.url,), stall_timeout=3.0),
        ["logs.seq-app.>"],
        on_line,
        events.append,
        direct=False,
    )
    await source.start()
    publisher = SeqPublisher(nats_server.url).start()
    deadline = time.monotonic() + 20
    while len(seqs) < 20:
        assert time.monotonic() < deadline
        await asyncio.sleep(0.02)
    await asyncio.to_thread(raw_publish, nats_server, BAD_SUBJECT)
    broke_at = time.monotonic()
    while not any(isinstance(e, Restored) for e in events):
        assert time.monotonic() < deadline, (events, source.client._reading_task)
        await asyncio.sleep(0.02)
    restored_after = time.monotonic() - broke_at
    mark = max(publisher.sent)
    while not any(s > mark for s in seqs):
        assert time.monotonic() < deadline
        await asyncio.sleep(0.02)
    publisher.stop()
    await source.close()
    [lost] = [e for e in events if isinstance(e, Lost)]
    assert lost.reason is GapReason.DISCONNECTED
    assert "the client stopped reading" in (lost.detail or "") and "UnicodeDecodeError" in (lost.detail or "")
    assert restored_after < 5, restored_after  # found by the next heartbeat, not after 45 s of silence
    assert "Traceback" not in capfd.readouterr().err


@pytest.mark.slow
async def test_a_path_that_stalls_while_subscribing_is_unreachable_not_a_crash(
    nats_server: NatsServer,
) -> None:
    with Proxy(nats_server.port) as proxy:
        proxy.freeze_on(b"SUB ", connection=1)
        plan = TailPlan(ConnectOptions((proxy.url,), connect_timeout=1.0), [SUBJECT])
        tail = Tail(plan)
        with pytest.raises(UnreachableError, match="did not answer while subscribing"):
            await asyncio.wait_for(tail.task, 15)


@pytest.mark.slow
async def test_with_wait_a_path_that_stalls_while_subscribing_is_tried_again(nats_server: NatsServer) -> None:
    with Proxy(nats_server.port) as proxy:
        proxy.freeze_on(b"SUB ", connection=1)
        tail = Tail(TailPlan(ConnectOptions((proxy.url,), connect_timeout=1.0, wait=True), [SUBJECT]))
        await tail.until(lambda: tail.notices(NoticeKind.ERROR), "the stall while subscribing")
        assert "while subscribing; trying again" in tail.notices(NoticeKind.ERROR)[0]
        proxy.thaw()
        await tail.until(lambda: tail.notices(NoticeKind.SUBSCRIBED), "subscription")
        publisher = SeqPublisher(nats_server.url).start()
        await tail.until(lambda: len(tail.seqs()) > 10, "lines")
        publisher.stop()
        await tail.end()


@pytest.mark.slow
async def test_a_reconnect_that_stalls_right_after_its_sub_is_not_called_reconnected(
    nats_server: NatsServer, capfd: pytest.CaptureFixture[str]
) -> None:
    with Proxy(nats_server.port) as proxy:
        tail = Tail.on([proxy.url], stall_timeout=3.0)
        await tail.until(lambda: tail.notices(NoticeKind.SUBSCRIBED), "subscription")
        publisher = SeqPublisher(nats_server.url).start()
        await tail.until(lambda: len(tail.seqs()) > 20, "first lines")

        proxy.freeze_on(b"SUB ", connection=2)
        proxy.cut()
        await tail.until(lambda: proxy.frozen, "the reconnect's SUB")
        frozen_at = time.monotonic()
        await tail.until(
            lambda: time.monotonic() - frozen_at > 2.0 or tail.notices(NoticeKind.RECONNECTED), "2 s"
        )
        assert not tail.notices(NoticeKind.RECONNECTED), "said reconnected while nothing flowed"
        assert tail.sink.statuses[-1].state is not State.CONNECTED
        await tail.until(
            lambda: any("no answer from" in n for n in tail.notices(NoticeKind.ERROR)), "the stall"
        )
        proxy.thaw()
        await tail.until(lambda: tail.notices(NoticeKind.RECONNECTED), "the real reconnect")
        mark = max(publisher.sent)
        await tail.until(lambda: any(s > mark for s in tail.seqs()), "lines after the reconnect")
        _, sent = await tail.finish(publisher)
    assert len(tail.sink.gaps) == 1
    assert_gaps_cover(sent, tail.seqs(), tail.sink.gaps)
    err = capfd.readouterr().err
    assert "Traceback" not in err and "RuntimeError" not in err
