"""The architecture, enforced: one adapter per outside system, and a core that imports none of them."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).parent.parent / "flylogs"

# Which modules may import each outside system.
ALLOWED = {
    "typer": {"cli/"},
    "click": set(),
    "nats": {"source/nats.py", "source/jetstream.py", "demo/publisher.py"},
    "keyring": {"credentials.py"},
    "rich": {"render/"},
}
PURE_CORE = [
    "model.py",
    "timestamps.py",
    "decode.py",
    "subjects.py",
    "filters.py",
    "settings/spec.py",
    "settings/resolve.py",
    "errors.py",
]


def imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


@pytest.mark.parametrize("path", modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_outside_systems_have_one_adapter_each(path: Path) -> None:
    relative = str(path.relative_to(PACKAGE))
    for library, allowed in ALLOWED.items():
        if library in imports(path):
            assert any(relative == a or relative.startswith(a) for a in allowed if a), (
                f"{relative} imports {library}; only {sorted(allowed)} may"
            )


@pytest.mark.parametrize("name", PURE_CORE)
def test_the_core_imports_no_adapter(name: str) -> None:
    found = imports(PACKAGE / name)
    assert not found & set(ALLOWED), f"{name} imports {found & set(ALLOWED)}"
    text = (PACKAGE / name).read_text(encoding="utf-8")
    assert "print(" not in text and "sys.exit" not in text and "os.environ" not in text


def test_every_module_says_what_it_owns() -> None:
    for path in modules():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        assert ast.get_docstring(tree), f"{path.relative_to(PACKAGE)} has no module docstring"
