"""Running one tail session to its end, for `tail` and `demo`: sink, notices, the session, the summary.

Must not: resolve settings or build the plan (the commands do), or start a loop but through the
boundary's `run`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import replace
from typing import Any, NoReturn, TypeVar

import typer

from flylogs.cli.boundary import Boundary, silence_stdout
from flylogs.cli.summary import closing
from flylogs.cli.values import Filters
from flylogs.errors import OutputError, UsageError
from flylogs.session.plan import Outcome, StopReason, TailPlan
from flylogs.settings.resolve import Settings

Companion = Callable[[asyncio.Event], Coroutine[Any, Any, object]]
OUTPUT_HINT = "free some space or point the output elsewhere; the lines since then were not written"
T = TypeVar("T")


async def accompanied(beside: Companion | None, work: Coroutine[Any, Any, T]) -> T:
    """`work`, with `beside(done)` running alongside until it ends (the agent's relay, the demo's
    fleet); `done` is set when `work` ends, however it ends, and the companion is awaited."""
    done = asyncio.Event()
    companion = asyncio.create_task(beside(done)) if beside is not None else None
    try:
        return await work
    finally:
        done.set()
        if companion is not None:
            await companion


def time_zone(name: str) -> Any:
    """`--tz`: an IANA zone, `local` or `UTC`; a usage error for anything else."""
    from datetime import UTC, datetime
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    name = name.strip()
    if name.lower() == "utc":
        return UTC
    if name.lower() == "local":
        return datetime.now().astimezone().tzinfo
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        hint = "an IANA name (Europe/Paris, America/New_York), local or UTC"
        raise UsageError(f"--tz {name!r} is not a time zone", hint=hint) from None


def line_format(settings: Settings) -> tuple[Any, Any, Any]:
    """`--format` (checked), and `--tz`'s zone with the time mode it implies (a zone given: times in
    it, unless relative or none)."""
    from flylogs.render.template import compile_template
    from flylogs.settings.choices import OutputMode, TimeMode

    template = compile_template(settings.format) if settings.format else None
    if template is not None and settings.output in (OutputMode.JSON, OutputMode.RAW):
        raise UsageError("--format shapes plain output", hint="leave out --output json/raw (or --json)")
    if not settings.tz:
        return template, None, settings.time
    zone = time_zone(settings.tz)
    keep = settings.time in (TimeMode.RELATIVE, TimeMode.NONE)
    return template, zone, settings.time if keep else TimeMode.LOCAL


def multiline(settings: Settings, mode: Any, template: object) -> bool:
    """`--multiline`: as asked, else on for table and plain (where it changes only the layout), off
    for json (the NDJSON contract changes only when asked), never for raw (bytes as they came)."""
    from flylogs.settings.choices import OnOff, OutputMode

    if mode is OutputMode.RAW and template is None:
        return False
    if settings.multiline is not None:
        return settings.multiline is OnOff.ON
    return template is not None or mode in (OutputMode.TABLE, OutputMode.PLAIN)


def follow(
    boundary: Boundary,
    plan: TailPlan,
    settings: Settings,
    filters: Filters,
    *,
    apps: Sequence[str],
    notes: Sequence[str] = (),
    fail_on_gap: bool = False,
    before: Callable[[Callable[[str], None]], Coroutine[Any, Any, object]] | None = None,
    beside: Companion | None = None,
) -> NoReturn:
    """Follow `plan` until it ends, say how it went, and exit with its code. `before(say)`: a
    coroutine the session awaits first (on the same loop; what it says goes through the notices);
    `beside`: a task that runs alongside until the session ends."""
    from flylogs.filters import compile_patterns
    from flylogs.render.console import Environment
    from flylogs.render.output import open_output
    from flylogs.render.sinks import build_notices, build_sink, effective_mode
    from flylogs.session.run import run_tail

    env = Environment.from_process()
    highlight = compile_patterns(
        [*filters.grep, *filters.highlight], filters.ignore_case, "--grep/--highlight"
    )
    template, tz, time_mode = line_format(settings)
    plan = replace(plan, multiline=multiline(settings, effective_mode(settings.output, env), template))
    out = open_output(env.stdout)
    sink = build_sink(
        settings.output,
        env,
        settings.color,
        apps=apps,
        highlight=highlight,
        out=out,
        time_mode=time_mode,
        color_by=settings.color_by,
        tz=tz,
        template=template,
    )
    notices = build_notices(env, settings.color, sink, tz)
    for note in notes:
        notices.line(f"flylogs: {note}")

    async def session(stop: asyncio.Future[StopReason]) -> Outcome:
        return await accompanied(beside, run_tail(plan, sink, notices, stop, backlog=out, prepare=before))

    outcome: Outcome | None = None
    try:
        resize = getattr(sink, "resize", None)
        on_resize = (lambda: resize(env.current_width())) if resize and env.stdout_isatty else None
        outcome = boundary.run(session, on_resize)
    finally:
        # Rendered lines are delivered in full when the session ended by itself (--count); after a
        # signal or an error, a reader that is not reading gets two seconds, not forever.
        ended_by_itself = outcome is not None and outcome.reason is StopReason.COUNT
        out.close(timeout=None if ended_by_itself else 2.0)
    if out.failed:  # not a reader that went away: stdout itself failed (a full disk, an I/O error)
        raise OutputError(out.failed, hint=OUTPUT_HINT)
    _, unwritten = out.unwritten()
    text, code = closing(outcome, fail_on_gap, unwritten if not out.broken else 0)
    if outcome.reason is StopReason.PIPE_CLOSED:
        silence_stdout()
    if text:
        notices.final(text)
    raise typer.Exit(code)
