"""Resolution: every setting's value, once, with where it came from.

Precedence, for every row of the spec table: flag > environment > config file > default; the token
also looks in the keyring and then flyctl's config (never the config file), and the org takes the
keyring's when the token came from there. Must not: print, exit, or read the process environment
itself (it arrives as a mapping); the keyring arrives as a lookup function, consulted only when needed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from flylogs.errors import ConfigError, UsageError
from flylogs.settings.choices import ColorBy, ColorWhen, OnOff, Order, OutputMode, TimeMode, Transport
from flylogs.settings.config_file import config_file_path, load_config
from flylogs.settings.origin import Origin, Source
from flylogs.settings.spec import BY_NAME, SPECS, Setting
from flylogs.settings.tokens import (
    StoredCredentials,
    flyctl_config_path,
    normalize_token,
    read_flyctl_token,
    redact_token,
    redact_url,
    redact_webhook,
    server_problem,
)


class Flags:
    """The command-line values that take part in resolution, by setting name (None: not given)."""

    __slots__ = ("config", "values")

    def __init__(self, config: Path | None = None, **values: Any) -> None:
        unknown = set(values) - set(BY_NAME)
        if unknown:
            raise TypeError(f"not settings: {sorted(unknown)}")
        self.config = config
        self.values = {k: v for k, v in values.items() if v is not None and v != ()}

    def __repr__(self) -> str:
        shown = {k: ("***" if k == "token" else v) for k, v in self.values.items()}
        return f"Flags(config={self.config!r}, {shown})"


@dataclass(frozen=True, slots=True)
class Settings:
    """One field per row of the spec table (a test holds them together), plus where each came from."""

    servers: tuple[str, ...]
    transport: Transport
    org: str
    token: str | None = field(repr=False)
    output: OutputMode
    color: ColorWhen
    time: TimeMode | None
    color_by: ColorBy
    count: int | None
    stall_timeout: float
    wait: bool
    api_url: str
    stream: str | None
    backfill: bool
    since: str | None
    until: str | None
    tz: str | None
    format: str | None
    multiline: OnOff | None
    order: Order
    order_window: str
    machines_url: str
    orgs_url: str
    agent_socket: str | None
    silent_after: str
    heartbeat: str | None
    every: str
    errors_over: int | None
    on_alert: str | None
    webhook: str | None
    group_wait: str
    flap_window: str
    repeat_every: str | None
    quiet_hours: str | None
    state: str | None
    ping_url: str | None
    ping_every: str
    late_after: str
    machines: bool
    config_path: Path
    origins: Mapping[str, Origin]

    @property
    def own_server(self) -> bool:
        """A server was given (flag, environment, config file): not Fly's own stream, so no Fly
        lookup, its own users, its own URL's credentials."""
        return self.origins["servers"].source is not Source.DEFAULT

    def token_summary(self) -> str:
        return redact_token(self.token)

    def shown(self, name: str) -> str:
        """A setting's value as `config show` prints it (the token redacted)."""
        if name == "token":
            return self.token_summary()
        value = getattr(self, name)
        if name == "servers":
            return ", ".join(redact_url(s) for s in value)
        if name in ("api_url", "machines_url", "orgs_url"):
            return redact_url(value)
        if name == "webhook" and value:
            return redact_webhook(value)
        if value is None:
            return "none"
        if isinstance(value, bool):
            return "true" if value else "false"
        return str(getattr(value, "value", value))


SETTING_FIELDS = tuple(f.name for f in fields(Settings) if f.name not in ("config_path", "origins"))


def _pick(spec: Setting, flags: Flags, env: Mapping[str, str], config: Mapping[str, Any], path: Path) -> Any:
    """flag > environment > config file; (None, NONE) when none of them sets it."""
    if spec.name in flags.values:
        return flags.values[spec.name], Origin(Source.FLAG, spec.flag.split("/")[0])
    for name in spec.env:
        if env.get(name):
            return spec.from_env(name, env[name]), Origin(Source.ENV, name)
    if spec.name in config:
        return config[spec.name], Origin(Source.CONFIG, str(path))
    return None, Origin(Source.NONE)


def _check_servers(servers: tuple[str, ...], origin: Origin) -> None:
    """A server list nats-py could not use is refused here: it would spin in its connect loop."""
    problems = [p for p in map(server_problem, servers) if p] or ([] if servers else ["no server"])
    if not problems:
        return
    hint = f"{BY_NAME['servers'].flag}: {BY_NAME['servers'].describe()}"
    if origin.source is Source.CONFIG:
        raise ConfigError(f"{origin.detail}: 'server': {problems[0]}", hint)
    raise UsageError(f"{origin.detail}: {problems[0]}", hint)


def resolve(
    flags: Flags,
    env: Mapping[str, str],
    home: Path,
    keyring_lookup: Callable[[], StoredCredentials | None] = lambda: None,
) -> Settings:
    """Resolve every setting once. Raises ConfigError for an invalid config file or variable."""
    origins: dict[str, Origin] = {}
    config_path, origins["config"] = config_file_path(flags.config, env, home)
    config = load_config(config_path, required=origins["config"].source is not Source.DEFAULT)

    # The keyring holds both token and org, and is only consulted when needed: it may be slow.
    stored: list[StoredCredentials | None] = []

    def keyring() -> StoredCredentials | None:
        if not stored:
            stored.append(keyring_lookup())
        return stored[0]

    values: dict[str, Any] = {}
    for spec in sorted(SPECS, key=lambda s: s.name != "token"):  # the org may follow the token
        value, origin = _pick(spec, flags, env, config, config_path)
        if value is None and spec.name == "token":
            creds = keyring()
            if creds is not None:
                value, origin = creds.token, Origin(Source.KEYRING)
            else:
                path = flyctl_config_path(env, home)
                value = read_flyctl_token(path)
                origin = Origin(Source.FLYCTL, str(path)) if value else Origin(Source.NONE)
        elif value is None and spec.name == "org" and origins["token"].source is Source.KEYRING:
            creds = keyring()
            if creds is not None:
                value, origin = creds.org, Origin(Source.KEYRING)
        if value is None and spec.default is not None:
            value, origin = spec.default, Origin(Source.DEFAULT)
        if spec.name == "token":
            value = normalize_token(value)
        if spec.name == "servers":
            _check_servers(value, origin)
        values[spec.name], origins[spec.name] = value, origin
    # `server` is the config file's and the flag's name for `servers`.
    origins["server"] = origins["servers"]
    return Settings(**values, config_path=config_path, origins=origins)


def reread_token(
    flags: Flags,
    env: Mapping[str, str],
    home: Path,
    keyring_lookup: Callable[[], StoredCredentials | None] = lambda: None,
) -> str | None:
    """The token as its sources give it now (flyctl rewrites config.yml's while it runs), with the
    precedence of `resolve`; None when they give none or cannot be read."""
    try:
        return resolve(flags, env, home, keyring_lookup).token
    except (ConfigError, UsageError):
        return None
