from __future__ import annotations

import keyring
import keyring.backends.fail
import pytest

from flylogs import credentials
from flylogs.errors import KeyringUnavailableError
from flylogs.settings.tokens import StoredCredentials
from tests.helpers import MemoryKeyring


def test_store_load_delete(memory_keyring: MemoryKeyring) -> None:
    assert credentials.load() is None
    credentials.store(StoredCredentials("my-org", "fm2_tok"))
    assert credentials.load() == StoredCredentials("my-org", "fm2_tok")
    assert ("flylogs", "credentials") in memory_keyring.store
    assert credentials.delete() is True
    assert credentials.delete() is False
    assert credentials.load() is None


def test_garbage_in_the_keyring_is_ignored(memory_keyring: MemoryKeyring) -> None:
    memory_keyring.store[("flylogs", "credentials")] = "not json"
    assert credentials.load() is None


def test_no_backend_is_a_clear_error_never_a_plaintext_fallback() -> None:
    keyring.set_keyring(keyring.backends.fail.Keyring())  # type: ignore[no-untyped-call]
    with pytest.raises(KeyringUnavailableError) as info:
        credentials.store(StoredCredentials("o", "t"))
    assert info.value.hint is not None and "FLYLOGS_TOKEN" in info.value.hint
    assert credentials.load() is None
