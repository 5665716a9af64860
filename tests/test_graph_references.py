"""Reference sites (a name used as a value or a type, not called) are edges of kind
`reference`, resolved with the same provenance rules as calls; local variables never are."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from aether.store.edges import CALLEE, HAS_TARGET, SHIFT, TEXTS
from aether.store.graph_records import PROVENANCES
from aether.store.queries import path_of, qname
from tests.test_graph_edges import index, make_repo

PY_FILES = {
    "pkg/__init__.py": "",
    "pkg/base.py": '''
        class Base:
            pass


        def decorator(cls):
            return cls


        def helper(x):
            return x
        ''',
    "pkg/other.py": '''
        class Thing:
            pass
        ''',
    "pkg/more.py": '''
        class Thing:
            pass
        ''',
    "pkg/use.py": '''
        from pkg.base import Base, decorator, helper


        @decorator
        class A(Base):
            def m(self, xs: list[A]) -> Base:
                ys = map(helper, xs)
                zs = sorted(ys, key=helper)
                self.run(callback=self.m, other=self.data)
                if isinstance(zs, Base):
                    return zs
                return isinstance(ys, Thing)


        def local(v):
            w = v
            return print(w, v)
        ''',
}

# (caller, name as written, kind, provenance, target)
PY_REFERENCES = {
    ("A", "decorator", "import", "pkg/base.py:decorator"),
    ("A", "Base", "import", "pkg/base.py:Base"),
    ("A.m", "A", "local", "pkg/use.py:A"),
    ("A.m", "Base", "import", "pkg/base.py:Base"),  # annotation and isinstance
    ("A.m", "helper", "import", "pkg/base.py:helper"),  # map(helper) and key=helper
    ("A.m", "self.m", "local", "pkg/use.py:A.m"),
    ("A.m", "Thing", "unresolved", None),  # not imported: never a guess between two
}

TS_FILES = {
    "src/shapes.ts": '''
        export interface Shape {
          area(): number;
        }

        export class Base {}

        export function fmt(n: number): string {
          return String(n);
        }
        ''',
    "src/square.ts": '''
        import { Shape, Base, fmt } from "./shapes";

        export class Square extends Base implements Shape {
          area(): number {
            return 1;
          }
          show(xs: number[]): Shape {
            const label = xs.map(fmt);
            return this;
          }
        }
        ''',
}

TS_REFERENCES = {
    ("Square", "Base", "import", "src/shapes.ts:Base"),
    ("Square", "Shape", "import", "src/shapes.ts:Shape"),
    ("Square.show", "Shape", "import", "src/shapes.ts:Shape"),
    ("Square.show", "fmt", "import", "src/shapes.ts:fmt"),
}


def references(root: Path) -> set[tuple[str, str, str, str | None]]:
    conn = sqlite3.connect(root / ".aether" / "aether.db")
    try:
        rows = conn.execute(f"""
            SELECT {qname('c')}, {CALLEE}, e.flags >> 3, {path_of('t')}, {qname('t')},
                   d.text
            FROM edges e JOIN symbols c ON c.seq = e.id >> {SHIFT} {TEXTS}
            LEFT JOIN symbols t ON t.seq = e.answer AND {HAS_TARGET}
            WHERE e.flags & 4 = 4""").fetchall()
    finally:
        conn.close()
    out = set()
    for caller, callee, code, tfile, tname, detail in rows:
        provenance = PROVENANCES[code]
        target = f"{tfile}:{tname}" if tname else (
            f"{detail.split(',')[0]} candidates" if provenance == "ambiguous" else detail)
        out.add((caller, callee, provenance, target))
    return out


def reference_rows(root: Path) -> int:
    conn = sqlite3.connect(root / ".aether" / "aether.db")
    try:
        return int(conn.execute(
            "SELECT COUNT(*) FROM edges WHERE flags & 4 = 4").fetchone()[0])  # reference (v21)
    finally:
        conn.close()


async def test_python_reference_shapes(tmp_path: Path) -> None:
    root = tmp_path / "py"
    make_repo(root, PY_FILES)
    await index(root)
    assert references(root) == PY_REFERENCES
    # helper twice, Base twice in A.m: one row per site; `w`, `v`, `xs`, `self.data` none
    assert reference_rows(root) == 9


async def test_typescript_reference_shapes(tmp_path: Path) -> None:
    root = tmp_path / "ts"
    make_repo(root, TS_FILES)
    await index(root)
    assert references(root) == TS_REFERENCES


async def test_rust_and_go_type_references(tmp_path: Path) -> None:
    root = tmp_path / "rg"
    make_repo(root, {
        "src/lib.rs": '''
            pub trait Speak { fn speak(&self) -> u32; }
            pub struct Dog { friend: Cat }
            pub struct Cat {}
            impl Speak for Dog { fn speak(&self) -> u32 { 1 } }
            pub fn adopt(c: Cat) -> Dog { Dog { friend: c } }
            pub struct Wrap<T> { inner: T, cat: Cat }
            ''',
        "srv/a.go": '''
            package srv

            type Server struct { cfg Config }

            func Start(c Config) *Server { return apply(c, handle) }
            ''',
        "srv/b.go": '''
            package srv

            type Config struct {}

            func handle() {}

            func apply(c Config, f func()) *Server { return nil }
            ''',
    })
    await index(root)
    found = references(root)
    assert ("Dog", "Cat", "local", "src/lib.rs:Cat") in found
    assert ("adopt", "Cat", "local", "src/lib.rs:Cat") in found
    assert ("adopt", "Dog", "local", "src/lib.rs:Dog") in found
    # `impl Speak for Dog` sits outside every symbol: its methods reference the trait
    assert ("Dog.speak", "Speak", "local", "src/lib.rs:Speak") in found
    assert ("Server", "Config", "local", "srv/b.go:Config") in found
    assert ("Start", "Config", "local", "srv/b.go:Config") in found
    assert ("Start", "Server", "local", "srv/a.go:Server") in found
    assert ("apply", "Server", "local", "srv/a.go:Server") in found
    # a generic parameter is not a type of the workspace
    assert {(c, n) for c, n, _p, _t in found if c == "Wrap"} == {("Wrap", "Cat")}
    # no definition refers to itself by its own name
    assert not any(caller == name for caller, name, _p, _t in found)


async def test_a_cold_index_builds_the_edge_indexes_at_its_end(tmp_path: Path) -> None:
    """A first index drops the triggers that keep `edge_callers` and `edge_targets` while
    the edges table is empty, and rebuilds both tables (from the edges, sorted) and the
    triggers once its edges are resolved; later passes find them in place."""
    root = tmp_path / "py"
    make_repo(root, PY_FILES)
    await index(root)
    db = root / ".aether" / "aether.db"

    def state() -> tuple[set[str], int, int, int, int]:
        conn = sqlite3.connect(db)
        try:
            names = {name for (name,) in conn.execute(
                "SELECT name FROM sqlite_master WHERE type IN ('index', 'trigger') "
                "AND tbl_name = 'edges'")}
            callers = conn.execute("SELECT COUNT(*) FROM edge_callers").fetchone()[0]
            expected_callers = conn.execute(
                f"SELECT COUNT(*) FROM (SELECT DISTINCT name, id >> {SHIFT} FROM edges)"
            ).fetchone()[0]
            targets = conn.execute("SELECT COUNT(*) FROM edge_targets").fetchone()[0]
            expected_targets = conn.execute(
                f"SELECT COUNT(*) FROM (SELECT DISTINCT answer, id >> {SHIFT} FROM edges e "
                f"WHERE {HAS_TARGET} AND answer IS NOT NULL)").fetchone()[0]
            return names, callers, expected_callers, targets, expected_targets
        finally:
            conn.close()

    built = {"edge_callers_add", "edge_callers_gone", "edge_targets_add",
             "edge_targets_moved", "edge_targets_gone"}
    names, callers, expected_callers, targets, expected_targets = state()
    assert names == built
    assert callers == expected_callers > 0
    assert targets == expected_targets > 0
    conn = sqlite3.connect(db)
    try:  # a pass that died between the drop and the rebuild
        for trigger in ("edge_callers_add", "edge_targets_add", "edge_targets_moved"):
            conn.execute(f"DROP TRIGGER {trigger}")
        conn.execute("DELETE FROM edge_callers")
        conn.execute("DELETE FROM edge_targets")
        conn.commit()
    finally:
        conn.close()
    await index(root)
    assert state() == (built, expected_callers, expected_callers, expected_targets,
                       expected_targets)
