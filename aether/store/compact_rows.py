"""Symbol and SIR rows in their compact form, converted once on first open from what a
migration copied (SQLite before 3.41 has no `unhex()` to do it in the migration):

- v20: a SIR row's two hashes and a symbol's content hash as 16 bytes instead of 32 hex
  characters; a symbol's signature with its name as one mark character
  (`records.stored_signature`). 5.6 MB on the standard library.
- v22: a symbol's id as 16 bytes (its unique index with it): 3.4 MB.
- v25: a file's imports and bindings deflated (`packing.pack_json`): 0.5 MB on Django.

Readers turn every field back into the text it was (`queries.hex_of` in SQL, `SymbolRecord`
in Python).
"""

from __future__ import annotations

import sqlite3

from aether.store import queries as q
from aether.store.packing import pack_json
from aether.store.records import hash_text, pack_hash, stored_signature
from aether.store.schema import convert_once

META_KEY = "compact_rows"
FORMAT = "v20"
IDS_KEY = "compact_ids"
IDS_FORMAT = "v22"
JSON_KEY = "packed_json"
JSON_FORMAT = "v25"


def compact_rows(conn: sqlite3.Connection) -> bool:
    """Rows copied by the v20 and v22 migrations in their compact form, in place, once each.
    True if this call converted any."""
    return (convert_once(conn, META_KEY, FORMAT, _convert)
            | convert_once(conn, IDS_KEY, IDS_FORMAT, _convert_ids)
            | convert_once(conn, JSON_KEY, JSON_FORMAT, _convert_json))


def _convert(conn: sqlite3.Connection) -> None:
    conn.executemany(q.SET_SIR_HASHES, [
        (pack_hash(hash_text(sir)), pack_hash(hash_text(source)), seq)
        for seq, sir, source in conn.execute(q.ALL_SIR_HASHES).fetchall()])
    conn.executemany(q.SET_SYMBOL_FORMS, [
        (pack_hash(hash_text(chash)), stored_signature(signature, name), seq)
        for seq, chash, name, signature in conn.execute(q.ALL_SYMBOL_FORMS).fetchall()])


def _convert_ids(conn: sqlite3.Connection) -> None:
    conn.executemany(q.SET_SYMBOL_ID, [
        (pack_hash(sid), seq) for seq, sid in conn.execute(q.ALL_SYMBOL_IDS).fetchall()
        if isinstance(sid, str)])


def _convert_json(conn: sqlite3.Connection) -> None:
    conn.executemany(q.SET_FILE_JSON, [
        (pack_json(imports) if isinstance(imports, str) else imports,
         pack_json(bindings) if isinstance(bindings, str) else bindings, file_id)
        for file_id, imports, bindings in conn.execute(q.ALL_FILE_JSON).fetchall()])
