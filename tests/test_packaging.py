"""Packaging facts users rely on: the licence, dependency ranges, the changelog, the bench verdict."""

from __future__ import annotations

import importlib.metadata
import re
import sys
import tomllib
from pathlib import Path

from packaging.requirements import Requirement

ROOT = Path(__file__).parent.parent
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]


def test_the_licence_the_metadata_names_is_shipped() -> None:
    assert PROJECT["license"] == "MIT"
    text = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert text.startswith("MIT License") and "WITHOUT WARRANTY" in text
    assert "LICENSE" in PROJECT["license-files"]


def test_typer_has_an_upper_bound_that_the_installed_version_meets() -> None:
    (typer,) = [Requirement(r) for r in PROJECT["dependencies"] if r.startswith("typer")]
    assert any(spec.operator == "<" for spec in typer.specifier), typer
    assert typer.specifier.contains(importlib.metadata.version("typer"))


def test_the_changelog_has_a_dated_release_and_links_for_every_section() -> None:
    text = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    sections = re.findall(r"^## \[([^\]]+)\](.*)$", text, re.MULTILINE)
    assert sections[0][0] == "Unreleased"
    assert ("0.1.0", " - 2026-12-02") in sections
    for name, _ in sections:
        assert re.search(rf"^\[{re.escape(name)}\]: https://\S+$", text, re.MULTILINE), name


def test_a_bench_round_that_lost_lines_fails_whatever_its_speed() -> None:
    sys.path.insert(0, str(ROOT / "bench"))
    try:
        import run as bench  # type: ignore[import-not-found]
    finally:
        sys.path.remove(str(ROOT / "bench"))
    assert bench.verdict(9.0, 0.9, 0, 200_000) == " LOST"
    assert bench.verdict(9.0, 0.9, 199_999, 200_000) == " LOST"
    assert bench.verdict(1.0, 0.9, 200_000, 200_000) == " ok"
    assert bench.verdict(0.5, 0.9, 200_000, 200_000) == " MISS"
    assert bench.verdict(1.0, None, 200_000, 200_000) == ""
