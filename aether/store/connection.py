"""Opening the SQLite file: pragmas, the bounded check and migration, read-only access.

Also the chaos-test hook the writer's transactions call (see `txn_hook`).
"""

from __future__ import annotations

import os
import sqlite3
from contextlib import suppress
from pathlib import Path
from urllib.parse import quote

import aiosqlite

from aether.store.compact_rows import compact_rows
from aether.store.integrity import is_damage, quick_check
from aether.store.schema import COMPACT_EDGES, SCHEMA_VERSION, migrate
from aether.store.search_rows import rebuild_search_rows
from aether.store.vectors import convert_vectors

# Page cache per connection, in KiB. A cold index inserts random keys into every B-tree and
# thrashes a small cache, so large passes get a big one (`Store.bulk_writes`); a daemon that
# stays up must not keep it: every edit touches new pages, and a 64 MiB cache per connection
# is what made an idle `aether watch` grow at every save.
CACHE_KB = 8 * 1024
BULK_CACHE_KB = 16 * 1024
LEAN_CACHE_KB = 1024  # while the daemon is above its memory ceiling

PAGE_SIZE = 8192
BUSY_TIMEOUT_MS = 10_000
TEMP_STORE = "MEMORY"  # sorts and temporary tables (Store.compact sends a VACUUM's to a file)
PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=NORMAL",
    "PRAGMA foreign_keys=ON",
    f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}",
    f"PRAGMA temp_store={TEMP_STORE}",
    f"PRAGMA cache_size=-{CACHE_KB}",
)


def prepare_file(path: Path, check_budget_s: float | None) -> str | None:
    """Check (bounded by `check_budget_s`) and migrate. Returns why the file is damaged, or
    None."""
    conn = sqlite3.connect(path, isolation_level=None, timeout=30)
    try:
        # budget None: unbounded; 0: no check (queries that meet damage report it)
        problem = quick_check(conn, check_budget_s) if check_budget_s != 0 else None
        if problem:
            return problem
        if conn.execute("PRAGMA page_count").fetchone()[0] == 0:
            # a new store: 8 KiB pages hold the same rows in 2% less than 4 KiB ones (fewer
            # page headers, half-empty ends and interior pages); set before WAL, which
            # fixes it. An existing store keeps its own.
            conn.execute(f"PRAGMA page_size={PAGE_SIZE}")
        for pragma in PRAGMAS:
            conn.execute(pragma)
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        migrate(conn)
        rewrote = (compact_rows(conn) | rebuild_search_rows(conn) | convert_vectors(conn)
                   | (version < COMPACT_EDGES))
        if 0 < version < SCHEMA_VERSION:
            give_back_space(conn, rewrote=rewrote)
    except sqlite3.DatabaseError as exc:
        if not is_damage(exc):
            raise
        return f"database is damaged: {exc}"
    finally:
        conn.close()
    return None


def give_back_space(conn: sqlite3.Connection, *, rewrote: bool) -> None:
    """After migrations of an older store: VACUUM once when rows were rewritten smaller in
    place (their pages stay half empty: 136 MB in use for 103 MB of data after the upgrade
    of a standard library store) or a quarter of the file is free pages, so the upgrade
    makes the file smaller on disk, not only inside. Skipped, not waited for, while another
    process reads."""
    free = conn.execute("PRAGMA freelist_count").fetchone()[0]
    pages = conn.execute("PRAGMA page_count").fetchone()[0]
    if not rewrote and free * 4 < pages:
        return
    conn.execute("PRAGMA busy_timeout=0")
    with suppress(sqlite3.OperationalError):  # busy: the free pages are reused instead
        conn.execute("VACUUM")


def read_only_uri(path: Path, immutable: bool) -> str:
    return f"file:{quote(str(path))}?mode=ro" + ("&immutable=1" if immutable else "")


async def connect(path: Path, read_only: bool = False, pragmas: bool = True
                   ) -> aiosqlite.Connection:
    if read_only:
        # A WAL database needs its -shm file; in a folder nobody may write, `immutable`
        # is the only way in (nobody can be writing it either).
        conn = await aiosqlite.connect(read_only_uri(path, False), uri=True,
                                       isolation_level=None)
        try:
            await conn.execute("SELECT count(*) FROM sqlite_master")
        except sqlite3.OperationalError:
            await conn.close()
            conn = await aiosqlite.connect(read_only_uri(path, True), uri=True,
                                           isolation_level=None)
        except BaseException:
            await conn.close()
            raise
        return conn
    conn = await aiosqlite.connect(path, isolation_level=None, timeout=30)
    try:
        for pragma in PRAGMAS if pragmas else ():
            await conn.execute(pragma)
    except BaseException:
        await conn.close()  # its thread would otherwise keep the process alive
        raise
    return conn


def must_open_read_only(path: Path) -> bool:
    """An existing database we may not write (a read-only checkout, a CI cache)."""
    if not path.exists():
        return False
    return not (os.access(path, os.W_OK) and os.access(path.parent, os.W_OK | os.X_OK))


# Chaos tests only (tests/test_daemon.py): with AETHER_TEST_TXN_MARKER set, the writer keeps
# in that file whether it is inside a write transaction and how many it began, so a kill -9
# can be aimed at a write for real; AETHER_TEST_TXN_HOLD_S holds each one open that long
# before COMMIT, widening the window. Unset in normal use: two lookups at import, then nothing.
TXN_MARKER = os.environ.get("AETHER_TEST_TXN_MARKER")
TXN_HOLD_S = float(os.environ.get("AETHER_TEST_TXN_HOLD_S") or 0)
_began = 0


def txn_hook(state: str) -> None:
    global _began
    assert TXN_MARKER is not None
    if state == "in":
        _began += 1
    fd = os.open(TXN_MARKER, os.O_WRONLY | os.O_CREAT, 0o644)
    try:
        os.pwrite(fd, f"{state:<3} {_began:>10}\n".encode(), 0)
    finally:
        os.close(fd)
