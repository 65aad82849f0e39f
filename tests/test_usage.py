"""Usage errors found by the parser read like every other error: one line, a hint, exit 2."""

from __future__ import annotations

import pytest

from flylogs.cli import main


def run(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, *args: str) -> tuple[int, str]:
    monkeypatch.setattr("sys.argv", ["flylogs", *args])
    with pytest.raises(SystemExit) as exit:
        main()
    captured = capsys.readouterr()
    return int(exit.value.code or 0), captured.err + captured.out


@pytest.mark.parametrize(
    ("args", "first"),
    [
        (
            ("tail", "--output", "xml"),
            "flylogs: error: invalid value for '--output' / '-o': 'xml' is not one of "
            "'auto', 'table', 'plain', 'json', 'raw'",
        ),
        (("tail", "--count", "-1"), "flylogs: error: invalid value for '--count' / '-n': should be greater"),
        (("tail", "--bogus"), "flylogs: error: no such option: --bogus"),
        (("bogus",), "flylogs: error: no such command 'bogus'"),
    ],
)
def test_a_parser_error_is_one_line_and_a_hint(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, args: tuple[str, ...], first: str
) -> None:
    code, err = run(capsys, monkeypatch, *args)
    assert code == 2
    lines = err.splitlines()
    assert len(lines) == 2, err
    assert lines[0].startswith(first), lines[0]
    assert lines[1].startswith("hint: see 'flylogs") and lines[1].endswith(" --help'")
    assert "╭" not in err and "Value error" not in err and "Traceback" not in err


def test_the_hint_names_the_command_whose_help_helps(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert run(capsys, monkeypatch, "tail", "--bogus")[1].splitlines()[1] == "hint: see 'flylogs tail --help'"
    assert run(capsys, monkeypatch, "auth", "bogus")[1].splitlines()[1] == "hint: see 'flylogs auth --help'"


def test_no_command_shows_the_help(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, err = run(capsys, monkeypatch)
    assert code == 2
    assert "Usage: flylogs" in err and "tail" in err and "flylogs: error" not in err


@pytest.mark.parametrize(
    "command",
    [
        ("--help",),
        ("tail", "--help"),
        ("demo", "--help"),
        ("config", "show", "--help"),
        ("auth", "login", "--help"),
    ],
)
def test_help_names_values_in_words_not_python_types(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, command: tuple[str, ...]
) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    code, text = run(capsys, monkeypatch, *command)
    assert code == 0
    for typer_ism in ("<bool>", "<list[", "<int", "<float", "<str", "<path", "range]", "[x>=", "...]..."):
        assert typer_ism not in text, f"{typer_ism!r} in {' '.join(command)} help"


def test_tail_and_demo_help_say_where_the_apps_come_from(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    tail = run(capsys, monkeypatch, "tail", "--help")[1]
    assert "Usage: flylogs tail [OPTIONS] [APP]..." in tail and "FLY_APP" in tail and "fly.toml" in tail
    demo = run(capsys, monkeypatch, "demo", "--help")[1]
    assert "shop-api, shop-worker, auth-svc" in demo and "fly.toml" not in demo
