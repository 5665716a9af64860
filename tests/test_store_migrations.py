"""Migrations that reshape the store (v10 edges, v11 search table, v12 vectors, v13 SIRs, v15
packed SIRs and a contentless search table, v16 4-bit vectors, v17 integer times, v20
compact symbol rows, v21 compact edges) keep everything: a v9 database holding model SIRs,
history, edges of every provenance and vectors is opened by the Store (which migrates it in
place) and read back through its API; so is a real index's call graph put back in its layout
before v21."""

from __future__ import annotations

import json
import sqlite3
import zlib
from dataclasses import astuple
from pathlib import Path

import numpy as np

from aether.sir.model import Sir
from aether.store import edges, search_rows
from aether.store import queries as q
from aether.store.db import Store
from aether.store.edges import HAS_TARGET, SHIFT, TEXTS
from aether.store.packing import _DICT_V1 as PACK_DICT
from aether.store.packing import sir_json_of, terms_of
from aether.store.records import (
    FileChange,
    FileRecord,
    NewSir,
    PreparedSir,
    signature_of,
    stored_signature,
    utc_now,
    utc_text,
)
from aether.store.recovery import salvage_sirs
from aether.store.schema import COMPACT_EDGES, MIGRATIONS, SCHEMA_VERSION, _split
from aether.store.vectors import pack_vector, unpack_vectors
from aether.symbols.model import CallSite, Symbol
from tests.helpers import write
from tests.test_graph_edges import PY_FILES, index, make_repo
from tests.test_graph_edges import edges as edges_of_repo
from tests.test_store_search_rows import postings
from tests.test_store_symbol_rows import to_v21

HELPER, RUN, OTHER = "a" * 32, "b" * 32, "c" * 32
NOW = "2026-01-02T03:04:05.678Z"
TEXT_HASH = "0123456789abcdef" * 2  # as aether.hashing makes them


def sir_json(intent: str) -> str:
    return Sir(intent=intent, inputs=["x: int"], outputs=["int"], confidence=0.9).canonical_json()


MODEL_SIR = sir_json("Doubles a number the way the billing module expects.")
OLD_SIR = sir_json("Doubles a number.")
VERIFICATION = '{"unsupported": ["billing"]}'


def make_v9(path: Path) -> None:
    """A store as aether with schema v9 left it, written row by row."""
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA foreign_keys=ON")
        for script in MIGRATIONS[:9]:
            for statement in _split(script):
                conn.execute(statement)
        conn.execute("PRAGMA user_version = 9")
        conn.execute("BEGIN")
        for p in ("a.py", "b.py"):
            conn.execute("INSERT INTO files (path, language, size, mtime_ns, content_hash, "
                         "status, indexed_at) VALUES (?, 'python', 10, 1, 'h', 'indexed', ?)",
                         (p, NOW))
        symbols = [(1, HELPER, "a.py", "function", "helper", "helper"),
                   (2, RUN, "b.py", "function", "run", "run"),
                   (3, OTHER, "b.py", "method", "helper", "Other.helper")]
        for seq, sid, path_, kind, name, qname in symbols:
            conn.execute(
                "INSERT INTO symbols (seq, id, file_path, language, kind, name, qualified_name, "
                "signature, start_line, start_col, end_line, end_col, start_byte, end_byte, "
                "content_hash) VALUES (?, ?, ?, 'python', ?, ?, ?, ?, ?, 0, ?, 0, 0, 9, ?)",
                (seq, sid, path_, kind, name, qname, f"def {name}()", seq, seq + 1, f"c{seq}"))
            conn.execute(
                "INSERT INTO symbol_fts (rowid, name, name_words, qual_words, intent, sir_words, "
                "path_words) VALUES (?, ?, ?, '', 'doubl number', '', 'a py')", (seq, name, name))
        sirs = [(HELPER, MODEL_SIR, "h-model", "c1", "openai", "gpt-x", "p3", VERIFICATION),
                (RUN, sir_json("Runs it."), "h-static", "c2", "static", "static-v1", "", None),
                (OTHER, sir_json("Another helper."), "h-other", "c-old", "openai", "gpt-x", "p3",
                 None)]
        conn.executemany(
            "INSERT INTO sir (symbol_id, sir_json, sir_hash, source_hash, provider, model, "
            "created_at, prompt_version, verification) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [(s[0], s[1], s[2], s[3], s[4], s[5], NOW, s[6], s[7]) for s in sirs])
        conn.execute(
            "INSERT INTO sir_history (symbol_id, sir_hash, sir_json, source_hash, provider, "
            "model, created_at, prompt_version) VALUES (?, 'h-old', ?, 'c0', 'openai', 'gpt-x', "
            "'2025-12-31T00:00:00.000Z', 'p2')", (HELPER, OLD_SIR))
        conn.executemany(
            "INSERT INTO sir_meta (symbol_id, sir_status, last_error, last_attempt_at, attempts, "
            "updated_at) VALUES (?, ?, ?, ?, ?, ?)",
            [(HELPER, "ok", None, NOW, 0, NOW), (RUN, "ok", None, NOW, 0, NOW),
             (OTHER, "stale", "timeout: no answer", NOW, 2, NOW)])
        edges = [
            (RUN, "b.py", 3, 5, "helper", "helper", "bare", "", "import", HELPER, None, "call"),
            (RUN, "b.py", 4, 9, "x().helper", "helper", "expression", "", "ambiguous", None,
             f'{{"count": 3, "candidates": ["{HELPER}", "{OTHER}"]}}', "call"),
            (RUN, "b.py", 5, 5, "os.path.join", "join", "qualified", "os.path", "external",
             None, "os.path.join", "call"),
            (RUN, "b.py", 6, 5, "self.save", "save", "self", "self", "unresolved", None, None,
             "call"),
            (OTHER, "b.py", 8, 12, "helper", "helper", "bare", "", "local", HELPER, None,
             "reference"),
        ]
        conn.executemany(
            "INSERT INTO edges (caller_id, file_path, line, col, callee, name, receiver, "
            "qualifier, provenance, target_id, detail, kind) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", edges)
        conn.executemany(
            "INSERT INTO symbol_vectors (symbol_id, text_hash, sir_hash, model, vec) "
            "VALUES (?, ?, ?, 'wordllama-l2-256', ?)",
            [(HELPER, "t1", "h-model", bytes(range(8))), (RUN, TEXT_HASH, "h-static", b"\x7f" * 8)])
        conn.execute("COMMIT")
    finally:
        conn.close()


async def test_v9_store_migrates_in_place_and_loses_nothing(tmp_path: Path) -> None:
    db = tmp_path / "aether.db"
    make_v9(db)
    store = await Store.open(db)
    try:
        assert store.problem is None
        counts = await store.counts()
        assert (counts.file_count, counts.symbol_count, counts.sir_count) == (2, 3, 3)
        assert (counts.ok_count, counts.stale_count, counts.pending_count) == (2, 1, 0)

        helper = await store.symbol(HELPER)
        assert helper is not None
        assert (helper.sir_json, helper.sir_hash, helper.provider, helper.model) == (
            MODEL_SIR, "h-model", "openai", "gpt-x")
        assert (helper.prompt_version, helper.verification_json, helper.sir_created_at) == (
            "p3", VERIFICATION, NOW)
        other = await store.symbol(OTHER)
        assert other is not None
        assert (other.sir_status, other.last_error, other.attempts) == (
            "stale", "timeout: no answer", 2)
        assert (other.last_attempt_at, other.updated_at) == (NOW, NOW)  # v17: from integers
        versions = await store.sir_versions(HELPER)
        assert [(v[0], v[6]) for v in versions] == [("h-model", MODEL_SIR), ("h-old", OLD_SIR)]
        assert [(v[0], v[1]) for v in await store.sir_history(HELPER)] == [
            ("h-model", NOW), ("h-old", "2025-12-31T00:00:00.000Z")]
        assert await store.unverified_count() == 1
        assert await store.symbols_needing_sir() == [OTHER]

        out = await store.edges_from(RUN)
        assert [(e.line, e.callee, e.name, e.receiver, e.provenance, e.target_id, e.kind)
                for e in out] == [
            (3, "helper", "helper", "bare", "import", HELPER, "call"),
            (4, "x().helper", "helper", "expression", "ambiguous", None, "call"),
            (5, "os.path.join", "join", "qualified", "external", None, "call"),
            (6, "self.save", "save", "self", "unresolved", None, "call")]
        assert all(e.file_path == "b.py" for e in out)
        assert out[1].detail is not None and out[2].detail == "os.path.join"
        assert json.loads(out[1].detail) == {"count": 3, "candidates": [HELPER, OTHER]}
        into = await store.edges_into(HELPER, 10)
        assert [(e.caller_id, e.provenance, e.kind) for e in into] == [
            (RUN, "import", "call"), (OTHER, "local", "reference")]
        assert [e.line for e in await store.ambiguous_into("helper", OTHER, 10)] == [4]
        assert await store.callers_counts([HELPER, OTHER]) == {HELPER: 1}
        assert await store.provenance_counts() == {
            "import": 1, "ambiguous": 1, "external": 1, "unresolved": 1, "local": 1}
        assert await store.unresolved_named("save") == 1

        vectors = dict(await store.all_vectors("wordllama-l2-256"))
        # v16: int8 vectors converted to 4 bits a dimension, pointing the same way
        old = {1: bytes(range(8)), 2: b"\x7f" * 8}
        assert vectors == {seq: pack_vector(np.frombuffer(v, np.int8) / 127.0)
                           for seq, v in old.items()}
        assert all(len(v) == 3 for v in vectors.values())  # v22: 8 dimensions in 3 bytes
        codes, scale = unpack_vectors([vectors[1], vectors[2]])
        for row, (code, inv) in enumerate(zip(codes, scale, strict=True)):
            was = np.frombuffer(old[row + 1], np.int8).astype(np.float32)
            assert float(code @ was) * float(inv) / float(np.linalg.norm(was)) > 0.97
        assert await store.vector_counts("wordllama-l2-256") == (3, 2)
        # the converted rows still answer for their SIRs: only the symbol without one is due
        assert [r[0] for r in await store.vector_sources("wordllama-l2-256")] == [OTHER]
        found = {r[0]: r[2:] for r in await store.search_terms('"helper"', 10)}
        # v15: a SIR's search words moved from the search table into the SIR, as they were;
        # names and paths are made again from the symbol (since v23: enclosing names as
        # words, paths without their extension)
        assert found == {1: ("helper", "helper", "", "doubl number", "", "a"),
                         3: ("helper", "helper", "other", "doubl number", "", "b")}
        assert sorted(r[0] for r in await store.search_terms('"doubl"', 10)) == [1, 2, 3]
    finally:
        await store.close()
    conn = sqlite3.connect(db)
    try:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        # the upgrade gave the space it freed back (VACUUM): no free page is left
        assert conn.execute("PRAGMA freelist_count").fetchone() == (0,)
        # v15: SIRs packed on first open, with their search words; history as it was
        stored = dict(conn.execute("SELECT seq, sir_json FROM sir"))
        assert all(isinstance(v, bytes) for v in stored.values())
        assert sir_json_of(stored[1]) == MODEL_SIR and terms_of(stored[1]) == (
            "doubl number", "")
        assert conn.execute("SELECT sir_json FROM sir_history").fetchall() == [(OLD_SIR,)]
        # v19: so are the SIRs' own, in history too
        assert conn.execute("SELECT DISTINCT typeof(created_at), created_at FROM sir "
                            "UNION ALL SELECT DISTINCT typeof(created_at), created_at "
                            "FROM sir_history").fetchall() == [
            ("integer", 1767323045678), ("integer", 1767139200000)]
        # v17: sir_meta's times are milliseconds since 1970
        assert conn.execute("SELECT DISTINCT typeof(last_attempt_at), last_attempt_at, "
                            "typeof(updated_at) FROM sir_meta").fetchall() == [
            ("integer", 1767323045678, "integer")]
        assert conn.execute("SELECT value FROM meta WHERE key = 'search_rows'").fetchone() == (
            search_rows.CURRENT,)
        assert conn.execute("SELECT value FROM meta WHERE key = 'vector_format'").fetchone() == (
            "int3",)
        # v16: a hex hash in 16 bytes (others as they were), the model by number; v20: in 8,
        # v25: in 4
        assert conn.execute("SELECT seq, text_hash, sir_hash, model FROM symbol_vectors "
                            "ORDER BY seq").fetchall() == [
            (1, "t1", "h-model", 1), (2, bytes.fromhex(TEXT_HASH)[:4], "h-static", 1)]
        assert conn.execute("SELECT id, name FROM vector_models").fetchall() == [
            (1, "wordllama-l2-256")]
    finally:
        conn.close()
    held, want = postings(db)
    assert held == want and held


async def test_a_migrated_store_still_cascades_and_never_reuses_a_seq(tmp_path: Path) -> None:
    """Deleting a file takes its symbols' SIRs, metadata, vectors and edges with it; a symbol
    added afterwards gets a seq no edge or vector ever pointed at."""
    db = tmp_path / "aether.db"
    make_v9(db)
    store = await Store.open(db)
    try:
        assert await store.delete_files(["b.py"]) == 1
        counts = await store.counts()
        assert (counts.symbol_count, counts.sir_count) == (1, 1)
        assert await store.provenance_counts() == {}
        assert dict(await store.all_vectors("wordllama-l2-256")) == {
            1: pack_vector(np.frombuffer(bytes(range(8)), np.int8) / 127.0)}
        # b.py comes back with one function calling helper: a new seq, past the old ones
        new_id = "d" * 32
        symbol = Symbol(new_id, "python", "b.py", "function", "main", "main", "def main()",
                        1, 1, 2, 1, 0, 20, "c9")
        call = CallSite(new_id, "helper", "helper", "bare", "", 2, 5)
        await store.apply_files([FileChange(FileRecord("b.py", 20, 2, "python", "h2"),
                                            [symbol], calls=[call])])
        main = await store.symbols_by_qualified_name("main")
        assert [r.sir_status for r in main] == ["pending"]
        assert list(await store.symbol_paths([4])) == [4]
        assert [(e.callee, e.provenance) for e in await store.edges_from(new_id)] == [
            ("helper", "unresolved")]
    finally:
        await store.close()
    conn = sqlite3.connect(db)
    try:
        assert conn.execute("SELECT value FROM meta WHERE key = 'seq_high'").fetchone() == ("4",)
        # the plain 'ok' SIR has no sir_meta row (v22): only the pending symbol has one
        assert conn.execute("SELECT COUNT(*) FROM sir_meta").fetchone()[0] == 1
    finally:
        conn.close()


def garble(db: Path, pageno: int, page_size: int) -> None:
    with open(db, "r+b") as fh:
        fh.seek((pageno - 1) * page_size)
        fh.write(b"\xde\xad\xbe\xef" * (page_size // 4))


async def test_salvage_reads_past_damage_and_gaps_in_seqs(tmp_path: Path) -> None:
    """SIR rows are keyed by symbol seq, which has gaps where symbols went: a salvage that
    must read row by row (a damaged page) still reaches a row far past a gap."""
    db = tmp_path / "aether.db"
    make_v9(db)
    await (await Store.open(db)).close()  # migrated to the current schema
    intent = "Returns the parsed configuration of the service, validated. " * 8
    seqs = [*range(10, 210), 60_000]
    conn = sqlite3.connect(db, isolation_level=None)
    try:
        conn.execute("BEGIN")
        for seq in seqs:
            sid = f"{seq:032x}"
            conn.execute(  # v22: the id in 16 bytes, file, language and kind by number, the
                # qualified name with its name as a mark
                "INSERT INTO symbols (seq, id, file, language, kind, name, qualified, "
                "signature, start_line, start_col, end_line, end_col, start_byte, end_byte, "
                "content_hash) VALUES (?, ?, 1, 1, 1, 'f', char(1), 'def f()', "
                "1, 0, 2, 0, 0, 9, 'c')", (seq, bytes.fromhex(sid)))
            conn.execute(  # v22: no symbol id; the maker by number (v20)
                "INSERT INTO sir (seq, sir_json, sir_hash, source_hash, maker, "
                "created_at) VALUES (?, ?, 'h', NULL, (SELECT id FROM sir_makers WHERE "
                "provider = 'openai' AND prompt_version = 'p3'), ?)",
                (seq, sir_json(intent), NOW))
        conn.execute("COMMIT")
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        leaves = [r[0] for r in conn.execute(
            "SELECT pageno FROM dbstat WHERE name = 'sir' AND pagetype = 'leaf' ORDER BY pageno")]
        page = conn.execute("PRAGMA page_size").fetchone()[0]
    finally:
        conn.close()
    assert len(leaves) > 10
    garble(db, leaves[len(leaves) // 2], page)  # one leaf in the middle of the table

    salvaged = {row[0] for row in salvage_sirs(db)}
    assert f"{60_000:032x}" in salvaged and HELPER in salvaged
    assert len(seqs) + 3 - 20 <= len(salvaged) < len(seqs) + 3  # one page's rows lost


def test_sir_meta_times_round_trip_to_the_millisecond() -> None:
    """v17 stores sir_meta's times as milliseconds; what is read back is the text written."""
    conn = sqlite3.connect(":memory:")
    try:
        for ms in (0, 1, 999, 1767323045678, 1796010552657, 4102444799999):
            text = utc_text(ms)
            assert conn.execute(f"SELECT {q._ms('?')}", (text,)).fetchone() == (ms,)
        now = utc_now()
        assert utc_text(conn.execute(f"SELECT {q._ms('?')}", (now,)).fetchone()[0]) == now
    finally:
        conn.close()


async def test_a_new_sir_for_a_symbol_still_marked_dirty_is_stored(tmp_path: Path) -> None:
    """v18: a SIR that replaces another (an upsert) for a symbol whose vector is still marked
    out of date is stored, and the symbol is marked once, anew (it failed with a UNIQUE
    error under v14's INSERT OR REPLACE triggers)."""
    store = await Store.open(tmp_path / "aether.db")
    try:
        sid = "e" * 32
        symbol = Symbol(sid, "python", "x.py", "function", "f", "f", "def f()", 1, 0, 2, 0, 0,
                        10, "h1")
        await store.apply_files([FileChange(
            FileRecord("x.py", 10, 1, "python", "f1"), [symbol],
            static_sirs={sid: PreparedSir.of(Sir(intent="Static.", confidence=0.3))})])
        before = await store.vector_dirty_mark()
        await store.record_sir_success([NewSir(sid, PreparedSir.of(
            Sir(intent="From a model.", confidence=0.9)), "h1", "openai", "gpt-x")])
        record = await store.symbol(sid)
        assert record is not None and record.provider == "openai"
        assert await store.vector_dirty_mark() > before
    finally:
        await store.close()
    conn = sqlite3.connect(tmp_path / "aether.db")
    try:
        assert conn.execute("SELECT COUNT(*) FROM vector_dirty").fetchone() == (1,)
    finally:
        conn.close()


SID, CHASH, SHASH = "1f" * 16, "2e" * 16, "3d" * 16  # 32 hex characters, as aether makes them


def make_v19(path: Path) -> None:
    """A store as schema v19 left it, with ids and hashes as aether makes them: one symbol
    with a model SIR (verified) and its vector, one with a static SIR and none."""
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA foreign_keys=ON")
        for script in MIGRATIONS[:19]:
            for statement in _split(script):
                conn.execute(statement)
        conn.execute("PRAGMA user_version = 19")
        conn.execute("BEGIN")
        conn.execute("INSERT INTO files (path, language, size, mtime_ns, content_hash, status, "
                     "indexed_at) VALUES ('a.rb', 'ruby', 10, 1, 'h', 'indexed', ?)", (NOW,))
        for seq, sid, name, qname in ((1, SID, "==", "Money#=="),
                                      (2, RUN, "run", "Money.run")):
            conn.execute(
                "INSERT INTO symbols (seq, id, file_path, language, kind, name, qualified_name, "
                "signature, start_line, start_col, end_line, end_col, start_byte, end_byte, "
                "content_hash) VALUES (?, ?, 'a.rb', 'ruby', 'method', ?, ?, ?, ?, 1, ?, "
                "2, 3, 40, ?)", (seq, sid, name, qname, f"def {name.replace('=', 'x')}(y)",
                                 seq, seq + 1, "c2" if seq - 1 else CHASH))
            conn.execute("INSERT INTO sir_meta (seq, sir_status, last_attempt_at, attempts, "
                         "updated_at) VALUES (?, 'ok', 1767323045678, 0, 1767323045678)", (seq,))
        conn.execute(
            "INSERT INTO sir (seq, symbol_id, sir_json, sir_hash, source_hash, provider, model, "
            "created_at, prompt_version, verification) VALUES (1, ?, ?, ?, ?, 'openai', "
            "'gpt-x', 1767323045678, 'p3', ?)", (SID, MODEL_SIR, SHASH, CHASH, VERIFICATION))
        run = PreparedSir.of(Sir(intent="Runs it.", confidence=0.3), doc="Runs the job.")
        co = zlib.compressobj(6, zlib.DEFLATED, -15, 8, zlib.Z_DEFAULT_STRATEGY, PACK_DICT)
        format1 = b"\x01" + co.compress(  # as v15-v19 packed it
            f"{run.sir_json}\0{run.intent_terms}\n{run.other_terms}".encode()) + co.flush()
        conn.execute(
            "INSERT INTO sir (seq, symbol_id, sir_json, sir_hash, source_hash, provider, model, "
            "created_at) VALUES (2, ?, ?, 'h-static', 'c2', 'static', 'static-v1', 5)",
            (RUN, format1))
        conn.execute("INSERT INTO vector_models (name) VALUES ('wordllama-l2-256')")
        conn.execute("INSERT INTO symbol_vectors (seq, text_hash, sir_hash, model, vec) "
                     "VALUES (1, ?, ?, 1, ?)", (bytes.fromhex(TEXT_HASH), bytes.fromhex(SHASH),
                                                b"\x12" * 4))
        conn.execute("UPDATE meta SET value = 'int4' WHERE key = 'vector_format'")
        conn.execute("COMMIT")
    finally:
        conn.close()


async def test_v19_store_moves_to_compact_symbol_rows_and_reads_the_same(tmp_path: Path) -> None:
    """v20: SIR makers by number, ids and hashes in 16 bytes, no qualified-name index, a
    status index over symbols not 'ok', a search table without positions: every field reads
    back as it was written, and what uses them still works."""
    db = tmp_path / "aether.db"
    make_v19(db)
    store = await Store.open(db)
    try:
        eq = await store.symbol(SID)
        assert eq is not None
        assert (eq.content_hash, eq.sir_hash, eq.source_hash, eq.provider, eq.model,
                eq.prompt_version, eq.verification_json, eq.sir_created_at, eq.sir_json) == (
            CHASH, SHASH, CHASH, "openai", "gpt-x", "p3", VERIFICATION, NOW, MODEL_SIR)
        assert not eq.is_outdated and eq.sir_status == "ok"
        run = await store.symbol(RUN)
        assert run is not None and (run.content_hash, run.sir_hash, run.source_hash) == (
            "c2", "h-static", "c2")  # not aether's hashes: kept as text
        assert (run.provider, run.model, run.prompt_version, run.sir_created_at) == (
            "static", "static-v1", "", utc_text(5))
        assert (eq.signature, run.signature) == ("def xx(y)", "def run(y)")
        assert run.sir_json == PreparedSir.of(Sir(intent="Runs it.", confidence=0.3)).sir_json
        # qualified names found through the name index, whatever ends them
        assert [r.id for r in await store.symbols_by_qualified_name("Money#==")] == [SID]
        assert [r.id for r in await store.symbols_by_qualified_name("Money.run")] == [RUN]
        assert await store.symbols_by_qualified_name("Money") == []
        assert await store.symbols_by_qualified_name(".".join(["a"] * 50_000)) == []
        # the vector still answers for its SIR: only the symbol without one is due
        assert [r[0] for r in await store.vector_sources("wordllama-l2-256")] == [RUN]
        assert [row[:2] for row in salvage_sirs(db)] == [(SID, CHASH), (RUN, "c2")]
        # another maker's SIR: stale, queued; the first SIR moves to history when replaced
        assert await store.model_changed_queue("openai", "gpt-x", "p3") == [
            (RUN, "a.rb", "Money.run")]
        assert await store.mark_model_changed("openai", "gpt-x", "p3") == 1
        assert await store.symbols_needing_sir() == [RUN]
        counts = await store.counts()
        assert (counts.ok_count, counts.stale_count, counts.pending_count) == (1, 1, 0)
        new = PreparedSir.of(Sir(intent="Compares two amounts.", confidence=0.9))
        await store.record_sir_success([NewSir(SID, new, CHASH, "openai", "gpt-y", "p3")])
        assert [(v[0], v[2], v[3], v[5]) for v in await store.sir_versions(SID)] == [
            (new.sir_hash, "openai", "gpt-y", CHASH), (SHASH, "openai", "gpt-x", CHASH)]
        assert [h for h, _, _ in await store.sir_history(SID)] == [new.sir_hash, SHASH]
        assert await store.model_changed_queue("openai", "gpt-y", "p3") == []
        assert [r[0] for r in await store.search_terms('"compar"', 10)] == [1]
        assert [r[0] for r in await store.search_terms('name : "run"', 10)] == [2]
    finally:
        await store.close()
    conn = sqlite3.connect(db)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
        # v22: a static SIR keeps no symbol id, nor a source hash that is the symbol's own
        assert conn.execute("SELECT seq, typeof(symbol_id), typeof(sir_hash), "
                            "typeof(source_hash), maker FROM sir ORDER BY seq").fetchall() == [
            (1, "blob", "blob", "blob", 3), (2, "null", "text", "null", 2)]
        assert conn.execute("SELECT id FROM symbols WHERE seq = 1").fetchone() == (
            bytes.fromhex(SID),)
        assert conn.execute("SELECT id, provider, model, prompt_version FROM sir_makers "
                            "ORDER BY id").fetchall() == [
            (1, "openai", "gpt-x", "p3"), (2, "static", "static-v1", ""),
            (3, "openai", "gpt-y", "p3")]
        assert conn.execute("SELECT typeof(content_hash) FROM symbols ORDER BY seq"
                            ).fetchall() == [("blob",), ("text",)]
        indexes = {r[0] for r in conn.execute("SELECT name FROM sqlite_master "
                                               "WHERE type = 'index'")}
        assert "symbols_by_qname" not in indexes and "sir_meta_by_status" not in indexes
        assert "sir_meta_not_ok" in indexes
        assert conn.execute("SELECT text_hash, sir_hash FROM symbol_vectors").fetchall() == [
            (bytes.fromhex(TEXT_HASH)[:4], bytes.fromhex(SHASH)[:4])]  # v25: 4 bytes each
        assert conn.execute("SELECT value FROM meta WHERE key = 'compact_rows'").fetchone() == (
            "v20",)
        # a packed SIR value is packed again (v23: format 2): same JSON, the same search
        # words less the stop words
        (value,) = conn.execute("SELECT sir_json FROM sir WHERE seq = 2").fetchone()
        assert value[0] == 2 and sir_json_of(value) == PreparedSir.of(
            Sir(intent="Runs it.", confidence=0.3)).sir_json
        assert terms_of(value) == ("run", "run job")
        # a signature keeps its name as a mark
        assert conn.execute("SELECT signature FROM symbols ORDER BY seq").fetchall() == [
            ("def xx(y)",), ("def \x01(y)",)]
        # the history row is text, as before
        assert conn.execute("SELECT symbol_id, sir_hash, source_hash, model FROM sir_history"
                            ).fetchall() == [(SID, SHASH, CHASH, "gpt-x")]
    finally:
        conn.close()
    held, want = postings(db)
    assert held == want and held


def test_qualified_name_ends_hold_every_name_it_may_end_with() -> None:
    assert q.qname_ends("pkg.Cls.run") == ["pkg.Cls.run", ".Cls.run", "Cls.run", ".run", "run"]
    assert q.qname_ends("A::operator+") == [
        "A::operator+", "::operator+", ":operator+", "operator+", "+"]
    assert q.qname_ends("Foo#==") == ["Foo#==", "#==", "==", "="]
    assert q.qname_ends("main") == ["main"]
    hostile = ".".join(["a"] * 50_000)
    ends = q.qname_ends(hostile)
    assert len(ends) == q.MAX_ENDS and ends[0] == hostile and ends[-1] == "a"


def test_every_language_names_a_symbol_by_an_end_of_its_qualified_name() -> None:
    """v20 finds qualified names through the name index: that holds only while a symbol's
    name is one of the ends of its qualified name, in every language AETHER indexes."""
    from aether.symbols.extract import analyze_source
    from tests.language_fixtures import FIXTURES

    seen = 0
    for language, (path, source) in FIXTURES.items():
        for s in analyze_source(path, language, source.encode()).symbols:
            assert s.name in q.qname_ends(s.qualified_name), (language, s.qualified_name)
            seen += 1
    assert seen > 50 and len(FIXTURES) >= 8


def test_a_stored_signature_reads_back_as_it_was() -> None:
    for signature, name in (("def run(self)", "run"), ("def run(run)", "run"),
                            ("fn()", "main"), ("def f()", ""), ("def \x01f()", "f"),
                            ("\x02f", "f"), ("run", "run")):
        stored = stored_signature(signature, name)
        assert signature_of(stored, name) == signature
    assert stored_signature("def run(run)", "run") == "def \x01(run)"


def before_compact_edges(db: Path) -> None:
    """Turn a store's call graph back into its layout before COMPACT_EDGES (v10's `edges`
    table, its three indexes, no edge_texts, edge_callers or edge_targets) and mark the store
    one version older: what a store indexed before holds. Rows get new ids in reverse
    order, so the upgrade cannot lean on them."""
    to_v21(db)
    v10 = _split(MIGRATIONS[9])
    create = next(st for st in v10 if st.startswith("CREATE TABLE edges_v10"))
    indexes = [st for st in v10 if st.startswith("CREATE INDEX edges_by")]
    assert len(indexes) == 3
    conn = sqlite3.connect(db, isolation_level=None)
    try:
        conn.execute("BEGIN")
        conn.execute(create)
        conn.execute(f"""
            INSERT INTO edges_v10 (id, caller, line, col, name, callee, qualifier, receiver,
                                   kind, provenance, target, detail)
            SELECT row_number() OVER (ORDER BY e.id DESC), e.id >> {SHIFT},
                   c.start_line + e.line, e.col, n.text, e.callee, COALESCE(q.text, ''),
                   e.flags & 3, (e.flags >> 2) & 1, e.flags >> 3,
                   CASE WHEN {HAS_TARGET} THEN e.answer END, d.text
            FROM edges e JOIN symbols c ON c.seq = e.id >> {SHIFT} {TEXTS}""")
        for statement in ("DROP TRIGGER edges_of_caller_gone", "DROP TABLE edges",
                          "DROP TABLE edge_callers", "DROP TABLE edge_targets",
                          "DROP TABLE edge_texts",
                          "ALTER TABLE edges_v10 RENAME TO edges", *indexes):
            conn.execute(statement)
        conn.execute(f"PRAGMA user_version = {COMPACT_EDGES - 1}")
        conn.execute("COMMIT")
    finally:
        conn.close()


async def every_edge(db: Path) -> list[tuple[object, ...]]:
    """Every edge field by field through the Store's API: each symbol's edges (caller, line,
    column, callee, name, receiver, kind, provenance, target, detail), its callers and
    ambiguous sites, their counts, and each stored site as resolution reads it (with its
    qualifier; seqs as symbol ids)."""
    conn = sqlite3.connect(db)
    try:
        ids = [sid for (sid,) in conn.execute(f"SELECT {q.sid('symbols')} FROM symbols")]
    finally:
        conn.close()
    assert len(ids) > 5
    store = await Store.open(db)
    try:
        out: list[tuple[object, ...]] = []
        for sid in ids:
            record = await store.symbol(sid)
            assert record is not None
            found = (await store.edges_from(sid) + await store.edges_into(sid, 100)
                     + await store.ambiguous_into(record.name, sid, 100))
            out.extend(astuple(e) for e in found)
            out.append(("count", sid, await store.count_into(sid),
                        await store.unresolved_named(record.name)))
        out.append(("counts", *sorted((await store.callers_counts(ids)).items())))
        out.append(("provenances", *sorted((await store.provenance_counts()).items())))
        view = await edges.load_view(store._w, None)
        seq_id = {r.seq: r.id for refs in view.by_name.values() for r in refs}
        for site, (prov, target, detail) in await edges._all_sites(store._w, view):
            if detail and prov == edges.AMBIGUOUS:  # "count,seq,...,": seqs as ids
                count, *seqs = detail.rstrip(",").split(",")
                detail = ",".join([count, *(seq_id[int(n)] for n in seqs)])
            out.append(("site", *site[1:], prov, seq_id.get(target or 0), detail))
        return sorted(out, key=repr)
    finally:
        await store.close()


async def test_an_older_call_graph_is_compacted_in_place_and_reads_back_the_same(
        tmp_path: Path) -> None:
    """v21 stores edges compactly (rowid by caller, texts as numbers, edge_callers and
    edge_targets): a store whose graph is in the older layout upgrades on open, every edge
    reads back field by field as before, and the graph keeps working (a save re-resolves
    through edge_callers)."""
    root = tmp_path / "py"
    make_repo(root, PY_FILES)
    # a call through an expression (its callee, `make().build`, is stored as written) and a
    # reference (a name used as a value)
    write(root, "pkg/chain.py", "def make():\n    pass\n\n\ndef chain():\n"
                                "    return make().build()\n\n\ndef pick():\n"
                                "    return sorted([], key=make)\n")
    write(root, "pkg/late.py", "def use(x):\n    return x.save()\n")  # a unique name
    await index(root)
    db = root / ".aether" / "aether.db"
    before = await every_edge(db)
    sites = [row for row in before if row[0] == "site"]
    assert {row[7] for row in sites} == {"bare", "self", "qualified", "expression"}
    assert {row[9] for row in sites} == {"call", "reference"}
    assert {row[10] for row in sites} == set(range(6))  # every provenance
    assert any(row[8] for row in sites)  # a qualifier
    assert ("make().build", "build") in {(row[5], row[6]) for row in sites}
    before_compact_edges(db)
    conn = sqlite3.connect(db)
    try:
        assert conn.execute("PRAGMA user_version").fetchone() == (COMPACT_EDGES - 1,)
        old_rows = conn.execute("SELECT COUNT(*) FROM edges").fetchone()[0]
    finally:
        conn.close()
    assert await every_edge(db) == before
    conn = sqlite3.connect(db)
    try:
        assert conn.execute("PRAGMA user_version").fetchone() == (SCHEMA_VERSION,)
        assert conn.execute("SELECT COUNT(*) FROM edges").fetchone() == (old_rows,)
        pairs = conn.execute("SELECT COUNT(*) FROM edge_callers").fetchone()[0]
        assert conn.execute(f"SELECT COUNT(*) FROM (SELECT DISTINCT name, id >> {SHIFT} "
                            "FROM edges)").fetchone() == (pairs,)
        pairs = conn.execute("SELECT COUNT(*) FROM edge_targets").fetchone()[0]
        assert conn.execute(f"SELECT COUNT(*) FROM (SELECT DISTINCT answer, id >> {SHIFT} "
                            f"FROM edges e WHERE {HAS_TARGET} AND answer IS NOT NULL)"
                            ).fetchone() == (pairs,) != (0,)
    finally:
        conn.close()
    # the upgraded graph follows a change: a new namesake makes a unique match ambiguous
    assert ("use", "x.save", "unique_name", "pkg/models.py:Model.save") in edges_of_repo(root)
    write(root, "pkg/store.py", "class Store:\n    def save(self):\n        return 1\n")
    await index(root, ["pkg/store.py"])
    assert ("use", "x.save", "ambiguous", "2 candidates") in edges_of_repo(root)
