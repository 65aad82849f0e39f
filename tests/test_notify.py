"""The notifier, fed with the watcher's alerts and a fake clock: identity, flap damping, grouping,
repeat, quiet hours and state across a restart, as Alertmanager, Prometheus and healthchecks.io users
expect them."""

from __future__ import annotations

import json

from flylogs.core.alerts import Alert, AlertKind
from flylogs.core.notify import Notifier, fingerprint

S = 1_000_000_000
T0 = 1_800_000_000 * S


def silent(instance: str, at: int, app: str = "shop", region: str = "iad") -> Alert:
    return Alert(
        AlertKind.SILENT, app, instance, at - 3 * S, at, f"{app} {instance}: no line for 3s", region=region
    )


def resumed(instance: str, at: int, app: str = "shop", region: str = "iad") -> Alert:
    text = f"{app} {instance}: logging again"
    return Alert(AlertKind.RESUMED, app, instance, at, at, text, AlertKind.SILENT, region)


def kinds(alerts: list[Alert]) -> list[str]:
    return [a.kind.value for a in alerts]


def test_every_notification_carries_a_stable_fingerprint_an_id_and_its_lifecycle() -> None:
    first, second = Notifier(group_wait_s=0), Notifier(group_wait_s=0)  # two watchers, run for safety
    [opened] = first.feed([silent("m1", T0)], T0)
    [same] = second.feed([silent("m1", T0 + S // 3)], T0 + S // 3)
    assert opened.fingerprint == same.fingerprint == fingerprint(AlertKind.SILENT, "shop", "m1")
    assert opened.status == "firing" and opened.id and opened.started_ns == T0 - 3 * S
    [closed] = first.feed([resumed("m1", T0 + 60 * S)], T0 + 60 * S)
    assert closed.status == "resolved" and closed.fingerprint == opened.fingerprint and closed.id == opened.id
    assert closed.duration_s == 63.0
    record = closed.record()
    assert json.loads(json.dumps(record))["started_at"] == "2027-01-15T07:59:57.000Z"
    assert (record["status"], record["fingerprint"], record["duration_s"]) == (
        "resolved",
        opened.fingerprint,
        63.0,
    )
    # Another opening of the same trouble: the same fingerprint, another id.
    [again] = first.feed([silent("m1", T0 + 99 * S)], T0 + 99 * S)
    assert again.fingerprint == opened.fingerprint and again.id != opened.id


def test_an_alert_opening_a_third_time_within_the_flap_window_is_one_flapping_alert() -> None:
    notifier = Notifier(group_wait_s=0, flap_window_s=600)
    told: list[Alert] = []
    at = T0
    for _ in range(6):  # a line every 3.5 s against --silent-after 3s: silent, then logging again
        told += notifier.feed([silent("m1", at)], at)
        told += notifier.feed([resumed("m1", at + S // 2)], at + S // 2)
        told += notifier.tick(at + S)
        at += 4 * S
    assert kinds(told) == ["silent", "resumed", "silent", "resumed", "flapping"]
    assert "flapping (silent opened 3 times in 10m)" in told[-1].text
    assert notifier.flapping() == {("shop", "m1")}  # the view marks it
    # Logging for a whole flap window: the flapping resolves, once.
    last_change = at - 4 * S + S // 2
    assert notifier.tick(last_change + 599 * S) == []
    [done] = notifier.tick(last_change + 600 * S)
    assert (done.kind, done.closes, done.fingerprint) == (
        AlertKind.RESUMED,
        AlertKind.FLAPPING,
        told[-1].fingerprint,
    )
    assert notifier.open_count == 0 and notifier.flapping() == set()


def test_a_flapping_instance_that_stays_silent_is_told_silent_when_the_flapping_settles() -> None:
    notifier = Notifier(group_wait_s=0, flap_window_s=60)
    for n in range(3):
        notifier.feed([silent("m1", T0 + n * 4 * S)], T0 + n * 4 * S)
        if n < 2:
            notifier.feed([resumed("m1", T0 + n * 4 * S + S)], T0 + n * 4 * S + S)
    told = notifier.tick(T0 + 8 * S + 60 * S)
    assert kinds(told) == ["resumed", "silent"]
    assert told[0].closes is AlertKind.FLAPPING and "still silent" in told[0].text


def test_openings_of_one_region_within_group_wait_are_told_as_one_and_resolve_as_one() -> None:
    notifier = Notifier(group_wait_s=10, members=lambda app, region: 4)
    assert notifier.feed([silent("m1", T0)], T0) == []
    assert notifier.feed([silent("m2", T0 + S)], T0 + S) == []
    assert notifier.feed([silent("m3", T0 + 5 * S)], T0 + 5 * S) == []
    assert notifier.feed([silent("x9", T0 + 5 * S, region="ams")], T0 + 5 * S) == []
    assert notifier.tick(T0 + 9 * S) == []
    [group] = notifier.tick(T0 + 10 * S)
    assert group.text == "3 of 4 shop instances in iad silent: m1, m2, m3"
    assert group.instances == ("m1", "m2", "m3") and group.instance is None
    [alone] = notifier.tick(T0 + 15 * S)  # ams's own group: one instance, told as itself
    assert alone.instance == "x9" and alone.fingerprint == fingerprint(AlertKind.SILENT, "shop", "x9")
    assert notifier.feed([resumed("m1", T0 + 20 * S), resumed("m2", T0 + 21 * S)], T0 + 21 * S) == []
    [back] = notifier.feed([resumed("m3", T0 + 30 * S)], T0 + 30 * S)
    assert back.text == "shop in iad: all 3 logging again"
    assert back.fingerprint == group.fingerprint and back.duration_s == 33.0


def test_an_opening_resolved_before_it_was_told_is_never_told() -> None:
    notifier = Notifier(group_wait_s=10)
    assert notifier.feed([silent("m1", T0), resumed("m1", T0 + S)], T0 + S) == []
    assert notifier.tick(T0 + 20 * S) == []


def test_the_streams_own_alerts_are_told_at_once() -> None:
    notifier = Notifier(group_wait_s=10)
    down = Alert(AlertKind.DISCONNECTED, None, None, T0, T0, "the stream is down")
    [told] = notifier.feed([down], T0)
    back = Alert(AlertKind.RESUMED, None, None, T0 + 5 * S, T0 + 5 * S, "back", AlertKind.DISCONNECTED)
    [closed] = notifier.feed([back], T0 + 5 * S)
    assert told.fingerprint == closed.fingerprint and closed.duration_s == 5.0


def test_a_still_open_alert_is_told_again_every_repeat_interval() -> None:
    notifier = Notifier(group_wait_s=0, repeat_every_s=3600)
    notifier.feed([silent("m1", T0)], T0)
    assert notifier.tick(T0 + 3599 * S) == []
    [again] = notifier.tick(T0 + 3600 * S)
    assert again.repeat == 1 and again.record()["repeat"] == 1 and again.status == "firing"
    [third] = notifier.tick(T0 + 7200 * S)
    assert third.repeat == 2 and third.id == again.id


def test_when_quiet_hours_end_one_summary_says_what_is_still_open() -> None:
    quiet_until = T0 + 100 * S
    notifier = Notifier(group_wait_s=0, quiet=lambda now: now < quiet_until)
    notifier.feed([silent("m1", T0)], T0)
    assert notifier.quiet(T0 + S) and notifier.tick(T0 + S) == []
    [summary] = notifier.tick(quiet_until)
    assert summary.kind is AlertKind.SUMMARY
    assert summary.text == "quiet hours over: 1 alert(s) open: shop m1: no line for 3s"
    assert notifier.tick(quiet_until + S) == []


def test_after_a_restart_an_open_alert_is_not_told_again_and_its_resolve_says_so() -> None:
    before = Notifier(group_wait_s=0)
    [opened] = before.feed([silent("m1", T0)], T0)
    saved = json.loads(json.dumps(before.state()))  # as the state file keeps it
    after = Notifier(group_wait_s=0)
    after.restore(saved)
    assert after.feed([silent("m1", T0 + 500 * S)], T0 + 500 * S) == []  # still open: said already
    [closed] = after.feed([resumed("m1", T0 + 600 * S)], T0 + 600 * S)
    assert closed.restarted and closed.id == opened.id and closed.duration_s == 603.0


def test_quiet_hours_are_local_time_and_may_cross_midnight() -> None:
    import time

    import pytest

    from flylogs.cli.watch import quiet_hours
    from flylogs.errors import UsageError

    def at(hh: int, mm: int) -> int:  # (the tests run with TZ=UTC)
        return int(time.mktime((2026, 12, 5, hh, mm, 0, 0, 0, -1)) * S)

    night = quiet_hours("22:00-07:00")
    assert [night(at(h, m)) for h, m in ((21, 59), (22, 0), (3, 0), (6, 59), (7, 0))] == [
        False, True, True, True, False,
    ]  # fmt: skip
    day = quiet_hours("9:00-17:30")
    assert day(at(9, 0)) and day(at(17, 29)) and not day(at(17, 30))
    assert not quiet_hours(None)(at(3, 0))
    with pytest.raises(UsageError, match="is not HH:MM-HH:MM"):
        quiet_hours("25:00-07:00")


def test_quiet_hours_follow_tz_when_given() -> None:
    from zoneinfo import ZoneInfo

    from flylogs.cli.watch import quiet_hours

    night_in_tokyo = quiet_hours("22:00-07:00", ZoneInfo("Asia/Tokyo"))
    utc_1400 = 1_796_479_200 * S  # 2026-12-05 14:00 UTC = 23:00 in Tokyo
    assert night_in_tokyo(utc_1400) and not quiet_hours("22:00-07:00")(utc_1400)  # (TZ=UTC here)
