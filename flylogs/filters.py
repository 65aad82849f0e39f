"""Client-side filters: what the subscription subjects cannot express.

Owns: `--grep`, `--exclude`, `--ignore-case`, `--level`, and the app/region/instance checks for
dimensions that were widened to a wildcard. Must not: do I/O.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import msgspec

from flylogs.beats import PREFIX as BEAT_PREFIX
from flylogs.errors import UsageError
from flylogs.levels import LEVEL_RANKS, effective_level, level_rank, message_fields
from flylogs.model import LogEvent


def compile_patterns(patterns: Sequence[str], ignore_case: bool, flag: str) -> tuple[re.Pattern[str], ...]:
    """Compile user regexes, turning a bad one into a usage error that names the flag."""
    flags = re.IGNORECASE if ignore_case else 0
    compiled = []
    for pattern in patterns:
        try:
            compiled.append(re.compile(pattern, flags))
        except re.error as exc:
            raise UsageError(
                f"{flag} {pattern!r} is not a valid regular expression: {exc}",
                hint="patterns use Python's re syntax; quote them in the shell, and escape literal "
                "characters such as '[' or '(' with a backslash",
            ) from None
    return tuple(compiled)


_FIELD_EXPR = re.compile(r"\A([^=!~\s]+)(!=|=|~)(.*)\Z", re.DOTALL)
_MISSING = object()


@dataclass(frozen=True, slots=True)
class FieldTest:
    """`-f KEY=VALUE`, `KEY!=VALUE` or `KEY~REGEX` on a JSON or logfmt message (dotted keys reach
    inside JSON; logfmt keys may contain dots themselves)."""

    path: tuple[str, ...]
    op: str
    value: str
    pattern: re.Pattern[str] | None = None

    def __call__(self, doc: object) -> bool:
        found: object = doc
        if isinstance(doc, dict) and len(self.path) > 1 and ".".join(self.path) in doc:
            found = doc[".".join(self.path)]  # a logfmt key such as `http.status`
            return self._holds(found)
        for key in self.path:
            if not isinstance(found, dict) or key not in found:
                found = _MISSING
                break
            found = found[key]
        return self._holds(found)

    def _holds(self, found: object) -> bool:
        if found is _MISSING:
            return self.op == "!="  # an absent key differs from any value
        text = found if isinstance(found, str) else msgspec.json.encode(found).decode()
        if self.op == "=":
            return text == self.value
        if self.op == "!=":
            return text != self.value
        assert self.pattern is not None
        return self.pattern.search(text) is not None


def parse_field(expr: str, ignore_case: bool = False) -> FieldTest:
    match = _FIELD_EXPR.match(expr)
    if match is None:
        raise UsageError(
            f"--field {expr!r} is not KEY=VALUE, KEY!=VALUE or KEY~REGEX",
            hint="for example: -f status=500, -f user.id!=42, -f 'path~^/api/'",
        )
    key, op, value = match.groups()
    pattern = compile_patterns([value], ignore_case, "--field")[0] if op == "~" else None
    return FieldTest(tuple(key.split(".")), op, value, pattern)


@dataclass(frozen=True, slots=True)
class Filter:
    """A predicate over events. Empty collections mean "no constraint"."""

    grep: tuple[re.Pattern[str], ...] = ()
    exclude: tuple[re.Pattern[str], ...] = ()
    min_rank: int | None = None
    apps: frozenset[str] = frozenset()
    regions: frozenset[str] = frozenset()
    instances: frozenset[str] = frozenset()
    groups: frozenset[str] = frozenset()  # process groups; "-" stands for none named
    fields: tuple[FieldTest, ...] = ()
    beats: bool = True  # False: the canary's beat lines are hidden

    @property
    def is_empty(self) -> bool:
        return self.beats and not (
            self.grep
            or self.exclude
            or self.min_rank
            or self.apps
            or self.regions
            or self.instances
            or self.groups
            or self.fields
        )

    def __call__(self, event: LogEvent) -> bool:
        if self.apps and event.app not in self.apps:
            return False
        if self.regions and event.region not in self.regions:
            return False
        if self.instances and event.instance not in self.instances:
            return False
        if self.groups and (event.process_group or "-") not in self.groups:
            return False
        if self.fields:
            doc = message_fields(event.message)  # a JSON object or logfmt pairs
            if not all(test(doc) for test in self.fields):
                return False
        if self.min_rank is not None:
            # Fly says "info" for everything an app prints: the app's own level knows better.
            rank = level_rank(effective_level(event.level, event.message))
            # Unknown and missing levels always pass: we cannot tell how important they are.
            if rank is not None and rank < self.min_rank:
                return False
        message = event.message
        if not self.beats and message.startswith(BEAT_PREFIX):
            return False
        for pattern in self.exclude:
            if pattern.search(message):
                return False
        if self.grep:
            return any(pattern.search(message) for pattern in self.grep)
        return True


def build_filter(
    *,
    grep: Sequence[str] = (),
    exclude: Sequence[str] = (),
    ignore_case: bool = False,
    level: str | None = None,
    apps: Sequence[str] = (),
    regions: Sequence[str] = (),
    instances: Sequence[str] = (),
    groups: Sequence[str] = (),
    fields: Sequence[str] = (),
    beats: bool = True,
) -> Filter:
    min_rank = None
    if level is not None:
        min_rank = LEVEL_RANKS.get(level.lower())
        if min_rank is None:
            raise UsageError(
                f"unknown level {level!r}",
                hint="use one of: trace, debug, info, warn (warning), error, fatal",
            )
    return Filter(
        grep=compile_patterns(grep, ignore_case, "--grep"),
        exclude=compile_patterns(exclude, ignore_case, "--exclude"),
        min_rank=min_rank,
        apps=frozenset(apps),
        regions=frozenset(regions),
        instances=frozenset(instances),
        groups=frozenset(groups),
        fields=tuple(parse_field(expr, ignore_case) for expr in fields),
        beats=beats,
    )
