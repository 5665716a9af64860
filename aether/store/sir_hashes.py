"""A SIR row's symbol id and two hashes, and a symbol's content hash, as 16 bytes (schema
v20) instead of 32 hex characters: 4.6 MB on the standard library. SQLite before 3.41 has no
`unhex()`, so the v20 migration copies them as text and this converts them once, on first
open, as `convert_vectors` does for vectors. A hash that is not 32 hex characters (never
written by aether) stays text; readers turn either form back into the text it was
(`queries.hex_of` in SQL, `records.hash_text` in Python)."""

from __future__ import annotations

import sqlite3

from aether.store import queries as q
from aether.store.records import hash_text, pack_hash
from aether.store.schema import immediate

META_KEY = "sir_hashes"
FORMAT = "bytes"


def convert_sir_hashes(conn: sqlite3.Connection) -> bool:
    """Hex ids and hashes copied by the v20 migration as 16 bytes, in place, once. True if this call
    converted them."""
    row = conn.execute(q.GET_META, (META_KEY,)).fetchone()
    if row is None or row[0] == FORMAT:
        return False
    done = False
    with immediate(conn):
        row = conn.execute(q.GET_META, (META_KEY,)).fetchone()
        if row is not None and row[0] != FORMAT:  # another process may have converted
            rows = conn.execute(q.ALL_SIR_HASHES).fetchall()
            conn.executemany(q.SET_SIR_HASHES, [
                (pack_hash(hash_text(sid)), pack_hash(hash_text(sir)),
                 pack_hash(hash_text(source)), seq)
                for seq, sid, sir, source in rows])
            conn.executemany(q.SET_CONTENT_HASH, [
                (pack_hash(hash_text(chash)), seq)
                for seq, chash in conn.execute(q.ALL_CONTENT_HASHES).fetchall()])
            conn.execute(q.SET_META, (META_KEY, FORMAT))
            done = True
    return done
