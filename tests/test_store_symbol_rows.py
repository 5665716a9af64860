"""Schema v22: symbol rows name their file, language and kind by number and keep their id in
16 bytes; SIR rows keep no symbol id and no source hash equal to the symbol's; a plain 'ok'
SIR has no sir_meta row. A v21 store (made here from an indexed one, `to_v21`) upgrades in
place and every record reads back equal through the Store API."""

from __future__ import annotations

import sqlite3
from dataclasses import astuple
from pathlib import Path

import numpy as np

from aether.config import load_settings
from aether.engine.engine import Engine
from aether.sir.model import Sir
from aether.store.db import Store
from aether.store.queries import qname
from aether.store.records import (
    FileChange,
    FileRecord,
    NewSir,
    PreparedSir,
    qualified_of,
    stored_qualified,
)
from aether.store.recovery import salvage_sirs
from aether.store.schema import MIGRATIONS, SCHEMA_VERSION, _split
from aether.store.vectors import unpack_vectors
from aether.symbols.model import Symbol
from tests.helpers import write
from tests.test_graph_edges import PY_FILES, make_repo
from tests.test_name_facts import before_name_facts

V22 = 22
_HEX = "(CASE WHEN typeof({0}) = 'blob' THEN lower(hex({0})) ELSE {0} END)"


def to_v21(db: Path) -> None:
    """Turn a store back into the layout of schema v21 (what an older aether wrote): files
    keyed by path, symbols with their path, language and kind as text and their id as 32
    hex characters, SIR rows with the symbol id (16 bytes) and the source hash, a sir_meta
    row for every symbol, sir_history and redactions with their foreign keys (and, as until
    v23, type facts inside `files.bindings`)."""
    before_name_facts(db)
    conn = sqlite3.connect(db, isolation_level=None)
    try:
        conn.execute("PRAGMA foreign_keys=OFF")
        conn.execute("BEGIN")
        v1 = _split(MIGRATIONS[0])
        create = {st.split("(")[0].split()[-1]: st for st in v1 if st.startswith("CREATE TABLE")}
        statements = [
            "DROP TRIGGER sir_meta_plain", "DROP TRIGGER sir_meta_plain_again",
            "DROP TRIGGER symbol_texts_gone", "DROP TRIGGER sir_source_kept",
            "INSERT INTO sir_meta (seq, sir_status, last_error, last_attempt_at, attempts, "
            "updated_at) SELECT r.seq, 'ok', NULL, r.created_at, 0, r.created_at FROM sir r "
            "WHERE r.seq NOT IN (SELECT seq FROM sir_meta)",
            create["files"].replace("CREATE TABLE files", "CREATE TABLE files_v21"),
            "ALTER TABLE files_v21 ADD COLUMN bindings TEXT NOT NULL DEFAULT '{}'",
            "ALTER TABLE files_v21 ADD COLUMN star_imports TEXT NOT NULL DEFAULT '[]'",
            "INSERT INTO files_v21 SELECT path, language, size, mtime_ns, content_hash, status, "
            "skip_reason, has_syntax_errors, imports, indexed_at, bindings, star_imports "
            "FROM files",
            create["symbols"].replace("CREATE TABLE symbols", "CREATE TABLE symbols_v21"),
            "INSERT INTO symbols_v21 SELECT s.seq, " + _HEX.format("s.id") + ", f.path, "
            "l.text, k.text, s.name, " + qname("s") + ", s.signature, s.start_line, s.start_col, "
            "s.end_line, s.end_col, s.start_byte, s.end_byte, s.content_hash FROM symbols s "
            "JOIN files f ON f.id = s.file JOIN symbol_labels l ON l.id = s.language "
            "JOIN symbol_labels k ON k.id = s.kind",
            """CREATE TABLE sir_v21 (
                seq INTEGER PRIMARY KEY REFERENCES symbols(seq) ON DELETE CASCADE,
                symbol_id NOT NULL, sir_json NOT NULL, sir_hash NOT NULL,
                source_hash NOT NULL, maker INTEGER NOT NULL, created_at INTEGER NOT NULL,
                verification TEXT)""",
            "INSERT INTO sir_v21 SELECT r.seq, s.id, r.sir_json, r.sir_hash, "
            "COALESCE(r.source_hash, s.content_hash), r.maker, r.created_at, r.verification "
            "FROM sir r JOIN symbols s ON s.seq = r.seq",
            "CREATE TABLE redactions_v21 (symbol_id TEXT PRIMARY KEY REFERENCES symbols(id) "
            "ON DELETE CASCADE, count INTEGER NOT NULL, updated_at TEXT NOT NULL)",
            "INSERT INTO redactions_v21 SELECT * FROM redactions",
            """CREATE TABLE sir_history_v21 (
                symbol_id TEXT NOT NULL REFERENCES symbols(id) ON DELETE CASCADE,
                sir_hash TEXT NOT NULL, sir_json NOT NULL, source_hash TEXT NOT NULL,
                provider TEXT NOT NULL, model TEXT NOT NULL, created_at INTEGER NOT NULL,
                prompt_version TEXT NOT NULL DEFAULT '',
                PRIMARY KEY (symbol_id, sir_hash)) WITHOUT ROWID""",
            "INSERT INTO sir_history_v21 SELECT * FROM sir_history",
            "DROP TABLE sir", "DROP TABLE sir_history", "DROP TABLE redactions",
            "DROP TABLE symbols", "DROP TABLE files", "DROP TABLE symbol_labels",
            "ALTER TABLE files_v21 RENAME TO files",
            "ALTER TABLE symbols_v21 RENAME TO symbols",
            "ALTER TABLE sir_v21 RENAME TO sir",
            "ALTER TABLE sir_history_v21 RENAME TO sir_history",
            "ALTER TABLE redactions_v21 RENAME TO redactions",
            "CREATE INDEX symbols_by_file ON symbols(file_path, start_line)",
            "CREATE INDEX symbols_by_name ON symbols(name)",
            *[st for st in _split(MIGRATIONS[V22 - 1]) if st.startswith("CREATE TRIGGER")
              and ("ON symbols" in st or "ON sir " in st) and "symbol_texts_gone" not in st
              and "sir_source_kept" not in st],
            "DELETE FROM meta WHERE key = 'compact_ids'",
            f"PRAGMA user_version = {V22 - 1}",
        ]
        for st in statements:
            conn.execute(st)
        # search vectors at 4 bits a dimension, low nibble first (v16 to v21)
        rows = conn.execute("SELECT seq, vec FROM symbol_vectors").fetchall()
        codes, _ = unpack_vectors([vec for _, vec in rows])
        nibbles = (codes.astype(np.int16) & 0xF).astype(np.uint8)
        conn.executemany("UPDATE symbol_vectors SET vec = ? WHERE seq = ?", [
            ((row[0::2] | row[1::2] << 4).tobytes(), seq)
            for (seq, _), row in zip(rows, nibbles, strict=True)])
        conn.execute("UPDATE meta SET value = 'int4' WHERE key = 'vector_format'")
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
        conn.execute("COMMIT")
    finally:
        conn.close()


async def vectors_of(db: Path) -> tuple[dict[int, bytes], list[tuple[object, ...]]]:
    """Every search vector by seq, and the symbols whose vector is due (by their SIR)."""
    conn = sqlite3.connect(db)
    try:
        (model,) = conn.execute("SELECT name FROM vector_models").fetchone()
    finally:
        conn.close()
    store = await Store.open(db)
    try:
        return (dict(await store.all_vectors(model)),
                [tuple(r) for r in await store.vector_sources(model)])
    finally:
        await store.close()


async def every_record(db: Path) -> list[tuple[object, ...]]:
    """Every symbol record (symbol, SIR, metadata) through the Store API, by id, by file,
    by name and by qualified name; with counts, history, the queue, each symbol's edges
    both ways and its search row's words."""
    conn = sqlite3.connect(db)
    try:
        ids = [r[0] for r in conn.execute("SELECT " + _HEX.format("id") + " FROM symbols "
                                          "ORDER BY seq")]
    finally:
        conn.close()
    store = await Store.open(db)
    try:
        out: list[tuple[object, ...]] = [("counts", *astuple(await store.counts()))]
        by_id = await store.symbols(ids)
        assert [r.id for r in by_id] == ids
        out.extend(astuple(r) for r in by_id)
        for r in by_id:
            assert await store.symbol(r.id) == r
            assert r in await store.symbols_in_file(r.file_path)
            assert r in await store.symbols_by_qualified_name(r.qualified_name)
            out.append(("history", r.id, *await store.sir_versions(r.id)))
            out.extend(astuple(e) for e in await store.edges_from(r.id)
                       + await store.edges_into(r.id, 100))
            out.append(("search", r.id, *await store.search_terms(f'name : "{r.name}"', 50)))
        out.append(("queue", *await store.symbols_needing_sir()))
        return out
    finally:
        await store.close()


async def indexed_with_a_model_sir(root: Path, path: str, intent: str) -> tuple[Path, str]:
    """Index `root` on static SIRs, then give the first symbol of `path` a model SIR (another
    maker, kept in history): (the store's path, that symbol's id)."""
    engine = await Engine.open(load_settings(root))
    try:
        await engine.index()
    finally:
        await engine.close()
    db = root / ".aether" / "aether.db"
    store = await Store.open(db)
    try:
        rows = await store.symbols_in_file(path)
        await store.record_sir_success([NewSir(rows[0].id, PreparedSir.of(Sir(
            intent=intent, confidence=0.9)), rows[0].content_hash, "openai", "gpt-x")])
    finally:
        await store.close()
    return db, rows[0].id


async def test_a_v21_store_upgrades_in_place_and_every_record_reads_back_equal(
        tmp_path: Path) -> None:
    root = tmp_path / "py"
    make_repo(root, PY_FILES)
    write(root, "pkg/late.py", "def use(x):\n    return x.save()\n")
    # a model SIR (another maker, history) and a failure: rows that are not plain
    db, use = await indexed_with_a_model_sir(root, "pkg/late.py", "Saves x.")
    store = await Store.open(db)
    try:
        await store.record_sir_failure(use, "timeout", "provider timed out")
        other = (await store.symbols_in_file("pkg/models.py"))[0].id
        await store.record_sir_deferred([other], "spend_cap", "spend_cap: day")
    finally:
        await store.close()
    before = await every_record(db)
    old_vectors, due = await vectors_of(db)
    assert len(due) == 1  # the model SIR's symbol: its vector was made from the static one
    salvaged = sorted(salvage_sirs(db))
    assert len(salvaged) == before[0][4] > 5  # every SIR: ids and source hashes from symbols
    to_v21(db)
    conn = sqlite3.connect(db)
    try:
        assert conn.execute("PRAGMA user_version").fetchone() == (V22 - 1,)
        assert conn.execute("SELECT typeof(id) FROM symbols LIMIT 1").fetchone() == ("text",)
    finally:
        conn.close()
    assert await every_record(db) == before  # migrated on open, read back equal
    new_vectors, due_after = await vectors_of(db)  # 4 bits -> 3: every one kept, pointing
    assert due_after == due  # the same way, and due for the same SIRs as before
    assert new_vectors.keys() == old_vectors.keys() and len(new_vectors) > 5
    seqs = sorted(old_vectors)
    old, old_scale = unpack_vectors([old_vectors[s] for s in seqs])
    new, new_scale = unpack_vectors([new_vectors[s] for s in seqs])
    cosines = np.einsum("ij,ij->i", old.astype(np.float32), new) * old_scale * new_scale
    assert float(cosines.min()) > 0.95
    assert sorted(salvage_sirs(db)) == salvaged
    conn = sqlite3.connect(db)
    try:
        assert conn.execute("PRAGMA user_version").fetchone() == (SCHEMA_VERSION,)
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
        # ids in 16 bytes; SIR rows without an id or a source hash equal to the code's
        assert conn.execute("SELECT DISTINCT typeof(id), length(id) FROM symbols").fetchall() == [
            ("blob", 16)]
        # a model SIR keeps its id and source hash for salvage; a static one neither
        made = conn.execute("SELECT k.provider = 'static', COUNT(*), COUNT(symbol_id), "
                            "COUNT(source_hash) FROM sir r JOIN sir_makers k ON k.id = r.maker "
                            "GROUP BY 1 ORDER BY 1").fetchall()
        assert [row[0] for row in made] == [0, 1]
        assert made[0][1:] == (made[0][1],) * 3 and made[1][2:] == (0, 0)
        # only the two symbols that are not plain 'ok' keep a sir_meta row
        assert conn.execute("SELECT COUNT(*) FROM sir_meta").fetchone() == (2,)
    finally:
        conn.close()


def _change(content_hash: str, static: PreparedSir | None = None) -> FileChange:
    symbol = Symbol(SID, "python", "a.py", "function", "f", "f", "def f()", 1, 1, 2, 1, 0, 20,
                    content_hash)
    return FileChange(FileRecord("a.py", 20, 1, "python", content_hash), [symbol],
                      static_sirs={SID: static} if static else {})


SID, OLD, NEW = "a" * 32, "b" * 32, "c" * 32


async def test_an_edit_under_a_sir_keeps_the_hash_it_describes(tmp_path: Path) -> None:
    """A static SIR stored without its source hash (the symbol's own) keeps the old hash
    when the code changes under it."""
    db = tmp_path / "aether.db"
    store = await Store.open(db)
    try:
        first = PreparedSir.of(Sir(intent="Does f.", confidence=0.3))
        await store.apply_files([_change(OLD, first)])
        assert (await store.counts()).ok_count == 1
        conn = sqlite3.connect(db)
        try:  # no id, no source hash, no sir_meta row
            assert conn.execute("SELECT symbol_id, source_hash FROM sir").fetchall() == [
                (None, None)]
            assert conn.execute("SELECT COUNT(*) FROM sir_meta").fetchone() == (0,)
        finally:
            conn.close()
        await store.apply_files([_change(NEW)])  # the code changes, no SIR for it yet
        after = await store.symbol(SID)
        assert after is not None and after.content_hash == NEW
        assert after.source_hash == OLD and after.is_outdated
        assert (after.sir_status, after.stale_reason) == ("stale", "outdated")
        second = PreparedSir.of(Sir(intent="Does f again.", confidence=0.9))
        await store.record_sir_success([NewSir(SID, second, NEW, "openai", "gpt-x")])
        again = await store.symbol(SID)
        assert again is not None and again.sir_status == "ok" and not again.is_outdated
        assert [v[5] for v in await store.sir_versions(SID)] == [NEW, OLD]
        await store.record_sir_failure(SID, "timeout", "timed out")
        failed = await store.symbol(SID)
        assert failed is not None and (failed.sir_status, failed.attempts) == ("stale", 1)
    finally:
        await store.close()
    conn = sqlite3.connect(db)
    try:
        assert conn.execute("SELECT COUNT(*), COUNT(source_hash) FROM sir").fetchone() == (1, 1)
        assert conn.execute("SELECT COUNT(*) FROM sir_meta").fetchone() == (1,)  # failed
    finally:
        conn.close()


def test_a_stored_qualified_name_reads_back_as_it_was_in_python_and_in_sql() -> None:
    cases = [("pkg.Cls.run", "run"), ("run", "run"), ("A::operator+", "operator+"),
             ("Foo#==", "=="), ("x.y", "z"), ("", ""), ("a\x01b", "b"), ("a\x02", "x"),
             ("é.naïve", "naïve"), ("f", "")]
    conn = sqlite3.connect(":memory:")
    try:
        for qualified, name in cases:
            stored = stored_qualified(qualified, name)
            assert qualified_of(stored, name) == qualified
            sql = f"SELECT {qname('s')} FROM (SELECT ? AS qualified, ? AS name) s"
            assert conn.execute(sql, (stored, name)).fetchone() == (qualified,)
            if name and qualified.endswith(name) and "\x01" not in qualified + name:
                assert len(stored) == len(qualified) - len(name) + 1
    finally:
        conn.close()
