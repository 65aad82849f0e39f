"""`flylogs watch` and `flylogs check`: is every instance still logging? Live, or once for cron."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from datetime import datetime, tzinfo
from typing import Annotated, Any

import typer

from flylogs.cli.app import app
from flylogs.cli.boundary import Boundary
from flylogs.cli.options import (
    ALL_APPS,
    CONFIG,
    FLY_TOML,
    JSON,
    SELECTION,
    Param,
    command,
    settings_params,
)
from flylogs.cli.values import TailOptions
from flylogs.errors import UsageError

WHERE = SELECTION[:5]  # APP, -a, --region, --instance, --process-group: what to watch (every line counts)
ALERTS = "Alerts"
REACH = ("servers", "transport", "org", "token", "wait", "stall_timeout", "api_url")


def _param(name: str, kind: Any, *decls: str, default: Any = None, **kw: Any) -> Param:
    return Param(name, Annotated[kind, typer.Option(*decls, **kw)], default)


WATCH_PARAMS = (
    *WHERE,
    ALL_APPS,
    FLY_TOML,
    *settings_params("silent_after", "heartbeat", "every", "errors_over", "on_alert", "webhook", "machines"),
    *settings_params("group_wait", "flap_window", "repeat_every", "quiet_hours", "tz", "state"),
    *settings_params("ping_url", "ping_every", "late_after"),
    *settings_params("output", "color"),
    JSON,
    *settings_params(*REACH),
    CONFIG,
)


def duration_s(text: str, flag: str, *, zero: bool = False) -> float:
    """A duration flag's seconds; `zero`: 0 (or 0s) is allowed (off, at once)."""
    from flylogs.timestamps import parse_duration

    if zero and text.strip() in ("0", "0s"):
        return 0.0
    ns = parse_duration(text)
    if not ns:
        raise UsageError(f"{flag} {text!r} is not a duration", hint="e.g. 90s, 5m, 1h30m")
    return ns / 1e9


def quiet_hours(text: str | None, zone: tzinfo | None = None) -> Callable[[int], bool]:
    """`--quiet-hours HH:MM-HH:MM` (local time, or `zone`'s: `--tz`; across midnight when the end
    comes first) as a test of a moment (epoch ns); none given: never quiet."""
    if not text:
        return lambda _now: False
    match = re.fullmatch(r"\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*", text)
    hours = [int(g) for g in match.groups()] if match else []
    if not match or hours[0] > 23 or hours[2] > 23 or hours[1] > 59 or hours[3] > 59:
        raise UsageError(f"--quiet-hours {text!r} is not HH:MM-HH:MM", hint="e.g. 22:00-07:00 (local time)")
    start, end = hours[0] * 60 + hours[1], hours[2] * 60 + hours[3]

    def quiet(now_ns: int) -> bool:
        if zone is not None:
            moment = datetime.fromtimestamp(now_ns / 1e9, zone)
            minute = moment.hour * 60 + moment.minute
        else:
            local = time.localtime(now_ns / 1e9)
            minute = local.tm_hour * 60 + local.tm_min
        return start <= minute < end if start <= end else minute >= start or minute < end

    return quiet


def heartbeat_pattern(text: str | None) -> re.Pattern[str] | None:
    from flylogs.filters import compile_patterns

    return compile_patterns([text], False, "--heartbeat")[0] if text else None


@command(app, "watch", WATCH_PARAMS)
def watch(options: TailOptions) -> None:
    """Watch every instance: be told the moment one stops logging (or misses its heartbeat).

    APP: the apps to watch (or -a APP); none named: FLY_APP, else the fly.toml's app, else every
    app in the org. One row per instance, trouble on top; alerts (silent, heartbeat_missed,
    error_burst, disconnected, gap, and resumed when each ends) go to the view, stderr, NDJSON
    with --json, --on-alert and --webhook. Silence while the stream itself is down is not blamed
    on anyone: the gap says so.

    \b
    Examples:
      flylogs watch myapp
      flylogs watch myapp --silent-after 2m --on-alert 'cat >> alerts.ndjson'
      flylogs watch myapp --heartbeat HEARTBEAT --every 30m --webhook https://hooks.slack.com/services/...
      flylogs watch myapp --json | jq -c 'select(.type=="alert")'
    """
    from flylogs.cli.watching import run

    with Boundary() as boundary:
        run(boundary, options)


CHECK_PARAMS = (
    *WHERE,
    FLY_TOML,
    _param(
        "within", str, "--within", default="10m", metavar="DURATION",
        help="Every instance that should be logging must have logged (or beat) within this window.",
    ),
    *settings_params("heartbeat", "machines"),
    _param(
        "beats", bool, "--beats", default=False,
        help="Also count the canary's beats (`flylogs beat`) per instance: exit 7 when any was lost.",
    ),
    _param(
        "listen", bool, "--listen", default=False,
        help="Listen to the stream for the window (and wait that long) even when history could be read.",
    ),
    JSON,
    *settings_params(*REACH, "stream"),
    CONFIG,
)  # fmt: skip


@command(app, "check", CHECK_PARAMS)
def check(options: TailOptions) -> None:
    """Exit 0 if every instance that should be logging logged within the window, else 7.

    APP: the apps to check (or -a APP; none named: FLY_APP, else the fly.toml's app). Should be
    logging: the started Machines (Fly's Machines API), else every instance seen in the history
    read (twice the window). The window comes from history (Fly's logs API, or --stream); with
    none, check listens for the window. For cron, CI and scheduled Machines.

    \b
    Examples:
      flylogs check myapp --within 10m || page-someone
      flylogs check myapp --within 1h --heartbeat HEARTBEAT
      flylogs check myapp --json | jq '.silent'
      flylogs check myapp --beats --within 1h   # the canary: were beats lost on the way?
    """
    from flylogs.cli.watching import check_run

    with Boundary() as boundary:
        within = duration_s(options.get("within"), "--within")
        check_run(boundary, options, within=within)
