"""Untrusted text made safe for a terminal.

Log messages come from any process on any machine: they may hold ESC sequences (colours, cursor moves,
OSC 52 clipboard writes, title changes), carriage returns and backspaces that overwrite earlier text, C1
controls that some terminals obey, and bidirectional overrides that reorder what the eye sees. All of
them are shown escaped (`\\x1b`, `\\r`, `\\u202e`), never sent to the terminal. Must not: do I/O.
"""

from __future__ import annotations

import re

# C0 controls except TAB and LF (which each mode handles itself), DEL, C1, the bidi embeddings,
# overrides and isolates, the bidi marks (LRM, RLM, ALM), the invisible characters that let one
# line pass for another (ZWSP, ZWNJ, ZWJ, WORD JOINER, the BOM / ZWNBSP, the invisible operators),
# the Unicode line/paragraph separators, and lone surrogates (JSON's "\ud83d" decodes to one; it
# cannot even be encoded to UTF-8).
_OTHERS = "\x7f-\x9f\u061c\u200b-\u200f\u2028\u2029\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff\ud800-\udfff"
_UNSAFE = re.compile(f"[\x00-\x08\x0b-\x1f{_OTHERS}]")
_UNSAFE_WITH_LF_TAB = re.compile(f"[\x00-\x1f{_OTHERS}]")

_NAMED = {"\r": "\\r", "\n": "\\n", "\t": "\\t", "\x1b": "\\x1b"}


def _escape_char(match: re.Match[str]) -> str:
    ch = match.group()
    named = _NAMED.get(ch)
    if named is not None:
        return named
    code = ord(ch)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def escape_controls(text: str, keep_newlines_and_tabs: bool = False) -> str:
    """`text` with every unsafe character replaced by a visible escape.

    With `keep_newlines_and_tabs`, LF and TAB pass through for the caller to lay out; otherwise they are
    escaped too, so one log line is always one output line.
    """
    pattern = _UNSAFE if keep_newlines_and_tabs else _UNSAFE_WITH_LF_TAB
    if pattern.search(text) is None:
        return text
    return pattern.sub(_escape_char, text)


# Characters that survive json.dumps(ensure_ascii=False) unescaped but that a terminal may act on.
_JSON_UNSAFE = re.compile(f"[{_OTHERS}]")


def _json_escape_char(match: re.Match[str]) -> str:
    return f"\\u{ord(match.group()):04x}"


def escape_json_output(encoded: str) -> str:
    """Escape, inside an already encoded JSON document, what json.dumps leaves raw but terminals obey.

    Such characters can only stand inside JSON strings, where `\\uXXXX` is the same value: the document
    decodes exactly as before.
    """
    if _JSON_UNSAFE.search(encoded) is None:
        return encoded
    return _JSON_UNSAFE.sub(_json_escape_char, encoded)
