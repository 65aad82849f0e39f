"""The command line: the only module that imports Typer.

Owns: flags and their help, turning them into a plan for the core, the one `asyncio.run`, signals,
and the one boundary where typed errors become `flylogs: error: …` + `hint: …` and an exit code.
Heavy modules (nats, rich, keyring) are imported inside commands, so `--help` and `--version` stay fast.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import os
import signal
import sys
import traceback
from collections.abc import Callable, Coroutine, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer

from flylogs import __version__
from flylogs.errors import ExitCode, FlylogsError, UsageError
from flylogs.model import Level
from flylogs.settings import ColorBy, ColorWhen, Flags, OutputMode, Settings, TimeMode

if TYPE_CHECKING:
    from flylogs.demo.server import NatsServer
    from flylogs.render.console import Environment
    from flylogs.session.plan import Outcome, StopReason, TailPlan
    from flylogs.source.flyapi import ApiSpec
    from flylogs.source.nats import ConnectOptions

app = typer.Typer(
    name="flylogs",
    help="Live-tail Fly.io logs from the NATS log stream: filters, colour, JSON, and never a silent failure.",
    no_args_is_help=True,
    add_completion=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)
auth_app = typer.Typer(help="Store, remove and inspect the token flylogs uses.", no_args_is_help=True)
config_app = typer.Typer(help="Show the effective settings and where each came from.", no_args_is_help=True)
app.add_typer(auth_app, name="auth")
app.add_typer(config_app, name="config")

_state = {"debug": False}

FILTERS = "Filters"
OUTPUT = "Output"
CONNECTION = "Connection"

# --- shared options (one definition each, used by `tail` and `demo`) ------------------------------

AppsArg = Annotated[
    list[str] | None,
    typer.Argument(
        help="Apps to follow. None given: the app in ./fly.toml, else every app in the org.",
        metavar="APP...",
        show_default=False,
    ),
]
AppOpt = Annotated[
    list[str] | None,
    typer.Option("--app", "-a", help="Same as APP (flyctl's habit); repeatable.", rich_help_panel=FILTERS),
]
RegionOpt = Annotated[
    list[str] | None,
    typer.Option("--region", "-r", help="Only this region (e.g. iad); repeatable.", rich_help_panel=FILTERS),
]
InstanceOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--instance",
        "--machine",
        "-i",
        "-m",
        help="Only this Machine ID; repeatable.",
        rich_help_panel=FILTERS,
    ),
]
GrepOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--grep",
        "-g",
        help="Show only messages matching this regex (any of several); matches are highlighted.",
        rich_help_panel=FILTERS,
    ),
]
HighlightOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--highlight",
        "-H",
        help="Highlight matches of this regex without filtering anything; repeatable.",
        rich_help_panel=FILTERS,
    ),
]
FieldOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--field",
        "-f",
        help="On JSON messages: KEY=VALUE, KEY!=VALUE or KEY~REGEX (dotted keys reach inside); "
        "repeatable, all must hold.",
        rich_help_panel=FILTERS,
    ),
]
AfterOpt = Annotated[
    int,
    typer.Option(
        "--after-context",
        "-A",
        min=0,
        help="Lines after each --grep match, from the same instance.",
        rich_help_panel=FILTERS,
    ),
]
BeforeOpt = Annotated[
    int,
    typer.Option(
        "--before-context",
        "-B",
        min=0,
        help="Lines before each --grep match, from the same instance.",
        rich_help_panel=FILTERS,
    ),
]
ContextOpt = Annotated[
    int, typer.Option("--context", "-C", min=0, help="Same as -A N -B N.", rich_help_panel=FILTERS)
]
ExcludeOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--exclude",
        "-x",
        help="Hide messages matching this regex; wins over --grep.",
        rich_help_panel=FILTERS,
    ),
]
IgnoreCaseOpt = Annotated[
    bool,
    typer.Option(
        "--ignore-case", "-I", help="Case-insensitive --grep and --exclude.", rich_help_panel=FILTERS
    ),
]
LevelOpt = Annotated[
    Level | None,
    typer.Option(
        "--level",
        "-l",
        help="Minimum level (debug < info < warn < error); unknown levels always show.",
        case_sensitive=False,
        rich_help_panel=FILTERS,
    ),
]
OutputOpt = Annotated[
    OutputMode | None,
    typer.Option(
        "--output",
        "-o",
        help="auto: a table on a terminal, plain otherwise. json: NDJSON (see README). "
        "raw: payloads as received.",
        case_sensitive=False,
        show_default="auto",
        rich_help_panel=OUTPUT,
    ),
]
TimeOpt = Annotated[
    TimeMode | None,
    typer.Option(
        "--time",
        help="Time column: local, utc, relative (since the first line), none. "
        "Default: local HH:MM:SS.mmm in the table, RFC 3339 UTC in plain text; JSON keeps nanoseconds.",
        case_sensitive=False,
        show_default=False,
        rich_help_panel=OUTPUT,
    ),
]
ColorByOpt = Annotated[
    ColorBy,
    typer.Option(
        "--color-by",
        help="What picks the instance column's colour: instance (distinct within an app), app, region.",
        case_sensitive=False,
        rich_help_panel=OUTPUT,
    ),
]
JsonOpt = Annotated[bool, typer.Option("--json", "-j", help="Same as --output json.", rich_help_panel=OUTPUT)]
ColorOpt = Annotated[
    ColorWhen | None,
    typer.Option(
        "--color",
        help="Colour: auto (on a terminal, honouring NO_COLOR and FORCE_COLOR), always, never.",
        case_sensitive=False,
        show_default="auto",
        rich_help_panel=OUTPUT,
    ),
]
CountOpt = Annotated[
    int | None,
    typer.Option(
        "--count", "-n", min=1, help="Exit 0 after this many lines have been shown.", rich_help_panel=OUTPUT
    ),
]
ServerOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--server",
        "-s",
        help="NATS URL; repeat for a cluster. Env FLYLOGS_SERVER. Default nats://\\[fdaa::3]:4223.",
        show_default=False,
        rich_help_panel=CONNECTION,
    ),
]
OrgOpt = Annotated[
    str | None,
    typer.Option(
        "--org",
        help="Org slug, the NATS user (see `fly orgs list`). Default: personal.",
        rich_help_panel=CONNECTION,
    ),
]
TokenOpt = Annotated[
    str | None,
    typer.Option(
        "--access-token",
        "-t",
        help="Fly token (visible in `ps`: prefer FLYLOGS_TOKEN or `flylogs auth login`).",
        show_default=False,
        rich_help_panel=CONNECTION,
    ),
]
ConfigOpt = Annotated[
    Path | None,
    typer.Option(
        "--config", help="Config file (TOML). Env FLYLOGS_CONFIG.", dir_okay=False, rich_help_panel=CONNECTION
    ),
]
StallOpt = Annotated[
    float,
    typer.Option(
        "--stall-timeout",
        min=1.0,
        help="Abandon a connection that answers no ping for this many seconds (a half-open path).",
        rich_help_panel=CONNECTION,
    ),
]
FailOnGapOpt = Annotated[
    bool,
    typer.Option(
        "--fail-on-gap",
        help="Exit 6 at the end if any gap (a window of possibly missed logs) was not filled.",
        rich_help_panel=OUTPUT,
    ),
]
HISTORY = "History and backfill"
StreamOpt = Annotated[
    str | None,
    typer.Option(
        "--stream",
        help="A JetStream stream storing the log subjects: fills gaps after an outage, and gives --since.",
        rich_help_panel=HISTORY,
    ),
]
SinceOpt = Annotated[
    str | None,
    typer.Option(
        "--since",
        help="Print history from this long ago (90s, 10m, 2h, 7d) or this time (RFC 3339) before following.",
        rich_help_panel=HISTORY,
    ),
]
NoFollowOpt = Annotated[
    bool,
    typer.Option(
        "--no-follow",
        help="Print the history (default: the last hour) and exit, like `fly logs --no-tail`.",
        rich_help_panel=HISTORY,
    ),
]
BackfillOpt = Annotated[
    bool,
    typer.Option(
        "--backfill/--no-backfill",
        help="Fill gaps from Fly's HTTP logs API (needs app names and a token), or from --stream.",
        rich_help_panel=HISTORY,
    ),
]
ApiUrlOpt = Annotated[
    str | None,
    typer.Option(
        "--api-url",
        help="Fly's HTTP API (history and backfill). Env FLYLOGS_API_URL. Default https://api.fly.io.",
        show_default=False,
        rich_help_panel=HISTORY,
    ),
]
WaitOpt = Annotated[
    bool,
    typer.Option(
        "--wait",
        help="Keep retrying until the server is reachable instead of exiting 5.",
        rich_help_panel=CONNECTION,
    ),
]


def _version(value: bool) -> None:
    if value:
        typer.echo(f"flylogs {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option("--version", "-V", callback=_version, is_eager=True, help="Print the version and exit."),
    ] = False,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks for errors.")] = False,
) -> None:
    """Live-tail Fly.io logs. Start with `flylogs demo`, then `flylogs tail myapp`."""
    _state["debug"] = debug or bool(os.environ.get("FLYLOGS_DEBUG"))


# --- the error boundary ---------------------------------------------------------------------------


def _fail(message: str, hint: str | None, code: int, secrets: tuple[str | None, ...] = ()) -> NoReturn:
    for secret in secrets:
        if secret:
            message = message.replace(secret, "***")
            hint = hint.replace(secret, "***") if hint else hint
    typer.echo(f"flylogs: error: {message}", err=True)
    if hint:
        typer.echo(f"hint: {hint}", err=True)
    raise typer.Exit(code)


@contextlib.contextmanager
def _errors(*secrets: str | None) -> Iterator[None]:
    """Typed errors to one line + hint and an exit code; anything else to exit 1 (traceback with --debug)."""
    try:
        yield
    except (typer.Exit, typer.Abort):
        raise
    except FlylogsError as exc:
        if _state["debug"]:
            traceback.print_exc()
        _fail(exc.message, exc.hint, exc.exit_code, secrets)
    except Exception as exc:
        if _state["debug"]:
            traceback.print_exc()
        _fail(
            f"unexpected {type(exc).__name__}: {exc}",
            "run again with --debug for a traceback, and please report it",
            ExitCode.UNEXPECTED,
            secrets,
        )


def _environment() -> Environment:
    from flylogs.render.console import Environment

    return Environment.from_process()


def _settings(flags: Flags) -> Settings:
    from flylogs import credentials
    from flylogs.settings import resolve

    return resolve(flags, os.environ, Path.home(), credentials.load)


# --- tail and demo --------------------------------------------------------------------------------


def _apps(apps: list[str] | None, app_opts: list[str] | None, all_apps: bool) -> tuple[list[str], str | None]:
    """The apps to follow and, when guessed from ./fly.toml, a note saying so."""
    named = [*(apps or []), *(app_opts or [])]
    if all_apps:
        if named:
            raise UsageError(
                "--all follows every app; it cannot be combined with app names", "drop --all or the names"
            )
        return [], None
    if named:
        return named, None
    from flylogs.settings import app_from_fly_toml

    guessed = app_from_fly_toml(Path.cwd())
    if guessed:
        return [guessed], f"following {guessed} (from ./fly.toml); use --all for every app"
    return [], None


def _follow(
    plan: TailPlan,
    env: Environment,
    *,
    output: OutputMode,
    color: ColorWhen,
    apps: list[str],
    grep: list[str],
    ignore_case: bool,
    notes: list[str],
    time_mode: TimeMode | None = None,
    color_by: ColorBy = ColorBy.INSTANCE,
    secrets: tuple[str | None, ...] = (),
    beside: Callable[[asyncio.Event], Coroutine[Any, Any, object]] | None = None,
    fail_on_gap: bool = False,
) -> None:
    """Run one tail session to its end and exit with its code (`beside`: a task to run alongside)."""
    from flylogs.filters import compile_patterns
    from flylogs.render.console import Styler
    from flylogs.render.notices import NoticeWriter
    from flylogs.render.output import open_output
    from flylogs.render.sinks import build_sink
    from flylogs.session.plan import StopReason
    from flylogs.session.run import run_tail

    highlight = compile_patterns(grep, ignore_case, "--grep/--highlight")
    out = open_output(env.stdout)
    sink = build_sink(
        output, env, color, apps=apps, highlight=highlight, out=out, time_mode=time_mode, color_by=color_by
    )
    notices = NoticeWriter(
        env.stderr, Styler(env.use_color(color, stream_isatty=env.stderr_isatty), env.color_system())
    )
    for note in notes:
        notices.line(f"flylogs: {note}")

    async def session() -> Outcome:
        from flylogs.session.plan import StopReason

        loop = asyncio.get_running_loop()
        stop: asyncio.Future[StopReason] = loop.create_future()
        for signum, reason in (
            (signal.SIGINT, StopReason.INTERRUPTED),
            (signal.SIGTERM, StopReason.TERMINATED),
        ):
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                loop.add_signal_handler(signum, _resolver(stop, reason))
        if beside is None:
            return await run_tail(plan, sink, notices, stop, backlog=out)
        done = asyncio.Event()
        companion = asyncio.create_task(beside(done))
        try:
            return await run_tail(plan, sink, notices, stop, backlog=out)
        finally:
            done.set()
            await companion

    outcome: Outcome | None = None
    _tune_gc()
    with _errors(*secrets):
        try:
            outcome = asyncio.run(session())
        except KeyboardInterrupt:  # a platform without loop signal handlers
            raise typer.Exit(ExitCode.INTERRUPTED) from None
        finally:
            # Rendered lines are delivered in full when the session ended by itself (--count); after a
            # signal or an error, a reader that is not reading gets two seconds, not forever.
            ended_by_itself = outcome is not None and outcome.reason is StopReason.COUNT
            out.close(timeout=None if ended_by_itself else 2.0)
    assert outcome is not None
    _finish(outcome, notices.line, fail_on_gap)


def _tune_gc() -> None:
    """Fewer, later collections: every line allocates a few short-lived objects and no cycles, and
    the default threshold (700) ran a collection every few hundred lines for nothing."""
    import gc

    gc.freeze()  # what start-up built lives as long as the process: never scan it again
    gc.set_threshold(50_000, 20, 100)


def _resolver(stop: asyncio.Future[StopReason], reason: StopReason) -> Callable[[], None]:
    def resolve() -> None:
        if not stop.done():
            stop.set_result(reason)

    return resolve


def _finish(outcome: Outcome, say: Callable[[str], None], fail_on_gap: bool) -> NoReturn:
    from flylogs.session.plan import StopReason

    stats = outcome.stats
    unfilled = outcome.unfilled_gaps
    if outcome.reason is StopReason.PIPE_CLOSED:
        _silence_stdout()
    elif outcome.reason is not StopReason.COUNT or (fail_on_gap and unfilled):
        minutes, seconds = divmod(int(outcome.elapsed), 60)
        hours, minutes = divmod(minutes, 60)
        gaps = ""
        if outcome.gaps:
            missing = sum(g.duration_s for g in outcome.gaps)
            gaps = f", {len(outcome.gaps)} gap(s) totalling {missing:.1f}s ({len(unfilled)} not filled)"
        elapsed = f"{hours}:{minutes:02d}:{seconds:02d}"
        say(
            f"flylogs: {outcome.reason} after {elapsed}: {stats.shown:,} lines shown, "
            + (f"{stats.malformed:,} malformed, " if stats.decoded else "")
            + f"{stats.received:,} received{gaps}"
        )
    if outcome.reason is StopReason.INTERRUPTED:
        raise typer.Exit(ExitCode.INTERRUPTED)
    if outcome.reason is StopReason.TERMINATED:
        raise typer.Exit(ExitCode.TERMINATED)
    raise typer.Exit(ExitCode.GAPS if fail_on_gap and unfilled else ExitCode.OK)


def _silence_stdout() -> None:
    """After `| head` closed the pipe, point stdout at /dev/null so the interpreter's last flush is quiet."""
    with contextlib.suppress(OSError, ValueError, io.UnsupportedOperation):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)


@app.command()
def tail(
    apps: AppsArg = None,
    app_opt: AppOpt = None,
    all_apps: Annotated[
        bool,
        typer.Option(
            "--all",
            help="Every app in the org (logs.>), even where ./fly.toml names one.",
            rich_help_panel=FILTERS,
        ),
    ] = False,
    region: RegionOpt = None,
    instance: InstanceOpt = None,
    grep: GrepOpt = None,
    highlight: HighlightOpt = None,
    field: FieldOpt = None,
    after_context: AfterOpt = 0,
    before_context: BeforeOpt = 0,
    context: ContextOpt = 0,
    exclude: ExcludeOpt = None,
    ignore_case: IgnoreCaseOpt = False,
    level: LevelOpt = None,
    output: OutputOpt = None,
    json_: JsonOpt = False,
    time: TimeOpt = None,
    color: ColorOpt = None,
    color_by: ColorByOpt = ColorBy.INSTANCE,
    count: CountOpt = None,
    server: ServerOpt = None,
    org: OrgOpt = None,
    access_token: TokenOpt = None,
    config: ConfigOpt = None,
    wait: WaitOpt = False,
    stall_timeout: StallOpt = 15.0,
    fail_on_gap: FailOnGapOpt = False,
    stream: StreamOpt = None,
    since: SinceOpt = None,
    no_follow: NoFollowOpt = False,
    backfill: BackfillOpt = True,
    api_url: ApiUrlOpt = None,
) -> None:
    """Follow logs live: reconnect by itself, forever, and report every gap.

    \b
    Examples:
      flylogs tail myapp
      flylogs tail --region iad --grep ERROR
      flylogs tail myapp --json | jq .message
      flylogs tail -a api -a worker --level warn --count 100 --output plain
    """
    with _errors(access_token):
        settings = _settings(
            Flags(
                servers=tuple(server or ()),
                org=org,
                token=access_token,
                config=config,
                output=OutputMode.JSON if json_ else output,
                color=color,
                api_url=api_url,
                stream=stream,
            )
        )
    secrets = (access_token, settings.token)
    with _errors(*secrets):
        from flylogs.source.flyapi import ApiSpec
        from flylogs.source.nats import ConnectOptions

        followed, note = _apps(apps, app_opt, all_apps)
        api = None
        if backfill and not settings.stream and settings.token and followed:
            api = ApiSpec(tuple(followed), settings.token, settings.api_url)
        plan = _plan(
            ConnectOptions(
                servers=settings.servers,
                user=settings.org,
                password=settings.token,
                wait=wait,
                stall_timeout=stall_timeout,
            ),
            followed,
            region,
            instance,
            grep,
            exclude,
            ignore_case,
            level,
            count,
            History(settings.stream, since, not no_follow, api),
            field,
            (before_context or context, after_context or context),
        )
    _follow(
        plan,
        _environment(),
        output=settings.output,
        color=settings.color,
        apps=followed,
        grep=[*(grep or []), *(highlight or [])],
        ignore_case=ignore_case,
        time_mode=time,
        color_by=color_by,
        notes=[note] if note else [],
        secrets=secrets,
        fail_on_gap=fail_on_gap,
    )


def _plan(
    connect: ConnectOptions,
    apps: list[str],
    regions: list[str] | None,
    instances: list[str] | None,
    grep: list[str] | None,
    exclude: list[str] | None,
    ignore_case: bool,
    level: Level | None,
    count: int | None,
    history: History | None = None,
    fields: list[str] | None = None,
    around: tuple[int, int] = (0, 0),
) -> TailPlan:
    from flylogs.filters import build_filter
    from flylogs.session.plan import TailPlan
    from flylogs.subjects import plan_subjects

    history = history or History()

    subjects = plan_subjects(apps, regions or [], instances or [])
    keep = build_filter(
        grep=grep or [],
        exclude=exclude or [],
        ignore_case=ignore_case,
        level=level.value if level else None,
        apps=apps if subjects.filter_apps else [],
        regions=(regions or []) if subjects.filter_regions else [],
        instances=(instances or []) if subjects.filter_instances else [],
        fields=fields or [],
    )
    before, after = around
    if (before or after) and not grep:
        raise UsageError("-A, -B and -C show lines around --grep matches", hint="add --grep REGEX")
    return TailPlan(
        connect=connect,
        subjects=subjects.subjects,
        keep=keep,
        count=count,
        context=(before, after) if before or after else None,
        history_stream=history.stream,
        api=history.api,
        since_ns=history.since_ns(),
        follow=history.follow,
    )


@dataclass(frozen=True)
class History:
    """`--stream`, `--since` and `--no-follow`, checked together."""

    stream: str | None = None
    since: str | None = None
    follow: bool = True
    api: ApiSpec | None = None

    def since_ns(self) -> int | None:
        import time

        from flylogs.timestamps import parse_since

        since = self.since if self.since is not None or self.follow else "1h"
        if since is None:
            return None
        if self.stream is None and self.api is None:
            raise UsageError(
                "--since and --no-follow need a history source",
                hint="name the app(s) and have a token (Fly's HTTP logs API), or name a JetStream stream "
                "that stores the log subjects with --stream (Fly's NATS stream itself keeps no history)",
            )
        value = parse_since(since, time.time_ns())
        if value is None:
            raise UsageError(
                f"--since {since!r} is neither a duration nor a time",
                hint="use a duration (90s, 10m, 2h, 1h30m, 7d) or a time such as 2026-11-20T09:00:00Z",
            )
        return value


@app.command()
def demo(
    apps: AppsArg = None,
    app_opt: AppOpt = None,
    region: RegionOpt = None,
    instance: InstanceOpt = None,
    grep: GrepOpt = None,
    highlight: HighlightOpt = None,
    field: FieldOpt = None,
    after_context: AfterOpt = 0,
    before_context: BeforeOpt = 0,
    context: ContextOpt = 0,
    exclude: ExcludeOpt = None,
    ignore_case: IgnoreCaseOpt = False,
    level: LevelOpt = None,
    output: OutputOpt = None,
    json_: JsonOpt = False,
    time: TimeOpt = None,
    color: ColorOpt = None,
    color_by: ColorByOpt = ColorBy.INSTANCE,
    count: CountOpt = None,
    rate: Annotated[
        float, typer.Option("--rate", min=0.1, max=100000, help="Lines per second the fleet writes.")
    ] = 20.0,
    serve: Annotated[
        bool,
        typer.Option(
            "--serve", help="Only run the server and fleet; print the URL for `flylogs tail --server`."
        ),
    ] = False,
    seed: Annotated[int | None, typer.Option("--seed", help="Seed for a repeatable fleet.")] = None,
    chaos: Annotated[
        bool,
        typer.Option(
            "--chaos",
            help="Restart the embedded server every few seconds: watch reconnects, gap rows and backfill.",
        ),
    ] = False,
    since: SinceOpt = None,
    no_follow: NoFollowOpt = False,
    fail_on_gap: FailOnGapOpt = False,
) -> None:
    """Run everything locally: an embedded NATS server, a synthetic fleet of apps, and the tail.

    \b
    No Fly account needed. Same filters and output modes as `tail`:
      flylogs demo
      flylogs demo --level warn
      flylogs demo shop-api --region iad --grep 'ERROR|5\\d\\d '
      flylogs demo --json --count 5 | jq .message
      flylogs demo --chaos        # the server restarts every few seconds; gaps are filled
      flylogs demo --serve        # then, elsewhere: flylogs tail --server <URL printed> --all
    """
    from flylogs.demo.fleet import DEMO_STREAM, prepare_stream
    from flylogs.demo.server import NatsServer
    from flylogs.source.nats import ConnectOptions

    env = _environment()
    followed = [*(apps or []), *(app_opt or [])]
    with _errors():
        server = NatsServer(jetstream=True)
        server.start()
    try:
        with _errors():
            plan = _plan(
                ConnectOptions(servers=(server.url,), stall_timeout=5.0),
                followed,
                region,
                instance,
                grep,
                exclude,
                ignore_case,
                level,
                count,
                History(DEMO_STREAM, since, not no_follow),
                field,
                (before_context or context, after_context or context),
            )
            asyncio.run(prepare_stream(server.url))
            if serve:
                _serve(server.url, rate, seed, env)
        _follow(
            plan,
            env,
            output=OutputMode.JSON if json_ else (output or OutputMode.AUTO),
            color=color or ColorWhen.AUTO,
            apps=followed,
            grep=[*(grep or []), *(highlight or [])],
            ignore_case=ignore_case,
            time_mode=time,
            color_by=color_by,
            notes=[
                f"demo: a synthetic fleet writes {rate:g} lines/s to {server.url}"
                + (", and the server restarts every few seconds" if chaos else "")
                + "; Ctrl-C to stop"
            ],
            beside=_fleet(server, rate, seed, chaos),
            fail_on_gap=fail_on_gap,
        )
    finally:
        server.close()


def _fleet(
    server: NatsServer, rate: float, seed: int | None, chaos: bool
) -> Callable[[asyncio.Event], Coroutine[Any, Any, object]]:
    from flylogs.demo.fleet import run_chaos, run_fleet

    async def start(stop: asyncio.Event) -> None:
        tasks = [run_fleet(server.url, rate, stop, seed)]
        if chaos:
            tasks.append(run_chaos(server.restart, stop, seed))
        await asyncio.gather(*tasks)

    return start


def _serve(url: str, rate: float, seed: int | None, env: Environment) -> NoReturn:
    from flylogs.demo.fleet import run_fleet

    async def serve() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                loop.add_signal_handler(signum, stop.set)
        fleet = asyncio.create_task(run_fleet(url, rate, stop, seed))
        typer.echo(f"flylogs: demo server on {url}, fleet writing {rate:g} lines/s; Ctrl-C to stop", err=True)
        typer.echo(url)
        typer.echo(f"flylogs: in another terminal: flylogs tail --server {url} --all", err=True)
        await fleet

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve())
    raise typer.Exit(ExitCode.OK)


# --- auth -----------------------------------------------------------------------------------------


@auth_app.command("login")
def auth_login(
    org: Annotated[
        str | None, typer.Option("--org", help="Org slug the token belongs to. Default: the resolved org.")
    ] = None,
    config: ConfigOpt = None,
) -> None:
    """Store a token in the system keyring (read hidden from a prompt, or from stdin).

    \b
    Create a read-only token first:  fly tokens create readonly <org>
      flylogs auth login --org my-org
      fly tokens create readonly my-org | flylogs auth login --org my-org
    """
    from flylogs import credentials
    from flylogs.settings import StoredCredentials, normalize_token, resolve

    with _errors():
        if org is None:
            org = resolve(Flags(config=config), os.environ, Path.home()).org
        if sys.stdin is not None and sys.stdin.isatty():
            raw = typer.prompt(
                f"Fly token for org {org!r} (input hidden)", hide_input=True, prompt_suffix=": "
            )
        else:
            raw = sys.stdin.readline() if sys.stdin is not None else ""
        token = normalize_token(raw)
    if not token:
        _fail("no token given", "paste a token from `fly tokens create readonly <org>`", ExitCode.USAGE)
    with _errors(token):
        credentials.store(StoredCredentials(org=org, token=token))
        typer.echo(f"Stored a token for org {org!r} in the keyring ({credentials.backend_name()}).", err=True)


@auth_app.command("logout")
def auth_logout() -> None:
    """Remove the stored token from the keyring."""
    from flylogs import credentials

    with _errors():
        removed = credentials.delete()
    typer.echo("Removed the stored token." if removed else "No stored token to remove.", err=True)


@auth_app.command("status")
def auth_status(
    org: OrgOpt = None,
    access_token: TokenOpt = None,
    config: ConfigOpt = None,
) -> None:
    """Which org and token flylogs would use, and where each came from (the token redacted)."""
    with _errors(access_token):
        settings = _settings(Flags(org=org, token=access_token, config=config))
    with _errors(access_token, settings.token):
        typer.echo(f"org:    {settings.org}  [{settings.origins['org']}]")
        typer.echo(f"token:  {settings.token_summary()}  [{settings.origins['token']}]")
        if settings.token is None:
            typer.echo(
                "hint: no token found; the server will decide whether to let you in. "
                "Store one with `flylogs auth login`.",
                err=True,
            )


# --- config ---------------------------------------------------------------------------------------


@config_app.command("show")
def config_show(
    server: ServerOpt = None,
    org: OrgOpt = None,
    access_token: TokenOpt = None,
    config: ConfigOpt = None,
) -> None:
    """The effective settings and where each came from: flag, env, config file, keyring, flyctl, default."""
    from flylogs.settings import redact_url

    with _errors(access_token):
        settings = _settings(Flags(servers=tuple(server or ()), org=org, token=access_token, config=config))
    rows = [
        ("server", ", ".join(redact_url(s) for s in settings.servers), settings.origins["server"]),
        ("org", settings.org, settings.origins["org"]),
        ("token", settings.token_summary(), settings.origins["token"]),
        ("output", settings.output.value, settings.origins["output"]),
        ("color", settings.color.value, settings.origins["color"]),
        ("stream", settings.stream or "none", settings.origins["stream"]),
        ("api_url", settings.api_url, settings.origins["api_url"]),
        (
            "config",
            str(settings.config_path) + ("" if settings.config_path.exists() else " (absent)"),
            settings.origins["config"],
        ),
    ]
    for key, value, origin in rows:
        typer.echo(f"{key:<7} {value}  [{origin}]")


@config_app.command("path")
def config_path(config: ConfigOpt = None) -> None:
    """Print the config file's path (it may not exist yet)."""
    from flylogs.settings import config_file_path

    path, _origin = config_file_path(config, os.environ, Path.home())
    typer.echo(str(path))


def main() -> None:
    """The `flylogs` entry point."""
    try:
        app()
    except BrokenPipeError:  # help or a listing piped into `head`
        _silence_stdout()
        sys.exit(ExitCode.OK)
