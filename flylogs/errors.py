"""Typed errors and exit codes: the one vocabulary every layer uses to say what went wrong.

Owns: the `ExitCode` contract (documented in the README) and the error classes the CLI maps to it.
Must not: print, exit or format for a terminal; the CLI renders errors once, at its boundary.
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """Process exit codes. A public contract: change deliberately, document in the README."""

    OK = 0
    UNEXPECTED = 1
    USAGE = 2
    CONFIG = 3
    AUTH = 4
    UNREACHABLE = 5
    GAPS = 6
    SILENT = 7  # `flylogs check`: an instance that should be logging did not
    OUTPUT = 8  # standard output could not be written (a full disk, a closed or failing stdout)
    HUNG_UP = 129  # 128 + SIGHUP
    INTERRUPTED = 130
    TERMINATED = 143


class FlylogsError(Exception):
    """An error the user can act on: a one-line message and a hint saying what to do."""

    exit_code: ExitCode = ExitCode.UNEXPECTED

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


class UsageError(FlylogsError):
    exit_code = ExitCode.USAGE


class HistoryUnavailableError(UsageError):
    """--stream/--since name a history source that is not there."""


class ConfigError(FlylogsError):
    exit_code = ExitCode.CONFIG


class AuthError(FlylogsError):
    exit_code = ExitCode.AUTH


class UnreachableError(FlylogsError):
    exit_code = ExitCode.UNREACHABLE


class OutputError(FlylogsError):
    """Standard output cannot be written: not a reader that went away (that ends quietly), but a
    full disk, a closed descriptor, an I/O error."""

    exit_code = ExitCode.OUTPUT


class KeyringUnavailableError(FlylogsError):
    exit_code = ExitCode.CONFIG


class DemoUnavailableError(FlylogsError):
    """The demo's `nats-server` would not start."""

    exit_code = ExitCode.UNEXPECTED


class DemoServerMissingError(DemoUnavailableError):
    """The demo's `nats-server` is not installed: an installation problem, like a missing keyring."""

    exit_code = ExitCode.CONFIG
