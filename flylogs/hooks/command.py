"""`--on-alert CMD`: run through the shell once per alert, the alert's JSON on stdin and its fields
in `FLYLOGS_ALERT_*` variables; one at a time, each with a timeout; a failure is retried twice with
backoff, then reported (once, until a run succeeds) with the command's exit status and the last
line it wrote to stderr. Must not: print, or block the stream.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
from collections.abc import Callable, Mapping

from flylogs.core.alerts import Alert
from flylogs.hooks.queue import Deliveries

TIMEOUT = 10.0  # seconds an alert command may run
RETRIES = 2  # a command that fails is run again, after about 2 s, then 4 s


class HookFailed(Exception):
    pass


def alert_env(alert: Alert, base: Mapping[str, str]) -> dict[str, str]:
    """`base` and FLYLOGS_ALERT_<FIELD> for every field of the record (KIND, STATUS, APP, REGION,
    INSTANCE, INSTANCES comma-separated, SINCE, AT, CLOSES, TEXT, FINGERPRINT, ID, …)."""
    env = dict(base)
    for key, value in alert.record().items():
        if key != "type":
            text = ",".join(map(str, value)) if isinstance(value, list) else str(value)
            env[f"FLYLOGS_ALERT_{key.upper()}"] = "" if value is None else text
    return env


class AlertCommand:
    def __init__(
        self,
        command: str,
        say: Callable[[str], None],
        *,
        env: Mapping[str, str],  # the command's environment (the CLI passes its own)
        timeout: float = TIMEOUT,
        retries: int = RETRIES,
        first_wait: float = 1.0,
    ) -> None:
        self._command = command
        self._env = dict(env)
        self._timeout = timeout
        self._queue: Deliveries[Alert] = Deliveries(
            "--on-alert", self._run, say, retries=retries, first_wait=first_wait
        )

    name = "--on-alert"

    @property
    def counts(self) -> tuple[int, int, int]:
        """Alerts delivered, failed (after their retries) and dropped (a full queue)."""
        return self._queue.delivered, self._queue.failed, self._queue.dropped

    def alert(self, alert: Alert) -> None:
        self._queue.put(alert)

    async def close(self, timeout: float = TIMEOUT) -> None:
        await self._queue.close(timeout)

    async def _run(self, alert: Alert) -> None:
        data = (json.dumps(alert.record(), ensure_ascii=False) + "\n").encode()
        process = await asyncio.create_subprocess_shell(
            self._command,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
            env=alert_env(alert, self._env),
            start_new_session=True,  # Ctrl-C is flylogs' to handle, not the hook's
        )
        try:
            _, err = await asyncio.wait_for(process.communicate(data), self._timeout)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, 9)
            await process.wait()
            raise HookFailed(f"still running after {self._timeout:g} s; killed") from None
        if process.returncode != 0:
            last = err.decode(errors="replace").strip().splitlines()[-1:] if err else []
            said = f": {last[0][:200]}" if last else ""
            raise HookFailed(f"exit status {process.returncode}{said}")
