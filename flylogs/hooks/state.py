"""`watch --state FILE`: what the watcher must remember across a restart (open alerts, each instance's
last line), kept in one JSON file.

Writes are atomic: a temporary file in the same folder, flushed to disk, then renamed over the old one,
so a crash mid-write leaves the previous state whole. A missing file is a fresh start; an unreadable or
corrupt one, or a write that fails (a full disk), is said once and never ends the watch. Must not:
print (problems go to `say`), or decide what the state means.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import tempfile
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

VERSION = 1


def default_path(apps: Sequence[str], regions: Sequence[str], instances: Sequence[str],
                 env: Mapping[str, str], groups: Sequence[str] = ()) -> Path:  # fmt: skip
    """A file per watched selection under `$XDG_STATE_HOME/flylogs/` (else `~/.local/state/flylogs/`)."""
    base = env.get("XDG_STATE_HOME") or str(Path(env.get("HOME") or Path.home()) / ".local" / "state")
    parts = ["+".join(sorted(apps)) or "all"]
    parts += [f"r-{'+'.join(sorted(regions))}"] if regions else []
    parts += [f"i-{'+'.join(sorted(instances))}"] if instances else []
    parts += [f"g-{'+'.join(sorted(groups))}"] if groups else []
    name = re.sub(r"[^A-Za-z0-9._+-]", "_", "_".join(parts))[:120]
    return Path(base) / "flylogs" / f"watch-{name}.json"


class StateFile:
    def __init__(self, path: Path, say: Callable[[str], None]) -> None:
        self.path = path
        self._say = say
        self._failing = False

    def load(self) -> dict[str, Any] | None:
        """The state kept last time; None (a fresh start) when there is none or it cannot be used."""
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        except (OSError, UnicodeDecodeError) as exc:
            self._say(f"cannot read the state file {self.path} ({_why(exc)}): starting afresh")
            return None
        try:
            state = json.loads(text)
            if not isinstance(state, dict) or state.get("version") != VERSION:
                raise ValueError("not a state this flylogs wrote")
        except ValueError as exc:
            self._say(f"the state file {self.path} is corrupt ({_why(exc)}): starting afresh")
            return None
        return state

    def save(self, state: Mapping[str, Any]) -> bool:
        """Replace the file with `state`, atomically; False (said once per run of failures) when it
        cannot be written."""
        data = json.dumps({"version": VERSION, **state}, separators=(",", ":")).encode()
        temporary: str | None = None
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            handle, temporary = tempfile.mkstemp(prefix=".state-", dir=self.path.parent)
            with os.fdopen(handle, "wb") as out:
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
            os.replace(temporary, self.path)
        except OSError as exc:
            if temporary is not None:
                with contextlib.suppress(OSError):
                    os.unlink(temporary)
            if not self._failing:
                self._say(
                    f"cannot write the state file {self.path} ({_why(exc)}): a restart may repeat alerts"
                )
            self._failing = True
            return False
        if self._failing:
            self._say(f"the state file {self.path} is written again")
        self._failing = False
        return True


def _why(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return str(exc) or type(exc).__name__
