"""`watch --state FILE`: what a restarted watcher remembers, kept so that nothing it does can end the
watch: a missing, corrupt or unreadable file is a fresh start, a write that fails is said once."""

from __future__ import annotations

import json
from pathlib import Path

from flylogs.hooks.state import StateFile, default_path


def test_a_state_is_written_whole_and_read_back(tmp_path: Path) -> None:
    said: list[str] = []
    store = StateFile(tmp_path / "deep" / "state.json", said.append)
    assert store.load() is None and said == []  # none yet: a fresh start, nothing to say
    assert store.save({"notifier": [{"x": 1}], "watcher": {}})
    assert store.save({"notifier": [], "watcher": {"instances": []}})
    assert store.load() == {"version": 1, "notifier": [], "watcher": {"instances": []}}
    assert [p.name for p in (tmp_path / "deep").iterdir()] == ["state.json"]  # no temporary left


def test_a_corrupt_or_unreadable_state_is_said_and_a_fresh_start(tmp_path: Path) -> None:
    said: list[str] = []
    path = tmp_path / "state.json"
    path.write_text('{"version": 1, "notifier": [')  # a crash mid-write by something else
    assert StateFile(path, said.append).load() is None
    path.write_text(json.dumps({"version": 99}))
    assert StateFile(path, said.append).load() is None
    path.unlink()
    path.mkdir()  # not a file at all
    assert StateFile(path, said.append).load() is None
    assert [s.split(" (")[0] for s in said] == [
        f"the state file {path} is corrupt",
        f"the state file {path} is corrupt",
        f"cannot read the state file {path}",
    ]
    assert all(s.endswith("starting afresh") for s in said)


def test_a_write_that_fails_is_said_once_keeps_the_old_state_and_recovers(tmp_path: Path) -> None:
    said: list[str] = []
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    store = StateFile(blocker / "state.json", said.append)
    assert not store.save({"notifier": []}) and not store.save({"notifier": []})
    [failed] = said  # said once, for two failures
    assert failed.startswith(f"cannot write the state file {blocker / 'state.json'} (")
    assert failed.endswith("): a restart may repeat alerts")
    blocker.unlink()
    assert store.save({"notifier": []})
    assert said[-1] == f"the state file {blocker / 'state.json'} is written again"


def test_the_default_file_is_one_per_selection_under_xdg_state_home(tmp_path: Path) -> None:
    env = {"XDG_STATE_HOME": str(tmp_path / "xdg"), "HOME": str(tmp_path / "home")}
    assert default_path(("shop", "api"), (), (), env) == tmp_path / "xdg" / "flylogs" / "watch-api+shop.json"
    assert default_path((), ("iad",), (), {"HOME": str(tmp_path / "home")}) == (
        tmp_path / "home" / ".local" / "state" / "flylogs" / "watch-all_r-iad.json"
    )
    assert default_path(("a/../b",), (), (), env).parent == tmp_path / "xdg" / "flylogs"
