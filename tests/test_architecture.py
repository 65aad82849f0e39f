"""The architecture, enforced. The import boundaries are import-linter's contracts (pyproject.toml,
`lint-imports` in CI); this checks what a tool of imports cannot: every module says what it owns,
nothing below the CLI prints, exits or reads the environment, and no module grows past a size a
newcomer can read."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).parent.parent / "flylogs"
MAX_LINES = 350


def modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def below_the_cli() -> list[Path]:
    return [p for p in modules() if p.relative_to(PACKAGE).parts[0] not in ("cli", "__main__.py")]


@pytest.mark.parametrize("path", below_the_cli(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_nothing_below_the_cli_prints_exits_or_reads_the_environment(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            assert node.func.id not in ("print", "exit", "quit"), f"{path.name}:{node.lineno}"
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            name = f"{node.value.id}.{node.attr}"
            # The render package's Environment is the one reader of the terminal's environment.
            if path.relative_to(PACKAGE).as_posix() != "render/console.py":
                assert name not in ("os.environ", "sys.exit"), f"{path.name}:{node.lineno} uses {name}"


def test_every_module_says_what_it_owns() -> None:
    for path in modules():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        assert ast.get_docstring(tree), f"{path.relative_to(PACKAGE)} has no module docstring"


def test_no_module_is_too_long_to_read() -> None:
    long = {
        str(p.relative_to(PACKAGE)): n
        for p in modules()
        if (n := len(p.read_text().splitlines())) > MAX_LINES
    }
    assert not long, f"split these: {long}"
