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
        # thread_local=False: the asyncio loop may acquire and release from different threads
        self._lock = filelock.FileLock(str(data_dir / LOCK_FILE), thread_local=False)
        self.since: str | None = None
        self._identity: tuple[int, int] | None = None

    def _file_identity(self) -> tuple[int, int] | None:
        try:
            st = os.stat(self.data_dir / LOCK_FILE)
        except OSError:
            return None
        return (st.st_dev, st.st_ino)

    def problem(self) -> str | None:
        """Why holding this lock no longer makes us the only writer, or None. A lock on a
        file that was deleted (`rm -rf .aether`) or replaced excludes nobody: another
        process can create a new file and lock it."""
        if not self._lock.is_locked:
            return "this process does not hold the writer lock"
        if self._file_identity() != self._identity:
            return f"the writer lock {self.data_dir / LOCK_FILE} was deleted or replaced"
        return None

    @property
    def held(self) -> bool:
        return self._lock.is_locked

    def try_acquire(self, command: str) -> bool:
        """Non-blocking. On success, records who the writer is for `aether status`."""
        if self._lock.is_locked:
            return True
        try:
            self.data_dir.mkdir(parents=True, exist_ok=True)
            self._lock.acquire(timeout=0)
        except (filelock.Timeout, OSError):
            return False  # held elsewhere, or a folder we cannot write (read-only store)
        self._identity = self._file_identity()
        self.since = utc_now()
        info = {"pid": os.getpid(), "since": self.since, "command": command}
        tmp = self.data_dir / f"{INFO_FILE}.{os.getpid()}"
        with contextlib.suppress(OSError):
            tmp.write_text(json.dumps(info), encoding="utf-8")
            os.replace(tmp, self.data_dir / INFO_FILE)
        return True

    def release(self) -> None:
        if self._lock.is_locked:
            if self._file_identity() == self._identity:  # never remove a new writer's info
                with contextlib.suppress(OSError):
                    (self.data_dir / INFO_FILE).unlink()
            with contextlib.suppress(OSError):
                self._lock.release(force=True)
            self.since = None
            self._identity = None


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
