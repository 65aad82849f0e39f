"""`flylogs beat`: print FLYLOGS-BEAT lines, for the canary (runs inside a Fly Machine).

No network, no credentials: a line every `--every` to stdout, each flushed, through the one
output path. SIGTERM (a Machine stopping) and SIGINT end it with exit 0; a reader that goes away
too; a stdout that fails is exit 8.
"""

from __future__ import annotations

import asyncio
import time
from typing import Annotated, Any

import typer

from flylogs.cli.app import app
from flylogs.cli.boundary import Boundary, silence_stdout
from flylogs.errors import ExitCode, OutputError, UsageError


@app.command("beat")
def beat(
    every: Annotated[
        str, typer.Option("--every", metavar="DURATION", help="Time between two beats (e.g. 30s, 1m, 200ms).")
    ] = "30s",
    count: Annotated[
        int | None, typer.Option("--count", "-n", min=1, help="Stop after N beats (default: never).")
    ] = None,
) -> None:
    """Print beats for the canary: `FLYLOGS-BEAT seq=<n> at=<RFC 3339> boot=<id>`, one per period.

    Run it inside the Machine whose logs you want measured: flylogs then counts, per instance, the
    beats lost, duplicated and out of order on their way through Fly's log pipeline, and how late
    they arrive (`flylogs watch`, `flylogs check --beats`). A new `boot` id each start: a restart
    is a new series, not a loss.

    \b
    Examples (fly.toml):
      [processes]
        app = "./server"
        canary = "flylogs beat --every 30s"
    """
    from flylogs.beats import beat_line, new_boot
    from flylogs.cli.follow import OUTPUT_HINT
    from flylogs.render.console import Environment
    from flylogs.render.output import open_output
    from flylogs.timestamps import parse_duration

    with Boundary() as boundary:
        period = parse_duration(every)
        if not period:
            raise UsageError(f"--every {every!r} is not a duration", hint="e.g. 30s, 1m, 200ms")
        env = Environment.from_process()
        out = open_output(env.stdout)
        boot = new_boot()

        async def main(stop: asyncio.Future[Any]) -> None:
            seq, start = 0, time.monotonic()
            while count is None or seq < count:
                out.write((beat_line(seq, time.time_ns(), boot) + "\n").encode())
                out.flush()
                if out.broken:
                    return
                seq += 1
                if count is not None and seq >= count:
                    return
                due = start + seq * period / 1e9  # on a grid: no drift over a day
                wait = max(0.0, due - time.monotonic())
                done, _ = await asyncio.wait({stop}, timeout=wait)
                if done:
                    return

        try:
            boundary.run(main)
        finally:
            out.close(timeout=2.0)
        if out.failed:
            raise OutputError(out.failed, hint=OUTPUT_HINT)
        if out.broken:
            silence_stdout()
        raise typer.Exit(ExitCode.OK)
