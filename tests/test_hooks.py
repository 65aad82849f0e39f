"""Alerts leaving flylogs: `--on-alert` (a real shell) and `--webhook` (a real local HTTP server that
fails, then succeeds). One JSON per alert, in order, failures reported, never blocking."""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path

from flylogs.core.alerts import Alert, AlertKind
from flylogs.hooks.command import AlertCommand
from flylogs.hooks.queue import Deliveries
from flylogs.hooks.webhook import Webhook
from tests.fakes.webhook import Receiver
from tests.helpers import until

S = 1_000_000_000
T0 = 1_800_000_000 * S


def alert(kind: AlertKind = AlertKind.SILENT, instance: str = "4d891d77b05118") -> Alert:
    closes = AlertKind.SILENT if kind is AlertKind.RESUMED else None
    text = f"shop {instance}: " + ("logging again" if closes else "no line for 3.0s")
    return Alert(kind, "shop", instance, T0, T0 + 3 * S, text, closes, "iad")


async def test_on_alert_gets_one_json_per_alert_on_stdin_and_the_fields_in_env(tmp_path: Path) -> None:
    out = tmp_path / "alerts.ndjson"
    said: list[str] = []
    hook = AlertCommand(
        f"cat >> {out}; "
        f'echo "$FLYLOGS_ALERT_KIND $FLYLOGS_ALERT_INSTANCE $FLYLOGS_ALERT_CLOSES" >> {out}.env',
        said.append,
        env=os.environ,
    )
    hook.alert(alert())
    hook.alert(alert(AlertKind.RESUMED))
    await hook.close(timeout=10)
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert [(r["kind"], r["closes"]) for r in records] == [("silent", None), ("resumed", "silent")]
    assert records[0]["text"] == "shop 4d891d77b05118: no line for 3.0s"
    assert (tmp_path / "alerts.ndjson.env").read_text().splitlines() == [
        "silent 4d891d77b05118 ",
        "resumed 4d891d77b05118 silent",
    ]
    assert said == []


async def test_a_failing_or_hanging_command_is_reported_and_the_next_alert_still_runs(tmp_path: Path) -> None:
    said: list[str] = []
    marker = tmp_path / "ran"
    hook = AlertCommand(
        f'read line; case "$FLYLOGS_ALERT_KIND" in silent) echo "no route to pager" >&2; exit 3;; '
        f"resumed) sleep 30;; *) touch {marker};; esac",
        said.append,
        env=os.environ,
        timeout=0.5,
        first_wait=0.01,
    )
    hook.alert(alert())
    hook.alert(alert(AlertKind.RESUMED))
    hook.alert(alert(AlertKind.HEARTBEAT_MISSED))
    await hook.close(timeout=20)
    # Each failure is retried twice; a run of failures is said once, and its end too.
    assert said == ["--on-alert failed: exit status 3: no route to pager", "--on-alert delivers again"]
    assert marker.exists()
    assert hook.counts == (1, 2, 0)


async def test_a_full_queue_drops_the_oldest_and_says_so() -> None:
    said: list[str] = []
    gate = asyncio.Event()
    seen: list[str | None] = []

    async def slow(a: Alert) -> None:
        await gate.wait()
        seen.append(a.instance)

    queue = Deliveries("--on-alert", slow, said.append, limit=2)
    for name in ("a", "b", "c", "d"):
        queue.put(alert(instance=name))
    await asyncio.sleep(0)
    gate.set()
    await queue.close(timeout=5)
    assert said[0].startswith("--on-alert is not keeping up: 1 alert(s) dropped")
    assert seen[-2:] == ["c", "d"] and "b" not in seen


async def test_the_webhook_is_retried_with_backoff_until_it_succeeds() -> None:
    said: list[str] = []
    with Receiver([503, 500]) as receiver:
        hook = Webhook(receiver.url, said.append, first_wait=0.05)
        hook.alert(alert())
        hook.alert(alert(AlertKind.RESUMED))
        await until(lambda: len(receiver.bodies) == 4)
        await hook.close()
    assert [b["kind"] for b in receiver.bodies] == ["silent", "silent", "silent", "resumed"]
    assert receiver.bodies[0]["text"] == "flylogs: shop 4d891d77b05118: no line for 3.0s"
    assert said == []


async def test_a_refused_webhook_is_not_retried_and_the_url_is_never_said() -> None:
    said: list[str] = []
    with Receiver([400]) as receiver:
        hook = Webhook(receiver.url, said.append, first_wait=0.05)
        hook.alert(alert())
        await hook.close()
    assert len(receiver.bodies) == 1
    assert said == ["--webhook failed: 127.0.0.1 answered 400"]
    assert all("secret-part" not in s for s in said)


async def test_an_unreachable_webhook_gives_up_after_its_retries() -> None:
    said: list[str] = []
    hook = Webhook("http://127.0.0.1:9/hook/secret-part", said.append, first_wait=0.01, retries=2)
    hook.alert(alert())
    await hook.close()
    assert said == ["--webhook failed: 127.0.0.1 unreachable (ConnectError) after 3 tries"]
