"""From what was asked to what to do: the apps to follow, the subjects, the filter, the history.

Pure but for reading `./fly.toml` (its directory is passed in); the clock's reading arrives as
`now_ns`. Raises UsageError for combinations that cannot work.
"""

from __future__ import annotations

from pathlib import Path

from flylogs.cli.values import Filters, Selection, TailOptions
from flylogs.errors import UsageError
from flylogs.filters import build_filter, compile_patterns
from flylogs.session.plan import ApiSpec, ConnectOptions, PollSpec, TailPlan
from flylogs.settings.fly_toml import app_from_fly_toml
from flylogs.settings.resolve import Settings
from flylogs.subjects import plan_subjects
from flylogs.timestamps import parse_duration, parse_since

NO_HISTORY_HINT = (
    "name the app(s) and have a token (Fly's HTTP logs API), or name a JetStream stream "
    "that stores the log subjects with --stream (Fly's NATS stream itself keeps no history)"
)


def followed_apps(
    selection: Selection, cwd: Path | None, env_app: str | None = None
) -> tuple[tuple[str, ...], str | None]:
    """The apps to follow and, when not named, where they came from, as flyctl finds them: named
    apps, else `FLY_APP`, else the fly.toml of `-c` or of `cwd`; none of them: every app."""
    if selection.all_apps:
        if selection.apps:
            raise UsageError(
                "--all follows every app; it cannot be combined with app names", "drop --all or the names"
            )
        return (), None
    if selection.apps or cwd is None:
        return selection.apps, None
    if env_app:
        return (env_app,), f"following {env_app} (from FLY_APP); use --all for every app"
    path = selection.fly_toml or cwd / "fly.toml"
    guessed = app_from_fly_toml(path, required=selection.fly_toml is not None)
    if guessed:
        where = "./fly.toml" if selection.fly_toml is None else str(path)
        return (guessed,), f"following {guessed} (from {where}); use --all for every app"
    return (), None


def since_ns(
    since: str | None, follow: bool, has_history: bool, now_ns: int, tail_last: int | None = None
) -> tuple[int, bool] | None:
    """`--since` (or the last hour, with `--no-follow` or `--tail N`) as epoch ns, and whether it
    was a duration back from now; None: no history."""
    wanted = since if since is not None or (follow and not tail_last) else "1h"
    if wanted is None:
        return None
    if not has_history:
        raise UsageError(
            "--since, --until, --tail and --no-follow need a history source", hint=NO_HISTORY_HINT
        )
    value = parse_since(wanted, now_ns)
    if value is None:
        raise UsageError(
            f"--since {wanted!r} is neither a duration nor a time flylogs can use",
            hint="use a duration (90s, 1.5h, 1h30m, 100ms, 7d), a date (2026-11-20, UTC) or a time "
            "(2026-11-20T09:00:00Z, or 2026-11-20 09:00 as UTC)",
        )
    if value > now_ns:
        raise UsageError(
            f"--since {wanted!r} is in the future: there is no history after now",
            hint="give a time in the past; times without a zone are UTC",
        )
    return value, parse_duration(wanted.strip()) is not None


def until_ns(until: str | None, now_ns: int) -> tuple[int, bool] | None:
    """`--until` as epoch ns, and whether it was a duration back from now; None when not given."""
    if until is None:
        return None
    value = parse_since(until, now_ns)
    if value is None:
        raise UsageError(
            f"--until {until!r} is neither a duration nor a time flylogs can use",
            hint="the forms of --since: 5m (ago), 2026-11-20T09:00:00Z, 2026-11-20 09:00 (UTC)",
        )
    if value > now_ns:
        raise UsageError(
            f"--until {until!r} is in the future: there is no history after now",
            hint="leave it out to follow the stream, or stop with --count N",
        )
    return value, parse_duration(until.strip()) is not None


def order_window(settings: Settings) -> int | None:
    """`--order time`'s window (ns); None for arrival order."""
    from flylogs.settings.choices import Order
    from flylogs.timestamps import parse_duration

    if settings.order is not Order.TIME:
        return None
    window = parse_duration(settings.order_window)
    if not window:
        raise UsageError(f"--order-window {settings.order_window!r} is not a duration", hint="e.g. 1s, 500ms")
    return window


def tail_plan(
    options: TailOptions,
    settings: Settings,
    connect: ConnectOptions,
    apps: tuple[str, ...],
    *,
    stream: str | None,
    api: ApiSpec | None,
    now_ns: int,
    poll: PollSpec | None = None,
) -> TailPlan:
    selection, filters = options.selection, options.filters
    check_patterns(filters)
    subjects = plan_subjects(list(apps), list(selection.regions), list(selection.instances))
    every = poll is not None  # polling: the API's own filters are not to be trusted, filter it all here
    keep = build_filter(
        grep=list(filters.grep),
        exclude=list(filters.exclude),
        ignore_case=filters.ignore_case,
        level=filters.level,
        apps=list(apps) if subjects.filter_apps or every else [],
        regions=list(selection.regions) if subjects.filter_regions or every else [],
        instances=list(selection.instances) if subjects.filter_instances or every else [],
        fields=list(filters.fields),
        groups=list(selection.groups),
        beats=filters.beats,
    )
    until = until_ns(settings.until, now_ns)
    follow = options.follow and until is None  # --until: the window, then the end
    since = since_ns(settings.since, follow, stream is not None or api is not None, now_ns, options.tail_last)
    if until is not None and since is not None and until[0] <= since[0]:
        raise UsageError(
            f"--until {settings.until!r} is not after --since",
            hint="the window is [--since, --until): --since 1h --until 50m, for instance",
        )
    around = (filters.before, filters.after)
    if any(around) and not filters.grep:
        raise UsageError("-A, -B and -C show lines around --grep matches", hint="add --grep REGEX")
    return TailPlan(
        connect=connect,
        subjects=subjects.subjects,
        keep=keep,
        count=settings.count,
        context=around if any(around) else None,
        history_stream=stream,
        api=api,
        since_ns=since[0] if since else None,
        since_relative=bool(since and since[1]),
        until_ns=until[0] if until else None,
        until_relative=bool(until and until[1]),
        follow=follow,
        order_window_ns=order_window(settings),
        last=options.tail_last or None,
        poll=poll,
    )


def check_patterns(filters: Filters) -> None:
    """Every regex compiles (a bad one is a usage error naming its flag, before anything connects)."""
    compile_patterns(filters.highlight, filters.ignore_case, "--highlight")
    compile_patterns(filters.grep, filters.ignore_case, "--grep")
