"""`flylogs tail`: follow the stream with the resolved settings."""

from __future__ import annotations

import os
import time
from dataclasses import replace
from pathlib import Path

from flylogs.cli.app import app
from flylogs.cli.boundary import Boundary
from flylogs.cli.options import (
    ALL_APPS,
    CONFIG,
    CONNECTION_SETTINGS,
    FAIL_ON_GAP,
    FLY_TOML,
    JSON,
    NO_FOLLOW,
    OUTPUT_SETTINGS,
    SELECTION,
    TAIL_LAST,
    command,
    settings_params,
)
from flylogs.cli.values import TailOptions

PARAMS = (
    *SELECTION,
    ALL_APPS,
    FLY_TOML,
    *settings_params(*OUTPUT_SETTINGS),
    JSON,
    FAIL_ON_GAP,
    *settings_params(*CONNECTION_SETTINGS),
    CONFIG,
    NO_FOLLOW,
    TAIL_LAST,
)


@command(app, "tail", PARAMS)
def tail(options: TailOptions) -> None:
    """Follow logs live: reconnect by itself, forever, and report every gap.

    APP: the apps to follow (or -a APP). None named: FLY_APP, else the app in the fly.toml
    (./fly.toml, or -c FILE), else every app in the org; --all always follows every app.

    \b
    Examples:
      flylogs tail myapp
      flylogs tail --region iad --grep ERROR
      flylogs tail myapp --json | jq -r 'select(.type=="log") | .message'
      flylogs tail -a api -a worker --level warn --count 100 --output plain
    """
    from flylogs.cli import transport
    from flylogs.cli.follow import follow
    from flylogs.cli.plan import followed_apps, tail_plan
    from flylogs.settings.choices import Transport
    from flylogs.source.flyapi import ApiSpec
    from flylogs.source.nats import ConnectOptions

    with Boundary() as boundary:
        settings = boundary.settings(options.flags)
        apps, note = followed_apps(options.selection, Path.cwd(), os.environ.get("FLY_APP"))
        settings, network = transport.org_from_apps(apps, settings, os.environ, boundary.say)
        stream = settings.stream
        api = None
        if settings.backfill and not stream and settings.token and apps:
            api = ApiSpec(apps, settings.token, settings.api_url)
        connect = ConnectOptions(
            settings.servers,
            settings.org,
            settings.token,
            settings.wait,
            stall_timeout=settings.stall_timeout,
        )
        route, poll = None, None
        way = transport.choose(settings, os.environ, Path.home(), apps)
        if way is Transport.AGENT:
            route = transport.through_agent(settings, os.environ, Path.home(), network)
            connect = route.connect
        elif way is Transport.API:
            selection = options.selection
            poll = transport.polling(settings, apps, selection.regions, selection.instances)
            boundary.say(f"flylogs: via Fly's logs API, polling (org {settings.org}); slower than NATS")
        plan = tail_plan(
            options, settings, connect, apps, stream=stream, api=api, now_ns=time.time_ns(), poll=poll
        )
        if transport.bridges(settings, way, apps, plan):
            selection = options.selection
            plan = replace(
                plan, bridge=transport.polling(settings, apps, selection.regions, selection.instances)
            )
        follow(
            boundary, plan, settings, options.filters, apps=apps, notes=[note] if note else [],
            fail_on_gap=options.fail_on_gap,
            before=route.start if route else None, beside=route.keep if route else None,
        )  # fmt: skip
