"""Choosing and building the sink for an output mode."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, tzinfo

from flylogs.render.console import Environment, Styler
from flylogs.render.jsonl import JsonSink, RawSink
from flylogs.render.notices import NoticeWriter
from flylogs.render.output import Writable
from flylogs.render.plain import PlainSink
from flylogs.render.table import TableSink
from flylogs.render.template import Template
from flylogs.settings.choices import ColorBy, ColorWhen, OutputMode, TimeMode

Sink = TableSink | PlainSink | JsonSink | RawSink


def effective_mode(mode: OutputMode, env: Environment) -> OutputMode:
    """`auto` is a table on a terminal and plain text otherwise."""
    if mode is OutputMode.AUTO:
        return OutputMode.TABLE if env.stdout_isatty else OutputMode.PLAIN
    return mode


def build_sink(
    mode: OutputMode,
    env: Environment,
    color: ColorWhen,
    *,
    apps: Sequence[str],
    highlight: Sequence[re.Pattern[str]] = (),
    tz: tzinfo | None = None,
    out: Writable | None = None,
    time_mode: TimeMode | None = None,
    color_by: ColorBy = ColorBy.INSTANCE,
    template: Template | None = None,
) -> Sink:
    """The sink for `mode`, writing to `out` (default: the environment's stdout)."""
    target = out if out is not None else env.stdout
    mode = effective_mode(mode, env)
    if template is not None:  # --format is plain output's own line
        mode = OutputMode.PLAIN
    if mode is OutputMode.JSON:
        return JsonSink(target)
    if mode is OutputMode.RAW:
        return RawSink(target, escape=env.stdout_isatty)
    styler = Styler(env.use_color(color), env.color_system())
    show_app = len(apps) != 1
    if mode is OutputMode.PLAIN:
        return PlainSink(
            target,
            styler,
            show_app=show_app,
            highlight=highlight,
            time_mode=time_mode or TimeMode.UTC,
            tz=tz,
            color_by=color_by,
            template=template,
        )
    app_width = None
    if show_app:
        app_width = max(8, min(20, max(len(a) for a in apps))) if apps else 16
    return TableSink(
        target,
        styler,
        width=env.terminal_width(),
        app_width=app_width,
        highlight=highlight,
        tz=UTC if time_mode is TimeMode.UTC else tz,
        time_mode=time_mode or TimeMode.LOCAL,
        color_by=color_by,
        live_status=env.can_redraw,  # a dumb terminal gets no ESC[2K: the lines only
    )


def build_notices(env: Environment, color: ColorWhen, sink: Sink, tz: tzinfo | None = None) -> NoticeWriter:
    """The notice writer for stderr; through the table when both share a terminal (see notices).
    `tz` (--tz): gap windows said in that zone."""
    styler = Styler(env.use_color(color, stream_isatty=env.stderr_isatty), env.color_system())
    via = sink.note if isinstance(sink, TableSink) and sink.live and env.shared_terminal else None
    return NoticeWriter(env.stderr, styler, via, tz)
