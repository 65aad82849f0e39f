"""Which way to the log stream (`--transport`), and the way through flyctl's agent.

`auto`, like `fly logs`: a server given (flag, env, config) or a Fly Machine (`FLY_MACHINE_ID`) means
straight to NATS; else flyctl's agent when its socket is there or `fly` can start it; else straight
to NATS (whose failure then says what else to try).
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flylogs.errors import UnreachableError
from flylogs.settings.choices import Transport
from flylogs.settings.origin import Source
from flylogs.settings.resolve import Settings
from flylogs.source.agent import Agent, AgentError, Relay, ensure_running, socket_path
from flylogs.source.nats import ConnectOptions

AGENT_HINT = (
    "flyctl's agent keeps the WireGuard tunnel `fly logs` uses: is flyctl installed and logged in "
    "(`fly auth whoami`)? Start it with `fly agent start`; or pass --transport nats --server URL"
)


def fly_binary() -> str | None:
    return shutil.which("fly") or shutil.which("flyctl")


def choose(settings: Settings, env: Mapping[str, str], home: Path) -> Transport:
    if settings.transport is not Transport.AUTO:
        return settings.transport
    if settings.origins["servers"].source is not Source.DEFAULT or env.get("FLY_MACHINE_ID"):
        return Transport.NATS
    if socket_path(env, home).exists() or fly_binary() is not None:
        return Transport.AGENT
    return Transport.NATS


@dataclass
class AgentRoute:
    """The connection options through a relay, and the coroutines that open and close it."""

    connect: ConnectOptions
    start: Callable[[], Coroutine[Any, Any, object]]
    keep: Callable[[Any], Coroutine[Any, Any, object]]


def through_agent(
    settings: Settings, env: Mapping[str, str], home: Path, say: Callable[[str], None]
) -> AgentRoute:
    path = socket_path(env, home)
    agent = Agent(path, token=settings.token)
    relay = Relay(agent, settings.org)
    via = f"flyctl's agent (org {settings.org})"

    async def start() -> None:
        if not await ensure_running(path, fly_binary()):
            raise UnreachableError(f"flyctl's agent is not running ({path}: no socket)", AGENT_HINT)
        try:
            tunnel = await relay.start()
        except AgentError as exc:
            raise UnreachableError(f"cannot reach the log stream through {via}: {exc}", AGENT_HINT) from None
        say(f"flylogs: via flyctl's agent (org {settings.org}, nats://{tunnel.nats})")

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
