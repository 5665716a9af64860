"""The call graph in-process: call sites extracted on every index, resolved with exactly the
provenance expected on fixture repositories, and kept right when targets change."""

from __future__ import annotations

import sqlite3
import textwrap
from pathlib import Path

import pytest

from aether.config import load_settings
from aether.engine.engine import Engine
from aether.store import edges as edges_module
from aether.store.edges import CALLEE, HAS_TARGET, SHIFT, TEXTS
from aether.store.graph_records import PROVENANCES
from aether.store.queries import path_of, qname
from aether.symbols.calls import shape
from aether.symbols.extract import analyze_source
from tests.helpers import ScriptedProvider, write

PY_FILES = {
    "pkg/__init__.py": "from .models import Model\n",
    "pkg/models.py": '''
        import os.path as osp


        class Model:
            def save(self):
                self.validate()
                return osp.join("a", "b")

            def validate(self):
                return helper(1)


        def helper(n):
            if n <= 0:
                return 0
            return helper(n - 1)
        ''',
    "pkg/other.py": '''
        def helper():
            return 1


        class Worker:
            def process(self):
                return 1
        ''',
    "pkg/third.py": '''
        class Job:
            def process(self):
                return 2
        ''',
    "pkg/use.py": '''
        import os

        from pkg import Model
        from pkg.models import helper as h
        from pkg.other import *


        def run(w):
            m = Model()
            m.save()
            h(3)
            helper()
            os.getcwd()
            len("x")
            unknown_thing()
            w.process()
            return run(w)
        ''',
}

# (caller, callee as written, provenance, target "file:qualified_name" or text)
PY_EDGES = {
    ("Model.save", "self.validate", "local", "pkg/models.py:Model.validate"),
    ("Model.save", "osp.join", "external", "os.path.join"),
    ("Model.validate", "helper", "local", "pkg/models.py:helper"),
    ("helper", "helper", "local", "pkg/models.py:helper"),
    ("run", "Model", "import", "pkg/models.py:Model"),
    ("run", "m.save", "import", "pkg/models.py:Model.save"),  # m = Model(): typed
    ("run", "h", "import", "pkg/models.py:helper"),
    ("run", "helper", "import", "pkg/other.py:helper"),
    ("run", "os.getcwd", "external", "os.getcwd"),
    ("run", "len", "external", "builtins.len"),
    ("run", "unknown_thing", "unresolved", None),
    ("run", "w.process", "ambiguous", "2 candidates"),
    ("run", "run", "local", "pkg/use.py:run"),
}

TS_FILES = {
    "src/util.ts": '''
        export function helper(): number {
          return 1;
        }

        export class Box {
          fill(): void {
            this.seal();
          }
          seal(): void {}
        }
        ''',
    "src/main.ts": '''
        import { helper as h, Box } from "./util";
        import * as path from "path";

        export function main(): void {
          const b = new Box();
          b.fill();
          h();
          path.join("a");
          main();
        }
        ''',
}

TS_EDGES = {
    ("Box.fill", "this.seal", "local", "src/util.ts:Box.seal"),
    ("main", "Box", "import", "src/util.ts:Box"),
    ("main", "b.fill", "import", "src/util.ts:Box.fill"),  # b = new Box(): typed
    ("main", "h", "import", "src/util.ts:helper"),
    ("main", "path.join", "external", "path.join"),
    ("main", "main", "local", "src/main.ts:main"),
}


def make_repo(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        write(root, rel, text)


def edges(root: Path) -> set[tuple[str, str, str, str | None]]:
    """Every stored edge as (caller, callee, provenance, target)."""
    conn = sqlite3.connect(root / ".aether" / "aether.db")
    try:
        rows = conn.execute(f"""
            SELECT {qname('c')}, {CALLEE}, e.flags >> 3, {path_of('t')}, {qname('t')},
                   d.text
            FROM edges e JOIN symbols c ON c.seq = e.id >> {SHIFT} {TEXTS}
            LEFT JOIN symbols t ON t.seq = e.answer AND {HAS_TARGET}""").fetchall()
        # edge_callers and edge_targets (how edges are found by name and by target) hold
        # exactly each caller's names and targets (kept by triggers as edges come and go)
        pairs = conn.execute("SELECT name, caller FROM edge_callers").fetchall()
        expected = conn.execute(
            f"SELECT DISTINCT name, id >> {SHIFT} FROM edges").fetchall()
        assert sorted(pairs) == sorted(expected)
        pairs = conn.execute("SELECT target, caller FROM edge_targets").fetchall()
        expected = conn.execute(f"""SELECT DISTINCT answer, id >> {SHIFT} FROM edges e
                                    WHERE {HAS_TARGET} AND answer IS NOT NULL""").fetchall()
        assert sorted(pairs) == sorted(expected)
        # no edge outlives its caller (the cascade is a trigger on symbols)
        assert conn.execute(f"""SELECT COUNT(*) FROM edges e WHERE NOT EXISTS (
            SELECT 1 FROM symbols s WHERE s.seq = e.id >> {SHIFT})""").fetchone() == (0,)
    finally:
        conn.close()
    out = set()
    for caller, callee, code, tfile, tname, detail in rows:
        provenance = PROVENANCES[code]
        if tname is not None:
            target: str | None = f"{tfile}:{tname}"
        elif provenance == "ambiguous":  # stored as "count,seq,seq,...,"
            target = f"{detail.split(',')[0]} candidates"
        else:
            target = detail
        out.add((caller, callee, provenance, target))
    return out


async def index(root: Path, paths: list[str] | None = None) -> None:
    engine = await Engine.open(load_settings(root), ScriptedProvider())  # type: ignore[arg-type]
    try:
        await engine.index(paths=paths)
    finally:
        await engine.close()


@pytest.fixture
def py_repo(tmp_path: Path) -> Path:
    root = tmp_path / "py"
    make_repo(root, PY_FILES)
    return root


def test_shape_of_callees() -> None:
    assert shape("helper") == ("helper", "helper", "bare", "")
    assert shape("self.save") == ("self.save", "save", "self", "self")
    assert shape("this . close") == ("this.close", "close", "self", "this")
    assert shape("os.path.join") == ("os.path.join", "join", "qualified", "os.path")
    assert shape("Foo::new") == ("Foo.new", "new", "qualified", "Foo")
    assert shape("collect::<Vec<_>>") == ("collect", "collect", "bare", "")
    assert shape("$this->save") == ("$this.save", "save", "self", "$this")
    assert shape("foo().bar") == ("foo().bar", "bar", "expression", "")
    # arguments, subscripts and strings never reach the store (no literal, no credential)
    assert shape('post(url, data="sk-live-1234567890abcdef")[0].json') == (
        "post()[].json", "json", "expression", "")
    assert shape("fns[0]") is None
    assert shape("(lambda: 1)") is None


def test_call_sites_are_extracted_without_the_static_analyser() -> None:
    analysis = analyze_source("m.py", "python", b"def f():\n    g(1)\n    x.y.z()\n")
    sites = [(c.callee, c.receiver, c.line, c.column) for c in analysis.calls]
    assert sites == [("g", "bare", 2, 5), ("x.y.z", "qualified", 3, 9)]
    assert {c.caller_id for c in analysis.calls} == {analysis.symbols[0].id}


async def test_python_edges_and_provenance(py_repo: Path) -> None:
    await index(py_repo)
    assert edges(py_repo) == PY_EDGES


async def test_typescript_edges_and_provenance(tmp_path: Path) -> None:
    root = tmp_path / "ts"
    make_repo(root, TS_FILES)
    await index(root)
    assert edges(root) == TS_EDGES


async def test_rust_and_go_local_edges(tmp_path: Path) -> None:
    root = tmp_path / "rg"
    make_repo(root, {
        "src/lib.rs": '''
            struct Counter { n: u32 }
            impl Counter {
                fn new() -> Self { Counter { n: 0 } }
                fn bump(&mut self) { self.add(1); }
                fn add(&mut self, k: u32) { self.n += k; }
            }
            fn make() -> Counter { let c = Counter::new(); c }
            ''',
        "srv/a.go": '''
            package srv

            import "fmt"

            func Start() { run(); fmt.Println("x") }

            func (s *Server) Serve() { s.Close() }
            ''',
        "srv/b.go": '''
            package srv

            func run() {}

            type Server struct{}

            func (s *Server) Close() {}

            type Conn struct{}

            func (c *Conn) Close() {}
            ''',
    })
    await index(root)
    found = edges(root)
    assert ("Counter.bump", "self.add", "local", "src/lib.rs:Counter.add") in found
    assert ("make", "Counter.new", "local", "src/lib.rs:Counter.new") in found
    assert ("Start", "run", "local", "srv/b.go:run") in found
    assert ("Start", "fmt.Println", "external", "fmt.Println") in found
    # a Go receiver is the method's `self`: its type's method, in another file of the package
    assert ("Server.Serve", "s.Close", "local", "srv/b.go:Server.Close") in found


async def test_edit_rename_and_delete_update_inbound_edges_in_one_pass(py_repo: Path) -> None:
    await index(py_repo)
    # a body edit keeps the target's id: its inbound edges stay resolved
    write(py_repo, "pkg/other.py", PY_FILES["pkg/other.py"].replace("return 1\n", "return 3\n", 1))
    await index(py_repo, ["pkg/other.py"])
    assert ("run", "helper", "import", "pkg/other.py:helper") in edges(py_repo)

    # renaming the target: the caller's edge is unresolved after that one pass
    write(py_repo, "pkg/other.py",
          PY_FILES["pkg/other.py"].replace("def helper():", "def helper_two():"))
    await index(py_repo, ["pkg/other.py"])
    found = edges(py_repo)
    assert ("run", "helper", "unresolved", None) in found
    # one `process` left: the ambiguous call becomes a unique name match
    write(py_repo, "pkg/third.py", "def unrelated():\n    return 0\n")
    await index(py_repo, ["pkg/third.py"])
    assert ("run", "w.process", "unique_name", "pkg/other.py:Worker.process") in edges(py_repo)

    # a renamed method called through self
    models = PY_FILES["pkg/models.py"].replace("def validate(self):", "def check(self):")
    write(py_repo, "pkg/models.py", models)
    await index(py_repo, ["pkg/models.py"])
    assert ("Model.save", "self.validate", "unresolved", None) in edges(py_repo)

    # deleting the target's file: its callers are unresolved, never dangling
    (py_repo / "pkg/models.py").unlink()
    await index(py_repo, ["pkg/models.py"])
    found = edges(py_repo)
    assert ("run", "h", "unresolved", None) in found
    assert ("run", "Model", "unresolved", None) in found
    conn = sqlite3.connect(py_repo / ".aether" / "aether.db")
    try:
        dangling = conn.execute(f"""SELECT COUNT(*) FROM edges e WHERE {HAS_TARGET}
                                    AND e.answer IS NOT NULL AND NOT EXISTS (
                                        SELECT 1 FROM symbols s WHERE s.seq = e.answer)"""
                                ).fetchone()[0]
    finally:
        conn.close()
    assert dangling == 0


async def test_new_namesake_makes_a_unique_match_ambiguous(py_repo: Path) -> None:
    write(py_repo, "pkg/late.py", "def use(x):\n    return x.save()\n")
    await index(py_repo)
    found = edges(py_repo)
    assert ("use", "x.save", "unique_name", "pkg/models.py:Model.save") in found
    assert ("run", "m.save", "import", "pkg/models.py:Model.save") in found
    write(py_repo, "pkg/store.py", "class Store:\n    def save(self):\n        return 1\n")
    await index(py_repo, ["pkg/store.py"])
    found = edges(py_repo)
    assert ("use", "x.save", "ambiguous", "2 candidates") in found
    # a receiver of a known type keeps its one answer
    assert ("run", "m.save", "import", "pkg/models.py:Model.save") in found


async def test_a_bulk_pass_resolves_once_at_its_end(tmp_path: Path) -> None:
    root = tmp_path / "bulk"
    make_repo(root, PY_FILES)
    for i in range(50):  # past the bulk threshold: edges wait for the final resolution
        write(root, f"gen/m{i}.py", f"from pkg.models import helper\n\n\ndef f{i}():\n"
                                    f"    return helper({i})\n")
    write(root, ".aether/config.toml", "[index]\nworkers = 1\n")
    await index(root)
    found = edges(root)
    assert found >= PY_EDGES
    assert ("f7", "helper", "import", "pkg/models.py:helper") in found
    conn = sqlite3.connect(root / ".aether" / "aether.db")
    try:
        assert conn.execute("SELECT value FROM meta WHERE key = 'graph_dirty'").fetchone() == ("0",)
    finally:
        conn.close()


async def test_a_changed_re_export_re_resolves_its_importers(py_repo: Path) -> None:
    await index(py_repo)
    assert ("run", "Model", "import", "pkg/models.py:Model") in edges(py_repo)
    write(py_repo, "pkg/__init__.py", "VERSION = 1\n")  # no longer re-exports Model
    await index(py_repo, ["pkg/__init__.py"])
    assert ("run", "Model", "unresolved", None) in edges(py_repo)
    write(py_repo, "pkg/__init__.py", "from .models import Model as Model\n")
    await index(py_repo, ["pkg/__init__.py"])
    assert ("run", "Model", "import", "pkg/models.py:Model") in edges(py_repo)


async def test_a_language_without_import_resolution_gets_name_based_edges(tmp_path: Path) -> None:
    """Java: only its facts query's `@call` convention; receivers come from the call node."""
    root = tmp_path / "java"
    make_repo(root, {
        "src/A.java": '''
            class A {
                void f() { this.g(); g(); B.h(); missing(); }
                void g() {}
            }
            ''',
        "src/B.java": '''
            class B {
                static void h() {}
            }
            ''',
    })
    await index(root)
    assert edges(root) == {
        ("A.f", "this.g", "local", "src/A.java:A.g"),
        ("A.f", "g", "local", "src/A.java:A.g"),
        ("A.f", "B.h", "unique_name", "src/B.java:B.h"),
        ("A.f", "missing", "unresolved", None),
    }


async def test_source_is_read_from_disk_now(py_repo: Path) -> None:
    from aether.engine import graph
    from aether.engine.engine import UnknownTarget

    await index(py_repo)
    engine = await Engine.open(load_settings(py_repo), ScriptedProvider())  # type: ignore[arg-type]
    try:
        record = await engine.resolve("Model.save")
        fresh = await graph.source(engine, record)
        assert fresh.changed_since_index is False and fresh.changed_since_sir is False
        # edited on disk, not re-indexed: the slice follows the file, and says so
        text = textwrap.dedent(PY_FILES["pkg/models.py"]).lstrip("\n")
        text = text.replace('return osp.join("a", "b")', "return 42")
        (py_repo / "pkg/models.py").write_text("# a new first line\n" + text)
        moved = await graph.source(engine, record)
        assert moved.source.endswith("return 42") and moved.start_line == fresh.start_line + 1
        assert moved.changed_since_index is True and moved.changed_since_sir is True
        write(py_repo, "pkg/models.py", text.replace("def save(self):", "def store(self):"))
        with pytest.raises(UnknownTarget, match=r"no longer in pkg/models\.py"):
            await graph.source(engine, record)
        with pytest.raises(graph.BadArgument, match="max_tokens"):
            await graph.source(engine, record, max_tokens=0)
    finally:
        await engine.close()


async def test_a_database_from_before_the_graph_gets_its_edges(py_repo: Path) -> None:
    """Files indexed before the edges migration have no edges; the migration's own statement
    makes the next pass parse them again."""
    from aether.store.schema import MIGRATIONS, _split

    graph_migration = next(m for m in MIGRATIONS if "CREATE TABLE edges" in m)
    reparse = [st for st in _split(graph_migration) if "UPDATE files" in st]
    assert len(reparse) == 1
    await index(py_repo)
    conn = sqlite3.connect(py_repo / ".aether" / "aether.db")
    try:  # what such a database holds after the migration ran
        conn.execute("DELETE FROM edges")
        conn.execute("UPDATE files SET bindings = '{}', star_imports = '[]'")
        conn.execute(reparse[0])
        conn.commit()
    finally:
        conn.close()
    await index(py_repo)
    assert edges(py_repo) == PY_EDGES


async def test_a_cold_pass_that_died_before_its_edges_is_healed_by_the_next(
        py_repo: Path) -> None:
    """A cold pass holds its call sites in memory and writes them resolved at its end: a
    pass that dies after committing files but before that leaves `graph_cold` = "1" and no
    edges (the state reproduced here), and the next full pass parses every file again."""
    await index(py_repo)
    expected = edges(py_repo)
    assert expected >= PY_EDGES
    conn = sqlite3.connect(py_repo / ".aether" / "aether.db")
    try:
        assert conn.execute("SELECT value FROM meta WHERE key = 'graph_cold'").fetchone() == ("0",)
        conn.execute("DELETE FROM edges")
        conn.execute("UPDATE meta SET value = '1' WHERE key = 'graph_cold'")
        conn.commit()
    finally:
        conn.close()
    assert edges(py_repo) == set()
    await index(py_repo)  # nothing changed on disk: only the flag says to parse again
    assert edges(py_repo) == expected
    conn = sqlite3.connect(py_repo / ".aether" / "aether.db")
    try:
        assert conn.execute("SELECT value FROM meta WHERE key = 'graph_cold'").fetchone() == ("0",)
        indexes = {n for (n,) in conn.execute(
            "SELECT name FROM sqlite_master WHERE type IN ('index', 'trigger') "
            "AND tbl_name = 'edges'")}
    finally:
        conn.close()
    assert indexes == {"edge_callers_add", "edge_callers_gone", "edge_targets_add",
                       "edge_targets_moved", "edge_targets_gone"}


async def test_texts_no_edge_uses_go_and_the_others_stay(py_repo: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """Names, qualifiers and details are numbers in `edge_texts`; an ambiguous candidate
    list changes with its candidates, so texts no edge uses pile up: once they are twice as
    many as at the last count, a pass deletes them, and every edge reads the same."""
    await index(py_repo)
    expected = edges(py_repo)
    db = py_repo / ".aether" / "aether.db"
    conn = sqlite3.connect(db)
    try:
        used = conn.execute("SELECT COUNT(*) FROM edge_texts").fetchone()[0]
        assert conn.execute("SELECT value FROM meta WHERE key = 'edge_texts_kept'"
                            ).fetchone() == (str(used),)
        conn.executemany("INSERT INTO edge_texts (text) VALUES (?)",
                         [(f"9,{n},{n + 1},",) for n in range(used + 1)])  # stale lists
        conn.commit()
    finally:
        conn.close()
    monkeypatch.setattr(edges_module, "TEXTS_SLACK", 0)
    write(py_repo, "pkg/extra.py", "def extra():\n    return 1\n")
    await index(py_repo, ["pkg/extra.py"])
    conn = sqlite3.connect(db)
    try:
        left = conn.execute("SELECT COUNT(*) FROM edge_texts").fetchone()[0]
        stale = conn.execute("SELECT COUNT(*) FROM edge_texts WHERE text LIKE '9,%'"
                             ).fetchone()[0]
        assert conn.execute("SELECT value FROM meta WHERE key = 'edge_texts_kept'"
                            ).fetchone() == (str(left),)
    finally:
        conn.close()
    assert stale == 0
    assert used <= left <= used + 1  # `extra` is a new name only if something calls it
    assert edges(py_repo) == expected


async def test_a_symbol_deleted_takes_its_edges_and_their_lookups(py_repo: Path) -> None:
    """Edges have no caller column to cascade from (schema v21): a trigger on `symbols`
    deletes a removed symbol's range of edges, and theirs go from edge_callers and
    edge_targets; nothing else changes."""
    await index(py_repo)
    db = py_repo / ".aether" / "aether.db"
    conn = sqlite3.connect(db)
    try:
        conn.execute("PRAGMA foreign_keys = ON")
        seq, qualified = conn.execute(f"""
            SELECT s.seq, {qname('s')} FROM symbols s JOIN edges e
            ON e.id >> {SHIFT} = s.seq GROUP BY s.seq ORDER BY COUNT(*) DESC, s.seq LIMIT 1
            """).fetchone()
        total = conn.execute("SELECT COUNT(*) FROM edges").fetchone()[0]
        own = conn.execute(f"SELECT COUNT(*) FROM edges WHERE id >> {SHIFT} = ?",
                           (seq,)).fetchone()[0]
        assert own >= 2
        conn.execute("DELETE FROM symbols WHERE seq = ?", (seq,))
        conn.commit()
        assert conn.execute("SELECT COUNT(*) FROM edges").fetchone() == (total - own,)
        for table in ("edge_callers", "edge_targets"):
            assert conn.execute(f"SELECT COUNT(*) FROM {table} WHERE caller = ?",
                                (seq,)).fetchone() == (0,)
    finally:
        conn.close()
    found = edges(py_repo)  # the lookups still match the edges exactly
    assert found and all(caller != qualified for caller, _c, _p, _t in found)


async def test_a_go_method_is_matched_by_name_even_when_python_has_one_like_it(
        tmp_path: Path) -> None:
    # `execute`, `run`, `count` are never matched by name in Python or JS (a DB cursor's, a
    # list's); Go's builtin types have no methods and a lower-case method is callable only
    # in its own package, so in Go the only one there is, is meant.
    root = tmp_path / "cobra"
    make_repo(root, {
        "command.go": '''
            package cobra

            type Command struct{}

            func (c *Command) execute(args []string) error { return nil }

            func (c *Command) count() int { return 0 }
            ''',
        "run.go": '''
            package cobra

            func find() *Command { return nil }

            func ExecuteC(root *Command) error {
                cmd := find()
                cmd.count()
                f.Close()
                return cmd.execute(nil)
            }
            ''',
        "db.py": '''
            class Store:
                def execute(self, sql):
                    return sql

            def run(cursor):
                return cursor.execute("select 1")
            ''',
    })
    await index(root)
    found = edges(root)
    assert ("ExecuteC", "cmd.execute", "unique_name", "command.go:Command.execute") in found
    assert ("ExecuteC", "cmd.count", "unique_name", "command.go:Command.count") in found
    assert ("ExecuteC", "f.Close", "unresolved", None) in found  # Go's own common names
    assert ("run", "cursor.execute", "unresolved", None) in found  # Python: still never


async def test_go_calls_into_the_workspaces_other_packages(tmp_path: Path) -> None:
    # import paths name folders: `example.com/app/v2/srv` is the folder `srv`, and a path
    # no folder ends with may be the module's root package (`example.com/app/v2`)
    root = tmp_path / "app"
    make_repo(root, {
        "go.mod": "module example.com/app/v2\n",
        "app.go": '''
            package app

            func Hello() string { return "hi" }

            type Server struct{}
            ''',
        "srv/srv.go": '''
            package srv

            func Start() {}
            ''',
        "internal/db/db.go": '''
            package db

            func Open() {}
            ''',
        "errors/errors.go": '''
            package errors

            func New(text string) error { return nil }
            ''',
        "doc/doc.go": '''
            package doc

            import (
                "errors"
                "fmt"

                "example.com/app/v2"
                store "example.com/app/v2/internal/db"
                "example.com/app/v2/srv"
                "github.com/spf13/pflag"
            )

            func Gen(s *app.Server) {
                srv.Start()
                srv.Gone()
                store.Open()
                app.Hello()
                fmt.Println("x")
                pflag.Parse()
                errors.New("x")
            }
            ''',
    })
    await index(root)
    found = {e for e in edges(root) if e[0] == "Gen"}
    assert found == {
        ("Gen", "srv.Start", "import", "srv/srv.go:Start"),
        ("Gen", "store.Open", "import", "internal/db/db.go:Open"),
        ("Gen", "srv.Gone", "unresolved", None),  # the package is ours: gone or renamed
        ("Gen", "app.Hello", "unique_name", "app.go:Hello"),  # the root package, by name
        ("Gen", "app.Server", "unique_name", "app.go:Server"),  # a type named, too
        ("Gen", "fmt.Println", "external", "fmt.Println"),
        ("Gen", "pflag.Parse", "external", "github.com/spf13/pflag.Parse"),
        # the standard library's `errors`, not the workspace's top-level `errors/`
        ("Gen", "errors.New", "external", "errors.New"),
    }, found


async def test_rust_tests_reach_their_crate_by_its_name(tmp_path: Path) -> None:
    # tests/, benches/, examples/ name the crate (`serde_json::from_str`), whose name is in
    # Cargo.toml only: a path whose first segment is no module and no dependency the
    # library imports is looked up in src/lib.rs (its items and re-exports)
    root = tmp_path / "json"
    make_repo(root, {
        "Cargo.toml": '[package]\nname = "serde_json"\n',
        "src/lib.rs": '''
            pub mod de;
            pub use crate::de::{from_str, Deserializer};

            pub fn to_string(v: u8) -> String { String::new() }
            ''',
        "src/value/de.rs": "pub fn from_str(s: &str) -> u16 { 1 }\n",
        "src/value/mod.rs": "pub mod de;\n",
        "src/de.rs": '''
            use serde::de::Visitor;

            pub struct Deserializer;
            impl Deserializer {
                pub fn new() -> Self { Deserializer }
            }
            pub fn from_str(s: &str) -> u8 { 0 }
            ''',
        "tests/test.rs": '''
            use serde_json::{from_str, Deserializer};

            fn test_parse() {
                let a = from_str("1");
                let b = serde_json::from_str("2");
                let c = serde_json::to_string(1);
                let d = Deserializer::new();
                let e = serde_json::de::from_str("y");
                let f = serde::de::from_str("x");
                let g = std::mem::take(&mut 1);
                let h = u32::from_str("3");
                let de = Deserializer::new();
                de.from_str("z");
            }
            ''',
        "build.rs": "fn main() { serde_json::to_string(1); }\n",
    })
    await index(root)
    found = {e for e in edges(root) if e[0] == "test_parse"}
    assert found == {
        ("test_parse", "from_str", "unique_name", "src/de.rs:from_str"),
        ("test_parse", "serde_json.from_str", "unique_name", "src/de.rs:from_str"),
        ("test_parse", "serde_json.to_string", "unique_name", "src/lib.rs:to_string"),
        ("test_parse", "Deserializer.new", "unique_name", "src/de.rs:Deserializer.new"),
        ("test_parse", "serde_json.de.from_str", "unique_name", "src/de.rs:from_str"),
        # serde is a dependency the library imports: its own `de::from_str`, not ours
        ("test_parse", "serde.de.from_str", "unresolved", None),
        ("test_parse", "std.mem.take", "unresolved", None),  # never guessed by name
        ("test_parse", "u32.from_str", "unresolved", None),  # a primitive's, not ours
        # a variable named like a module is no crate (no file imports from it)
        ("test_parse", "de.from_str", "unresolved", None),
    }, found
    # a build script is a program of its own: it does not link the library
    assert ("main", "serde_json.to_string", "unresolved", None) in edges(root)
