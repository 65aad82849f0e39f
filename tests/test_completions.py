"""Shell completions: checked in, never stale, and working in a real bash."""

from __future__ import annotations

import os
import runpy
import subprocess
import sysconfig
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent
COMPLETIONS = ROOT / "completions"


def test_checked_in_scripts_are_fresh() -> None:
    scripts = runpy.run_path(str(COMPLETIONS / "generate.py"))["scripts"]()
    for name, text in scripts.items():
        on_disk = (COMPLETIONS / name).read_text()
        assert on_disk.rstrip("\n") == text.rstrip("\n"), (
            f"completions/{name} is stale: python completions/generate.py"
        )


def complete(words: str, cword: int) -> list[str]:
    """Run the checked-in bash script in a real bash, as <Tab> would."""
    script = (
        f"source {COMPLETIONS / 'flylogs.bash'}\n"
        f"COMP_WORDS=({words})\nCOMP_CWORD={cword}\n"
        "_flylogs_completion flylogs\n"
        'printf "%s\\n" "${COMPREPLY[@]}"\n'
    )
    env = dict(os.environ)
    env["PATH"] = f"{sysconfig.get_path('scripts')}{os.pathsep}{env.get('PATH', '')}"
    # Completion must not touch the keyring or the network: make both fail loudly if it tried.
    env["PYTHON_KEYRING_BACKEND"] = "keyring.backends.fail.Keyring"
    env["FLYLOGS_SERVER"] = "nats://127.0.0.1:1"
    result = subprocess.run(
        ["bash", "--norc", "-c", script], capture_output=True, text=True, env=env, timeout=30
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.split()


@pytest.mark.parametrize(
    ("words", "cword", "expected"),
    [
        ('flylogs ""', 1, {"tail", "demo", "auth", "config"}),
        ('flylogs tail --output ""', 3, {"auto", "table", "plain", "json", "raw"}),
        ('flylogs tail --color ""', 3, {"auto", "always", "never"}),
        ('flylogs tail --level ""', 3, {"debug", "info", "warn", "error"}),
        ('flylogs tail --time ""', 3, {"local", "utc", "relative", "none"}),
        ("flylogs tail --reg", 2, {"--region"}),
        ('flylogs auth ""', 2, {"login", "logout", "status"}),
    ],
)
def test_bash_completes_commands_options_and_values(words: str, cword: int, expected: set[str]) -> None:
    assert expected <= set(complete(words, cword))


def test_the_zsh_script_completes_on_the_first_tab_when_autoloaded() -> None:
    # zsh is not installed here: the script's shape is checked instead. Autoloaded from $fpath, a
    # `_flylogs` file's body *is* the function run at <Tab>: it must complete then, not only register.
    text = (COMPLETIONS / "_flylogs").read_text()
    assert text.startswith("#compdef flylogs\n")
    assert "\n_flylogs() {\n" in text and "_FLYLOGS_COMPLETE=complete_zsh flylogs" in text
    assert 'if [[ "${zsh_eval_context[-1]}" == loadautofunc ]]; then\n  # Autoloaded' in text
    assert '  _flylogs "$@"\nelse' in text and "  compdef _flylogs flylogs\nfi\n" in text
