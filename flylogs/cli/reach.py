"""From a command's options to a plan that reaches the stream: the apps, the org, the transport
(NATS, flyctl's agent, or polling Fly's logs API), the history source, and the hand-over. Shared by
`tail`, `watch` and `check`, so each reaches the stream the same way.

Must not: run a session (the commands do, through the boundary).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from flylogs.cli.boundary import Boundary
from flylogs.cli.values import TailOptions
from flylogs.session.plan import TailPlan
from flylogs.settings.resolve import Settings


@dataclass
class Reach:
    plan: TailPlan
    settings: Settings
    apps: tuple[str, ...]
    way: str  # for a person: "NATS", "flyctl's agent", "Fly's logs API"
    note: str | None = None  # where the app came from, when not named
    before: Callable[[Callable[[str], None]], Coroutine[Any, Any, object]] | None = None
    beside: Callable[[Any], Coroutine[Any, Any, object]] | None = None


def reach(
    boundary: Boundary,
    options: TailOptions,
    *,
    history: bool = True,
    bridge: bool = True,
    say_way: bool = True,
) -> Reach:
    """The plan for `options`; `history` False: no history source (nothing to read back or fill);
    `say_way` False: polling is not announced (a check reads history and may never poll)."""
    from flylogs.cli import transport
    from flylogs.cli.plan import followed_apps, tail_plan
    from flylogs.settings.choices import Transport
    from flylogs.source.flyapi import ApiSpec
    from flylogs.source.nats import ConnectOptions

    settings = boundary.settings(options.flags)
    tokens = boundary.tokens
    apps, note = followed_apps(options.selection, Path.cwd(), os.environ.get("FLY_APP"))
    settings, network = transport.org_from_apps(apps, settings, os.environ, boundary.say)
    stream = settings.stream if history else None
    api = None
    if history and settings.backfill and not stream and settings.token and apps:
        api = ApiSpec(apps, settings.token, settings.api_url, tokens=tokens)
    route, poll = None, None
    way = transport.choose(settings, os.environ, Path.home(), apps)
    if way is not Transport.API:  # the NATS user: `personal` is no user, its raw slug is
        settings = transport.nats_user(settings, os.environ, boundary.say)
    connect = ConnectOptions(
        settings.servers,
        settings.org,
        settings.token,
        settings.wait,
        stall_timeout=settings.stall_timeout,
        tokens=tokens,
    )
    label = "NATS"
    selection = options.selection
    if way is Transport.AGENT:
        route = transport.through_agent(settings, os.environ, Path.home(), network, tokens)
        connect, label = route.connect, "flyctl's agent"
    elif way is Transport.API:
        poll = transport.polling(settings, apps, selection.regions, selection.instances, tokens)
        label = "Fly's logs API"
        if say_way:
            boundary.say(f"flylogs: via Fly's logs API, polling (org {settings.org}); slower than NATS")
    plan = tail_plan(
        options, settings, connect, apps, stream=stream, api=api, now_ns=time.time_ns(), poll=poll
    )
    if bridge and transport.bridges(settings, way, apps, plan):
        bridge_spec = transport.polling(settings, apps, selection.regions, selection.instances, tokens)
        plan = replace(plan, bridge=bridge_spec)
    return Reach(
        plan, settings, apps, label, note,
        before=route.start if route else None, beside=route.keep if route else None,
    )  # fmt: skip
