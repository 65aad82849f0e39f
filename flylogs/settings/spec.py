"""One spec per setting: the table from which the flags, resolution, config-file validation and
`flylogs config show` are all derived.

Each row says the setting's name (its attribute on `Settings`), its flag (whose name is also its key
in the config file: stern's convention), the environment variables that set it, its type, default
and help. Adding a setting is adding a row (and a field on `Settings`, which a test checks).
Must not: do I/O.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum, StrEnum
from typing import Any

from flylogs.errors import ConfigError
from flylogs.settings.choices import ColorBy, ColorWhen, OutputMode, TimeMode, Transport
from flylogs.timestamps import parse_duration

DEFAULT_SERVER = "nats://[fdaa::3]:4223"
DEFAULT_API_URL = "https://api.fly.io"
DEFAULT_ORG = "personal"

CONNECTION = "Connection"
OUTPUT = "Output"
HISTORY = "History and backfill"
ALERTS = "Alerts"


class Kind(StrEnum):
    TEXT = "text"
    TEXTS = "list of text"  # a URL or a list of them; comma-separated in the environment
    CHOICE = "choice"
    NUMBER = "number"
    COUNT = "count"  # a whole number
    SWITCH = "true or false"
    DURATION = "duration"  # kept as written (90s, 5m, 1h30m), checked where it is read


@dataclass(frozen=True, slots=True)
class Setting:
    name: str
    flag: str
    kind: Kind
    default: Any = None
    env: tuple[str, ...] = ()
    short: tuple[str, ...] = ()
    choices: type[Enum] | None = None
    minimum: float | None = None
    help: str = ""
    panel: str = CONNECTION
    example: str = ""
    # False: never read from the config file (the token: a file is no place for it).
    in_config: bool = True
    # Other spellings accepted in the config file (earlier releases' keys).
    aliases: tuple[str, ...] = ()

    @property
    def key(self) -> str:
        """The config file's key: the flag's name."""
        return self.flag.removeprefix("--").split("/")[0]

    def describe(self) -> str:
        """What the config file's value must be, for hints."""
        if self.choices is not None:
            return ", ".join(str(c.value) for c in self.choices)
        if self.kind is Kind.TEXTS:
            return f'a URL or a list of them, e.g. "{self.example}"'
        if self.kind is Kind.TEXT:
            return f'text, e.g. "{self.example}"' if self.example else "text"
        if self.kind is Kind.DURATION:
            return f'a duration, e.g. "{self.example or "5m"}"'

        if self.kind in (Kind.NUMBER, Kind.COUNT):
            bound = f" ≥ {self.minimum:g}" if self.minimum is not None else ""
            return f"a {'whole ' if self.kind is Kind.COUNT else ''}number{bound}"
        return "true or false"

    # --- parsing ---------------------------------------------------------------------------------

    def from_env(self, name: str, raw: str) -> Any:
        """A value from environment variable `name`; ConfigError naming it when it is not valid."""
        if self.kind is Kind.TEXTS:
            return tuple(v.strip() for v in raw.split(",") if v.strip())  # () is refused on resolving
        if self.kind is Kind.SWITCH:
            lowered = raw.strip().lower()
            if lowered in ("1", "true", "yes", "on"):
                return True
            if lowered in ("0", "false", "no", "off"):
                return False
            raise ConfigError(f"{name}={raw!r} is not true or false", hint=f"{name}: {self.describe()}")
        if self.kind in (Kind.NUMBER, Kind.COUNT):
            try:
                number: float = int(raw) if self.kind is Kind.COUNT else float(raw)
            except ValueError:
                raise ConfigError(f"{name}={raw!r} is not valid", hint=f"{name}: {self.describe()}") from None
            return self._bounded(number, name)
        return self._checked(raw.strip(), name)

    def from_config(self, value: object, where: str) -> Any:
        """A value from the config file (`where` names it); ConfigError when it is not valid."""
        if self.kind is Kind.TEXTS:
            if isinstance(value, str):
                value = [value]
            if not (isinstance(value, list) and value and all(isinstance(s, str) and s for s in value)):
                raise ConfigError(f"{where}: '{self.key}' must be a URL or a list of URLs", self.describe())
            return tuple(value)
        if self.kind is Kind.SWITCH:
            if not isinstance(value, bool):
                raise ConfigError(f"{where}: '{self.key}' must be true or false", self.describe())
            return value
        if self.kind in (Kind.NUMBER, Kind.COUNT):
            whole = isinstance(value, int) and not isinstance(value, bool)
            if not (whole or (self.kind is Kind.NUMBER and isinstance(value, float))):
                raise ConfigError(f"{where}: '{self.key}' must be {self.describe()}", self.describe())
            return self._bounded(value, where)  # type: ignore[arg-type]
        if not isinstance(value, str) or not value:
            raise ConfigError(f"{where}: '{self.key}' must be a non-empty string", self.describe())
        return self._checked(value, where)

    def _checked(self, text: str, where: str) -> Any:
        if self.kind is Kind.DURATION and not parse_duration(text):
            raise ConfigError(f"{where}: {self.key} = {text!r} is not a duration", self.describe())
        if self.choices is None:
            if not text:
                raise ConfigError(f"{where}: '{self.key}' must be a non-empty string", self.describe())
            return text
        try:
            return self.choices(text.lower())
        except ValueError:
            raise ConfigError(f"{where}: {self.key} = {text!r} is not valid", self.describe()) from None

    def _bounded(self, number: float, where: str) -> float:
        if self.minimum is not None and number < self.minimum:
            raise ConfigError(f"{where}: {self.key} = {number!r} is below {self.minimum:g}", self.describe())
        return number


SPECS: tuple[Setting, ...] = (
    Setting(
        "servers",
        "--server",
        Kind.TEXTS,
        (DEFAULT_SERVER,),
        env=("FLYLOGS_SERVER",),
        short=("-s",),
        help="NATS URL; repeat for a cluster. Default nats://\\[fdaa::3]:4223.",
        example=DEFAULT_SERVER,
    ),
    Setting(
        "transport",
        "--transport",
        Kind.CHOICE,
        Transport.AUTO,
        env=("FLYLOGS_TRANSPORT",),
        choices=Transport,
        help="How to reach the stream: nats (straight to --server), agent (through flyctl's agent, as "
        "`fly logs` does on a laptop), api (polling Fly's logs API), auto (nats when a server is given "
        "or inside a Fly Machine, else agent when flyctl's agent is there or fly can start it, else "
        "api with apps named and a token, else nats).",
    ),
    Setting(
        "org",
        "--org",
        Kind.TEXT,
        DEFAULT_ORG,
        env=("FLYLOGS_ORG", "FLY_ORG"),
        help="The org, when no app is named (`fly orgs list`; `personal` works too). With apps named on "
        "Fly's stream, each app's own org is used, as `fly logs` does. Default: personal.",
        example="personal",
    ),
    Setting(
        "token",
        "--access-token",
        Kind.TEXT,
        env=("FLYLOGS_TOKEN", "FLY_ACCESS_TOKEN", "FLY_API_TOKEN"),
        short=("-t",),
        help="Fly token (visible in `ps`: prefer FLYLOGS_TOKEN or `flylogs auth login`).",
        in_config=False,
    ),
    Setting(
        "output",
        "--output",
        Kind.CHOICE,
        OutputMode.AUTO,
        env=("FLYLOGS_OUTPUT",),
        short=("-o",),
        choices=OutputMode,
        help="auto: a table on a terminal, plain otherwise. json: NDJSON (see README). "
        "raw: payloads as received.",
        panel=OUTPUT,
    ),
    Setting(
        "color",
        "--color",
        Kind.CHOICE,
        ColorWhen.AUTO,
        env=("FLYLOGS_COLOR",),
        choices=ColorWhen,
        help="Colour: auto (on a terminal, honouring NO_COLOR and FORCE_COLOR), always, never.",
        panel=OUTPUT,
    ),
    Setting(
        "time",
        "--time",
        Kind.CHOICE,
        None,
        env=("FLYLOGS_TIME",),
        choices=TimeMode,
        help="Time column: local, utc, relative (since the first line), none. Default: local HH:MM:SS.mmm "
        "in the table, RFC 3339 UTC in plain text; JSON keeps nanoseconds.",
        panel=OUTPUT,
    ),
    Setting(
        "color_by",
        "--color-by",
        Kind.CHOICE,
        ColorBy.INSTANCE,
        env=("FLYLOGS_COLOR_BY",),
        choices=ColorBy,
        help="What picks the instance column's colour: instance (distinct within an app), app, region.",
        panel=OUTPUT,
    ),
    Setting(
        "count",
        "--count",
        Kind.COUNT,
        None,
        env=("FLYLOGS_COUNT",),
        short=("-n",),
        minimum=1,
        help="Exit 0 after this many lines have been shown.",
        panel=OUTPUT,
    ),
    Setting(
        "stall_timeout",
        "--stall-timeout",
        Kind.NUMBER,
        15.0,
        env=("FLYLOGS_STALL_TIMEOUT",),
        minimum=1.0,
        help="Abandon a connection that answers no ping for this many seconds (a half-open path).",
    ),
    Setting(
        "wait",
        "--wait",
        Kind.SWITCH,
        False,
        env=("FLYLOGS_WAIT",),
        help="Keep retrying until the server is reachable instead of exiting 5.",
    ),
    Setting(
        "api_url",
        "--api-url",
        Kind.TEXT,
        DEFAULT_API_URL,
        env=("FLYLOGS_API_URL", "FLY_API_BASE_URL"),
        help="Fly's HTTP API (history and backfill). Default https://api.fly.io; FLY_API_BASE_URL as flyctl.",
        panel=HISTORY,
        example=DEFAULT_API_URL,
        aliases=("api_url",),
    ),
    Setting(
        "stream",
        "--stream",
        Kind.TEXT,
        None,
        env=("FLYLOGS_STREAM",),
        help="A JetStream stream storing the log subjects: fills gaps after an outage, and gives --since.",
        panel=HISTORY,
        example="LOGS",
    ),
    Setting(
        "backfill",
        "--backfill/--no-backfill",
        Kind.SWITCH,
        True,
        env=("FLYLOGS_BACKFILL",),
        help="Fill gaps from Fly's HTTP logs API (needs app names and a token), or from --stream.",
        panel=HISTORY,
    ),
    Setting(
        "since",
        "--since",
        Kind.TEXT,
        None,
        env=("FLYLOGS_SINCE",),
        help="Print history from this long ago (90s, 1.5h, 7d) or this time (2026-12-02T03:55:40Z; "
        "no zone: UTC) before following.",
        panel=HISTORY,
        example="10m",
    ),
)

# `watch` and `check`: what a watcher run as a service is configured with, by file or environment.
SPECS += (
    Setting(
        "silent_after", "--silent-after", Kind.DURATION, "5m", env=("FLYLOGS_SILENT_AFTER",),
        help="watch: an instance that logged before (or whose Machine is started) is silent after this "
        "long without a line, while the stream is up.",
        panel=ALERTS, example="5m",
    ),
    Setting(
        "heartbeat", "--heartbeat", Kind.TEXT, None, env=("FLYLOGS_HEARTBEAT",),
        help="Each instance must print a line matching this regex at least once per --every (e.g. "
        "'HEARTBEAT', for lines like `HEARTBEAT $FLY_MACHINE_ID $FLY_REGION`).",
        panel=ALERTS, example="^HEARTBEAT ",
    ),
    Setting(
        "every", "--every", Kind.DURATION, "30m", env=("FLYLOGS_EVERY",),
        help="watch: the --heartbeat period; a beat is missed after it plus a tenth.",
        panel=ALERTS, example="30m",
    ),
    Setting(
        "errors_over", "--errors-over", Kind.COUNT, None, env=("FLYLOGS_ERRORS_OVER",), minimum=0,
        help="watch: alert when an instance logs more than N errors in a minute.",
        panel=ALERTS,
    ),
    Setting(
        "on_alert", "--on-alert", Kind.TEXT, None, env=("FLYLOGS_ON_ALERT",),
        help="watch: run CMD through the shell per alert: the alert's JSON on stdin, FLYLOGS_ALERT_KIND, "
        "_APP, _REGION, _INSTANCE, _SINCE, _AT, _CLOSES and _TEXT in its environment; one at a time, 10 s "
        "each.",
        panel=ALERTS, example="cat >> alerts.ndjson",
    ),
    Setting(
        "webhook", "--webhook", Kind.TEXT, None, env=("FLYLOGS_WEBHOOK",),
        help="watch: POST each alert's JSON here (its `text` shows in Slack-style incoming webhooks); "
        "retried with backoff. A secret: only its host is ever shown.",
        panel=ALERTS, example="https://hooks.slack.com/services/...",
    ),
    Setting(
        "machines", "--machines/--no-machines", Kind.SWITCH, True, env=("FLYLOGS_MACHINES",),
        help="watch and check: ask Fly's Machines API which Machines are started (a stopped one is not "
        "silent).",
        panel=ALERTS,
    ),
)  # fmt: skip

BY_NAME = {spec.name: spec for spec in SPECS}
BY_KEY = {key: spec for spec in SPECS if spec.in_config for key in (spec.key, *spec.aliases)}
