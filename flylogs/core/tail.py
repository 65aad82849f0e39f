"""The tail's sans-I/O core: `feed(event, now_ns) -> outputs`.

Owns every decision between the sources and the sink: decoding, filtering, `-A/-B/-C` context,
de-duplication at history seams, holding live lines at start, the connection status, and the gap
bookkeeping (this is the only owner of gap state: sources say what happened, the core decides what
window may hold lost lines). `line()` is the hot path's specialised form of `feed(Line(…))` for the
common case without context lines; a test proves the two give the same output.
Must not: await, read a clock, or do I/O: time arrives with each event.
"""

from __future__ import annotations

from dataclasses import replace

from flylogs.core.clock import ClockSkew
from flylogs.core.context import Context
from flylogs.core.events import (
    Alive,
    Backfill,
    Backfilled,
    Behind,
    Connected,
    Drained,
    Event,
    HistoryRead,
    Leaving,
    Line,
    Lost,
    Notice,
    NoticeKind,
    Output,
    Overflow,
    Problem,
    Reconnecting,
    Refused,
    Restored,
    Show,
    Started,
)
from flylogs.core.gaps import Gap, GapReason, GapTracker
from flylogs.core.history import HOLD_LIMIT, Seam
from flylogs.core.multiline import STARTERS, Joiner
from flylogs.core.order import Reorder
from flylogs.core.status import State, Status
from flylogs.core.tail_connection import ConnectionState, gap_key
from flylogs.decode import decode
from flylogs.filters import Filter
from flylogs.model import LogEvent


class TailCore(ConnectionState):
    """Events in, outputs out. `history`: the name of a source that can replay windows (or None)."""

    def __init__(
        self,
        keep: Filter,
        *,
        start_ns: int,
        context: tuple[int, int] | None = None,
        history: str | None = None,
        hold_limit: int = HOLD_LIMIT,
        joiner: Joiner | None = None,  # multi-line events (stack traces) joined before the filters
        reorder: Reorder | None = None,  # `--order time`: shown lines in timestamp order
    ) -> None:
        self.joiner = joiner
        self.reorder = reorder
        self.outputs: list[Output] = []  # what `line()` decided beside its return (take them)
        self.received = 0
        self.malformed = 0
        self.dropped = 0
        self.history = history
        self.status = Status(State.CONNECTING, start_ns)
        self._outage = False  # between a Lost and its Restored
        self._tracker = GapTracker(start_ns)
        # Fly's clock against this one: gaps are measured here, and reported in the lines' time.
        self.skew = ClockSkew()
        # Every gap reported, in its latest form (a backfill's outcome replaces the first report).
        self._gaps: dict[tuple[int, int, GapReason], Gap] = {}
        self._seam = Seam(remember=history is not None, hold_limit=hold_limit)
        # For the hot path, plain attributes rather than properties of the seam.
        self._holding = True
        self._remember = self._seam.remember if history is not None else None
        # With context lines, --grep picks the matches and everything else decides what may show.
        self._context = Context(*context) if context else None
        self._grep = keep.grep if context else ()
        if context:
            keep = replace(keep, grep=())
        self._keep = None if keep.is_empty else keep

    @property
    def simple(self) -> bool:
        """No context lines, no re-ordering: `line()` may stand in for `feed(Line(…))`."""
        return self._context is None and self.reorder is None

    @property
    def decodes(self) -> bool:
        """False when nothing needs a decoded line (no filter, no history, no context, no joining)."""
        return (
            self._keep is not None or self.history is not None or self._context is not None
            or self.joiner is not None or self.reorder is not None
        )  # fmt: skip

    @property
    def gaps(self) -> tuple[Gap, ...]:
        return tuple(self._gaps.values())

    def end(self, now_ns: int) -> list[Output]:
        """The session ends at `now_ns`: a window still open (stopped while disconnected) is reported."""
        gap = self._tracker.open_gap(now_ns)
        return [self._found(gap.in_fly_time(self.skew))] if gap is not None else []

    # --- the hot path ----------------------------------------------------------------------------

    def line(self, subject: str, data: bytes, now_ns: int = 0) -> LogEvent | None:
        """The line to show now, or None (filtered out, or held; or, joining stack traces, what
        to do waits in `outputs`). Never raises on content."""
        self.received += 1
        event = decode(subject, data)
        if event.malformed is not None:
            self.malformed += 1
        joiner = self.joiner
        # Joining: a line of a held instance, or one that may start a trace (see multiline.STARTERS)
        if joiner is not None and (
            event.instance in joiner.instances or "Error" in (m := event.message) or "Exception" in m
            or "Throwable" in m
            or m.startswith(STARTERS)
        ):  # fmt: skip
            for ready in joiner.push(event, now_ns):
                self.outputs += self._kept(ready, now_ns)
            return None
        keep = self._keep
        if keep is not None and not keep(event):
            return None
        if self._holding:
            if not self._seam.hold(event):
                self.drop(event, None)
            return None
        if self._remember is not None:
            self._remember(event)
        return event

    def undecoded(self) -> None:
        """A line that went out without decoding (raw output, nothing to decide): counted only."""
        self.received += 1

    def drop(self, event: LogEvent, now_ns: int | None) -> None:
        """A line that could not be shown (the output is behind, the hold is full): it becomes part of
        a gap, at its own time; without one, at `now_ns` (None: the last sure moment, which it
        followed)."""
        self.dropped += 1
        when = event.ns()
        if when is None:
            when = now_ns if now_ns is not None else self._tracker.last_alive_ns
        self._tracker.dropped(when, when)

    @property
    def drops_pending(self) -> bool:
        return self._tracker.drops_pending

    # --- everything else -------------------------------------------------------------------------

    def feed(self, event: Event, now_ns: int) -> list[Output]:
        """What to do about `event`, which happened at `now_ns`."""
        if self.reorder is None:
            return self._decide(event, now_ns)
        now_ns = event.received_ns if isinstance(event, Line) else now_ns
        return self._ordered(self._decide(event, now_ns), now_ns)

    def ordered(self, now_ns: int, *, all_held: bool = False) -> list[Output]:
        """`--order time`: the held lines whose window has passed (all of them: the session ends)."""
        if self.reorder is None:
            return []
        ready = self.reorder.flush() if all_held else self.reorder.due(self.skew.now(now_ns))
        return [Show(e) for e in ready]

    def _ordered(self, outputs: list[Output], now_ns: int) -> list[Output]:
        """Shown lines through the re-ordering window; anything else lets the held lines go first
        (a gap, a status, a backfill keep their place in time)."""
        assert self.reorder is not None
        out: list[Output] = []
        for output in outputs:
            if isinstance(output, Show) and not output.recovered:
                out += [Show(e) for e in self.reorder.push(output.event, self.skew.now(now_ns))]
            else:
                out += [Show(e) for e in self.reorder.flush()]
                out.append(output)
        return out

    def _decide(self, event: Event, now_ns: int) -> list[Output]:
        if isinstance(event, Line):
            return self._general_line(event, now_ns)
        if isinstance(event, Alive):
            self._tracker.alive(event.sent_ns)
            return []
        if isinstance(event, Overflow):
            first = event.first_ns if event.first_ns is not None else self._tracker.last_alive_ns
            self._tracker.dropped(first, event.last_ns, event.count)
            return []
        if isinstance(event, Drained):
            settled = self._tracker.drops_settled()
            return [self._found(settled)] if settled is not None else []
        if isinstance(event, Connected):
            return self._connected(event, now_ns)
        if isinstance(event, Lost):
            return self._lost(event, now_ns)
        if isinstance(event, Reconnecting):
            if self.status.state in (State.DISCONNECTED, State.STALLED):
                return [self._status(State.RECONNECTING, now_ns, event.server, "trying to reconnect")]
            return []
        if isinstance(event, Restored):
            return self._restored(event, now_ns)
        if isinstance(event, Refused):
            return self._refused(event, now_ns)
        if isinstance(event, Leaving):
            return self._leaving(event, now_ns)
        if isinstance(event, Behind):
            return self._behind(round(event.seconds))
        if isinstance(event, Problem):
            text, server = event.description, event.server
            if server and server not in text:  # "timed out" alone does not say what did
                text = f"{server}: {text}"
            return [Notice(NoticeKind.ERROR, text, server)]
        if isinstance(event, HistoryRead):
            events = self._seam.prepare(event.messages, self._keep)
            if event.window is not None:
                events = _within(events, *event.window)
            if event.last is not None and len(events) > event.last:
                cut = len(events) - event.last
                for older in events[:cut]:  # not shown, but never shown later either (held lines)
                    self._seam.remember(older)
                events = events[cut:]
            return self._show_all(events, recovered=False)
        if isinstance(event, Started):
            self._holding = False
            return self._show_all(self._seam.release(), recovered=False)
        if isinstance(event, Backfilled):
            return self._backfilled(event)
        raise TypeError(f"not an event: {event!r}")

    def _general_line(self, event: Line, now_ns: int) -> list[Output]:
        self.received += 1
        decoded = decode(event.subject, event.data)
        if decoded.malformed is not None:
            self.malformed += 1
        if self.joiner is None:
            return self._kept(decoded, event.received_ns or now_ns)
        out: list[Output] = []
        now_ns = event.received_ns or now_ns
        for ready in self.joiner.push(decoded, now_ns):
            out += self._kept(ready, now_ns)
        return out

    def joined(self, now_ns: int, *, all_held: bool = False) -> list[Output]:
        """Multi-line events whose window has ended (all of them: the session ends)."""
        if self.joiner is None:
            return []
        out: list[Output] = []
        for ready in self.joiner.flush() if all_held else self.joiner.due(now_ns):
            out += self._kept(ready, now_ns)
        return out

    def _kept(self, decoded: LogEvent, received_ns: int) -> list[Output]:
        if self._keep is not None and not self._keep(decoded):
            return []
        if self._holding:
            if not self._seam.hold(decoded):
                self.drop(decoded, received_ns)
            return []
        return self._admit(decoded, recovered=False)

    def _admit(self, event: LogEvent, *, recovered: bool) -> list[Output]:
        """Every line that passed the filters comes here, live, held or replayed: with context lines
        on, --grep decides what shows (and what comes along as context); otherwise it shows."""
        seam = self._seam
        if self._context is None:
            seam.remember(event)
            return [Show(event, recovered=recovered)]
        matched = any(pattern.search(event.message) for pattern in self._grep)
        out: list[Output] = []
        for shown, separated in self._context.feed(event, matched):
            seam.remember(shown)
            out.append(Show(shown, separated, recovered))
        return out

    def _show_all(self, events: list[LogEvent], *, recovered: bool) -> list[Output]:
        out: list[Output] = []
        for event in events:
            if not self._seam.seen(event):  # a window may hold the same line twice
                out.extend(self._admit(event, recovered=recovered))
        return out

    def _backfilled(self, event: Backfilled) -> list[Output]:
        gap = event.gap
        if event.error is not None:
            return [
                Backfill(gap, 0, False, event.source, event.error),
                Notice(NoticeKind.ERROR, f"could not backfill from {self.history}: {event.error}"),
            ]
        events = self._seam.prepare(event.messages, self._keep)
        complete = event.short is None  # a capped read is never called complete
        self._gaps[gap_key(gap)] = replace(gap, backfilled=len(events), complete=complete)
        out: list[Output] = [Backfill(gap, len(events), complete, event.source, event.short)]
        if event.short is not None:
            out.append(Notice(NoticeKind.ERROR, f"the backfill from {self.history} is short: {event.short}"))
        out.extend(self._show_all(events, recovered=True))
        return out


def _within(events: list[LogEvent], start_ns: int, end_ns: int) -> list[LogEvent]:
    """The events stamped in [start, end) (and those without a time: they cannot be placed)."""
    return [e for e in events if (ns := e.ns()) is None or start_ns <= ns < end_ns]
