"""The run boundary: the one `asyncio.run`, the signals, and where every error becomes an exit code.

Every command body runs inside `Boundary`: a typed `FlylogsError` becomes `flylogs: error: …` plus a
`hint: …` line and its exit code; anything else becomes exit 1 with a request to report it (a
traceback only with `--debug`); secrets registered with `hide` never reach the terminal, whatever
the error says. `run` is the only place an event loop starts: SIGINT and SIGTERM resolve the stop
future the session waits on, so Ctrl-C ends cleanly with a summary instead of a traceback.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
import traceback
from collections.abc import Callable, Coroutine
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

import typer

from flylogs.errors import ExitCode, FlylogsError
from flylogs.settings.tokens import TokenKeeper

if TYPE_CHECKING:
    from flylogs.session.plan import StopReason
    from flylogs.settings.resolve import Flags, Settings

T = TypeVar("T")

DEBUG = {"on": False}


class Boundary:
    def __init__(self, *secrets: str | None) -> None:
        self._secrets: list[str] = []
        self.hide(*secrets)
        # The token in use, shared by every adapter of the run (set by `settings`).
        self.tokens = TokenKeeper(None)

    def hide(self, *secrets: str | None) -> None:
        self._secrets.extend(s for s in secrets if s)

    def _hide_token(self, token: str | None) -> None:
        """A token string, and each token of several wherever it shows alone."""
        if token:
            self.hide(token, *token.split(","))

    def redact(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, "***")
        return text

    def say(self, text: str) -> None:
        typer.echo(self.redact(text), err=True)

    def fail(self, message: str, hint: str | None, code: int) -> NoReturn:
        self.say(f"flylogs: error: {message}")
        if hint:
            self.say(f"hint: {hint}")
        raise typer.Exit(code)

    def __enter__(self) -> Boundary:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if exc is None or isinstance(exc, typer.Exit | typer.Abort):
            return
        if isinstance(exc, KeyboardInterrupt):  # a platform without loop signal handlers
            raise typer.Exit(ExitCode.INTERRUPTED) from None
        if not isinstance(exc, Exception):
            return
        if isinstance(exc, BrokenPipeError):  # `flylogs config show | head -1`: the reader left
            silence_stdout()
            raise typer.Exit(ExitCode.OK) from None
        if DEBUG["on"]:
            traceback.print_exception(exc)
        if isinstance(exc, FlylogsError):
            self.fail(exc.message, exc.hint, exc.exit_code)
        self.fail(
            f"unexpected {type(exc).__name__}: {exc}",
            "run again with --debug for a traceback, and please report it",
            ExitCode.UNEXPECTED,
        )

    def settings(self, flags: Flags) -> Settings:
        """Every setting resolved (flags, environment, config file, keyring, flyctl); the token hidden."""
        from flylogs import credentials
        from flylogs.settings.resolve import reread_token, resolve
        from flylogs.settings.tokens import url_password

        def passwords(*urls: str) -> list[str]:
            # URLs are printed redacted anyway; hiding a 1-letter password would mangle every word.
            return [p for p in map(url_password, urls) if p and len(p) >= 4]

        self.hide(flags.values.get("token"))
        self.hide(*passwords(*(flags.values.get("servers") or ()), flags.values.get("api_url") or ""))
        settings = resolve(flags, os.environ, Path.home(), credentials.load)
        self.hide(*passwords(*settings.servers, settings.api_url))
        self._hide_token(settings.token)
        self.tokens = TokenKeeper(
            settings.token,
            reread=lambda: reread_token(flags, os.environ, Path.home(), credentials.load),
            on_new=self._hide_token,
        )
        return settings

    def run(
        self,
        main: Callable[[asyncio.Future[StopReason]], Coroutine[Any, Any, T]],
        on_resize: Callable[[], None] | None = None,
    ) -> T:
        """Run `main(stop)` on a new event loop; SIGINT and SIGTERM resolve `stop`; SIGWINCH (the
        terminal was resized) calls `on_resize`, on the loop, between two lines."""
        from flylogs.session.plan import StopReason

        async def guarded() -> T:
            loop = asyncio.get_running_loop()
            stop: asyncio.Future[StopReason] = loop.create_future()
            for signum, reason in (
                (signal.SIGINT, StopReason.INTERRUPTED),
                (signal.SIGTERM, StopReason.TERMINATED),
                # The terminal closed or the ssh session dropped: as SIGTERM (records flushed, a
                # summary if anyone still reads stderr), not the default death without a word.
                (getattr(signal, "SIGHUP", signal.SIGTERM), StopReason.HUNG_UP),
            ):
                with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                    loop.add_signal_handler(signum, _resolver(stop, reason))
            if on_resize is not None and hasattr(signal, "SIGWINCH"):
                with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                    loop.add_signal_handler(signal.SIGWINCH, on_resize)
            return await main(stop)

        _tune_gc()
        return asyncio.run(guarded())


def click_failure(error: typer.TyperException) -> int:
    """A usage error found while parsing (unknown option, bad value) in the style of every other
    error: `flylogs: error: …` and a `hint:` pointing at the command's help; exit 2."""
    code = int(getattr(error, "exit_code", ExitCode.USAGE))
    if type(error).__name__ == "NoArgsIsHelpError":  # `flylogs` alone: the help is the message
        error.show()  # type: ignore[attr-defined]
        return code
    message = str(getattr(error, "format_message", error.__str__)())
    message = message.replace("Value error, ", "").replace(": Input should be", ": should be").rstrip(".")
    message = message[:1].lower() + message[1:]
    typer.echo(f"flylogs: error: {message}", err=True)
    ctx = getattr(error, "ctx", None)
    path = ctx.command_path if ctx is not None else "flylogs"
    typer.echo(f"hint: see '{path} --help'", err=True)
    return code


def _resolver(stop: asyncio.Future[StopReason], reason: StopReason) -> Callable[[], None]:
    def resolve() -> None:
        if not stop.done():
            stop.set_result(reason)

    return resolve


def _tune_gc() -> None:
    """Fewer, later collections: every line allocates a few short-lived objects and no cycles, and
    the default threshold (700) ran a collection every few hundred lines for nothing."""
    import gc

    gc.freeze()  # what start-up built lives as long as the process: never scan it again
    gc.set_threshold(50_000, 20, 100)


def silence_stdout() -> None:
    """After `| head` closed the pipe, point stdout at /dev/null so the interpreter's last flush is quiet."""
    import io

    with contextlib.suppress(OSError, ValueError, io.UnsupportedOperation):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
