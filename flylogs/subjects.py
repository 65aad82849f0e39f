"""Subject layout of Fly's log stream: `logs.<app>.<region>.<instance>`.

Owns: validating name tokens, building the narrowest set of subscriptions for a set of filters, and
reading app/region/instance back from a subject. Fly calls the stream experimental, so the layout lives
here and nowhere else. Must not: do I/O.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import product

from flylogs.errors import UsageError

PREFIX = "logs"

# A subscription for every combination of values is exact but grows multiplicatively; beyond this many
# we widen a dimension to `*` and filter on the client instead.
MAX_SUBSCRIPTIONS = 32

_BAD_TOKEN = re.compile(r"[.*>\s]")


def validate_token(kind: str, value: str) -> str:
    """Return `value` when it can stand as one subject token; raise UsageError otherwise."""
    if not value:
        raise UsageError(
            f"{kind} name is empty", hint=f"give a {kind} name such as the ones `fly status` shows"
        )
    bad = _BAD_TOKEN.search(value)
    if bad is not None:
        shown = repr(bad.group())
        raise UsageError(
            f"{kind} name {value!r} contains {shown}, which a NATS subject token cannot hold",
            hint=f"{kind} names never contain '.', '*', '>' or whitespace; wildcards are implied by leaving "
            f"the {kind} filter out",
        )
    return value


@dataclass(frozen=True, slots=True)
class SubjectPlan:
    """The subscriptions to make, and which dimensions the client must still filter on."""

    subjects: tuple[str, ...]
    filter_apps: bool
    filter_regions: bool
    filter_instances: bool


def plan_subjects(
    apps: Sequence[str], regions: Sequence[str], instances: Sequence[str], limit: int = MAX_SUBSCRIPTIONS
) -> SubjectPlan:
    """The narrowest subscriptions that cover the filters, as exact as `limit` subscriptions allow."""
    dims = [_unique(apps), _unique(regions), _unique(instances)]
    for kind, values in zip(("app", "region", "instance"), dims, strict=True):
        for value in values:
            validate_token(kind, value)
    widened = [False, False, False]

    def count() -> int:
        n = 1
        for i, values in enumerate(dims):
            if values and not widened[i]:
                n *= len(values)
        return n

    # Widen the dimension with the most values until the product fits.
    while count() > limit:
        i = max(
            (i for i in range(3) if dims[i] and not widened[i]),
            key=lambda i: len(dims[i]),
        )
        widened[i] = True

    if not any(dims[i] and not widened[i] for i in range(3)):
        return SubjectPlan((f"{PREFIX}.>",), bool(dims[0]), bool(dims[1]), bool(dims[2]))

    axes = [values if values and not widened[i] else ["*"] for i, values in enumerate(dims)]
    subjects = tuple(f"{PREFIX}.{app}.{region}.{inst}" for app, region, inst in product(*axes))
    # `logs.<app>.*.*` is written `logs.<app>.>`: the same set today, and robust to Fly adding tokens.
    subjects = tuple(s[: -len(".*.*")] + ".>" if s.endswith(".*.*") else s for s in subjects)
    return SubjectPlan(subjects, widened[0], widened[1], widened[2])


def parse_subject(subject: str) -> tuple[str | None, str | None, str | None]:
    """App, region and instance named by a log subject; None where the subject does not say."""
    parts = subject.split(".")
    if len(parts) < 2 or parts[0] != PREFIX:
        return None, None, None
    app = parts[1] or None
    region = parts[2] or None if len(parts) > 2 else None
    instance = parts[3] or None if len(parts) > 3 else None
    return app, region, instance


def _unique(values: Sequence[str]) -> list[str]:
    return list(dict.fromkeys(values))
