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


# Typer's zsh script defines a helper and registers it with compdef: autoloaded from fpath (how
# `_flylogs` files are meant to be used), the first <Tab> only ran that registration and completed
# nothing. This one is the completion function itself, and registers itself only when sourced.
ZSH = """#compdef flylogs

_flylogs() {
  eval $(env _TYPER_COMPLETE_ARGS="${words[1,$CURRENT]}" _FLYLOGS_COMPLETE=complete_zsh flylogs)
}

if [[ "${zsh_eval_context[-1]}" == loadautofunc ]]; then
  # Autoloaded at the first <Tab>: complete it now.
  _flylogs "$@"
else
  # Sourced (`source _flylogs`): register for the <Tab>s to come.
  compdef _flylogs flylogs
fi
"""


def scripts() -> dict[str, str]:
    made = {
        name: get_completion_script(prog_name="flylogs", complete_var="_FLYLOGS_COMPLETE", shell=shell)
        for shell, name in SHELLS.items()
    }
    made["_flylogs"] = ZSH
    return made


if __name__ == "__main__":
    for name, text in scripts().items():
        (HERE / name).write_text(text if text.endswith("\n") else text + "\n")
        print(f"wrote completions/{name}")
