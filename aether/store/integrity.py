"""Is the database file still the one we opened, and is it intact?

Two failure modes the store must notice by itself: the file (or all of `.aether/`) deleted
or replaced under a running process, which would otherwise keep writing to an unlinked inode
and report healthy; and pages damaged on disk, which SQLite only reports when a query happens
to touch them. `quick_check` is bounded by a progress handler so a huge database costs at most
the budget at start; a check cut short is "not known bad", never "bad".
"""

from __future__ import annotations

import functools
import os
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

QUICK_CHECK_BUDGET_S = 1.0  # at start; `aether doctor` checks without a bound
_PROGRESS_OPS = 10_000  # SQLite VM steps between two looks at the clock


class StoreError(Exception):
    """The database cannot be opened or written; the message is fit for a user."""


class StoreDamaged(StoreError):
    """The database file is damaged; `aether doctor` (or any writer) moves it aside and
    rebuilds it, keeping every SIR that can still be read."""


class StoreGone(StoreError):
    """The database file or the writer lock was deleted or replaced under this process."""


@dataclass(frozen=True, slots=True)
class FileIdentity:
    device: int
    inode: int

    @classmethod
    def of(cls, path: Path) -> FileIdentity | None:
        try:
            st = os.stat(path)
        except OSError:
            return None
        return cls(st.st_dev, st.st_ino)


def is_damage(exc: BaseException) -> bool:
    """SQLITE_CORRUPT / SQLITE_NOTADB surface as a plain DatabaseError; OperationalError
    (locked, busy, I/O, interrupted) and its kin are not damage."""
    return type(exc) is sqlite3.DatabaseError


def quick_check(conn: sqlite3.Connection, budget_s: float | None = QUICK_CHECK_BUDGET_S
                ) -> str | None:
    """None when the database looks intact (or the check ran out of budget), else a
    one-line reason."""
    deadline = None if budget_s is None else time.monotonic() + budget_s
    if deadline is not None:
        conn.set_progress_handler(lambda: int(time.monotonic() > deadline), _PROGRESS_OPS)
    try:
        rows = conn.execute("PRAGMA quick_check(5)").fetchall()
    except sqlite3.OperationalError as exc:
        if "interrupt" in str(exc):
            return None  # out of budget: not known bad
        return f"integrity check failed: {exc}"
    except sqlite3.DatabaseError as exc:
        return f"database is damaged: {exc}"
    finally:
        if deadline is not None:
            conn.set_progress_handler(None, 0)
    found = [str(r[0]) for r in rows]
    if found == ["ok"]:
        return None
    return "database is damaged: " + "; ".join(found)[:300]


def damage_reason(exc: sqlite3.DatabaseError) -> str:
    return " ".join(f"database is damaged: {exc}".split())[:300]


_F = TypeVar("_F", bound=Callable[..., Any])


def reports_damage(fn: _F) -> _F:
    """Turn SQLite's damage errors into StoreDamaged (and remember the reason), so every
    surface reports it in one line instead of a traceback."""
    @functools.wraps(fn)
    async def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return await fn(self, *args, **kwargs)
        except sqlite3.DatabaseError as exc:
            if not is_damage(exc):
                raise
            self.problem = damage_reason(exc)
            raise StoreDamaged(f"{self.problem}; `aether doctor` repairs it") from None
    return wrapper  # type: ignore[return-value]
