"""One spec per setting: the table from which the flags, resolution, config-file validation and
`flylogs config show` are all derived.

Each row says the setting's name (its attribute on `Settings`), its flag (whose name is also its key
in the config file: stern's convention), the environment variables that set it, its type, default
and help. Adding a setting is adding a row (and a field on `Settings`, which a test checks).
Must not: do I/O.
"""

from __future__ import annotations

from flylogs.settings.choices import ColorBy, ColorWhen, OnOff, Order, OutputMode, TimeMode, Transport
from flylogs.settings.setting import ALERTS, HISTORY, OUTPUT, Kind, Setting

__all__ = [
    "BY_KEY",
    "BY_NAME",
    "DEFAULT_API_URL",
    "DEFAULT_ORG",
    "DEFAULT_SERVER",
    "SPECS",
    "Kind",
    "Setting",
]

DEFAULT_SERVER = "nats://[fdaa::3]:4223"
DEFAULT_API_URL = "https://api.fly.io"
DEFAULT_ORG = "personal"


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

# Where Fly's other endpoints are, as flyctl's variables say (tests and staging point them elsewhere).
SPECS += (
    Setting(
        "machines_url",
        "--machines-url",
        Kind.TEXT,
        "https://api.machines.dev",
        env=("FLYLOGS_MACHINES_URL", "FLY_FLAPS_BASE_URL"),
        help="Fly's Machines API (each app's org and network; which Machines are started). "
        "FLY_FLAPS_BASE_URL as flyctl.",
        example="https://api.machines.dev",
    ),
    Setting(
        "orgs_url",
        "--orgs-url",
        Kind.TEXT,
        "https://api.fly.io",
        env=("FLYLOGS_ORGS_URL", "FLY_UIEX_BASE_URL"),
        help="Fly's organizations endpoint (an org's web and raw slugs). FLY_UIEX_BASE_URL as flyctl.",
        example="https://api.fly.io",
    ),
    Setting(
        "agent_socket",
        "--agent-socket",
        Kind.TEXT,
        None,
        env=("FLYLOGS_AGENT_SOCKET", "FLY_AGENT_SOCKET_PATH"),
        help="flyctl's agent's socket, for an agent started elsewhere by hand. Default: fly-agent.sock "
        "in FLY_CONFIG_DIR, else ~/.fly (flyctl itself reads no other place).",
        example="~/.fly/fly-agent.sock",
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
        "group_wait", "--group-wait", Kind.DURATION, "10s", env=("FLYLOGS_GROUP_WAIT",), minimum=0,
        help="watch: alerts of one kind in one app and region that open within this long go out as one "
        "notification naming every instance (Alertmanager's group_wait); 0 tells each at once.",
        panel=ALERTS, example="30s",
    ),
    Setting(
        "flap_window", "--flap-window", Kind.DURATION, "10m", env=("FLYLOGS_FLAP_WINDOW",),
        help="watch: an alert that opens 3 times within this window becomes one `flapping` alert, "
        "resolved once the instance has stayed in one state for a whole window.",
        panel=ALERTS, example="10m",
    ),
    Setting(
        "repeat_every", "--repeat-every", Kind.DURATION, None, env=("FLYLOGS_REPEAT_EVERY",),
        help="watch: tell a still-open alert again this often (Alertmanager's repeat_interval; default "
        "off).",
        panel=ALERTS, example="4h",
    ),
    Setting(
        "quiet_hours", "--quiet-hours", Kind.TEXT, None, env=("FLYLOGS_QUIET_HOURS",),
        help="watch: HH:MM-HH:MM, local time: --on-alert and --webhook hold their notifications (the "
        "view shows everything); at the end, one summary of what is still open.",
        panel=ALERTS, example="22:00-07:00",
    ),
    Setting(
        "state", "--state", Kind.TEXT, None, env=("FLYLOGS_STATE",),
        help="watch: keep open alerts and each instance's last line here, so a restart tells nothing "
        "twice and misses no resolve (default: a file per selection under $XDG_STATE_HOME/flylogs/; "
        "'off': none).",
        panel=ALERTS, example="~/.local/state/flylogs/shop.json",
    ),
    Setting(
        "ping_url", "--ping-url", Kind.TEXT, None, env=("FLYLOGS_PING_URL",),
        help="watch: GET this URL every --ping-every while the watcher is healthy, and URL/fail once when "
        "its own stream has been down longer than --silent-after (healthchecks.io's protocol: when the "
        "watcher dies, that service tells you). A secret: only its host is ever shown.",
        panel=ALERTS, example="https://hc-ping.com/<uuid>",
    ),
    Setting(
        "ping_every", "--ping-every", Kind.DURATION, "60s", env=("FLYLOGS_PING_EVERY",),
        help="watch: the --ping-url period.",
        panel=ALERTS, example="60s",
    ),
    Setting(
        "late_after", "--late-after", Kind.DURATION, "30s", env=("FLYLOGS_LATE_AFTER",),
        help="watch: the canary's beats are late when their p95 delivery latency is over this (a "
        "`beats_late` alert); a missing beat is lost once it is this overdue.",
        panel=ALERTS, example="30s",
    ),
    Setting(
        "machines", "--machines/--no-machines", Kind.SWITCH, True, env=("FLYLOGS_MACHINES",),
        help="watch and check: ask Fly's Machines API which Machines are started (a stopped one is not "
        "silent).",
        panel=ALERTS,
    ),
)  # fmt: skip

# The line's shape and the history's end (issue 21).
SPECS += (
    Setting(
        "until", "--until", Kind.TEXT, None, env=("FLYLOGS_UNTIL",), panel=HISTORY, example="5m",
        help="History up to (not including) this long ago or this time, the same forms as --since; "
        "then no following: exactly the lines in [--since, --until).",
    ),
    Setting(
        "tz", "--tz", Kind.TEXT, None, env=("FLYLOGS_TZ",), panel=OUTPUT, example="Europe/Paris",
        help="Show times in this zone: an IANA name (Europe/Paris), 'local' or 'UTC' (stern's --timezone). "
        "JSON keeps UTC.",
    ),
    Setting(
        "format", "--format", Kind.TEXT, None, env=("FLYLOGS_FORMAT",), panel=OUTPUT,
        example="{timestamp:%H:%M:%S} {instance} {message}",
        help="Plain output in your own line format (stern's --template): '{timestamp:%H:%M:%S} {instance} "
        "{level} {message}'; the NDJSON keys, {field.NAME} from JSON or logfmt messages.",
    ),
    Setting(
        "multiline", "--multiline", Kind.CHOICE, None, env=("FLYLOGS_MULTILINE",), choices=OnOff,
        panel=OUTPUT,
        help="Join a stack trace's lines (Python, Java/Kotlin, Node, Go) into one event: on by default for "
        "table and plain, off for json (then one record, its lines joined by \\n) and never for raw.",
    ),
    Setting(
        "order", "--order", Kind.CHOICE, Order.ARRIVAL, env=("FLYLOGS_ORDER",), choices=Order, panel=OUTPUT,
        help="arrival (as the network delivers them) or time: lines in timestamp order across instances "
        "within --order-window; a line later than that is shown at once, marked late.",
    ),
    Setting(
        "order_window", "--order-window", Kind.DURATION, "1s", env=("FLYLOGS_ORDER_WINDOW",), panel=OUTPUT,
        example="2s", help="How long --order time holds a line for the ones written before it.",
    ),
)  # fmt: skip

BY_NAME = {spec.name: spec for spec in SPECS}
BY_KEY = {key: spec for spec in SPECS if spec.in_config for key in (spec.key, *spec.aliases)}
