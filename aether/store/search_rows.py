"""The rows of the search table, which keeps no copy of them (contentless, schema v15).

A row is made from its symbol (name, qualified name, path) and the search words stored with
its SIR (aether.store.packing). Deleting a row must repeat exactly what was inserted, so the
writer reads the symbol and its SIR back and makes the row again (`rows_of`); search reads its
candidates' rows the same way.

The whole table is rebuilt on open when the store was made by an older aether or another
version of the search terms (`aether.symbols.terms.VERSION`): a migration asks for it in
`meta`, since terms are computed in Python. The rebuild also packs again the SIRs a
migration left as text or an older aether packed (an older format, or words with the stop
words that v23 leaves out). Runs once, in the same step that migrates the file.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from contextlib import suppress
from typing import Any

import aiosqlite

from aether.store import queries as q
from aether.store.packing import is_current, pack_sir, sir_json_of, terms_of
from aether.store.records import PreparedSir, search_row
from aether.store.schema import immediate
from aether.symbols.terms import VERSION as TERMS_VERSION
from aether.symbols.terms import prose_of

META_KEY = "search_rows"
_CHUNK = 500  # ids or seqs per statement (SQLite allows 32,766 parameters; keep them short)
CURRENT = f"contentless-{TERMS_VERSION}"


def stored_terms(value: str | bytes | None) -> tuple[str, str] | None:
    """A stored SIR's search words; computed from its JSON when it has none stored (as every
    rebuild before v15 did)."""
    if value is None:
        return None
    with suppress(ValueError):
        found = terms_of(value)
        if found is not None:
            return found
        return PreparedSir.terms_of_json(sir_json_of(value))
    return None


def row_of(seq: int, name: str, qname: str, path: str,
           value: str | bytes | None) -> tuple[Any, ...]:
    return search_row(seq, name, qname, path, stored_terms(value))


async def rows_by_seqs(conn: aiosqlite.Connection,
                       seqs: Sequence[int]) -> dict[int, tuple[Any, ...]]:
    """seq -> its search row, for these symbols."""
    out: dict[int, tuple[Any, ...]] = {}
    for i in range(0, len(seqs), _CHUNK):
        chunk = list(seqs[i:i + _CHUNK])
        async with conn.execute(q.search_sources_by_seqs(len(chunk)), chunk) as cur:
            out.update((r[0], row_of(*r)) for r in await cur.fetchall())
    return out


async def delete_by_seqs(conn: aiosqlite.Connection, seqs: Sequence[int]) -> None:
    """Remove these symbols' search rows (before the symbols go)."""
    rows = await rows_by_seqs(conn, seqs)
    if rows:
        await conn.executemany(q.DELETE_FTS_ROW, list(rows.values()))


async def delete_in_files(conn: aiosqlite.Connection, paths: Iterable[str]) -> None:
    """Remove the search rows of every symbol of these files (before the files go)."""
    rows: list[tuple[Any, ...]] = []
    for path in paths:
        async with conn.execute(q.SEARCH_SOURCES_BY_FILE, (path,)) as cur:
            rows.extend(row_of(*r) for r in await cur.fetchall())
    if rows:
        await conn.executemany(q.DELETE_FTS_ROW, rows)


async def take_for_new_terms(conn: aiosqlite.Connection, symbol_ids: Sequence[str]
                             ) -> dict[str, tuple[int, str, str, str]]:
    """Before new SIRs are stored for these symbols: their search rows leave the table, and
    come back (`with_terms`) once the SIRs are written. id -> (seq, name, qualified name,
    path) of the row taken out."""
    out: dict[str, tuple[int, str, str, str]] = {}
    rows: list[tuple[Any, ...]] = []
    for i in range(0, len(symbol_ids), _CHUNK):
        chunk = list(symbol_ids[i:i + _CHUNK])
        async with conn.execute(q.search_sources_by_ids(len(chunk)), q.keys(chunk)) as cur:
            for sid, *source in await cur.fetchall():
                out[sid] = (source[0], source[1], source[2], source[3])
                rows.append(row_of(*source))
    if rows:
        await conn.executemany(q.DELETE_FTS_ROW, rows)
    return out


def with_terms(source: tuple[int, str, str, str], terms: tuple[str, str]) -> tuple[Any, ...]:
    """The search row of a symbol taken out (`take_for_new_terms`) with a new SIR's words
    (made whole again: its path's words depend on them)."""
    return search_row(*source, terms)


def rebuild_search_rows(conn: sqlite3.Connection) -> bool:
    """Rebuild when asked (see the module's doc); True if this call did."""
    row = conn.execute(q.GET_META, (META_KEY,)).fetchone()
    if row and row[0] == CURRENT:
        return False
    done = False
    with immediate(conn):
        row = conn.execute(q.GET_META, (META_KEY,)).fetchone()
        if not row or row[0] != CURRENT:  # another process may have rebuilt meanwhile
            rows, packed = [], []
            for seq, name, qname, path, value in conn.execute(q.ALL_FOR_SEARCH_ROWS):
                terms = stored_terms(value)
                if terms is not None and not is_current(value):
                    # an older format, or words an older aether kept (its stop words)
                    terms = prose_of(terms[0]), prose_of(terms[1])
                    packed.append((pack_sir(sir_json_of(value) or "", *terms), seq))
                rows.append(search_row(seq, name, qname, path, terms))
            conn.execute(q.CLEAR_FTS)
            conn.executemany(q.INSERT_FTS, rows)
            conn.executemany(q.SET_SIR_VALUE, packed)
            conn.execute(q.SET_META, (META_KEY, CURRENT))
            done = True
    return done
