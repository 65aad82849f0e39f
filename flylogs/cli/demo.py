"""`flylogs demo`: an embedded server, a synthetic fleet, and the same tail as `tail`."""

from __future__ import annotations

import asyncio
import time
from typing import Annotated, Any, NoReturn

import typer

from flylogs.cli.app import app
from flylogs.cli.boundary import Boundary
from flylogs.cli.options import (
    CONFIG,
    FAIL_ON_GAP,
    JSON,
    NO_FOLLOW,
    OUTPUT_SETTINGS,
    SELECTION,
    Param,
    command,
    settings_params,
)
from flylogs.cli.values import TailOptions
from flylogs.errors import ExitCode

PARAMS = (
    *SELECTION,
    *settings_params(*OUTPUT_SETTINGS),
    JSON,
    FAIL_ON_GAP,
    NO_FOLLOW,
    CONFIG,
    Param(
        "rate",
        Annotated[
            float, typer.Option("--rate", min=0.1, max=100000, help="Lines per second the fleet writes.")
        ],
        20.0,
    ),
    Param(
        "serve",
        Annotated[
            bool,
            typer.Option(
                "--serve", help="Only run the server and fleet; print the URL for `flylogs tail --server`."
            ),
        ],
        False,
    ),
    Param("seed", Annotated[int | None, typer.Option("--seed", help="Seed for a repeatable fleet.")]),
    Param(
        "watch",
        Annotated[
            bool,
            typer.Option(
                "--watch",
                help="`flylogs watch` instead of the tail: each minute an instance goes quiet and one "
                "misses its heartbeats; alerts open and close within a minute.",
            ),
        ],
        False,
    ),
    Param(
        "chaos",
        Annotated[
            bool,
            typer.Option(
                "--chaos",
                help="Restart the embedded server every few seconds: watch reconnects, gap rows and "
                "backfill.",
            ),
        ],
        False,
    ),
)


@command(app, "demo", PARAMS)
def demo(options: TailOptions) -> None:
    """Run everything locally: an embedded NATS server, a synthetic fleet of apps, and the tail.

    APP: only these of the demo's apps (shop-api, shop-worker, auth-svc); none named: all of them.

    \b
    No Fly account needed. Same filters and output modes as `tail`:
      flylogs demo
      flylogs demo --level warn
      flylogs demo shop-api --region iad --grep 'ERROR|5\\d\\d '
      flylogs demo --json --count 5 | jq -r 'select(.type=="log") | .message'
      flylogs demo --chaos        # the server restarts every few seconds; gaps are filled
      flylogs demo --watch        # the fleet watched: an instance goes quiet, one misses its beat
      flylogs demo --serve        # then: flylogs tail --server <URL printed> --all --stream LOGS
    """
    from flylogs.cli.follow import follow
    from flylogs.cli.plan import tail_plan
    from flylogs.demo.fleet import DEMO_STREAM, prepare_stream, run_demo
    from flylogs.demo.server import NatsServer
    from flylogs.session.plan import ConnectOptions

    rate, seed, chaos = options.get("rate"), options.get("seed"), options.get("chaos")
    with Boundary() as boundary:
        settings = boundary.settings(options.flags)
        server = NatsServer(jetstream=True)
        server.start()
        try:
            if options.get("serve"):
                serve(boundary, server.url, rate, seed)
            apps = options.selection.apps
            connect = ConnectOptions((server.url,), stall_timeout=5.0)
            plan = tail_plan(
                options, settings, connect, apps, stream=DEMO_STREAM, api=None, now_ns=time.time_ns()
            )
            restart = server.restart if chaos else None
            note = f"demo: a synthetic fleet writes {rate:g} lines/s to {server.url}"
            note += ", and the server restarts every few seconds" if chaos else ""
            if options.get("watch"):
                watch_demo(boundary, options, plan, settings, note, server.url, rate, seed, restart)
            follow(
                boundary, plan, settings, options.filters, apps=apps, notes=[note + "; Ctrl-C to stop"],
                fail_on_gap=options.fail_on_gap, before=lambda _say: prepare_stream(server.url),
                beside=lambda stop: run_demo(server.url, rate, stop, seed=seed, restart=restart),
            )  # fmt: skip
        finally:
            server.close()


def serve(boundary: Boundary, url: str, rate: float, seed: int | None) -> NoReturn:
    """`--serve`: only the server and the fleet, until Ctrl-C; the URL on stdout for `tail --server`."""
    from flylogs.demo.fleet import DEMO_STREAM, prepare_stream, run_fleet
    from flylogs.session.plan import StopReason

    async def main(stop: asyncio.Future[StopReason]) -> None:
        await prepare_stream(url)
        done = asyncio.Event()
        stop.add_done_callback(lambda _: done.set())
        fleet = asyncio.create_task(run_fleet(url, rate, done, seed))
        boundary.say(f"flylogs: demo server on {url}, fleet writing {rate:g} lines/s; Ctrl-C to stop")
        typer.echo(url)
        boundary.say(
            f"flylogs: in another terminal: flylogs tail --server {url} --all --stream {DEMO_STREAM}"
            " (--stream gives --since, --tail and gap backfill from the demo's JetStream stream)"
        )
        await fleet

    boundary.run(main)
    raise typer.Exit(ExitCode.OK)


def watch_demo(
    boundary: Boundary, options: TailOptions, plan: Any, settings: Any, note: str, url: str,
    rate: float, seed: int | None, restart: Any,
) -> NoReturn:  # fmt: skip
    """`demo --watch`: the watch view over the demo's fleet, quick thresholds so alerts show soon."""
    import re
    from dataclasses import replace

    from flylogs.cli.reach import Reach
    from flylogs.cli.watching import run
    from flylogs.demo.fleet import prepare_stream, run_demo

    way = Reach(
        replace(plan, history_stream=None, since_ns=None), settings, options.selection.apps, "NATS (demo)",
        note + "; silent after 10s, a heartbeat due every 20s; Ctrl-C to stop",
        before=lambda _say: prepare_stream(url),
        beside=lambda stop: run_demo(url, rate, stop, seed=seed, restart=restart),
    )  # fmt: skip
    run(
        boundary, options, silent_after=10, every=20, heartbeat=re.compile("HEARTBEAT"), way=way,
        keep_state=False,
    )  # fmt: skip
