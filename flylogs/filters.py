"""Client-side filters: what the subscription subjects cannot express.

Owns: `--grep`, `--exclude`, `--ignore-case`, `--level`, and the app/region/instance checks for
dimensions that were widened to a wildcard. Must not: do I/O.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from flylogs.errors import UsageError
from flylogs.model import LEVEL_RANKS, LogEvent, level_rank


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


@dataclass(frozen=True, slots=True)
class Filter:
    """A predicate over events. Empty collections mean "no constraint"."""

    grep: tuple[re.Pattern[str], ...] = ()
    exclude: tuple[re.Pattern[str], ...] = ()
    min_rank: int | None = None
    apps: frozenset[str] = frozenset()
    regions: frozenset[str] = frozenset()
    instances: frozenset[str] = frozenset()

    @property
    def is_empty(self) -> bool:
        return not (self.grep or self.exclude or self.min_rank or self.apps or self.regions or self.instances)

    def __call__(self, event: LogEvent) -> bool:
        if self.apps and event.app not in self.apps:
            return False
        if self.regions and event.region not in self.regions:
            return False
        if self.instances and event.instance not in self.instances:
            return False
        if self.min_rank is not None:
            rank = level_rank(event.level)
            # Unknown and missing levels always pass: we cannot tell how important they are.
            if rank is not None and rank < self.min_rank:
                return False
        message = event.message
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
) -> Filter:
    min_rank = None
    if level is not None:
        min_rank = LEVEL_RANKS.get(level.lower())
        if min_rank is None:
            raise UsageError(f"unknown level {level!r}", hint="use one of: debug, info, warn, error")
    return Filter(
        grep=compile_patterns(grep, ignore_case, "--grep"),
        exclude=compile_patterns(exclude, ignore_case, "--exclude"),
        min_rank=min_rank,
        apps=frozenset(apps),
        regions=frozenset(regions),
        instances=frozenset(instances),
    )
