"""One setting's row: its name, flag, variables, kind, default and help, and how a value from the
environment or the config file is checked. The rows themselves are `spec.py`'s table.
Must not: do I/O.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum, StrEnum
from typing import Any

from flylogs.errors import ConfigError
from flylogs.timestamps import parse_duration

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

    def zero_ok(self, text: str) -> bool:
        """A duration setting whose minimum is 0 takes 0 (off, at once)."""
        return self.minimum == 0 and text.strip() in ("0", "0s")

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
        if self.kind is Kind.DURATION and not (parse_duration(text) or self.zero_ok(text)):
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
