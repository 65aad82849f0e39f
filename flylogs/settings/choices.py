"""The closed sets of values settings take (`--output`, `--color`, `--time`, `--color-by`).

Plain enums, importable by any layer (the render package reads them) without the resolution machinery.
"""

from __future__ import annotations

from enum import StrEnum


class OutputMode(StrEnum):
    AUTO = "auto"
    TABLE = "table"
    PLAIN = "plain"
    JSON = "json"
    RAW = "raw"


class ColorWhen(StrEnum):
    AUTO = "auto"
    ALWAYS = "always"
    NEVER = "never"


class TimeMode(StrEnum):
    """`--time`: how the time column reads."""

    LOCAL = "local"
    UTC = "utc"
    RELATIVE = "relative"
    NONE = "none"


class ColorBy(StrEnum):
    """`--color-by`: what gives a line's instance column its colour."""

    INSTANCE = "instance"
    APP = "app"
    REGION = "region"


class OnOff(StrEnum):
    """`--multiline`: on or off (unset: what the output mode does by default)."""

    ON = "on"
    OFF = "off"


class Order(StrEnum):
    """`--order`: lines as they arrive, or in timestamp order within a window."""

    ARRIVAL = "arrival"
    TIME = "time"


class Transport(StrEnum):
    """`--transport`: the way to the log stream."""

    AUTO = "auto"  # a server given or a Fly Machine: nats; else agent if there, else api, else nats
    NATS = "nats"  # straight to a NATS server (inside Fly's network, or your own)
    AGENT = "agent"  # through flyctl's agent, as `fly logs` does on a laptop
    API = "api"  # polling Fly's HTTP logs API: slower, but needs only a token
