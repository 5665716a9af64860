"""Exactly one writer per workspace, chosen by an OS file lock in `.aether/`.

The OS releases the lock when the holder dies (even on kill -9), so a standby process can
take over within one poll interval; no stale-lock heuristics are needed.
"""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path
from typing import Any

import filelock

from aether.store.records import utc_now

LOCK_FILE = "writer.lock"
INFO_FILE = "writer.json"


class WriterLock:
    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        data_dir.mkdir(parents=True, exist_ok=True)
        # thread_local=False: the asyncio loop may acquire and release from different threads
        self._lock = filelock.FileLock(str(data_dir / LOCK_FILE), thread_local=False)
        self.since: str | None = None

    @property
    def held(self) -> bool:
        return self._lock.is_locked

    def try_acquire(self, command: str) -> bool:
        """Non-blocking. On success, records who the writer is for `aether status`."""
        if self._lock.is_locked:
            return True
        try:
            self._lock.acquire(timeout=0)
        except filelock.Timeout:
            return False
        self.since = utc_now()
        info = {"pid": os.getpid(), "since": self.since, "command": command}
        tmp = self.data_dir / f"{INFO_FILE}.{os.getpid()}"
        tmp.write_text(json.dumps(info), encoding="utf-8")
        os.replace(tmp, self.data_dir / INFO_FILE)
        return True

    def release(self) -> None:
        if self._lock.is_locked:
            with contextlib.suppress(OSError):
                (self.data_dir / INFO_FILE).unlink()
            self._lock.release(force=True)
            self.since = None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def current_writer(data_dir: Path) -> dict[str, Any] | None:
    """Who holds the writer role now: {pid, since, command}, or None."""
    try:
        info = json.loads((data_dir / INFO_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(info, dict) or not _alive(int(info.get("pid", 0))):
        return None
    return info
