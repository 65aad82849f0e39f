from __future__ import annotations

from flylogs.core.context import Context
from flylogs.model import LogEvent


def ev(instance: str, message: str) -> LogEvent:
    return LogEvent(subject="logs.a.b." + instance, raw=b"", message=message, instance=instance)


def run(context: Context, lines: list[tuple[str, str]]) -> list[str]:
    out = []
    for instance, message in lines:
        for event, separator in context.feed(ev(instance, message), matched="ERR" in message):
            if separator:
                out.append("--")
            out.append(f"{event.instance}:{event.message}")
    return out


def test_before_and_after_come_from_the_same_instance_only() -> None:
    lines = [
        ("a", "a1"),
        ("b", "b1"),
        ("a", "a2"),
        ("b", "b2"),
        ("a", "ERR a"),
        ("b", "b3"),
        ("a", "a3"),
        ("a", "a4"),
    ]
    assert run(Context(before=2, after=1), lines) == ["a:a1", "a:a2", "a:ERR a", "a:a3"]


def test_separator_between_groups_that_are_not_contiguous() -> None:
    lines = [("a", "ERR 1"), ("a", "x"), ("a", "y"), ("a", "z"), ("a", "ERR 2"), ("a", "ERR 3")]
    assert run(Context(before=1, after=0), lines) == ["a:ERR 1", "--", "a:z", "a:ERR 2", "a:ERR 3"]


def test_overlapping_context_is_not_repeated() -> None:
    lines = [("a", "x"), ("a", "ERR 1"), ("a", "y"), ("a", "ERR 2"), ("a", "w")]
    assert run(Context(before=1, after=1), lines) == ["a:x", "a:ERR 1", "a:y", "a:ERR 2", "a:w"]
