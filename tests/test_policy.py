"""The connection policy, without a server: a fake clock and a seeded random source."""

from __future__ import annotations

import random

from flylogs.core.policy import UNREACHABLE_HINT, ConnectionPolicy, ErrorKind
from flylogs.errors import AuthError, UnreachableError


def policy(servers: int = 1, **kw: object) -> ConnectionPolicy:
    urls = [f"nats://h{i}:4222" for i in range(servers)]
    return ConnectionPolicy(urls, rng=random.Random(1), **kw)  # type: ignore[arg-type]


def test_the_first_attempt_is_immediate_then_backoff_grows_and_is_capped() -> None:
    p = policy()
    delays = [p.choose(["h0:4222"], 0.0)[1] for _ in range(12)]
    assert delays[0] == 0.0
    assert all(0 < d <= 3.0 for d in delays[1:])
    assert delays[-1] > delays[1]
    p.outage_ended(10.0)
    assert p.choose(["h0:4222"], 10.0)[1] == 0.0  # a new outage starts afresh


def test_round_robin_skips_a_server_that_just_stalled_while_others_exist() -> None:
    p = policy(3, stall_timeout=5.0)
    pool = ["a:1", "b:1", "c:1"]
    p.abandon("a:1", now=100.0)
    picks = {pool[p.choose(pool, 101.0)[0] or 0] for _ in range(6)}
    assert picks == {"b:1", "c:1"}
    # Two stall timeouts later it is a candidate again.
    picks = {pool[p.choose(pool, 111.0)[0] or 0] for _ in range(6)}
    assert picks == {"a:1", "b:1", "c:1"}
    # With nothing else to try, even a suspect server is tried.
    p.abandon("b:1", 111.0)
    p.abandon("c:1", 111.0)
    p.abandon("a:1", 111.0)
    assert p.choose(pool, 112.0)[0] is not None


def test_stall_detection_and_the_ping_budget() -> None:
    p = policy(stall_timeout=3.0)
    assert not p.is_stalled(last_ok=10.0, now=12.9)
    assert p.is_stalled(last_ok=10.0, now=13.0)
    assert p.ping_budget(last_ok=10.0, now=11.0) == 2.0
    assert p.ping_budget(last_ok=10.0, now=20.0) == 0.2  # never a zero timeout


def test_refused_credentials_at_start_are_fatal_even_with_wait() -> None:
    verdict = policy(wait=True).first_connect_failed(ErrorKind.AUTH, "authorization violation")
    assert isinstance(verdict, AuthError) and "refused the credentials" in verdict.message


def test_an_unreachable_cluster_is_fatal_once_every_seed_failed() -> None:
    p = policy(2)
    assert p.first_connect_failed(ErrorKind.OTHER, "connection refused") is None
    verdict = p.first_connect_failed(ErrorKind.OTHER, "connection refused")
    assert isinstance(verdict, UnreachableError)
    assert "nats://h0:4222, nats://h1:4222" in verdict.message and verdict.hint == UNREACHABLE_HINT


def test_wait_says_each_kind_of_failure_once_and_never_gives_up() -> None:
    p = policy(wait=True)
    said = [
        p.first_connect_failed(ErrorKind.OTHER, d) for d in ["refused", "refused", "timed out", "refused"]
    ]
    assert said == [
        "waiting for nats://h0:4222: refused",
        None,
        "waiting for nats://h0:4222: timed out",
        None,
    ]


def test_one_word_per_kind_of_failure_per_outage() -> None:
    p = policy()
    assert p.outage_began(1.0) and not p.outage_began(1.5)  # the second callback of the same outage
    assert p.say_once("connection refused") and not p.say_once("connection refused")
    assert p.first_attempt_of_outage() and not p.first_attempt_of_outage()
    assert p.outage_ended(4.0) == 3.0
    assert p.outage_began(9.0) and p.say_once("connection refused") and p.first_attempt_of_outage()
