"""Which way to the log stream (`--transport`), and the way through flyctl's agent.

`auto`, like `fly logs`: a server given (flag, env, config) or a Fly Machine (`FLY_MACHINE_ID`) means
straight to NATS; else flyctl's agent when its socket is there or `fly` can start it; else polling
Fly's logs API when apps are named and a token is known; else straight to NATS (whose failure then
names the other ways). Also: the org from the app (Machines API), and whether to start on the API
and hand over to NATS.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from flylogs.errors import AuthError, UnreachableError, UsageError
from flylogs.session.plan import PollSpec, TailPlan
from flylogs.settings.choices import Transport
from flylogs.settings.origin import Origin, Source
from flylogs.settings.resolve import Settings
from flylogs.source.agent import Agent, AgentError, Relay, ensure_running, socket_path
from flylogs.source.flyapi import ApiSpec
from flylogs.source.nats import ConnectOptions

AGENT_HINT = (
    "flyctl's agent keeps the WireGuard tunnel `fly logs` uses: is flyctl installed and logged in "
    "(`fly auth whoami`)? Start it with `fly agent start`; or pass --transport nats --server URL"
)


def polling(
    settings: Settings, apps: tuple[str, ...], regions: tuple[str, ...], instances: tuple[str, ...]
) -> PollSpec:
    """`--transport api`: the apps and a token are needed (the API is per app)."""
    if not apps or not settings.token:
        raise UsageError(
            "--transport api polls Fly's logs API per app, with a token",
            hint="name the app(s) and log in with flyctl (or set FLYLOGS_TOKEN)",
        )
    return PollSpec(ApiSpec(apps, settings.token, settings.api_url), regions, instances)


def bridges(settings: Settings, way: Transport, apps: tuple[str, ...], plan: TailPlan) -> bool:
    """Start on the logs API while NATS comes up (`auto`, apps named, a token, Fly's own stream,
    following from now): the recent lines show within a second, as with `fly logs`."""
    return (
        settings.transport is Transport.AUTO
        and way in (Transport.AGENT, Transport.NATS)
        and bool(apps)
        and settings.token is not None
        and settings.origins["servers"].source is Source.DEFAULT
        and plan.follow
        and plan.since_ns is None
    )


def fly_binary() -> str | None:
    return shutil.which("fly") or shutil.which("flyctl")


def choose(settings: Settings, env: Mapping[str, str], home: Path, apps: tuple[str, ...] = ()) -> Transport:
    if settings.transport is not Transport.AUTO:
        return settings.transport
    if settings.origins["servers"].source is not Source.DEFAULT or env.get("FLY_MACHINE_ID"):
        return Transport.NATS
    if socket_path(env, home).exists() or fly_binary() is not None:
        return Transport.AGENT
    if settings.token and apps:
        return Transport.API
    return Transport.NATS


@dataclass
class AgentRoute:
    """The connection options through a relay, and the coroutines that open and close it."""

    connect: ConnectOptions
    start: Callable[[Callable[[str], None]], Coroutine[Any, Any, object]]
    keep: Callable[[Any], Coroutine[Any, Any, object]]


def org_from_apps(
    apps: tuple[str, ...], settings: Settings, env: Mapping[str, str], say: Callable[[str], None]
) -> tuple[Settings, str]:
    """With apps named, no org given (flag, env, config) and Fly's own stream (no --server), the org
    and network of the apps, from the Machines API, as `fly logs` finds them. Apps of different orgs
    are a usage error; an API that cannot be reached leaves the org as it was, and says so."""
    if not apps or not settings.token or settings.origins["org"].source is not Source.DEFAULT:
        return settings, ""
    if settings.origins["servers"].source is not Source.DEFAULT:  # a server of one's own: no Fly lookup
        return settings, ""
    from flylogs.source.machines import DEFAULT_MACHINES_URL, AppInfo, MachinesApiError, lookup_app

    base = env.get("FLY_FLAPS_BASE_URL") or DEFAULT_MACHINES_URL
    found: list[AppInfo] = []
    for app in apps:
        try:
            found.append(lookup_app(app, settings.token, base))
        except MachinesApiError as exc:
            if exc.status == 404:
                raise UsageError(
                    f"no app {app!r} on Fly ({exc})", hint="check the name: fly apps list"
                ) from None
            if exc.status in (401, 403):
                raise AuthError(f"{exc}: the token may not read app {app!r}", hint=_REFUSED_HINT) from None
            say(f"flylogs: could not look up the org of {app} ({exc}); using org {settings.org}")
            return settings, ""
    orgs = {info.org for info in found}
    if len(orgs) > 1:
        listed = ", ".join(f"{info.name} ({info.org})" for info in found)
        raise UsageError(
            f"the apps belong to different orgs: {listed}", hint="follow one org's apps per call"
        )
    origins = {**settings.origins, "org": Origin(Source.MACHINES_API, apps[0])}
    return replace(settings, org=found[0].org, origins=origins), found[0].network


_REFUSED_HINT = "create a read-only token with `fly tokens create readonly <org>`, or log in with flyctl"


def through_agent(settings: Settings, env: Mapping[str, str], home: Path, network: str = "") -> AgentRoute:
    path = socket_path(env, home)
    agent = Agent(path, token=settings.token)
    relay = Relay(agent, settings.org, network)
    via = f"flyctl's agent (org {settings.org})"

    async def start(say: Callable[[str], None]) -> None:
        try:
            if not await ensure_running(path, fly_binary()):
                raise UnreachableError(f"flyctl's agent is not running ({path}: no socket)", AGENT_HINT)
            tunnel = await relay.start()
        except AgentError as exc:
            await relay.close()
            raise UnreachableError(f"cannot reach the log stream through {via}: {exc}", AGENT_HINT) from None
        except BaseException:
            await relay.close()
            raise
        say(f"via flyctl's agent (org {settings.org}, nats://{tunnel.nats})")

    async def keep(done: Any) -> None:
        await done.wait()
        await relay.close()

    connect = ConnectOptions(
        (relay.url,),
        settings.org,
        settings.token,
        settings.wait,
        stall_timeout=settings.stall_timeout,
        seeds_only=True,
        via=via,
    )
    return AgentRoute(connect, start, keep)
