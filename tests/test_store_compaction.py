"""The store's size (issue 17): a cold index ends compacted (one search segment, no page to
give back, its WAL emptied) without holding the VACUUM's copy in memory; files' import
lists and bindings are deflated, callees kept without their names, and a store from before
v25 or v26 converts on open and reads the same."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

import aether.engine.indexer as indexer
from aether.config import load_settings
from aether.engine.engine import Engine
from aether.store import edges
from aether.store.db import Store
from aether.store.graph_records import read_bindings
from aether.store.packing import json_text, pack_json
from aether.store.schema import MIGRATIONS
from aether.symbols.calls import shape
from tests.helpers import write

IMPORTS = "".join(f"from pkg.module_{i} import Name{i}\n" for i in range(12))


def make_repo(root: Path, files: int = 9) -> Path:
    for i in range(files):
        write(root, f"pkg/module_{i}.py",
              f"{IMPORTS if i == 0 else ''}\n\nclass Name{i}:\n    def run_{i}(self):\n"
              f"        return Name{(i + 1) % files}().run_{(i + 1) % files}()\n\n\n"
              f"def helper_{i}(x):\n    return Name{i}().run_{i}() + x\n")
    return root


async def index(root: Path, paths: list[str] | None = None) -> None:
    engine = await Engine.open(load_settings(root))
    try:
        await engine.index(paths=paths)
    finally:
        await engine.close()


def version_before(marker: str) -> int:
    """The schema version just before the migration that says `marker` (v25, v26 today;
    found by content so that migrations appended before them on a merge change nothing)."""
    return next(i for i, m in enumerate(MIGRATIONS) if marker in m)


def db_of(root: Path) -> Path:
    return root / ".aether" / "aether.db"


def search_segments(db: Path) -> int:
    conn = sqlite3.connect(db)
    try:
        return int(conn.execute("SELECT COUNT(DISTINCT segid) FROM symbol_fts_idx").fetchone()[0])
    finally:
        conn.close()


async def test_a_cold_index_ends_compacted_and_a_save_does_not_compact(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # a write transaction every two files: each leaves a search segment of its own
    monkeypatch.setattr(indexer, "APPLY_BATCH_FILES", 2)
    root = make_repo(tmp_path / "repo")
    await index(root)
    db = db_of(root)
    assert search_segments(db) == 1  # merged
    wal = db.with_name(db.name + "-wal")
    assert not wal.exists() or wal.stat().st_size == 0  # the VACUUM's pages given back
    conn = sqlite3.connect(db)
    try:
        assert conn.execute("PRAGMA freelist_count").fetchone() == (0,)
        pages = conn.execute("PRAGMA page_count").fetchone()[0]
        conn.execute("VACUUM")  # nothing more to win
        assert conn.execute("PRAGMA page_count").fetchone()[0] == pages
    finally:
        conn.close()
    write(root, "pkg/module_1.py", (root / "pkg/module_1.py").read_text() + "\n\ndef more():\n"
                                                                            "    pass\n")
    await index(root, ["pkg/module_1.py"])
    assert search_segments(db) == 2  # a save adds its segment; only a cold pass compacts


async def test_compaction_keeps_temporary_data_in_memory_after_and_skips_when_busy(
        tmp_path: Path) -> None:
    root = make_repo(tmp_path / "repo")
    await index(root)
    store = await Store.open(db_of(root))
    try:
        other = sqlite3.connect(db_of(root), isolation_level=None)
        try:
            other.execute("BEGIN IMMEDIATE")  # another process writing: not waited for
            assert await store.compact() is False
            other.execute("ROLLBACK")
        finally:
            other.close()
        assert await store.compact() is True
        async with store._w.execute("PRAGMA temp_store") as cur:
            assert await cur.fetchone() == (2,)  # MEMORY again: only the VACUUM used a file
        assert len(await store.symbols_by_name("helper_3")) == 1
    finally:
        await store.close()


def test_packed_json_is_shorter_or_the_text_itself() -> None:
    long = json.dumps({f"Name{i}": f"pkg.module_{i}.Name{i}" for i in range(12)})
    packed = pack_json(long)
    assert isinstance(packed, bytes) and len(packed) < len(long) // 2
    assert json_text(packed) == long
    assert pack_json("{}") == "{}" and json_text("{}") == "{}"  # graph_view compares '{}'
    with pytest.raises(ValueError):
        json_text(b"\xff\x00not deflate")


async def test_files_json_is_deflated_and_a_v24_store_converts_on_open(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "repo")
    await index(root)
    db = db_of(root)
    conn = sqlite3.connect(db, isolation_level=None)
    try:
        rows = {p: (i, b) for p, i, b in conn.execute(
            "SELECT path, imports, bindings FROM files ORDER BY path")}
        imports, bindings = rows["pkg/module_0.py"]
        assert isinstance(imports, bytes) and isinstance(bindings, bytes)
        assert read_bindings(bindings) == {f"Name{i}": f"pkg.module_{i}.Name{i}"
                                           for i in range(12)}
        assert rows["pkg/module_3.py"][1] == "{}"  # no imports: short, kept as text
        # the store as v24 wrote it: JSON as text, vector hashes of 8 bytes
        conn.execute("BEGIN")
        for path, (imp, bnd) in rows.items():
            conn.execute("UPDATE files SET imports = ?, bindings = ? WHERE path = ?",
                         (json_text(imp), json_text(bnd), path))
        conn.executemany("UPDATE symbol_vectors SET text_hash = ?, sir_hash = ? WHERE seq = ?",
                         [(t + b"\x01\x02\x03\x04", s + b"\x05\x06\x07\x08", seq)
                          for seq, t, s in conn.execute(
                              "SELECT seq, text_hash, sir_hash FROM symbol_vectors").fetchall()])
        conn.execute(f"PRAGMA user_version = {version_before('packed_json')}")
        conn.execute("COMMIT")
        vectors = conn.execute("SELECT COUNT(*) FROM symbol_vectors").fetchone()[0]
    finally:
        conn.close()
    assert vectors > 5
    store = await Store.open(db)
    try:
        assert await store.file_imports("pkg/module_0.py") == [
            f"pkg.module_{i}" for i in range(12)]
        assert await store.vector_sources("wordllama-l2-256") == []  # every vector current
    finally:
        await store.close()
    conn = sqlite3.connect(db)
    try:
        assert {p: (i, b) for p, i, b in conn.execute(
            "SELECT path, imports, bindings FROM files ORDER BY path")} == rows
        assert conn.execute("SELECT DISTINCT length(text_hash), length(sir_hash) "
                            "FROM symbol_vectors").fetchall() == [(4, 4)]
        assert conn.execute("SELECT value FROM meta WHERE key = 'packed_json'").fetchone() == (
            "v25",)
    finally:
        conn.close()


@pytest.mark.parametrize(("callee", "name", "qualifier", "stored"), [
    ("os.path.join", "join", "os.path", None),  # qualifier.name: nothing stored
    ("save", "save", "", None),
    ("Book.objects.all().delete", "delete", "", "Book.objects.all()."),
    ("self.client.post", "post", "self.client", None),
    ("post_data.update", "update", "self.inline_post_data.copy()", "post_data."),
    ("$this->save", "save", "", "$this->save"),  # not `.name`: kept whole
    ("a::b", "b", "", "a::b"),
])
def test_a_callee_is_stored_without_its_name_and_read_back_whole(
        callee: str, name: str, qualifier: str, stored: str | None) -> None:
    assert edges.stored_callee(callee, name, qualifier) == stored
    assert edges.callee_of(stored, name, qualifier) == callee


@pytest.mark.parametrize("text", ["a.", "a..b", "f().", "x.y().z", "a->b", "A::b()", "obj[0].m",
                                  "f(x).g", "a . b", "$x->y"])
def test_no_callee_ends_with_a_dot(text: str) -> None:
    """What makes `stored_callee` unambiguous: the shape of a call ends with its name."""
    found = shape(text)
    assert found is None or (not found[0].endswith(".") and found[0].endswith(found[1]))


async def test_a_v25_store_drops_the_names_from_its_callees_and_reads_the_same(
        tmp_path: Path) -> None:
    from tests.test_store_migrations import every_edge

    root = make_repo(tmp_path / "repo")
    await index(root)
    db = db_of(root)
    before = await every_edge(db)
    conn = sqlite3.connect(db, isolation_level=None)
    try:
        short = conn.execute("SELECT COUNT(*) FROM edges WHERE substr(callee, -1) = '.'"
                             ).fetchone()[0]
        conn.execute("UPDATE edges SET callee = callee || (SELECT text FROM edge_texts "
                     "WHERE id = edges.name) WHERE substr(callee, -1) = '.'")  # as v25 kept it
        conn.execute(f"PRAGMA user_version = {version_before('UPDATE edges SET callee')}")
    finally:
        conn.close()
    assert short >= 9  # `Name1().run_1` in every module
    assert await every_edge(db) == before  # opens (migrates), reads every edge
    conn = sqlite3.connect(db)
    try:
        assert conn.execute("SELECT COUNT(*) FROM edges WHERE substr(callee, -1) = '.'"
                            ).fetchone() == (short,)
    finally:
        conn.close()
