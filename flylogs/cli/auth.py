"""`flylogs auth login|logout|status`: the token in the keyring."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from flylogs.cli.app import auth_app
from flylogs.cli.boundary import Boundary
from flylogs.cli.options import CONFIG, ConfigOpt, command, settings_params
from flylogs.cli.values import TailOptions
from flylogs.errors import ExitCode

OrgOpt = Annotated[
    str | None, typer.Option("--org", help="Org slug the token belongs to. Default: the resolved org.")
]


@auth_app.command("login")
def auth_login(org: OrgOpt = None, config: ConfigOpt = None) -> None:
    """Store a token in the system keyring (read hidden from a prompt, or from stdin).

    \b
    Create a read-only token first:  fly tokens create readonly <org>
      flylogs auth login --org my-org
      fly tokens create readonly my-org | flylogs auth login --org my-org
    """
    from flylogs import credentials
    from flylogs.settings.resolve import Flags
    from flylogs.settings.tokens import StoredCredentials, normalize_token

    with Boundary() as boundary:
        if org is None:
            org = boundary.settings(Flags(config=config)).org
        if sys.stdin is not None and sys.stdin.isatty():
            raw = typer.prompt(
                f"Fly token for org {org!r} (input hidden)", hide_input=True, prompt_suffix=": "
            )
        else:
            raw = sys.stdin.readline() if sys.stdin is not None else ""
        token = normalize_token(raw)
        if not token:
            boundary.fail(
                "no token given", "paste a token from `fly tokens create readonly <org>`", ExitCode.USAGE
            )
        boundary.hide(token)
        credentials.store(StoredCredentials(org=org, token=token))
        boundary.say(f"Stored a token for org {org!r} in the keyring ({credentials.backend_name()}).")


@auth_app.command("logout")
def auth_logout() -> None:
    """Remove the stored token from the keyring."""
    from flylogs import credentials

    with Boundary() as boundary:
        removed = credentials.delete()
        boundary.say("Removed the stored token." if removed else "No stored token to remove.")


@command(auth_app, "status", (*settings_params("org", "token"), CONFIG))
def auth_status(options: TailOptions) -> None:
    """Which org and token flylogs would use, and where each came from (the token redacted)."""
    with Boundary() as boundary:
        settings = boundary.settings(options.flags)
        typer.echo(f"org:    {settings.org}  [{settings.origins['org']}]")
        typer.echo(f"token:  {settings.token_summary()}  [{settings.origins['token']}]")
        if settings.token is None:
            boundary.say(
                "hint: no token found; the server will decide whether to let you in. "
                "Store one with `flylogs auth login`."
            )
