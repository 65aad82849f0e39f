"""The canary, fed with beats and a fake clock: holes, duplicates, reordering, a new boot, a gap of
flylogs' own backfilled (no loss) or not (unknown, never loss), latency with and without an offset."""

from __future__ import annotations

from flylogs.beats import Beat, beat_line, new_boot, parse_beat
from flylogs.core.alerts import AlertKind
from flylogs.core.canary import Canary

S = 1_000_000_000
MS = 1_000_000
T0 = 1_800_000_000 * S


def test_the_beat_line_is_exact_to_its_format_and_parsed_back() -> None:
    line = beat_line(7, T0 + 123_456_789, "b00t")
    assert line == "FLYLOGS-BEAT seq=7 at=2027-01-15T08:00:00.123456789Z boot=b00t"
    assert parse_beat(line) == Beat(7, T0 + 123_456_789, "b00t")
    assert parse_beat(line + " v=2 whatever") == Beat(7, T0 + 123_456_789, "b00t")  # room for later
    at = "at=2027-01-15T08:00:00Z"
    for other in ("GET /", f"FLYLOGS-BEAT seq=x {at} boot=b", "FLYLOGS-BEAT seq=1",
                  "FLYLOGS-BEAT seq=1 at=yesterday boot=b", f"FLYLOGS-BEATS seq=1 {at} boot=b",
                  f"FLYLOGS-BEAT seq=1 {at} boot=b\x1b[2J"):  # fmt: skip
        assert parse_beat(other) is None, other
    assert len({new_boot() for _ in range(50)}) == 50


def feed(canary: Canary, seqs: list[int], boot: str = "b1", delay_ms: int = 100, instance: str = "a") -> None:
    for seq in seqs:
        at = T0 + seq * S
        canary.beat("shop", instance, "iad", Beat(seq, at, boot), at + delay_ms * MS)


def test_holes_duplicates_and_reordering_are_counted_once_settled() -> None:
    canary = Canary(settle_s=60)
    feed(canary, [0, 1, 2, 3, 4, 7, 8, 8, 6, 9])  # 5 never comes; 6 comes late; 8 twice
    assert canary.tick(T0 + 30 * S) == []  # not settled yet: 5 may still come
    alerts = canary.tick(T0 + 70 * S)
    [series] = canary.series.values()
    assert (series.received, series.lost, series.duplicated, series.reordered, series.unknown) == (
        9,
        1,
        1,
        1,
        0,
    )
    assert [(a.kind, a.instance) for a in alerts] == [(AlertKind.BEATS_LOST, "a")]
    assert "1 beat(s) lost (boot b1)" in alerts[0].text
    feed(canary, [5])  # it came after all: late, not lost
    assert (series.received, series.lost, series.reordered) == (10, 0, 2)


def test_a_new_boot_is_a_new_series_not_a_loss() -> None:
    canary = Canary(settle_s=1)
    feed(canary, [0, 1, 2, 3])
    feed(canary, [0, 1, 2], boot="b2")  # the Machine restarted: seq from 0 again
    canary.tick(T0 + 100 * S)
    assert sorted((s.boot, s.received, s.lost, s.duplicated) for s in canary.series.values()) == [
        ("b1", 4, 0, 0), ("b2", 3, 0, 0),
    ]  # fmt: skip


def test_a_hole_in_a_gap_of_our_own_is_lost_only_if_the_backfill_read_it_whole() -> None:
    for complete, expected in ((True, (1, 0)), (False, (0, 1))):
        canary = Canary(settle_s=10)
        feed(canary, [0, 1, 2, 4, 5])
        canary.gap(T0 + 2 * S + S // 2, T0 + 3 * S + S // 2)  # seq 3 was due in it
        assert canary.tick(T0 + 60 * S) == []  # its backfill may still bring it
        canary.backfilled(T0 + 2 * S + S // 2, T0 + 3 * S + S // 2, complete)
        alerts = canary.tick(T0 + 61 * S)
        [series] = canary.series.values()
        assert (series.lost, series.unknown) == expected
        assert bool(alerts) is complete  # unknown is never reported as loss
    canary = Canary(settle_s=10)
    feed(canary, [0, 1, 2, 4])
    canary.gap(T0 + 2 * S + S // 2, T0 + 3 * S + S // 2)
    feed(canary, [3])  # the backfill brought it (read back: no latency)
    canary.backfilled(T0 + 2 * S + S // 2, T0 + 3 * S + S // 2, True)
    canary.tick(T0 + 60 * S)
    [series] = canary.series.values()
    assert (series.lost, series.unknown, series.received) == (0, 0, 5)


def test_latency_is_arrival_in_flys_time_minus_at_and_late_beats_alert() -> None:
    canary = Canary(late_after_s=1)
    feed(canary, list(range(20)), delay_ms=2000)
    [series] = canary.series.values()
    assert series.percentiles() == {"p50": 2000, "p95": 2000, "max": 2000}
    [record] = canary.records(T0 + 30 * S, T0)
    assert record["approximate"] is True and record["latency_ms"]["p50"] == 2000
    alerts = canary.tick(T0 + 30 * S)
    assert [(a.kind, a.instance) for a in alerts] == [(AlertKind.BEATS_LATE, "a")]
    # This clock 1.5 s behind Fly's: the same arrivals are 1.5 s later in Fly's time.
    canary = Canary()
    canary.offset_ns = 1500 * MS
    feed(canary, [0, 1, 2], delay_ms=500)
    [series] = canary.series.values()
    assert series.percentiles() == {"p50": 2000, "p95": 2000, "max": 2000}
    assert canary.records(T0, T0)[0]["approximate"] is False
    assert canary.summary("shop", "a") == (0.0, 2000) and canary.summary("shop", "zz") is None
