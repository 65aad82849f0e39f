from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from flylogs.render.sanitize import escape_controls, escape_json_output

DANGEROUS = "\x1b]52;c;ZXZpbA==\x07\x1b[2J\r\x08\x7f\x9b31m\u202egnp.exe\u2066\x00\ud83d"


def test_every_dangerous_character_is_escaped() -> None:
    out = escape_controls(DANGEROUS)
    assert out == ("\\x1b]52;c;ZXZpbA==\\x07\\x1b[2J\\r\\x08\\x7f\\x9b31m\\u202egnp.exe\\u2066\\x00\\ud83d")


def test_newlines_and_tabs_escaped_unless_kept() -> None:
    assert escape_controls("a\nb\tc") == "a\\nb\\tc"
    assert escape_controls("a\nb\tc", keep_newlines_and_tabs=True) == "a\nb\tc"


def test_safe_text_is_returned_unchanged() -> None:
    text = "Grüße aus Zürich — 日本語のログ 🚀 [bold]not markup[/bold]"
    assert escape_controls(text) is text


@given(st.text())
def test_output_never_holds_a_control_character(text: str) -> None:
    out = escape_controls(text)
    assert not any(ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F or 0xD800 <= ord(c) <= 0xDFFF for c in out)
    out.encode("utf-8")


@given(st.text())
def test_json_escaping_keeps_the_value(text: str) -> None:
    encoded = escape_json_output(json.dumps({"m": text}, ensure_ascii=False))
    assert json.loads(encoded) == {"m": text}
    assert not any(0x7F <= ord(c) <= 0x9F or 0xD800 <= ord(c) <= 0xDFFF or c == "\x1b" for c in encoded)
    encoded.encode("utf-8")
