"""Multi-line events: stack traces joined into one event per instance, within a window, never holding
a line that cannot start one and never joining two instances' lines."""

from __future__ import annotations

import json

from flylogs.core.multiline import Joiner
from flylogs.decode import decode
from flylogs.model import LogEvent

MS = 1_000_000
T0 = 1_800_000_000 * 1_000_000_000

PYTHON = [
    "Traceback (most recent call last):",
    '  File "/app/main.py", line 12, in <module>',
    "    main()",
    '  File "/app/main.py", line 8, in main',
    '    raise ValueError("bad input")',
    "ValueError: bad input",
]
JAVA = [
    'Exception in thread "main" java.lang.IllegalStateException: no config',
    "\tat com.acme.App.load(App.java:42)",
    "\tat com.acme.App.main(App.java:10)",
    "Caused by: java.io.FileNotFoundException: /etc/app.conf",
    "\tat java.base/java.io.FileInputStream.open0(Native Method)",
    "\t... 2 more",
]
GO = [
    "panic: runtime error: index out of range [5] with length 3",
    "",
    "goroutine 1 [running]:",
    "main.main()",
    "\t/app/main.go:8 +0x1d",
]
NODE = [
    "TypeError: Cannot read properties of undefined (reading 'id')",
    "    at handler (/app/server.js:14:22)",
    "    at Layer.handle (/app/node_modules/express/lib/router/layer.js:95:5)",
]


def line(text: str, instance: str = "a1") -> LogEvent:
    app = {"instance": instance, "name": "shop", "process_group": "app"}
    payload = {"fly": {"app": app, "region": "iad"}, "log": {"level": "info"}, "message": text,
               "timestamp": "2026-11-20T09:14:03.120456789Z"}  # fmt: skip
    return decode(f"logs.shop.iad.{instance}", json.dumps(payload).encode())


def test_each_languages_stack_trace_becomes_one_event() -> None:
    for trace in (PYTHON, JAVA, GO, NODE):
        joiner = Joiner()
        ready: list[LogEvent] = []
        for n, text in enumerate(trace):
            ready += joiner.push(line(text), T0 + n * MS)
        assert ready == []  # all held: each line continues the first
        ready += joiner.push(line("GET /health 200"), T0 + 10 * MS)  # the next line of that instance
        assert [(e.message, e.lines) for e in ready] == [
            ("\n".join(trace), len(trace)),
            ("GET /health 200", 1),
        ]


def test_a_line_that_cannot_start_an_event_is_never_held_and_instances_are_never_mixed() -> None:
    joiner = Joiner()
    assert [e.message for e in joiner.push(line("GET / 200"), T0)] == ["GET / 200"]
    assert joiner.push(line(PYTHON[0], "a1"), T0) == []
    # Another instance's lines pass through at once, its indented line included.
    assert [e.message for e in joiner.push(line("    indented", "b2"), T0 + MS)] == ["    indented"]
    assert joiner.push(line(PYTHON[1], "a1"), T0 + 2 * MS) == []
    assert joiner.next_due == T0 + 200 * MS


def test_a_held_event_goes_when_its_window_ends_and_a_late_continuation_is_its_own_line() -> None:
    joiner = Joiner()
    joiner.push(line(JAVA[0]), T0)
    joiner.push(line(JAVA[1]), T0 + 50 * MS)
    assert joiner.due(T0 + 199 * MS) == []
    [event] = joiner.due(T0 + 200 * MS)
    assert event.lines == 2 and joiner.next_due is None
    assert [e.lines for e in joiner.push(line(JAVA[2]), T0 + 250 * MS)] == [1]  # too late: alone


def test_a_lone_starter_is_let_go_unchanged() -> None:
    joiner = Joiner()
    first = line("ValueError: bad input")
    joiner.push(first, T0)
    assert joiner.flush() == [first]


def test_stack_traces_interleaved_with_another_instance_are_each_one_ndjson_record(
    nats_server: object,
) -> None:
    """Through a real nats-server and `flylogs tail --json --multiline on`: a Python traceback, a
    Java stack trace and a Go panic from three instances, interleaved with a fourth's lines."""
    import subprocess
    import sys

    from flylogs.demo.server import NatsServer
    from tests.helpers import log_records, msg, publish_when_subscribed

    assert isinstance(nats_server, NatsServer)
    traces = {"py1": PYTHON, "jv1": JAVA, "go1": GO}
    messages = []
    for n in range(max(map(len, traces.values()))):
        for instance, trace in traces.items():
            if n < len(trace):
                messages.append(msg("shop", "iad", instance, trace[n]))
        messages.append(msg("shop", "iad", "web1", f"GET /{n} 200"))
    proc = subprocess.Popen(
        [sys.executable, "-m", "flylogs", "tail", "shop", "--server", nats_server.url, "--json",
         "--multiline", "on", "--count", str(3 + 6)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    publish_when_subscribed(nats_server, messages).join(10)
    out, err = proc.communicate(timeout=20)
    assert proc.returncode == 0, err
    records = log_records(out)
    joined = {r["instance"]: r for r in records if r["instance"] != "web1"}
    for instance, trace in traces.items():
        assert joined[instance]["message"] == "\n".join(trace)
        assert joined[instance]["lines"] == len(trace)
    assert [r["message"] for r in records if r["instance"] == "web1"] == [f"GET /{n} 200" for n in range(6)]
    assert all("lines" not in r for r in records if r["instance"] == "web1")


def test_plain_output_shows_a_joined_event_as_a_group_of_lines_with_one_prefix() -> None:
    import io

    from flylogs.render.console import Styler
    from flylogs.render.plain import PlainSink

    joiner = Joiner()
    for n, text in enumerate(GO):
        joiner.push(line(text), T0 + n * MS)
    [event] = joiner.flush()
    out = io.BytesIO()
    PlainSink(out, Styler(False)).event(event)
    lines = out.getvalue().decode().splitlines()
    from flylogs.render.sanitize import escape_controls

    prefix = "2026-11-20T09:14:03.120Z [a1] iad [info] "
    assert lines == [prefix + escape_controls(text) for text in GO]  # (the tab escaped, as always)


def test_the_joining_fast_path_shows_what_the_general_path_shows() -> None:
    """`TailCore.line` with a joiner (the hot path) against `feed(Line(…))` (the general one)."""
    from flylogs.core.events import Line, Show, Started
    from flylogs.core.tail import TailCore
    from flylogs.filters import build_filter

    stream = [("a1", "GET / 200"), *[("py1", t) for t in PYTHON[:3]], ("a1", "Error budget ok"),
              *[("py1", t) for t in PYTHON[3:]], ("jv1", JAVA[0]), ("a1", "done"),
              ("jv1", JAVA[1])]  # fmt: skip
    payloads = [(f"logs.shop.iad.{i}", line(t, i).raw) for i, t in stream]

    def shown(fast: bool) -> list[tuple[str | None, str]]:
        core = TailCore(build_filter(grep=["Error|GET|done|Exception"]), start_ns=T0, joiner=Joiner())
        core.feed(Started(), T0)
        out: list[object] = []
        for n, (subject, data) in enumerate(payloads):
            now = T0 + n * MS
            if fast:
                event = core.line(subject, data, now)
                out += [Show(event)] if event is not None else core.outputs
                core.outputs = []
            else:
                out += core.feed(Line(subject, data, now), now)
        out += core.joined(T0 + 10**9, all_held=True)
        return [(o.event.instance, o.event.message) for o in out if isinstance(o, Show)]

    assert shown(fast=True) == shown(fast=False)
    assert ("py1", "\n".join(PYTHON)) in shown(fast=True)  # the whole trace matched --grep Error


def test_context_lines_count_events_and_grep_matches_inside_a_joined_trace() -> None:
    """-A 1 after a --grep match inside a trace's third line: the whole trace, then one event."""
    from flylogs.core.events import Line, Show, Started
    from flylogs.core.tail import TailCore
    from flylogs.filters import build_filter

    core = TailCore(build_filter(grep=["line 12"]), start_ns=T0, context=(0, 1), joiner=Joiner())
    core.feed(Started(), T0)
    texts = [*PYTHON, "GET /a 200", "GET /b 200"]
    out = []
    for n, text in enumerate(texts):
        subject, data = "logs.shop.iad.a1", line(text).raw
        out += core.feed(Line(subject, data, T0 + n * MS), T0 + n * MS)
    out += core.joined(T0 + 10**9, all_held=True)
    shown = [o.event.message for o in out if isinstance(o, Show)]
    assert shown == ["\n".join(PYTHON), "GET /a 200"]  # the trace (matched inside), then 1 event after
