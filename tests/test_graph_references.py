"""Reference sites (a name used as a value or a type, not called) are edges of kind
`reference`, resolved with the same provenance rules as calls; local variables never are."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from aether.store.edges import CALLEE
from aether.store.graph_records import PROVENANCES
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
            SELECT c.qualified_name, {CALLEE}, e.provenance, t.file_path, t.qualified_name,
                   e.detail
            FROM edges e JOIN symbols c ON c.seq = e.caller
            LEFT JOIN symbols t ON t.seq = e.target
            WHERE e.kind = 1""").fetchall()
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
            "SELECT COUNT(*) FROM edges WHERE kind = 1").fetchone()[0])  # 1: reference (v10)
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
    """A first index drops the edges' indexes while the table is empty and builds them once
    its edges are resolved; later passes find them in place."""
    root = tmp_path / "py"
    make_repo(root, PY_FILES)
    await index(root)

    def indexes() -> set[str]:
        conn = sqlite3.connect(root / ".aether" / "aether.db")
        try:
            return {name for (name,) in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'edges'")}
        finally:
            conn.close()

    assert indexes() == {"edges_by_caller", "edges_by_target", "edges_by_name"}
    conn = sqlite3.connect(root / ".aether" / "aether.db")
    try:  # a pass that died between the drop and the rebuild
        conn.execute("DROP INDEX edges_by_name")
        conn.commit()
    finally:
        conn.close()
    await index(root)
    assert indexes() == {"edges_by_caller", "edges_by_target", "edges_by_name"}
