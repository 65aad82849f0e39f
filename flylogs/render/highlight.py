"""Marking `--grep` matches inside already-escaped text.

Must not: change the characters of the text; it only inserts style codes around spans.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from flylogs.render.console import Codes


def match_spans(text: str, patterns: Sequence[re.Pattern[str]]) -> list[tuple[int, int]]:
    """Non-empty match spans of any pattern, merged and sorted."""
    spans: list[tuple[int, int]] = []
    for pattern in patterns:
        spans.extend(m.span() for m in pattern.finditer(text) if m.end() > m.start())
    if len(spans) < 2:
        return spans
    spans.sort()
    merged = [spans[0]]
    for start, end in spans[1:]:
        last_start, last_end = merged[-1]
        if start <= last_end:
            merged[-1] = (last_start, max(last_end, end))
        else:
            merged.append((start, end))
    return merged


def apply_spans(text: str, spans: Sequence[tuple[int, int]], codes: Codes, offset: int = 0) -> str:
    """`text` (which starts at `offset` of the line the spans refer to) with spans wrapped in codes."""
    if not spans or not codes.on:
        return text
    out: list[str] = []
    pos = 0
    end_of_text = len(text)
    for start, end in spans:
        start, end = max(start - offset, 0), min(end - offset, end_of_text)
        if start >= end:
            continue
        out.append(text[pos:start])
        out.append(codes.on + text[start:end] + codes.off)
        pos = end
    out.append(text[pos:])
    return "".join(out)
