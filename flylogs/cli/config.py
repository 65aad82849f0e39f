"""`flylogs config show|path`: the effective settings, each with its origin, from the spec table."""

from __future__ import annotations

import os
from pathlib import Path

import typer

from flylogs.cli.app import config_app
from flylogs.cli.boundary import Boundary
from flylogs.cli.options import CONFIG, ConfigOpt, command, settings_params
from flylogs.cli.values import TailOptions
from flylogs.settings.resolve import Settings
from flylogs.settings.spec import SPECS


def label(name: str) -> str:
    """A setting's name in `config show`: its key in the config file (the token's own name)."""
    spec = next(s for s in SPECS if s.name == name)
    return spec.key if spec.in_config else spec.name


@command(config_app, "show", (*settings_params(*(s.name for s in SPECS)), CONFIG))
def config_show(options: TailOptions) -> None:
    """The effective settings and where each came from: flag, env, config file, keyring, flyctl, default."""
    with Boundary() as boundary:
        settings = boundary.settings(options.flags)
        path = settings.config_path
        rows: list[tuple[str, str, object]] = [
            (label(s.name), settings.shown(s.name), settings.origins[s.name]) for s in SPECS
        ]
        rows.append(
            ("config", str(path) + ("" if path.exists() else " (absent)"), settings.origins["config"])
        )
        rows.append(_way(settings))
        rows.append(_org_names(settings))
        width = max(len(key) for key, _, _ in rows)
        for key, value, origin in rows:
            typer.echo(boundary.redact(f"{key:<{width}} {value}  [{origin}]"))


def _way(settings: Settings) -> tuple[str, str, object]:
    """Which way `tail` would take to the logs, as `--transport` decides it (no app named)."""
    from flylogs.session import way as ways
    from flylogs.settings.choices import Transport

    way = ways.choose(settings, os.environ, Path.home())
    what = {
        Transport.AGENT: f"flyctl's agent ({ways.agent_socket(settings, os.environ, Path.home())})",
        Transport.NATS: "straight to " + settings.shown("servers"),
        Transport.API: "polling Fly's logs API",
    }.get(way, str(way))
    why = "--transport" if settings.transport is not Transport.AUTO else "auto"
    return "way", f"{way}: {what}", f"chosen by {why}; with apps named and a token, auto starts on the API"


def _org_names(settings: Settings) -> tuple[str, str, object]:
    """The org's two names: the NATS user is its raw slug, flyctl's agent knows it by its web slug
    (`personal` for a personal org). Said without asking Fly (`config show` makes no network call)."""
    org = settings.org
    if settings.own_server:
        return "org-names", f"NATS user {org}", "as given, for a server of your own"
    if org == "personal":
        text = "agent org personal; NATS user: the personal org's raw slug, asked of Fly when connecting"
    else:
        text = f"NATS user {org}; agent org: its web slug, asked of Fly when connecting"
    return "org-names", text, "an app named uses its own org, from the Machines API"


@config_app.command("path")
def config_path(config: ConfigOpt = None) -> None:
    """Print the config file's path (it may not exist yet)."""
    from flylogs.settings.config_file import config_file_path

    path, _origin = config_file_path(config, os.environ, Path.home())
    typer.echo(str(path))
