"""The keyring adapter: the only module that imports `keyring`.

Owns: storing, loading and deleting the org and token that `flylogs auth login` saves. Never falls back
to a plaintext file: without a usable keyring backend it raises KeyringUnavailableError, whose hint
points to the environment variables. Must not: print or prompt.
"""

from __future__ import annotations

import json
from typing import Any

from flylogs.errors import ConfigError, KeyringUnavailableError
from flylogs.settings.tokens import StoredCredentials

SERVICE = "flylogs"
ENTRY = "credentials"

_HINT = (
    "flylogs never stores tokens in plain files: set FLYLOGS_TOKEN (and FLYLOGS_ORG) in the environment "
    "instead, or set up a keyring (macOS Keychain, Windows Credential Locker, or a Secret Service such as "
    "GNOME Keyring or KWallet on Linux)"
)


def _keyring() -> Any:
    # Imported on use: discovering backends costs start-up time most commands never need.
    import keyring
    import keyring.errors

    try:
        keyring.get_keyring()  # the backend is chosen here (keyring's PYTHON_KEYRING_BACKEND, its config)
    except (ImportError, AttributeError, ValueError, TypeError) as exc:
        raise ConfigError(
            f"the keyring backend named in keyring's configuration cannot be loaded ({type(exc).__name__}: "
            f"{exc})",
            hint="check PYTHON_KEYRING_BACKEND (or keyringrc.cfg); or leave the keyring out: set "
            "FLYLOGS_TOKEN, or log in with flyctl",
        ) from None
    return keyring


def backend_name() -> str:
    backend = _keyring().get_keyring()
    return f"{type(backend).__module__}.{type(backend).__name__}"


def _unavailable(exc: Exception) -> KeyringUnavailableError:
    return KeyringUnavailableError(f"the keyring is not available: {type(exc).__name__}", hint=_HINT)


def store(creds: StoredCredentials) -> None:
    """Store `creds` and read them back: a backend that accepts and keeps nothing (keyring's null
    backend, a locked or read-only store) is an error, not a silent success."""
    keyring = _keyring()
    try:
        keyring.set_password(SERVICE, ENTRY, json.dumps({"org": creds.org, "token": creds.token}))
    except (keyring.errors.KeyringError, RuntimeError) as exc:
        raise _unavailable(exc) from None
    if load() != creds:
        raise KeyringUnavailableError(
            f"the keyring ({backend_name()}) accepted the token but does not return it", hint=_HINT
        )


def load() -> StoredCredentials | None:
    """The stored credentials, or None when there are none or the keyring cannot be used."""
    keyring = _keyring()
    try:
        raw = keyring.get_password(SERVICE, ENTRY)
    except (keyring.errors.KeyringError, RuntimeError):
        return None
    if not raw:
        return None
    try:
        data = json.loads(raw)
        return StoredCredentials(org=str(data["org"]), token=str(data["token"]))
    except (ValueError, KeyError, TypeError):
        return None


def delete() -> bool:
    """Remove the stored credentials; False when there were none."""
    keyring = _keyring()
    try:
        keyring.delete_password(SERVICE, ENTRY)
    except keyring.errors.PasswordDeleteError:
        return False
    except (keyring.errors.KeyringError, RuntimeError) as exc:
        raise _unavailable(exc) from None
    return True
