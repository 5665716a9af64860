"""Symbol and SIR rows in their compact form (schema v20), converted once on first open from
what the v20 migration copied: a SIR row's symbol id and two hashes, and a symbol's content
hash, as 16 bytes instead of 32 hex characters (SQLite before 3.41 has no `unhex()` to do it
in the migration); a symbol's signature with its name as one mark character
(`records.stored_signature`). 5.6 MB on the standard library. Readers turn every field back
into the text it was (`queries.hex_of` in SQL, `SymbolRecord` in Python).
"""

from __future__ import annotations

import sqlite3

from aether.store import queries as q
from aether.store.records import hash_text, pack_hash, stored_signature
from aether.store.schema import convert_once

META_KEY = "compact_rows"
FORMAT = "v20"


def compact_rows(conn: sqlite3.Connection) -> bool:
    """Rows copied by the v20 migration in their compact form, in place, once. True if this
    call converted them."""
    return convert_once(conn, META_KEY, FORMAT, _convert)


def _convert(conn: sqlite3.Connection) -> None:
    conn.executemany(q.SET_SIR_HASHES, [
        (pack_hash(hash_text(sid)), pack_hash(hash_text(sir)), pack_hash(hash_text(source)),
         seq)
        for seq, sid, sir, source in conn.execute(q.ALL_SIR_HASHES).fetchall()])
    conn.executemany(q.SET_SYMBOL_FORMS, [
        (pack_hash(hash_text(chash)), stored_signature(signature, name), seq)
        for seq, chash, name, signature in conn.execute(q.ALL_SYMBOL_FORMS).fetchall()])
