"""Where a setting's value came from, for `flylogs config show` and `flylogs auth status`."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Source(StrEnum):
    FLAG = "flag"
    ENV = "env"
    CONFIG = "config file"
    KEYRING = "keyring"
    FLYCTL = "flyctl config"
    FLY_TOML = "fly.toml"
    MACHINES_API = "Machines API"  # the org of the app named, looked up
    ORGS_API = "Fly's organizations endpoint"  # `personal` turned into its raw slug
    DEFAULT = "default"
    NONE = "not set"


@dataclass(frozen=True, slots=True)
class Origin:
    source: Source
    detail: str = ""

    def __str__(self) -> str:
        return f"{self.source} ({self.detail})" if self.detail else str(self.source)
