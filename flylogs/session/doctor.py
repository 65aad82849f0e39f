"""`flylogs doctor`'s probes: every step between this machine and the logs, through the same objects
the commands use (the way's functions, the agent and relay adapters, the NATS source, the logs API's
adapter), each with ✓ or ✗, its time and a hint. Exit 0 when at least one way to the logs works, 5
when none does, 4 when every failure was a refusal of the credentials (`verdict`).
Must not: print (the CLI renders the report), or read the process environment (it arrives).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flylogs.core.clock import describe_offset
from flylogs.errors import AuthError, ExitCode, FlylogsError
from flylogs.session.agent_way import fly_binary
from flylogs.session.way import nats_user, org_from_apps
from flylogs.settings.resolve import Settings
from flylogs.settings.tokens import TokenKeeper


@dataclass
class Check:
    check: str
    ok: bool
    seconds: float
    detail: str
    hint: str | None = None
    refused: bool = False  # failed because the credentials were refused


class Doctor:
    """The probe runner: each step's verdict, time and hint, in order; what it says is redacted."""

    def __init__(self, redact: Callable[[str], str] = lambda text: text) -> None:
        self.checks: list[Check] = []
        self._redact = redact

    async def run(self, name: str, step: Callable[[], Awaitable[str]], hint: str | None = None) -> bool:
        started = time.monotonic()
        try:
            detail, ok, refused = await step(), True, False
        except Exception as exc:  # every failure is a finding, said in the report
            detail, ok, refused = _describe(exc), False, isinstance(exc, AuthError)
        check = Check(name, ok, round(time.monotonic() - started, 3), self._redact(detail))
        if not ok:
            check.hint = _hint(hint, refused)
            check.refused = refused
        self.checks.append(check)
        return ok

    def skip(self, name: str, why: str) -> None:
        self.checks.append(Check(name, False, 0.0, f"skipped: {why}"))


def _hint(hint: str | None, refused: bool) -> str | None:
    if refused:
        return (
            "the credentials were refused: create a read-only token with `fly tokens create readonly <org>`"
        )
    return hint


def _describe(exc: BaseException) -> str:
    if isinstance(exc, FlylogsError):
        return exc.message
    return str(exc) or type(exc).__name__


async def examine(
    report: Doctor,
    settings: Settings,
    apps: tuple[str, ...],
    env: Mapping[str, str],
    tokens: TokenKeeper,
    home: Path,
) -> None:
    """Every step between this machine and the logs, in order, as `tail` takes them: the token, the
    Machines API and the app's org, the personal org's raw slug, flyctl's agent, NATS through each
    way that can be tried, Fly's logs API and the clock."""
    token = settings.token

    async def token_step() -> str:
        if token is None:
            raise FlylogsError("no token found", "log in with flyctl, or `flylogs auth login`")
        return f"{settings.token_summary()} from {settings.origins['token']}"

    await report.run("token", token_step, "log in with flyctl (`fly auth login`) or set FLYLOGS_TOKEN")
    network = ""
    if apps and token:

        async def machines_step() -> str:
            nonlocal settings, network
            settings, network = org_from_apps(apps, settings, lambda _: None)
            return f"{apps[0]} is in org {settings.org} (its raw slug: the NATS user)" + (
                f", network {network}" if network else ""
            )

        await report.run("machines api", machines_step, "check the app's name and the network")
    else:
        report.skip("machines api", "name an app and have a token")
        if token and settings.org == "personal":

            async def personal_step() -> str:
                nonlocal settings
                said: list[str] = []
                settings = nats_user(settings, said.append)
                if said:
                    raise FlylogsError(said[0].removeprefix("flylogs: "))
                return f"the personal org's raw slug is {settings.org} (the NATS user)"

            await report.run(
                "nats user", personal_step, "check the network, or --orgs-url (FLY_UIEX_BASE_URL)"
            )
    await _agent_checks(report, settings, network, fly_binary(), tokens, env, home)
    if settings.own_server or env.get("FLY_MACHINE_ID"):
        await _nats_check(report, "nats direct", settings.servers, settings, apps)
    else:
        report.skip("nats direct", "no --server, and not inside a Fly Machine")
    if apps and token:
        await _api_checks(report, settings, apps[0], tokens)
    else:
        report.skip("logs api", "name an app and have a token")


WAYS = ("nats via agent", "nats direct", "logs api")


def verdict(checks: list[Check]) -> int:
    ways = [c for c in checks if c.check in WAYS and not c.detail.startswith("skipped")]
    if any(c.ok for c in ways):
        return ExitCode.OK
    failures = [c for c in checks if not c.ok and not c.detail.startswith("skipped")]
    if failures and all(c.refused for c in failures if c.check in WAYS) and any(c.refused for c in failures):
        return ExitCode.AUTH
    return ExitCode.UNREACHABLE


async def _agent_checks(
    report: Doctor,
    settings: Any,
    network: str,
    fly: str | None,
    tokens: TokenKeeper,
    env: Mapping[str, str],
    home: Path,
) -> None:
    """The way `tail` takes through flyctl's agent, step by step, with the same functions: the
    agent's name for the org, the socket, ping, establish, probe, and NATS through a relay."""
    from flylogs.session.agent_way import agent_org, agent_tokens
    from flylogs.source.agent import Agent, AgentError, socket_path
    from flylogs.source.relay import Relay

    path = socket_path(env, home, settings.agent_socket)
    raw, web = settings.org, [settings.org]
    said: list[str] = []

    async def org_step() -> str:
        web[0] = await asyncio.to_thread(agent_org, raw, tokens, settings.orgs_url, said.append)
        if said:
            raise FlylogsError(said[0].removeprefix("flylogs: "))
        if web[0] == raw:
            return f"org {raw} is {raw} to the agent too"
        return f"org {raw} is {web[0]} to the agent (establish {web[0]}; NATS user {raw})"

    if settings.token:
        await report.run("agent org", org_step, "check the network, or --orgs-url (FLY_UIEX_BASE_URL)")
    else:
        report.skip("agent org", "no token")

    async def socket_step() -> str:
        if path.exists():
            return str(path)
        if fly:
            raise FlylogsError(f"no agent socket at {path} ({fly} could start one: `fly agent start`)")
        raise FlylogsError(f"no agent socket at {path}, and no fly or flyctl on PATH")

    hint = "install flyctl and log in, then `fly agent start`"
    if not await report.run("agent socket", socket_step, hint):
        for name in ("agent ping", "establish", "probe", "nats via agent"):
            report.skip(name, "no agent")
        return
    agent = Agent(path, tokens=agent_tokens(settings, tokens))

    async def ping_step() -> str:
        try:
            reply = await agent.ping()
        except AgentError as exc:
            if "nobody listening" in str(exc):
                raise FlylogsError(f"{exc}: a socket left behind by an agent that is gone") from None
            raise
        tokens_said = " (it refused our tokens: it uses its own)" if agent.refused_tokens else ""
        return f"flyctl agent {reply.get('Version', '?')} (pid {reply.get('PID', '?')}){tokens_said}"

    if not await report.run("agent ping", ping_step, "start it again: `fly agent start` (tail does)"):
        return
    tunnel: list[Any] = []

    async def establish_step() -> str:
        tunnel.append(await agent.establish(web[0], network))
        return f"tunnel to org {web[0]}, stream at nats://{tunnel[0].nats}"

    if not await report.run("establish", establish_step, "check the org: `fly orgs list`"):
        return

    async def probe_step() -> str:
        await agent.probe(tunnel[0], attempts=5)
        return "the tunnel passes traffic"

    if not await report.run("probe", probe_step, "the tunnel does not pass traffic yet: try again"):
        return
    relay = Relay(agent, web[0], network)
    await relay.start()
    try:
        await _nats_check(
            report, "nats via agent", (relay.url,), settings, (), via=f"nats://{tunnel[0].nats}"
        )
    finally:
        await relay.close()


async def _nats_check(
    report: Doctor,
    name: str,
    servers: tuple[str, ...],
    settings: Any,
    apps: tuple[str, ...],
    via: str | None = None,
) -> None:
    from flylogs.source.nats import ConnectOptions, NatsSource

    subject = f"logs.{apps[0]}.>" if apps else "logs.>"
    options = ConnectOptions(
        servers, settings.org, settings.token, connect_timeout=3.0, via=via, seeds_only=True
    )

    async def step() -> str:
        source = NatsSource(options, [subject], lambda _s, _d: None, lambda _e: None)
        await source.start()
        server = source.server
        await source.close()
        return f"connected to {server} as NATS user {settings.org}; subscription to {subject} accepted"

    await report.run(name, step, "see `flylogs tail --help` for the ways to the stream")


CLOCK_OFF_NS = 5_000_000_000  # a clock this far from Fly's is a step that failed


async def _api_checks(report: Doctor, settings: Any, app_name: str, tokens: TokenKeeper) -> None:
    """The logs API through its adapter (the spec history and polling use), and the clock against
    its `Date`."""
    from flylogs.source.flyapi import ApiError, ApiSpec, api_offset

    spec = ApiSpec((app_name,), settings.token, settings.api_url, tokens=tokens)
    offsets: list[tuple[int, int]] = []

    async def step() -> str:
        try:
            offset = await api_offset(spec, app_name)
        except ApiError as exc:
            if exc.status in (401, 403):
                raise AuthError(str(exc)) from None
            raise FlylogsError(str(exc)) from None
        if offset is not None:
            offsets.append(offset)
        return f"{settings.api_url} answers for {app_name}"

    if await report.run("logs api", step, "check the network, or --api-url"):

        async def clock_step() -> str:
            if not offsets:
                raise FlylogsError("the API sent no Date header")
            [(offset, within)] = offsets
            said = f"Fly's clock is {describe_offset(offset)} (±{within / 1e9:.1f}s, from the API's Date)"
            if abs(offset) > CLOCK_OFF_NS:
                # flylogs copes (gap windows, backfills and --since are put in Fly's time), but a
                # clock this far off misleads everything else on this machine.
                raise FlylogsError(f"{said}; flylogs reads its windows in Fly's time")
            return said

        await report.run("clock", clock_step, "synchronise the clock (NTP)")
