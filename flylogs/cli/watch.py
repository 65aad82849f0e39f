"""`flylogs watch` and `flylogs check`: is every instance still logging? Live, or once for cron."""

from __future__ import annotations

import os
import re
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

WHERE = SELECTION[:4]  # APP, -a, --region, --instance: what to watch (no filters: every line counts)
ALERTS = "Alerts"
REACH = ("servers", "transport", "org", "token", "wait", "stall_timeout", "api_url")


def _param(name: str, kind: Any, *decls: str, default: Any = None, **kw: Any) -> Param:
    return Param(name, Annotated[kind, typer.Option(*decls, **kw)], default)


HEARTBEAT = _param(
    "heartbeat", str | None, "--heartbeat", metavar="REGEX", rich_help_panel=ALERTS,
    help="Each instance must print a line matching this at least once per --every (e.g. "
    "'HEARTBEAT', for lines like `HEARTBEAT $FLY_MACHINE_ID $FLY_REGION`).",
)  # fmt: skip
MACHINES = _param(
    "machines", bool, "--machines/--no-machines", default=True, rich_help_panel=ALERTS,
    help="Ask Fly's Machines API which Machines are started (a stopped one is not silent).",
)  # fmt: skip
WATCH_PARAMS = (
    *WHERE,
    ALL_APPS,
    FLY_TOML,
    _param(
        "silent_after", str, "--silent-after", default="5m", metavar="DURATION", rich_help_panel=ALERTS,
        help="An instance that logged before (or whose Machine is started) is silent after this long "
        "without a line, while the stream is up.",
    ),
    HEARTBEAT,
    _param(
        "every", str, "--every", default="30m", metavar="DURATION", rich_help_panel=ALERTS,
        help="The --heartbeat period; a beat is missed after it plus a tenth.",
    ),
    _param(
        "errors_over", int | None, "--errors-over", metavar="N", min=0, rich_help_panel=ALERTS,
        help="Alert when an instance logs more than N errors in a minute.",
    ),
    _param(
        "on_alert", str | None, "--on-alert", metavar="CMD", rich_help_panel=ALERTS,
        help="Run CMD through the shell per alert: the alert's JSON on stdin, FLYLOGS_ALERT_KIND, _APP, "
        "_REGION, _INSTANCE, _SINCE, _AT, _CLOSES and _TEXT in its environment; one at a time, 10 s each.",
    ),
    _param(
        "webhook", str | None, "--webhook", metavar="URL", rich_help_panel=ALERTS,
        help="POST each alert's JSON here (its `text` shows in Slack-style incoming webhooks); retried "
        "with backoff.",
    ),
    MACHINES,
    *settings_params("output", "color"),
    JSON,
    *settings_params(*REACH),
    CONFIG,
)  # fmt: skip


def duration_s(text: str, flag: str) -> float:
    from flylogs.timestamps import parse_duration

    ns = parse_duration(text)
    if not ns:
        raise UsageError(f"{flag} {text!r} is not a duration", hint="e.g. 90s, 5m, 1h30m")
    return ns / 1e9


def heartbeat_pattern(text: str | None) -> re.Pattern[str] | None:
    from flylogs.filters import compile_patterns

    return compile_patterns([text], False, "--heartbeat")[0] if text else None


def machine_states(apps: tuple[str, ...], settings: Any, wanted: bool, tokens: Any = None) -> Any:
    """The Machines API's poller: apps named, a token, and Fly's API (its own base, or Fly's stream)."""
    from flylogs.settings.origin import Source

    base = os.environ.get("FLY_FLAPS_BASE_URL")
    fly = settings.origins["servers"].source is Source.DEFAULT
    if not (wanted and apps and settings.token and (base or fly)):
        return None
    from flylogs.source.machines import DEFAULT_MACHINES_URL, MachineStates

    return MachineStates(apps, settings.token, base or DEFAULT_MACHINES_URL, tokens=tokens)


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
        silent_after = duration_s(options.get("silent_after"), "--silent-after")
        every = duration_s(options.get("every"), "--every")
        beat = heartbeat_pattern(options.get("heartbeat"))
        run(boundary, options, silent_after=silent_after, every=every, heartbeat=beat)


CHECK_PARAMS = (
    *WHERE,
    FLY_TOML,
    _param(
        "within", str, "--within", default="10m", metavar="DURATION",
        help="Every instance that should be logging must have logged (or beat) within this window.",
    ),
    HEARTBEAT,
    MACHINES,
    _param(
        "listen", bool, "--listen", default=False,
        help="Listen to the stream for the window (and wait that long) even when history could be read.",
    ),
    _param("as_json", bool, "--json", "-j", default=False, help="The verdicts as one JSON document."),
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
    """
    from flylogs.cli.watching import check_run

    with Boundary() as boundary:
        within = duration_s(options.get("within"), "--within")
        check_run(boundary, options, within=within, heartbeat=heartbeat_pattern(options.get("heartbeat")))
