"""Running `watch` and `check` to their end: views, hooks, the session, the verdict, the exit code.

Must not: declare options (cli/watch.py does), or start a loop but through the boundary's `run`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import time
from pathlib import Path
from typing import Any, BinaryIO, NoReturn

import typer

from flylogs.cli.boundary import Boundary, silence_stdout
from flylogs.cli.follow import OUTPUT_HINT, accompanied
from flylogs.cli.reach import Reach
from flylogs.cli.summary import elapsed, stop_code
from flylogs.cli.values import TailOptions
from flylogs.errors import ExitCode, OutputError, UsageError
from flylogs.session.plan import StopReason


def run(
    boundary: Boundary,
    options: TailOptions,
    *,
    way: Reach | None = None,
    silent_after: float | None = None,
    every: float | None = None,
    heartbeat: re.Pattern[str] | None = None,
    keep_state: bool = True,
) -> NoReturn:
    """Watch until interrupted. `way`: the stream already reached (the demo's), else from `options`;
    the thresholds are the settings' (flag, FLYLOGS_*, config file) unless given (the demo's)."""
    from flylogs.cli.reach import reach
    from flylogs.cli.watch import duration_s, heartbeat_pattern
    from flylogs.core.canary import Canary
    from flylogs.core.watch import Watcher
    from flylogs.hooks.command import AlertCommand
    from flylogs.hooks.webhook import Webhook
    from flylogs.render.console import Environment, Styler
    from flylogs.render.notices import NoticeWriter
    from flylogs.render.output import open_output
    from flylogs.render.sinks import effective_mode
    from flylogs.render.watch import AlertLines, StderrAlerts, WatchJson, WatchScreen
    from flylogs.session.watch import AlertHook, WatchSpec, WatchView, machines_every, run_watch
    from flylogs.session.way import machine_states
    from flylogs.settings.choices import OutputMode

    way = way or reach(boundary, options, history=False)
    settings = way.settings
    silent_after = silent_after or duration_s(settings.silent_after, "--silent-after")
    every = every or duration_s(settings.every, "--every")
    heartbeat = heartbeat or heartbeat_pattern(settings.heartbeat)
    env = Environment.from_process()
    mode = effective_mode(settings.output, env)
    if mode is OutputMode.RAW:
        raise UsageError(
            "watch shows instances, not lines: --output raw has nothing to show",
            hint="use --output table (a terminal), plain (one line per alert) or json",
        )
    color = env.use_color(settings.color, stream_isatty=env.stderr_isatty)
    view: WatchView
    alerts_on_stderr = False
    # The one output path: a stdout that blocks (a paused pager, a stuck collector) waits in the
    # writer thread, never in the loop that raises alerts, runs hooks and answers signals.
    out = open_output(env.stdout)
    if mode is OutputMode.TABLE and env.can_redraw:  # (TERM=dumb: one line per alert, as they happen)
        screen = WatchScreen(
            out, env.stderr, color=env.use_color(settings.color), color_system=env.color_system(),
            width=env.current_width,
        )  # fmt: skip
        view = screen
        notices = NoticeWriter(env.stderr, Styler(False), via=screen.note if env.shared_terminal else None)
    else:
        view = WatchJson(out) if mode is OutputMode.JSON else AlertLines(out)
        notices = NoticeWriter(env.stderr, Styler(color, env.color_system()))
        alerts_on_stderr = mode is OutputMode.JSON
    if way.note:
        notices.line(f"flylogs: {way.note}")
    watcher = Watcher(
        start_ns=time.time_ns(),
        silent_after_s=silent_after,
        heartbeat=heartbeat,
        every_s=every,
        errors_over=settings.errors_over,
        up=False,
        machines_every_s=machines_every(silent_after) if way.route else None,
    )
    spec = WatchSpec(way.way, heartbeat=heartbeat is not None, machines_every=machines_every(silent_after))

    def say(text: str) -> None:
        notices.line(f"flylogs: {boundary.redact(text)}")

    telling = telling_for(way.apps, settings, options, watcher, silent_after, say)
    late = duration_s(settings.late_after, "--late-after")
    if not keep_state:  # (the demo: a new synthetic fleet each run, nothing to remember)
        telling.store = None

    hooks: list[AlertHook] = []

    async def session(stop: asyncio.Future[StopReason]) -> Any:
        if alerts_on_stderr:
            hooks.append(StderrAlerts(notices.line))
        command, url = settings.on_alert, settings.webhook
        if command:
            hooks.append(AlertCommand(command, say, env=os.environ))
        if url:
            boundary.hide(url)
            hooks.append(Webhook(url, say))
        machines = machine_states(way.route) if way.route else None
        if settings.ping_url:
            from flylogs.hooks.ping import Pinger

            boundary.hide(settings.ping_url)
            telling.pings = Pinger(settings.ping_url, say)
        watching = run_watch(
            way.plan, watcher, view, hooks, notices, stop, spec, machines=machines, output=out,
            redact=boundary.redact, prepare=way.before, telling=telling,
            canary=Canary(settle_s=late, late_after_s=late),
        )  # fmt: skip
        return await accompanied(way.beside, watching)

    try:
        outcome = boundary.run(session)  # (the session's end tidies the view)
    finally:
        out.close(timeout=2.0)  # a reader that is not reading gets two seconds, not forever
    if out.failed:  # stdout itself failed (a full disk): said, exit 8; the hooks had every alert
        raise OutputError(out.failed, hint=OUTPUT_HINT)
    if out.broken:
        silence_stdout()
    for hook in hooks:
        if (counts := getattr(hook, "counts", None)) is not None:
            delivered, failed, dropped = counts
            name = getattr(hook, "name", "a hook")
            notices.final(f"flylogs: {name}: {delivered} delivered, {failed} failed, {dropped} dropped")
    notices.final(
        f"flylogs: {outcome.reason} after {elapsed(outcome.elapsed)}: watched "
        f"{len(watcher.instances)} instance(s), {outcome.stats.received:,} lines, "
        f"{len(outcome.gaps)} gap(s); {watcher.open_count()} alert(s) open at exit"
    )
    raise typer.Exit(stop_code(outcome.reason))


def telling_for(
    apps: tuple[str, ...], settings: Any, options: TailOptions, watcher: Any, silent_after: float, say: Any
) -> Any:
    """The notifier (group wait, flap window, repeat, quiet hours), the dead-man switch and the state
    file, from the settings."""
    from flylogs.cli.follow import time_zone
    from flylogs.cli.watch import duration_s, quiet_hours
    from flylogs.core.deadman import DeadMan
    from flylogs.core.notify import Notifier
    from flylogs.hooks.state import StateFile, default_path
    from flylogs.session.watch import Telling

    group_wait = (
        0.0 if settings.group_wait.strip() in ("0", "0s") else duration_s(settings.group_wait, "--group-wait")
    )
    notifier = Notifier(
        group_wait_s=group_wait,
        flap_window_s=duration_s(settings.flap_window, "--flap-window"),
        repeat_every_s=duration_s(settings.repeat_every, "--repeat-every") if settings.repeat_every else None,
        quiet=quiet_hours(settings.quiet_hours, time_zone(settings.tz) if settings.tz else None),
        members=watcher.members,
    )
    telling = Telling(notifier)
    if settings.ping_url:
        telling.deadman = DeadMan(duration_s(settings.ping_every, "--ping-every"), silent_after)
    if (settings.state or "").strip().lower() != "off":
        selection = options.selection
        path = settings.state or str(default_path(apps, selection.regions, selection.instances, os.environ))
        telling.store = StateFile(Path(path).expanduser(), say)
    return telling


def check_run(boundary: Boundary, options: TailOptions, *, within: float) -> NoReturn:
    from flylogs.cli.reach import reach
    from flylogs.cli.watch import heartbeat_pattern
    from flylogs.core.canary import over_window
    from flylogs.core.check import judge
    from flylogs.render.console import Environment, Styler
    from flylogs.render.notices import NoticeWriter
    from flylogs.session.check import machine_states as read_states
    from flylogs.session.check import read_window
    from flylogs.session.way import machine_states
    from flylogs.settings.choices import OutputMode

    way = reach(boundary, options, history=not options.get("listen"), bridge=False, say_way=False)
    if not way.apps:
        raise UsageError("check needs the apps to check", hint="name them: flylogs check APP...")
    heartbeat = heartbeat_pattern(way.settings.heartbeat)
    env = Environment.from_process(need_stdout=False)  # the verdict is the exit code
    color = env.use_color(way.settings.color, stream_isatty=env.stderr_isatty)
    notices = NoticeWriter(env.stderr, Styler(color, env.color_system()))
    now = time.time_ns()
    window_ns = int(within * 1e9)
    listen = way.plan.api is None and way.plan.history_stream is None
    start = now if listen else now - window_ns
    lookback = start - window_ns  # instances seen before the window are expected in it

    async def main(stop: asyncio.Future[StopReason]) -> Any:
        machines = machine_states(way.route) if way.route else None
        states = await read_states(machines, notices, way.plan.keep.groups)
        reading = read_window(way.plan, notices, stop, start_ns=lookback, listen_s=within, prepare=way.before)
        lines, source, reason, offset = await accompanied(way.beside, reading)
        return lines, source, reason, states, offset

    lines, source, reason, states, offset = boundary.run(main)
    if stop_code(reason) is not ExitCode.OK:
        notices.final("flylogs: check interrupted before its window was read: no verdict")
        raise typer.Exit(stop_code(reason))
    end = time.time_ns() + offset  # the lines' time (Fly's clock, when read from its logs API)
    report = judge(
        lines, apps=way.apps, start_ns=end - window_ns if not listen else start, end_ns=end,
        machines=states[0] if states else None, regions=states[1] if states else None,
        heartbeat=heartbeat,
    )  # fmt: skip
    canary = over_window(lines, end - window_ns, end, listened=listen) if options.get("beats") else None
    records = canary.records(end, end - window_ns) if canary is not None else []
    lost = any(r["lost"] for r in records)
    if way.settings.output is OutputMode.JSON:  # --json, as everywhere: --output json
        document = _document(report, source, within, states is not None)
        if canary is not None:
            document.update(ok=report.ok and not lost, beats=records)
        text = json.dumps(document) + "\n"
    else:
        text = "".join(f"{line}\n" for line in _lines(report, source, within, end))
        text += "".join(f"{line}\n" for line in _beat_lines(records, canary is not None))
    _write_report(env.stdout, text)
    raise typer.Exit(ExitCode.OK if report.ok and not lost else ExitCode.SILENT)


def _beat_lines(records: list[dict[str, Any]], asked: bool) -> list[str]:
    from flylogs.render.sanitize import escape_controls

    if not asked:
        return []
    if not records:
        return ["beats: none in the window (is `flylogs beat` running in the Machines?)"]
    lines = []
    for r in records:
        verdict = "lost" if r["lost"] else "ok"
        counts = ", ".join(f"{r[k]} {k}" for k in ("received", "lost", "duplicated", "reordered", "unknown"))
        where = f"{escape_controls(r['app']):<14}  {escape_controls(r['region'] or '-'):<6}"
        lines.append(f"beats {verdict:<4}  {where}  {escape_controls(r['instance']):<15}  {counts}")
    return lines


def _write_report(stdout: BinaryIO, text: str) -> None:
    """Through the one output path: a stdout nobody reads gets two seconds, and the verdict is the
    exit code whatever became of the report (check needs no stdout to say it: a closed one is the
    environment's stdout that keeps nothing)."""
    from flylogs.render.output import open_output

    out = open_output(stdout)
    with contextlib.suppress(BrokenPipeError):
        out.write(text.encode("utf-8", "replace"))
    out.close(timeout=2.0)
    if out.failed:  # the verdict is the exit code all the same
        typer.echo(f"flylogs: the report was not written: {out.failed}", err=True)
    elif out.broken:
        silence_stdout()


def _document(report: Any, source: str, within: float, machines: bool) -> dict[str, object]:
    from flylogs.timestamps import format_rfc3339

    def when(ns: int | None) -> str | None:
        return format_rfc3339(ns, 3) if ns is not None else None

    rows = [
        {"app": r.app, "region": r.region, "instance": r.instance, "verdict": r.verdict.value,
         "machine": r.machine, "last": when(r.last_ns), "last_heartbeat": when(r.last_beat_ns), "why": r.why}
        for r in report.rows
    ]  # fmt: skip
    return {
        "ok": report.ok,
        "within_s": within,
        "from": when(report.start_ns),
        "to": when(report.end_ns),
        "source": source,
        "machines_api": machines,
        "silent": [r for r in rows if r["verdict"] == "silent"],
        "instances": rows,
    }


def _lines(report: Any, source: str, within: float, now: int) -> list[str]:
    from flylogs.render.sanitize import escape_controls
    from flylogs.render.watch import age

    instances = [r for r in report.rows if r.instance is not None]
    silent = report.silent
    window = f"{within / 60:g}m" if within >= 60 else f"{within:g}s"
    verdict = "all logging" if report.ok else f"{len(silent)} silent"
    lines = [f"flylogs check: {verdict} within {window} ({len(instances)} instance(s); read from {source})"]
    for r in report.rows:
        cells = [
            f"{r.verdict.value:<8}",
            f"{escape_controls(r.app):<14}",
            f"{escape_controls(r.region or '-'):<6}",
            f"{escape_controls(r.instance or '(the app)'):<15}",
            f"last line {age(now, r.last_ns) if r.last_ns else 'never':<6}",
        ]
        lines.append("  ".join(cells) + (f"  {r.why}" if r.why else ""))
    return lines
