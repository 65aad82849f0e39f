"""The sans-I/O core, fed with events and a fake clock: no server, no loop, no terminal."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from flylogs.core.clock import MARGIN_NS, ClockSkew, from_date
from flylogs.core.events import (
    Alive,
    Backfill,
    Backfilled,
    Connected,
    Drained,
    FetchBackfill,
    GapFound,
    HistoryRead,
    Line,
    Lost,
    Notice,
    NoticeKind,
    Output,
    Overflow,
    Problem,
    Reconnecting,
    Refused,
    RefusedWhat,
    Restored,
    Show,
    Started,
    StatusChanged,
)
from flylogs.core.gaps import GapReason
from flylogs.core.status import State
from flylogs.core.tail import TailCore
from flylogs.filters import build_filter
from flylogs.timestamps import format_rfc3339
from tests.helpers import CASES

S = 1_000_000_000
T0 = 1_800_000_000 * S


def line(text: str, ts_ns: int = T0, instance: str = "m1") -> Line:
    payload = {
        "fly": {"app": {"instance": instance, "name": "api"}, "region": "iad"},
        "log": {"level": "info"},
        "message": text,
        "timestamp": format_rfc3339(ts_ns),
    }
    return Line(f"logs.api.iad.{instance}", json.dumps(payload).encode(), ts_ns)


def shown(outputs: list[Output]) -> list[str]:
    return [o.event.message for o in outputs if isinstance(o, Show)]


def started(core: TailCore) -> TailCore:
    core.feed(Started(), T0)
    core.feed(Connected("nats://a:4222", ("logs.>",)), T0)
    return core


def test_lines_are_held_until_started_then_released_in_order() -> None:
    core = TailCore(build_filter(), start_ns=T0)
    assert core.feed(line("one"), T0) == [] and core.feed(line("two"), T0) == []
    assert shown(core.feed(Started(), T0)) == ["one", "two"]
    assert shown(core.feed(line("three"), T0)) == ["three"]


def test_malformed_lines_are_counted_and_filters_apply() -> None:
    core = TailCore(build_filter(grep=["json|JSON"]), start_ns=T0)
    core.feed(Started(), T0)
    out = [o for c in CASES for o in core.feed(Line(c.subject, c.payload, T0), T0)]
    assert shown(out) == ["this payload is not JSON at all", '{"message": "truncated json']
    assert (core.received, core.malformed) == (len(CASES), 5)


def test_status_changes_are_outputs_the_moment_they_happen() -> None:
    core = TailCore(build_filter(), start_ns=T0)
    out = core.feed(Connected("nats://a:4222", ("logs.>",)), T0)
    assert [o.status.state for o in out if isinstance(o, StatusChanged)] == [State.CONNECTED]
    out = core.feed(Lost(GapReason.DISCONNECTED, "nats://a:4222"), T0 + S)
    [status] = [o.status for o in out if isinstance(o, StatusChanged)]
    assert (status.state, status.at_ns) == (State.DISCONNECTED, T0 + S)
    assert [n.kind for n in out if isinstance(n, Notice)] == [NoticeKind.DISCONNECTED]
    # A second callback for the same outage says nothing new.
    assert core.feed(Lost(GapReason.DISCONNECTED), T0 + S) == []
    out = core.feed(Reconnecting("nats://b:4222"), T0 + 2 * S)
    assert [o.status.state for o in out if isinstance(o, StatusChanged)] == [State.RECONNECTING]
    out = core.feed(Refused(RefusedWhat.CREDENTIALS, "authorization violation"), T0 + 3 * S)
    assert [o.status.state for o in out if isinstance(o, StatusChanged)] == [State.REFUSED]


def test_a_gap_is_reported_at_once_when_the_stream_is_back() -> None:
    core = started(TailCore(build_filter(), start_ns=T0))
    core.feed(Alive(T0 + 5 * S), T0 + 5 * S)
    core.feed(Lost(GapReason.DISCONNECTED), T0 + 6 * S)
    out = core.feed(Restored("nats://b:4222", 3.0), T0 + 9 * S)
    [found] = [o for o in out if isinstance(o, GapFound)]
    # From the last answered ping (less the one-second margin) to the moment the stream is whole,
    # widened by a second each way for the clocks (nothing is known of Fly's yet).
    assert (found.gap.start_ns, found.gap.end_ns) == (T0 + 3 * S, T0 + 10 * S)
    assert found.gap.reason is GapReason.DISCONNECTED and found.pending is None
    assert not [o for o in out if isinstance(o, FetchBackfill)]  # no history source
    assert core.gaps == (found.gap,)


def test_with_history_the_gap_asks_for_a_backfill_and_its_outcome_precedes_the_lines() -> None:
    core = started(TailCore(build_filter(), start_ns=T0, history="LOGS"))
    shown(core.feed(line("before", T0 + S), T0 + S))
    core.feed(Lost(GapReason.STALLED), T0 + 2 * S)
    out = core.feed(Restored("nats://a:4222", 2.0), T0 + 4 * S)
    [found] = [o for o in out if isinstance(o, GapFound)]
    [ask] = [o for o in out if isinstance(o, FetchBackfill)]
    assert ask.gap == found.gap and found.pending == "LOGS"
    assert out.index(found) < out.index(ask)
    # Live lines go on while the backfill runs.
    assert shown(core.feed(line("live", T0 + 5 * S), T0 + 5 * S)) == ["live"]
    replay = [line(t, T0 + i * S) for i, t in ((3, "missed b"), (1, "before"), (2, "missed a"))]
    out = core.feed(Backfilled(found.gap, "jetstream", [(r.subject, r.data) for r in replay]), T0 + 6 * S)
    assert isinstance(out[0], Backfill) and (out[0].recovered, out[0].complete) == (2, True)
    assert shown(out) == ["missed a", "missed b"]  # timestamp order; "before" was shown already
    assert all(o.recovered for o in out if isinstance(o, Show))
    [final] = core.gaps
    assert final.complete and final.backfilled == 2


def test_a_capped_backfill_shows_what_it_read_and_is_never_called_complete() -> None:
    core = started(TailCore(build_filter(), start_ns=T0, history="Fly's logs API"))
    core.feed(Lost(GapReason.DISCONNECTED), T0 + S)
    [found] = [o for o in core.feed(Restored(None), T0 + 4 * S) if isinstance(o, GapFound)]
    replay = [line("missed", T0 + 2 * S)]
    why = "stopped after 1000 pages of shop: the window is longer"
    out = core.feed(
        Backfilled(found.gap, "api", [(r.subject, r.data) for r in replay], short=why), T0 + 5 * S
    )
    assert out[0] == Backfill(found.gap, 1, False, "api", why)
    assert shown(out) == ["missed"]
    assert [n.text for n in out if isinstance(n, Notice)] == [
        f"the backfill from Fly's logs API is short: {why}"
    ]
    assert not core.gaps[0].complete and core.gaps[0].backfilled == 1


def test_a_failed_backfill_says_so_and_leaves_the_gap_unfilled() -> None:
    core = started(TailCore(build_filter(), start_ns=T0, history="Fly's logs API"))
    core.feed(Lost(GapReason.DISCONNECTED), T0 + S)
    [found] = [o for o in core.feed(Restored(None), T0 + 2 * S) if isinstance(o, GapFound)]
    out = core.feed(Backfilled(found.gap, "api", error="timed out"), T0 + 3 * S)
    assert out[0] == Backfill(found.gap, 0, False, "api", "timed out")
    assert [n.text for n in out if isinstance(n, Notice)] == [
        "could not backfill from Fly's logs API: timed out"
    ]
    assert not core.gaps[0].complete


def test_history_at_start_comes_before_held_live_lines_without_duplicates() -> None:
    core = TailCore(build_filter(), start_ns=T0, history="LOGS")
    core.feed(line("live 2", T0 + 2 * S), T0)
    core.feed(line("live 3", T0 + 3 * S), T0)
    history = [line("old 1", T0 + S), line("live 2", T0 + 2 * S)]
    out = core.feed(HistoryRead([(h.subject, h.data) for h in history]), T0)
    assert shown(out) == ["old 1", "live 2"]
    assert shown(core.feed(Started(), T0)) == ["live 3"]


def test_tail_n_shows_the_last_n_matching_lines_of_the_history_and_never_an_older_one_later() -> None:
    core = TailCore(build_filter(grep=["keep"]), start_ns=T0, history="LOGS")
    core.feed(line("keep 3", T0 + 3 * S), T0)  # live, held: also in the history, older than the last 2
    core.feed(line("keep 9", T0 + 9 * S), T0)  # live, held, newer than the history
    history = [line(f"{word} {i}", T0 + i * S) for i in range(1, 8) for word in ("keep", "drop")]
    out = core.feed(HistoryRead([(h.subject, h.data) for h in history], last=2), T0)
    assert shown(out) == ["keep 6", "keep 7"]
    assert shown(core.feed(Started(), T0)) == ["keep 9"]
    assert shown(core.feed(HistoryRead([], last=2), T0)) == []


def test_dropped_lines_become_one_slow_consumer_gap_once_drained() -> None:
    core = started(TailCore(build_filter(), start_ns=T0))
    for i in range(3):
        event = core.line(*_sd(line(f"x{i}", T0 + i * S)))
        assert event is not None
        core.drop(event, T0)
    core.feed(Overflow(2, T0 + 5 * S, T0 + 6 * S), T0 + 6 * S)
    assert core.drops_pending
    [found] = [o for o in core.feed(Drained(), T0 + 7 * S) if isinstance(o, GapFound)]
    assert (found.gap.reason, found.gap.dropped) == (GapReason.SLOW_CONSUMER, 5)
    assert (found.gap.start_ns, found.gap.end_ns) == (T0, T0 + 6 * S)
    assert core.dropped == 3 and core.feed(Drained(), T0 + 8 * S) == []


def test_a_polling_source_behind_now_changes_the_status_and_only_when_it_changes() -> None:
    from flylogs.core.events import Behind

    core = started(TailCore(build_filter(), start_ns=T0))
    [changed] = core.feed(Behind(3.4), T0)
    assert isinstance(changed, StatusChanged) and changed.status.behind_s == 3
    assert core.feed(Behind(3.2), T0) == []  # the same second: nothing to say
    [changed] = core.feed(Behind(7.0), T0)
    assert isinstance(changed, StatusChanged) and changed.status.behind_s == 7
    said = core.feed(Behind(12.0), T0)  # past 10 s: said on stderr too, once
    assert [o.text for o in said if isinstance(o, Notice)] == ["nats://a:4222 is 12s behind the newest line"]
    assert not [o for o in core.feed(Behind(15.0), T0) if isinstance(o, Notice)]
    caught = core.feed(Behind(1.0), T0)
    assert [o.text for o in caught if isinstance(o, Notice)] == ["nats://a:4222 has caught up (1s behind)"]
    core.feed(Lost(GapReason.DISCONNECTED, "nats://a:4222"), T0 + S)
    assert core.feed(Behind(9.0), T0 + S) == []  # down: the gap speaks, not the lag


def test_a_problem_names_its_server_unless_it_already_does() -> None:
    core = started(TailCore(build_filter(), start_ns=T0))
    [notice] = core.feed(Problem("timed out (no answer in time)", "nats://a:4222"), T0)
    assert isinstance(notice, Notice) and notice.text == "nats://a:4222: timed out (no answer in time)"
    [notice] = core.feed(Problem("no answer from nats://a:4222 for 3s", "nats://a:4222"), T0)
    assert isinstance(notice, Notice) and notice.text == "no answer from nats://a:4222 for 3s"


def test_a_refused_subscription_opens_a_server_gap() -> None:
    core = started(TailCore(build_filter(), start_ns=T0))
    core.feed(Refused(RefusedWhat.SUBSCRIPTION, "permissions violation"), T0 + S)
    core.feed(Lost(GapReason.DISCONNECTED), T0 + 2 * S)
    [found] = [o for o in core.feed(Restored(None), T0 + 3 * S) if isinstance(o, GapFound)]
    assert found.gap.reason is GapReason.SERVER


def test_a_window_still_open_at_the_end_is_reported() -> None:
    core = started(TailCore(build_filter(), start_ns=T0))
    core.feed(Lost(GapReason.DISCONNECTED), T0 + S)
    [found] = core.end(T0 + 9 * S)
    assert isinstance(found, GapFound) and found.gap.end_ns == T0 + 9 * S + MARGIN_NS
    assert core.gaps == (found.gap,)


def test_a_gap_is_said_in_the_lines_time_when_flys_clock_is_ahead() -> None:
    """Fly's clock 3 s ahead: lines stamped 3 s after they arrive here. A window measured by this
    clock is said (and asked of a history) 3 s later, widened by how late lines arrive."""
    core = started(TailCore(build_filter(), start_ns=T0, history="Fly's logs API"))
    for delay in (S // 10, S // 2, S // 5):  # each line 0.1–0.5 s on its way
        core.skew.observe(T0 + 4 * S, T0 + 4 * S + 3 * S - delay)
    core.feed(Alive(T0 + 5 * S), T0 + 5 * S)
    core.feed(Lost(GapReason.DISCONNECTED), T0 + 6 * S)
    out = core.feed(Restored("nats://b:4222", 3.0), T0 + 9 * S)
    [found] = [o for o in out if isinstance(o, GapFound)]
    offset, late = 3 * S - S // 10, S // 2 - S // 10
    assert found.gap.start_ns == T0 + 4 * S + offset - late - MARGIN_NS
    assert found.gap.end_ns == T0 + 9 * S + offset + MARGIN_NS
    assert found.gap.offset_ns == offset
    [fetch] = [o for o in out if isinstance(o, FetchBackfill)]
    assert fetch.gap == found.gap  # the history is asked for exactly the window said


def test_before_any_line_an_offset_from_an_http_date_is_used_with_its_uncertainty() -> None:
    # The API answered 0.2 s after the request, its Date saying 5 minutes ahead (whole seconds).
    offset, within = from_date(T0 // S + 300, T0, T0 + S // 5)
    assert offset == 300 * S + S // 2 - S // 10 and within == S // 2 + S // 10
    skew = ClockSkew()
    skew.told(offset, within)
    assert skew.offset_ns == offset and skew.now(T0) == T0 + offset
    assert skew.window(T0, T0 + S) == (T0 + offset - within - MARGIN_NS, T0 + S + offset + within + MARGIN_NS)
    skew.observe(T0, T0 + 299 * S)  # a line's view replaces it
    assert skew.offset_ns == 299 * S and skew.late_ns == 0


def test_held_and_replayed_lines_go_through_context_too() -> None:
    core = TailCore(build_filter(grep=["gateway"]), start_ns=T0, context=(0, 1), history="LOGS")
    for case in CASES[:5]:
        assert core.feed(Line(case.subject, case.payload, T0), T0) == []  # held
    # Only the match and, after it, the next line of the same instance: not every held line.
    assert shown(core.feed(Started(), T0)) == [
        "ERROR payment gateway timeout after 30s",
        "WARN retrying in 2s",
    ]
    replayed = core.feed(HistoryRead([(c.subject, c.payload) for c in CASES[:2]]), T0)
    assert shown(replayed) == []  # non-matching replayed lines are not shown as if they matched


def _sd(event: Line) -> tuple[str, bytes]:
    return event.subject, event.data


@given(st.lists(st.tuples(st.sampled_from(["m1", "m2"]), st.binary(max_size=40)), max_size=30))
def test_the_fast_path_gives_what_the_general_path_gives(messages: list[tuple[str, bytes]]) -> None:
    """`line()` is the hot path's shortcut for `feed(Line(…))`: same lines, same counts."""
    payloads = [*(c.payload for c in CASES), *(data for _, data in messages)]
    fast, general = (TailCore(build_filter(exclude=["^x"]), start_ns=T0) for _ in range(2))
    fast.feed(Started(), T0)
    general.feed(Started(), T0)
    fast_out = [fast.line("logs.api.iad.m1", data) for data in payloads]
    general_out = [general.feed(Line("logs.api.iad.m1", data, T0), T0) for data in payloads]
    assert [[Show(e)] if e is not None else [] for e in fast_out] == general_out
    assert (fast.received, fast.malformed) == (general.received, general.malformed)


def test_a_full_hold_drops_into_a_gap_at_the_lines_own_time_or_the_last_sure_moment() -> None:
    core = TailCore(build_filter(), start_ns=T0, hold_limit=2)
    core.feed(Alive(T0 + 5 * S), T0 + 5 * S)
    for text in ("one", "two", "three"):
        core.feed(line(text, T0 + 6 * S), T0 + 6 * S)
    core.feed(Line("logs.api.iad.m1", b"no timestamp here", T0 + 7 * S), T0 + 7 * S)
    assert shown(core.feed(Started(), T0 + 8 * S)) == ["one", "two"]
    [found] = [o for o in core.feed(Drained(), T0 + 8 * S) if isinstance(o, GapFound)]
    assert (found.gap.dropped, found.gap.start_ns, found.gap.end_ns) == (2, T0 + 6 * S, T0 + 7 * S)
    fast = TailCore(build_filter(), start_ns=T0, hold_limit=0)
    fast.feed(Alive(T0 + 5 * S), T0 + 5 * S)
    assert fast.line("logs.api.iad.m1", b"no timestamp here") is None
    [found] = [o for o in fast.feed(Drained(), T0 + 9 * S) if isinstance(o, GapFound)]
    assert found.gap.start_ns == found.gap.end_ns == T0 + 5 * S  # not the epoch
