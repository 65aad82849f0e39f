"""Shared fixtures: a clean environment, an in-memory keyring, real nats-servers, the Fly fixtures."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import keyring
import keyring.backend
import keyring.errors
import pytest

from flylogs.demo.server import NatsServer

FIXTURES = Path(__file__).parent / "fixtures" / "fly-messages.jsonl"


@dataclass(frozen=True)
class Case:
    subject: str
    payload: bytes
    note: str


def load_cases() -> list[Case]:
    cases = []
    for line in FIXTURES.read_text(encoding="utf-8").splitlines():
        data = json.loads(line)
        cases.append(Case(data["subject"], data["payload"].encode("utf-8"), data["note"]))
    return cases


CASES = load_cases()


class MemoryKeyring(keyring.backend.KeyringBackend):
    """A keyring that lives and dies with the test: the user's real keyring is never touched."""

    priority = 1

    def __init__(self) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self.store: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.store.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.store[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        if self.store.pop((service, username), None) is None:
            raise keyring.errors.PasswordDeleteError("not found")


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No FLYLOGS_*/FLY_*/colour variables from the developer's shell; HOME is an empty folder."""
    import os

    for name in list(os.environ):
        if name.startswith(("FLYLOGS_", "FLY_")) or name in (
            "NO_COLOR",
            "FORCE_COLOR",
            "XDG_CONFIG_HOME",
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


def wait_for(condition: Callable[[], object], timeout: float = 10.0, what: str = "condition") -> None:
    """Poll `condition` until true or fail after `timeout` seconds (never a guessed sleep)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.01)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def publish_when_subscribed(
    server: NatsServer,
    messages: list[tuple[str, bytes]],
    *,
    subscriptions: int = 1,
    user: str | None = None,
    password: str | None = None,
) -> threading.Thread:
    """In a thread: wait until the server holds `subscriptions` subscriptions, then publish `messages`."""
    import asyncio

    import nats

    def run() -> None:
        wait_for(lambda: server.subscription_count() >= subscriptions, what="the subscriber")

        async def publish() -> None:
            kwargs = {"user": user, "password": password} if user else {}
            nc = await nats.connect(server.url, **kwargs)
            for subject, payload in messages:
                await nc.publish(subject, payload)
            await nc.flush()
            await nc.close()

        asyncio.run(publish())

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread
