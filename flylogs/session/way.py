"""The way to the log stream, below the CLI: which one (`--transport`), and everything it needs.

`auto`, like `fly logs`: a server given (flag, env, config) or a Fly Machine (`FLY_MACHINE_ID`) means
straight to NATS; else flyctl's agent when its socket is there or `fly` can start it; else polling
Fly's logs API when apps are named and a token is known; else straight to NATS (whose failure then
names the other ways). `find_way` builds the typed `Way` every command (tail, watch, check, doctor)
takes: the org from the app (Machines API) and its two names, the connection options, the history
and polling specs, the agent route's lifecycle, and whether to start on the API and hand over to
NATS. A new transport is one adapter in `source/` plus its branch in `find_way`.
Must not: print (what it says goes to `say`), or read the process environment (it arrives).
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flylogs.errors import AuthError, UsageError
from flylogs.session.agent_way import PERSONAL, fly_binary, through_agent
from flylogs.session.plan import PollSpec, TailPlan
from flylogs.settings.choices import Transport
from flylogs.settings.origin import Origin, Source
from flylogs.settings.resolve import Settings
from flylogs.settings.tokens import TokenKeeper
from flylogs.source.agent import socket_path
from flylogs.source.flyapi import ApiSpec
from flylogs.source.nats import ConnectOptions

if TYPE_CHECKING:
    from flylogs.source.machines import MachineStates


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
        and not settings.own_server
        and plan.follow
        and plan.since_ns is None
    )


def choose(settings: Settings, env: Mapping[str, str], home: Path, apps: tuple[str, ...] = ()) -> Transport:
    if settings.transport is not Transport.AUTO:
        return settings.transport
    if settings.own_server or env.get("FLY_MACHINE_ID"):
        return Transport.NATS
    if agent_socket(settings, env, home).exists() or fly_binary() is not None:
        return Transport.AGENT
    if settings.token and apps:
        return Transport.API
    return Transport.NATS


def agent_socket(settings: Settings, env: Mapping[str, str], home: Path) -> Path:
    """Where flyctl's agent listens (`config show`, `doctor`)."""
    return socket_path(env, home, settings.agent_socket)


def org_from_apps(
    apps: tuple[str, ...], settings: Settings, say: Callable[[str], None]
) -> tuple[Settings, str]:
    """With apps named and Fly's own stream (no --server), the org and network of the apps, from the
    Machines API, as `fly logs` finds them: the app's own org always (`FLY_ORG`, the config file and
    --org do not override it; an --org that names another org is said). The org is its *raw* slug,
    the NATS user. Apps of different orgs are a usage error; an API that cannot be reached leaves the
    org as it was, and says so."""
    if not apps or not settings.token:
        return settings, ""
    if settings.own_server:  # a server of one's own: no Fly lookup
        return settings, ""
    from flylogs.source.machines import AppInfo, MachinesApiError, lookup_app

    base = settings.machines_url
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


def nats_user(settings: Settings, say: Callable[[str], None]) -> Settings:
    """`personal` (typed, or the default) names no NATS user: Fly's stream wants the personal org's
    raw slug. Asked of Fly's organizations endpoint on Fly's own stream; said when it cannot be."""
    if settings.org != PERSONAL or not settings.token:
        return settings
    if settings.own_server:  # a server of one's own: its own users
        return settings
    from flylogs.source.orgs import OrgApiError, names_of_typed

    try:
        names = names_of_typed(PERSONAL, settings.token, settings.orgs_url)
    except OrgApiError as exc:
        say(f"flylogs: could not ask Fly for the personal org's slug ({exc}); NATS user stays 'personal'")
        return settings
    origins = {**settings.origins, "org": Origin(Source.ORGS_API, f"{PERSONAL} is {names.raw}")}
    return replace(settings, org=names.raw, origins=origins)


_REFUSED_HINT = "create a read-only token with `fly tokens create readonly <org>`, or log in with flyctl"


Prepare = Callable[[Callable[[str], None]], Coroutine[Any, Any, object]]
Companion = Callable[[Any], Coroutine[Any, Any, object]]


@dataclass
class Way:
    """How the stream is reached, and all it takes: resolved settings (the org as the NATS user),
    the connection options, the history (`api`) and polling (`poll`) specs, a label for a person,
    and the route's lifecycle: `before(say)` prepares it, `beside(done)` runs alongside until done."""

    settings: Settings
    transport: Transport
    apps: tuple[str, ...]
    connect: ConnectOptions
    tokens: TokenKeeper
    api: ApiSpec | None = None
    poll: PollSpec | None = None
    label: str = "NATS"
    before: Prepare | None = None
    beside: Companion | None = None

    def bridge_for(
        self, plan: TailPlan, regions: tuple[str, ...], instances: tuple[str, ...]
    ) -> PollSpec | None:
        """The logs API to show lines from while NATS comes up, when `plan` wants one (see `bridges`)."""
        if not bridges(self.settings, self.transport, self.apps, plan):
            return None
        return polling(self.settings, self.apps, regions, instances, self.tokens)


def find_way(
    settings: Settings,
    apps: tuple[str, ...],
    env: Mapping[str, str],
    home: Path,
    tokens: TokenKeeper,
    say: Callable[[str], None],
    *,
    history: bool = True,
    regions: tuple[str, ...] = (),
    instances: tuple[str, ...] = (),
    say_way: bool = True,
) -> Way:
    """The way for these settings and apps. `history` False: no history source (nothing to read back
    or fill); `say_way` False: polling is not announced (a check reads history and may never poll)."""
    settings, network = org_from_apps(apps, settings, say)
    api = None
    if history and settings.backfill and not settings.stream and settings.token and apps:
        api = ApiSpec(apps, settings.token, settings.api_url, tokens=tokens)
    transport = choose(settings, env, home, apps)
    if transport is not Transport.API:  # the NATS user: `personal` is no user, its raw slug is
        settings = nats_user(settings, say)
    connect = ConnectOptions(
        settings.servers, settings.org, settings.token, settings.wait,
        stall_timeout=settings.stall_timeout, tokens=tokens,
    )  # fmt: skip
    way = Way(settings, transport, apps, connect, tokens, api)
    if transport is Transport.AGENT:
        route = through_agent(settings, env, home, network, tokens)
        way.connect, way.label, way.before, way.beside = (
            route.connect,
            "flyctl's agent",
            route.start,
            route.keep,
        )
    elif transport is Transport.API:
        way.poll = polling(settings, apps, regions, instances, tokens)
        way.label = "Fly's logs API"
        if say_way:
            say(f"flylogs: via Fly's logs API, polling (org {settings.org}); slower than NATS")
    return way


def machine_states(way: Way) -> MachineStates | None:
    """The Machines API's poller for `watch` and `check`: apps named, a token, and Fly's API (its
    own base, or Fly's stream); None when it is not to be asked (`--no-machines`)."""
    from flylogs.source.machines import MachineStates

    settings = way.settings
    chosen = settings.origins["machines_url"].source is not Source.DEFAULT  # its own base: asked
    if not (settings.machines and way.apps and settings.token and (chosen or not settings.own_server)):
        return None
    return MachineStates(way.apps, settings.token, settings.machines_url, tokens=way.tokens)
