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


class Transport(StrEnum):
    """`--transport`: the way to the log stream."""

    AUTO = "auto"  # a server given: nats; in a Fly Machine: nats; flyctl's agent there: agent
    NATS = "nats"  # straight to a NATS server (inside Fly's network, or your own)
    AGENT = "agent"  # through flyctl's agent, as `fly logs` does on a laptop
