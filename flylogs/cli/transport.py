"""Which way to the log stream (`--transport`), and the way through flyctl's agent.

`auto`, like `fly logs`: a server given (flag, env, config) or a Fly Machine (`FLY_MACHINE_ID`) means
straight to NATS; else flyctl's agent when its socket is there or `fly` can start it; else polling
Fly's logs API when apps are named and a token is known; else straight to NATS (whose failure then
names the other ways). Also: the org from the app (Machines API), and whether to start on the API
and hand over to NATS.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
from collections.abc import Awaitable, Callable, Coroutine, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, TypeVar

from flylogs.errors import AuthError, UnreachableError, UsageError
from flylogs.session.plan import PollSpec, TailPlan
from flylogs.settings.choices import Transport
from flylogs.settings.origin import Origin, Source
from flylogs.settings.resolve import Settings
from flylogs.settings.tokens import TokenKeeper
from flylogs.source.agent import Agent, AgentError, TokenArgs, ensure_running, socket_path
from flylogs.source.flyapi import ApiSpec
from flylogs.source.nats import ConnectOptions
from flylogs.source.relay import Relay

T = TypeVar("T")
PERSONAL = "personal"  # the web slug of every user's personal org: never a NATS user
AGENT_HINT = (
    "flyctl's agent keeps the WireGuard tunnel `fly logs` uses: is flyctl installed and logged in "
    "(`fly auth whoami`)? Start it with `fly agent start`; or pass --transport nats --server URL"
)


def polling(
    settings: Settings,
    apps: tuple[str, ...],
    regions: tuple[str, ...],
    instances: tuple[str, ...],
    tokens: TokenKeeper | None = None,
) -> PollSpec:
    """`--transport api`: the apps and a token are needed (the API is per app)."""
    if not apps or not settings.token:
        raise UsageError(
            "--transport api polls Fly's logs API per app, with a token",
            hint="name the app(s) and log in with flyctl (or set FLYLOGS_TOKEN)",
        )
    return PollSpec(ApiSpec(apps, settings.token, settings.api_url, tokens=tokens), regions, instances)


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
    """With apps named and Fly's own stream (no --server), the org and network of the apps, from the
    Machines API, as `fly logs` finds them: the app's own org always (`FLY_ORG`, the config file and
    --org do not override it; an --org that names another org is said). The org is its *raw* slug,
    the NATS user. Apps of different orgs are a usage error; an API that cannot be reached leaves the
    org as it was, and says so."""
    if not apps or not settings.token:
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
    raw, given = found[0].org, settings.origins["org"]
    if given.source is Source.FLAG and settings.org not in (raw, PERSONAL):
        say(f"flylogs: {apps[0]} is in org {raw}: following it there (--org {settings.org} does not apply)")
    origins = {**settings.origins, "org": Origin(Source.MACHINES_API, apps[0])}
    return replace(settings, org=raw, origins=origins), found[0].network


def nats_user(settings: Settings, env: Mapping[str, str], say: Callable[[str], None]) -> Settings:
    """`personal` (typed, or the default) names no NATS user: Fly's stream wants the personal org's
    raw slug. Asked of Fly's organizations endpoint on Fly's own stream; said when it cannot be."""
    if settings.org != PERSONAL or not settings.token:
        return settings
    if settings.origins["servers"].source is not Source.DEFAULT:  # a server of one's own: its own users
        return settings
    from flylogs.source.orgs import OrgApiError, names_of_typed, uiex_url

    try:
        names = names_of_typed(PERSONAL, settings.token, uiex_url(env))
    except OrgApiError as exc:
        say(f"flylogs: could not ask Fly for the personal org's slug ({exc}); NATS user stays 'personal'")
        return settings
    origins = {**settings.origins, "org": Origin(Source.ORGS_API, f"{PERSONAL} is {names.raw}")}
    return replace(settings, org=names.raw, origins=origins)


_REFUSED_HINT = "create a read-only token with `fly tokens create readonly <org>`, or log in with flyctl"


def agent_tokens(settings: Settings, tokens: TokenKeeper) -> TokenArgs:
    """`set-token`'s arguments as flyctl's client sends them: `cfg <path>` for flyctl's own file (the
    agent reads it again when flyctl rewrites it), `str <every token>` for any other token."""
    origin = settings.origins["token"]
    if origin.source is Source.FLYCTL and origin.detail:
        return lambda: ("cfg", origin.detail)
    return lambda: ("str", tokens.token) if tokens.token else None


def agent_org(raw: str, tokens: TokenKeeper, env: Mapping[str, str], say: Callable[[str], None]) -> str:
    """The agent's name for the org whose raw slug is `raw` (flyctl's `BringUpAgentOrgSlug`):
    `personal` for a personal org. Fly's organizations endpoint is asked; when it cannot answer, the
    raw slug is tried (right for every org but a personal one), and that is said."""
    from flylogs.source.orgs import OrgApiError, names_of_raw, uiex_url

    if raw == PERSONAL or not tokens.token:
        return raw
    try:
        return names_of_raw(raw, tokens.token, uiex_url(env)).web
    except OrgApiError as exc:
        if exc.status == 401 and tokens.refused():
            with contextlib.suppress(OrgApiError):
                return names_of_raw(raw, tokens.token or "", uiex_url(env)).web
        say(f"flylogs: could not ask Fly for the agent's name of org {raw} ({exc}); trying {raw}")
        return raw


def through_agent(
    settings: Settings,
    env: Mapping[str, str],
    home: Path,
    network: str,
    tokens: TokenKeeper,
    quiet_after: float = 2.0,
) -> AgentRoute:
    """The way through flyctl's agent: the agent's org is the *web* slug (asked of Fly when first
    needed), the NATS user the raw one (`settings.org`). `establish` may take long (a new WireGuard
    peer): it is waited for, and after `quiet_after` seconds the wait is said."""
    path = socket_path(env, home)
    agent = Agent(path, tokens=agent_tokens(settings, tokens))
    raw = settings.org
    relay = Relay(agent, raw, network)
    known: list[str] = []  # the agent's name for the org, once asked

    async def start(say: Callable[[str], None]) -> None:
        if env.get("FLY_AGENT_ISOLATED"):
            raise UnreachableError(
                f"FLY_AGENT_ISOLATED is set: an agent started so serves only its own flyctl, and none "
                f"answers at {path}",
                "unset FLY_AGENT_ISOLATED (and run `fly agent start`), or pass --transport api",
            )
        if not known:
            said: list[str] = []  # said on the loop, not from the worker thread
            known.append(await asyncio.to_thread(agent_org, raw, tokens, env, said.append))
            for text in said:
                say(text)
        web = relay.org = known[0]
        relay.on_problem = lambda text: say(f"flylogs: {text}")  # a refused reconnect, in its words
        names = f"org {web}" if web == raw else f"agent org {web}, NATS user {raw}"
        via = f"flyctl's agent ({names})"
        try:
            if not await ensure_running(agent, fly_binary()):
                raise UnreachableError(f"flyctl's agent is not running ({path}: no answer)", AGENT_HINT)
            tunnel = await _said_if_slow(
                relay.start(), quiet_after,
                lambda: say(f"flylogs: setting up the WireGuard tunnel to org {web} through flyctl's agent "
                            "(a new peer can take a while; Fly's API is asked)"),
            )  # fmt: skip
        except AgentError as exc:
            raise UnreachableError(f"cannot reach the log stream through {via}: {exc}", AGENT_HINT) from None
        say(f"flylogs: via flyctl's agent ({names}, nats://{tunnel.nats})")

    async def keep(done: Any) -> None:
        await done.wait()
        await relay.close()

    connect = ConnectOptions(
        (relay.url,),
        raw,
        settings.token,
        settings.wait,
        stall_timeout=settings.stall_timeout,
        seeds_only=True,
        via=f"flyctl's agent (NATS user {raw})",
        tokens=tokens,
        explain=lambda: relay.problem,
    )
    return AgentRoute(connect, start, keep)


async def _said_if_slow(work: Awaitable[T], after: float, say: Callable[[], None]) -> T:
    task = asyncio.ensure_future(work)
    done, _ = await asyncio.wait({task}, timeout=after)
    if not done:
        say()
    return await task
