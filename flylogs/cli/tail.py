"""`flylogs tail`: follow the stream with the resolved settings."""

from __future__ import annotations

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
    from flylogs.cli.follow import follow
    from flylogs.cli.reach import reach

    with Boundary() as boundary:
        way = reach(boundary, options)
        follow(
            boundary, way.plan, way.settings, options.filters, apps=way.apps,
            notes=[way.note] if way.note else [], fail_on_gap=options.fail_on_gap,
            before=way.before, beside=way.beside,
        )  # fmt: skip
