"""The way through flyctl's agent, as flyctl's client takes it (`agent/client.go`, `agent/remote.go`).

Owns: the agent's name for the org (`agent_org`), the tokens `set-token` sends (`agent_tokens`), and
the route's lifecycle (`through_agent`): ping or `fly agent start`, `establish` waited for as long as
it takes, probe, and the loopback relay nats-py connects to. Must not: print (what it says goes to
`say`), or read the process environment (it arrives).
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
from collections.abc import Awaitable, Callable, Coroutine, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from flylogs.errors import UnreachableError
from flylogs.settings.origin import Source
from flylogs.settings.resolve import Settings
from flylogs.settings.tokens import TokenKeeper
from flylogs.source.agent import Agent, AgentError, TokenArgs, ensure_running, socket_path
from flylogs.source.nats import ConnectOptions
from flylogs.source.relay import Relay

T = TypeVar("T")
PERSONAL = "personal"  # the web slug of every user's personal org: never a NATS user
AGENT_HINT = (
    "flyctl's agent keeps the WireGuard tunnel `fly logs` uses: is flyctl installed and logged in "
    "(`fly auth whoami`)? Start it with `fly agent start`; or pass --transport nats --server URL"
)


def fly_binary() -> str | None:
    return shutil.which("fly") or shutil.which("flyctl")


@dataclass
class AgentRoute:
    """The connection options through a relay, and the coroutines that open and close it."""

    connect: ConnectOptions
    start: Callable[[Callable[[str], None]], Coroutine[Any, Any, object]]
    keep: Callable[[Any], Coroutine[Any, Any, object]]


def agent_tokens(settings: Settings, tokens: TokenKeeper) -> TokenArgs:
    """`set-token`'s arguments as flyctl's client sends them: `cfg <path>` for flyctl's own file (the
    agent reads it again when flyctl rewrites it), `str <every token>` for any other token."""
    origin = settings.origins["token"]
    if origin.source is Source.FLYCTL and origin.detail:
        return lambda: ("cfg", origin.detail)
    return lambda: ("str", tokens.token) if tokens.token else None


def agent_org(raw: str, tokens: TokenKeeper, orgs_url: str, say: Callable[[str], None]) -> str:
    """The agent's name for the org whose raw slug is `raw` (flyctl's `BringUpAgentOrgSlug`):
    `personal` for a personal org. Fly's organizations endpoint is asked; when it cannot answer, the
    raw slug is tried (right for every org but a personal one), and that is said."""
    from flylogs.source.orgs import OrgApiError, names_of_raw

    if raw == PERSONAL or not tokens.token:
        return raw
    try:
        return names_of_raw(raw, tokens.token, orgs_url).web
    except OrgApiError as exc:
        if exc.status == 401 and tokens.refused():
            with contextlib.suppress(OrgApiError):
                return names_of_raw(raw, tokens.token or "", orgs_url).web
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
    path = socket_path(env, home, settings.agent_socket)
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
            known.append(await asyncio.to_thread(agent_org, raw, tokens, settings.orgs_url, said.append))
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
