"""Shared fixtures: a clean environment, an in-memory keyring, real nats-servers (see tests/helpers.py)."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path

import keyring
import pytest

from flylogs.demo.server import NatsServer
from tests.fakes.agent import PERSONAL_RAW
from tests.fakes.flyapi import FakeFlyApi
from tests.fakes.machines import FakeMachinesApi
from tests.helpers import MemoryKeyring


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No FLYLOGS_*/FLY_*/colour variables from the developer's shell; HOME is an empty folder; no
    real flyctl on PATH."""
    import os

    for name in list(os.environ):
        if name.startswith(("FLYLOGS_", "FLY_")) or name in (
            "NO_COLOR",
            "FORCE_COLOR",
            "XDG_CONFIG_HOME",
            "XDG_STATE_HOME",
            "COLUMNS",
            "COLORTERM",
        ):
            monkeypatch.delenv(name, raising=False)
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("TERM", "xterm")
    monkeypatch.setenv("TZ", "UTC")
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.null.Keyring")
    # Fly's organizations endpoint is never the real one: a test that needs it starts a fake.
    monkeypatch.setenv("FLY_UIEX_BASE_URL", "http://127.0.0.1:9")
    # A developer's real flyctl must never be started (`fly agent start`) or used by a test: the
    # PATH keeps no folder that holds one. Tests that need a `fly` put a fake of their own first.
    folders = os.environ.get("PATH", "").split(os.pathsep)
    kept = [f for f in folders if not any(os.path.exists(os.path.join(f, n)) for n in ("fly", "flyctl"))]
    monkeypatch.setenv("PATH", os.pathsep.join(kept))
    monkeypatch.chdir(tmp_path)
    return home


@pytest.fixture(autouse=True)
def memory_keyring() -> Iterator[MemoryKeyring]:
    previous = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    yield backend
    keyring.set_keyring(previous)


@pytest.fixture
def nats_server() -> Iterator[NatsServer]:
    with NatsServer(monitor=True) as server:
        yield server


@pytest.fixture
def auth_server() -> Iterator[NatsServer]:
    with NatsServer(user="my-org", password="fm2_secret-token", monitor=True) as server:
        yield server


@pytest.fixture
def agent_dir() -> Iterator[Path]:
    # A unix socket's path must be short (108 bytes): not under pytest's deep tmp_path.
    with tempfile.TemporaryDirectory(dir="/tmp", prefix="fa") as folder:
        yield Path(folder)


@pytest.fixture
def personal_user(agent_dir: Path) -> Iterator[dict[str, str]]:
    """A new user with a personal org, logged in with flyctl: config.yml holds a macaroon and a user
    token; the Machines API gives the app's raw org slug; Fly's web API maps it to `personal`."""
    home = Path.home()  # the test's empty HOME (conftest)
    (home / ".fly").mkdir(exist_ok=True)
    (home / ".fly" / "config.yml").write_text("access_token: fm2_from-flyctl,fo1_user-token\n")
    token = "fm2_from-flyctl,fo1_user-token"
    with (
        FakeMachinesApi({"jane-blog": (PERSONAL_RAW, "default")}, token) as machines,
        FakeFlyApi(token) as web,
    ):
        yield {
            "FLY_FLAPS_BASE_URL": machines.url,
            "FLY_UIEX_BASE_URL": web.url,
            "FLY_API_BASE_URL": web.url,
            "FLY_AGENT_SOCKET_PATH": str(agent_dir / "a.sock"),
        }


# Hypothesis checks what is computed, never how fast: no deadlines (a loaded CI machine is slow).
from hypothesis import settings as _hypothesis_settings  # noqa: E402

_hypothesis_settings.register_profile("flylogs", deadline=None)
_hypothesis_settings.load_profile("flylogs")
