"""`flylogs demo`: an embedded server, a synthetic fleet, and the same tail as `tail`."""

from __future__ import annotations

import asyncio
import time
from typing import Annotated, NoReturn

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
      flylogs demo --serve        # then: flylogs tail --server <URL printed> --all --stream LOGS
    """
    from flylogs.cli.follow import follow
    from flylogs.cli.plan import tail_plan
    from flylogs.demo.fleet import DEMO_STREAM, prepare_stream, run_demo
    from flylogs.demo.server import NatsServer
    from flylogs.source.nats import ConnectOptions

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
