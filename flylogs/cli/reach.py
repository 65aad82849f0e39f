"""From a command's options to a plan that reaches the stream: the apps (named, `FLY_APP`, or the
fly.toml's), then the session's `Way` (`session/way.find_way`: the org, the transport, the history
source), the plan, and the hand-over. Shared by `tail`, `watch` and `check`, so each reaches the
stream the same way.

Must not: run a session (the commands do, through the boundary), or import an adapter.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flylogs.cli.boundary import Boundary
from flylogs.cli.values import TailOptions
from flylogs.session.plan import TailPlan
from flylogs.settings.resolve import Settings

if TYPE_CHECKING:
    from flylogs.session.way import Way


@dataclass
class Reach:
    plan: TailPlan
    settings: Settings
    apps: tuple[str, ...]
    way: str  # for a person: "NATS", "flyctl's agent", "Fly's logs API"
    note: str | None = None  # where the app came from, when not named
    before: Callable[[Callable[[str], None]], Coroutine[Any, Any, object]] | None = None
    beside: Callable[[Any], Coroutine[Any, Any, object]] | None = None
    route: Way | None = None  # None: a stream of the command's own (the demo's)


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
    from flylogs.cli.plan import followed_apps, tail_plan
    from flylogs.session.way import find_way

    settings = boundary.settings(options.flags)
    apps, note = followed_apps(options.selection, Path.cwd(), os.environ.get("FLY_APP"))
    selection = options.selection
    way = find_way(
        settings, apps, os.environ, Path.home(), boundary.tokens, boundary.say,
        history=history, regions=selection.regions, instances=selection.instances, say_way=say_way,
    )  # fmt: skip
    stream = way.settings.stream if history else None
    plan = tail_plan(
        options, way.settings, way.connect, apps, stream=stream, api=way.api, now_ns=time.time_ns(),
        poll=way.poll,
    )  # fmt: skip
    spec = way.bridge_for(plan, selection.regions, selection.instances) if bridge else None
    if spec is not None:
        plan = replace(plan, bridge=spec)
    return Reach(plan, way.settings, apps, way.label, note, before=way.before, beside=way.beside, route=way)
