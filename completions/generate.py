"""Write the shell completion scripts in this folder: `python completions/generate.py`.

The scripts are thin: at each <Tab> the shell asks `flylogs` itself (with _FLYLOGS_COMPLETE set) for
the candidates, so commands, options and the values of --output, --color, --level, --time and
--color-by always match the installed version. Completion never connects anywhere nor reads the
keyring: no command runs, Typer only resolves the parameters. tests/test_completions.py fails when
these files are stale.
"""

from __future__ import annotations

from pathlib import Path

from typer._completion_shared import get_completion_script

HERE = Path(__file__).parent
SHELLS = {"bash": "flylogs.bash", "zsh": "_flylogs", "fish": "flylogs.fish"}


def scripts() -> dict[str, str]:
    return {
        name: get_completion_script(prog_name="flylogs", complete_var="_FLYLOGS_COMPLETE", shell=shell)
        for shell, name in SHELLS.items()
    }


if __name__ == "__main__":
    for name, text in scripts().items():
        (HERE / name).write_text(text if text.endswith("\n") else text + "\n")
        print(f"wrote completions/{name}")
