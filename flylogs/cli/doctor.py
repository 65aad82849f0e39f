"""`flylogs doctor [APP]`: every step between this machine and the logs, checked in order.

Each check says ✓ or ✗, how long it took, and what to do when it failed: the token, the Machines
API and the app's org, flyctl's agent (socket, ping, establish, probe), NATS through each way that
can be tried (connect, auth, a test subscription), Fly's logs API, and the clock against the API's
`Date`. Exit 0 when at least one way to the logs works, 5 when none does, 4 when every failure was
a refusal of the credentials.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict
from pathlib import Path
from typing import Any

import typer

from flylogs.cli.app import app
from flylogs.cli.boundary import Boundary
from flylogs.cli.options import CONFIG, JSON, SELECTION, command, settings_params
from flylogs.cli.values import TailOptions
from flylogs.errors import ExitCode
from flylogs.settings.choices import OutputMode

PARAMS = (SELECTION[0], *settings_params("servers", "org", "token", "api_url"), CONFIG, JSON)


@command(app, "doctor", PARAMS)
def doctor(options: TailOptions) -> None:
    """Check every step to the logs, in order: token, Machines API, flyctl's agent, NATS, logs API.

    APP: check the way to this app's logs (its org comes from the Machines API).
    """
    from flylogs.session.doctor import Doctor, examine, verdict

    apps = options.selection.apps
    with Boundary() as boundary:
        settings = boundary.settings(options.flags)
        report = Doctor(boundary.redact)

        async def main(_stop: Any) -> None:
            await examine(report, settings, apps, os.environ, boundary.tokens, Path.home())

        boundary.run(main)
        code = verdict(report.checks)
        if settings.output is OutputMode.JSON:  # --json: one document, for scripts
            typer.echo(json.dumps({"ok": code == ExitCode.OK, "checks": [asdict(c) for c in report.checks]}))
        else:
            for c in report.checks:
                mark = "✓" if c.ok else ("-" if c.detail.startswith("skipped") else "✗")
                typer.echo(f"{mark} {c.check:<14} {c.detail}  ({c.seconds:.2f}s)")
                if c.hint:
                    typer.echo(f"  hint: {c.hint}")
        raise typer.Exit(code)
