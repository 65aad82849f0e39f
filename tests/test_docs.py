"""The README documents every command and every option (a test fails when one is added without docs)."""

from __future__ import annotations

from pathlib import Path

import typer.main

from flylogs.cli import app

README = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")


def walk(command: object, path: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], object]]:
    found = [(path, command)]
    for name, sub in getattr(command, "commands", {}).items():
        found += walk(sub, (*path, name))
    return found


COMMANDS = walk(typer.main.get_command(app))


def test_every_command_is_in_the_readme() -> None:
    missing = [" ".join(path) for path, _ in COMMANDS if path and f"flylogs {' '.join(path)}" not in README]
    assert not missing, f"commands missing from the README: {missing}"


def test_every_option_is_in_the_readme() -> None:
    missing = set()
    for path, command in COMMANDS:
        for param in getattr(command, "params", []):
            for opt in [*param.opts, *param.secondary_opts]:
                if opt.startswith("-") and opt not in README and opt not in ("--help", "-h"):
                    missing.add(f"{' '.join(path) or 'flylogs'} {opt}")
    assert not missing, f"options missing from the README: {sorted(missing)}"
