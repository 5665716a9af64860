"""Recovery of a damaged database: read back every SIR still readable, move the file aside,
start a fresh one. SIRs are what costs money to rebuild (inference); everything else is
derived from the code and is simply re-indexed.

The salvage reads row by row when a table scan hits a damaged page, so one bad page costs
the rows on it, not the table.
"""

from __future__ import annotations

import os
import sqlite3
import time
from pathlib import Path

from aether.sir.model import Sir
from aether.store import queries as q
from aether.store.packing import sir_json_of
from aether.store.records import utc_text

# symbol_id, source_hash, sir_json, provider, model, created_at, prompt_version, verification
SalvagedRow = tuple[str, str, str, str, str, str, str, str | None]
ROWID_PROBE_LIMIT = 2_000_000  # when max(rowid) cannot be read either
MISSES_BEFORE_GIVING_UP = 20_000


def _valid(row: tuple[object, ...]) -> SalvagedRow | None:
    if len(row) == 8 and isinstance(row[2], bytes):  # packed (schema v15)
        try:
            row = (*row[:2], sir_json_of(row[2]), *row[3:])
        except ValueError:
            return None
    if len(row) == 8 and isinstance(row[5], int):  # ms since 1970 (schema v19)
        try:
            row = (*row[:5], utc_text(row[5]), *row[6:])
        except OverflowError:
            return None
    if len(row) != 8 or not all(isinstance(v, str) for v in row[:7]) or not (
            row[7] is None or isinstance(row[7], str)):
        return None
    try:
        Sir.model_validate_json(str(row[2]))
    except ValueError:
        return None  # a damaged page can yield a readable but garbled row
    verification = None if row[7] is None else str(row[7])
    return (str(row[0]), str(row[1]), str(row[2]), str(row[3]), str(row[4]), str(row[5]),
            str(row[6]), verification)


def salvage_sirs(path: Path) -> list[SalvagedRow]:
    """Every SIR row that can still be read and validated from the file at `path`."""
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, isolation_level=None)
    except sqlite3.Error:
        return []
    out: list[SalvagedRow] = []
    try:
        read = q.SALVAGE_READS[0]
        for read in q.SALVAGE_READS:  # the newest schema first: older aethers wrote others
            try:
                rows = conn.execute(read).fetchall()
                return [v for v in map(_valid, rows) if v is not None]
            except sqlite3.OperationalError as exc:
                if "no such" in str(exc):  # column or table: written by an older aether
                    continue
                break
            except sqlite3.DatabaseError:
                break  # a damaged page on the way: read row by row below
        try:
            top = conn.execute(q.SALVAGE_MAX_ROWID).fetchone()[0] or 0
        except sqlite3.DatabaseError:
            top = ROWID_PROBE_LIMIT
        misses = 0
        rowid = 0
        while rowid < int(top):
            # sir rows are keyed by symbol seq (schema v13), which has gaps where symbols
            # went: seek the next row; step one by one only across a page that fails
            try:
                found = conn.execute(q.SALVAGE_NEXT_ROWID, (rowid,)).fetchone()
                if found is None:
                    break
                rowid = int(found[0])
            except sqlite3.DatabaseError:
                rowid += 1
            try:
                row = conn.execute(read + q.ROWID_FILTER, (rowid,)).fetchone()
            except sqlite3.DatabaseError:
                row = None
            valid = _valid(row) if row else None
            if valid is None:
                misses += 1
                if misses >= MISSES_BEFORE_GIVING_UP:
                    break
                continue
            misses = 0
            out.append(valid)
    finally:
        conn.close()
    return out


def move_aside(path: Path) -> Path:
    """Rename the database (and its WAL/shm) to `<name>.corrupt-<UTC time>`; returns the new
    path of the database file. A missing file is fine (nothing to keep)."""
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    target = path.with_name(f"{path.name}.corrupt-{stamp}")
    n = 1
    while target.exists():
        n += 1
        target = path.with_name(f"{path.name}.corrupt-{stamp}-{n}")
    for suffix in ("", "-wal", "-shm"):
        src = Path(f"{path}{suffix}")
        if src.exists():
            os.replace(src, Path(f"{target}{suffix}"))
    return target
