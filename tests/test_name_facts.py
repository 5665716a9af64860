"""Schema v24: type facts and renaming imports in `name_facts`, found by name
(aether.store.name_facts). A save reads the facts of the names it resolves and no others;
a file's facts are replaced when it is written again and go with it; a v23 store (facts
inside `files.bindings`, made here by `before_name_facts`) upgrades in place and reads back the same
edges."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from aether.store import edges as edges_module
from aether.store import name_facts
from aether.store.graph_records import is_type_fact, read_bindings
from aether.store.packing import json_text
from aether.store.schema import MIGRATIONS
from aether.symbols.extract import analyze_source
from tests.helpers import write
from tests.test_graph_edges import edges, index, make_repo

FILES = {
    "app/__init__.py": "",
    "app/ctx.py": '''
class RequestContext:
    def push(self):
        return 1

    def pop(self):
        return 2
''',
    "app/base.py": '''
class Base:
    def close(self):
        return 3
''',
    "app/app.py": '''
from app.ctx import RequestContext
from app.base import Base as Root


class App(Root):
    def request_context(self) -> RequestContext:
        return RequestContext()

    def run(self):
        self.request_context().push()
        self.close()
''',
    "app/globals.py": '''
from app.ctx import RequestContext

request_ctx: RequestContext = RequestContext()
''',
    "app/use.py": '''
from app.globals import request_ctx
from app.app import App


def go():
    request_ctx.pop()
    App().run()
''',
    # many facts no save of app/ reads: classes with bases and methods returning types
    **{f"other/m{i}.py": f'''
from app.base import Base


class Thing{i}(Base):
    def clone{i}(self) -> "Thing{i}":
        return Thing{i}()

    def again{i}(self):
        return self

    def run(self):
        return {i}


shared{i}: Thing{i} = Thing{i}()
''' for i in range(12)},
}


def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    make_repo(root, {k: v.lstrip("\n") for k, v in FILES.items()})
    return root


def fact_rows(root: Path, path: str | None = None) -> list[tuple[Any, ...]]:
    """(file path, kind, name, scope, value) of every name_facts row (of one file)."""
    conn = sqlite3.connect(root / ".aether" / "aether.db")
    try:
        return sorted(conn.execute(
            "SELECT f.path, n.kind, n.name, n.scope, n.value FROM name_facts n "
            "JOIN files f ON f.id = n.id >> 16 WHERE ?1 IS NULL OR f.path = ?1", (path,)))
    finally:
        conn.close()


def expected_rows(root: Path, path: str) -> list[tuple[Any, ...]]:
    """What the symbol layer says about a file, as name_facts rows."""
    found = analyze_source(path, "python", (root / path).read_bytes()).bindings
    return sorted((path, *row) for row in name_facts.split_bindings(found)[1])


GO = {("go", "request_ctx.pop", "import", "app/ctx.py:RequestContext.pop"),
      ("go", "App", "import", "app/app.py:App"),
      ("go", "App().run", "import", "app/app.py:App.run")}
RUN = {("App.run", "self.request_context().push", "import", "app/ctx.py:RequestContext.push"),
       ("App.run", "self.close", "import", "app/base.py:Base.close")}


def test_a_file_s_bindings_split_into_imports_and_facts() -> None:
    imports, rows = name_facts.split_bindings({
        "Root": "app.base.Base", "os": "os", "h": "crate::util::helper",
        "App.make()": "Ctx", "App.__bases__": "Root,mod.Mixin", "app.__class__": "App"})
    assert imports == {"Root": "app.base.Base", "os": "os", "h": "crate::util::helper"}
    assert sorted(rows) == sorted([
        (name_facts.RENAMED, "Root", "", "Base"), (name_facts.RENAMED, "h", "", "helper"),
        (name_facts.RETURNS_KIND, "make", "App", "Ctx"),
        (name_facts.BASES_KIND, "App", "", "Root,mod.Mixin"),
        (name_facts.CLASS_KIND, "app", "", "App")])
    keys = {name_facts.fact_of("f.py", *row[:4]).key for row in rows if row[0] < 3}
    assert keys == {"App.make()", "App.__bases__", "app.__class__"}
    stored = name_facts.stored_bindings(imports)
    assert isinstance(stored, bytes)  # deflated (v25): shorter than its JSON
    assert json_text(stored) == '{"Root":"app.base.Base","h":"crate::util::helper","os":""}'
    assert read_bindings(stored) == imports


def test_a_file_s_rows_and_bindings_do_not_depend_on_the_order_found() -> None:
    found = [(name_facts.CLASS_KIND, f"V{i}", "", "Box") for i in range(5)]
    found += [(name_facts.RENAMED, "h", "", "helper"), (name_facts.BASES_KIND, "A", "", "B")]
    first = name_facts.numbered(3, found)
    assert name_facts.numbered(3, found[::-1]) == first
    assert [row[0] for row in first] == [(3 << 16) | n for n in range(len(found))]
    imports = {"os": "os", "h": "pkg.helper", "Box": "shapes.Box"}
    stored = name_facts.stored_bindings(imports)
    assert stored == name_facts.stored_bindings(dict(reversed(imports.items())))
    assert read_bindings(stored) == imports


async def test_a_save_reads_the_facts_of_the_names_it_resolves_only(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = repo(tmp_path)
    await index(root)
    assert edges(root) >= GO | RUN
    every = fact_rows(root)
    assert len([r for r in every if r[1] < name_facts.TYPE_KINDS]) >= 12 * 4
    conn = sqlite3.connect(root / ".aether" / "aether.db")
    try:  # dropped for the cold pass, made again at its end
        assert conn.execute("SELECT COUNT(*) FROM sqlite_master WHERE name = ?",
                            (name_facts.INDEX,)).fetchone() == (1,)
    finally:
        conn.close()
    asked: list[set[str]] = []
    read: list[name_facts.NameFact] = []
    named = name_facts.named

    async def counting(w: Any, names: Any) -> list[name_facts.NameFact]:
        wanted = set(names)
        asked.append(wanted)
        found = await named(w, wanted)
        read.extend(found)
        return found

    views: list[object] = []
    loaded: set[str] = set()  # the names whose symbols the save's views hold
    load_view = edges_module.load_view

    async def loading(w: Any, names: Any) -> Any:
        views.append(names)
        view = await load_view(w, names)
        loaded.update(view.by_name)
        return view

    monkeypatch.setattr(name_facts, "named", counting)
    monkeypatch.setattr(edges_module, "load_view", loading)
    write(root, "app/use.py", FILES["app/use.py"].lstrip("\n") + "\n\ndef again():\n    go()\n")
    await index(root, ["app/use.py"])
    assert GO | RUN | {("again", "go", "local", "app/use.py:go")} <= edges(root)
    assert asked and views and None not in views  # never the view of everything
    names = set().union(*asked)
    # no class of other/ is followed: `run` has 13 methods (a call of it by name is
    # ambiguous), so none of their classes matters
    assert "run" in loaded and "App" in loaded
    assert not (names | loaded) & {f"Thing{i}" for i in range(12)}
    # the rows read: about the names asked, none of the 12 files of other/ (not even their
    # `Base` bases: their classes were never named)
    assert read and {f.key.rsplit("(", 1)[0].rsplit(".__", 1)[0].rsplit(".", 1)[-1]
                     for f in read} <= names
    assert not [f for f in read if f.path.startswith("other/")]
    assert len(read) <= 6 < len(every)


async def test_a_file_written_again_replaces_its_facts_and_a_deleted_one_takes_them(
        tmp_path: Path) -> None:
    root = repo(tmp_path)
    await index(root)
    assert fact_rows(root, "app/app.py") == expected_rows(root, "app/app.py")
    before = fact_rows(root)
    # no base any more, and `request_context` returns something of no class of ours
    write(root, "app/app.py", FILES["app/app.py"].replace("class App(Root):", "class App:")
          .replace("-> RequestContext:", "-> Other:"))
    await index(root, ["app/app.py"])
    now = fact_rows(root, "app/app.py")
    assert now == expected_rows(root, "app/app.py")
    assert [r for r in now if r[1] < name_facts.TYPE_KINDS] == [
        ("app/app.py", name_facts.RETURNS_KIND, "request_context", "App", "Other")]
    assert [r for r in fact_rows(root) if r[0] != "app/app.py"] == [
        r for r in before if r[0] != "app/app.py"]
    found = edges(root)
    assert not RUN & found  # nothing follows the old facts
    assert ("App.run", "self.close", "unresolved", None) in found
    # a deleted file's facts go with it, and the calls typed by them are typed no more
    globals_rows = fact_rows(root, "app/globals.py")
    assert ("app/globals.py", name_facts.CLASS_KIND, "request_ctx", "", "RequestContext") in (
        globals_rows)
    total = len(fact_rows(root))
    (root / "app/globals.py").unlink()
    await index(root, ["app/globals.py"])
    assert fact_rows(root, "app/globals.py") == []
    assert len(fact_rows(root)) == total - len(globals_rows)
    assert ("go", "request_ctx.pop", "import", "app/ctx.py:RequestContext.pop") not in (
        edges(root))


def before_name_facts(db: Path) -> None:
    """Put a store's name facts back where schema v23 kept them: type facts inside
    `files.bindings` (keys `Q()`, `Q.__bases__`, `v.__class__`), renames nowhere (worked
    out from the bindings), no name_facts table; and mark it v23."""
    conn = sqlite3.connect(db, isolation_level=None)
    try:
        conn.execute("BEGIN")
        facts: dict[int, dict[str, str]] = {}
        for fid, kind, name, scope, value in conn.execute(
                "SELECT id >> 16, kind, name, scope, value FROM name_facts WHERE kind < 3"):
            facts.setdefault(fid, {})[name_facts.fact_of("", kind, name, scope, value).key] = (
                value)
        # every import as written (v23 kept `"os": "os"`), the facts among them
        for fid, text in conn.execute("SELECT id, bindings FROM files").fetchall():
            conn.execute("UPDATE files SET bindings = ? WHERE id = ?",
                         (json.dumps({**read_bindings(text), **facts.get(fid, {})}), fid))
        conn.execute("DROP TRIGGER name_facts_of_file_gone")
        conn.execute("DROP TABLE name_facts")
        conn.execute("PRAGMA user_version = 23")
        conn.execute("COMMIT")
    finally:
        conn.close()


async def test_a_v23_store_moves_its_facts_out_of_bindings_and_reads_the_same(
        tmp_path: Path) -> None:
    from tests.test_store_migrations import every_edge

    assert len(MIGRATIONS) >= 24
    root = repo(tmp_path)
    # an import of a name as itself, and one under another name
    write(root, "app/extra.py", "import os\nfrom app.ctx import RequestContext\n"
                                "from app import base as b\n\n"
                                "def extra():\n    b.Base().close()\n")
    await index(root)
    db = root / ".aether" / "aether.db"
    rows, graph = fact_rows(root), edges(root)
    before = await every_edge(db)
    before_name_facts(db)
    conn = sqlite3.connect(db)
    try:
        bindings = {p: json.loads(t) for p, t in conn.execute("SELECT path, bindings FROM files")}
    finally:
        conn.close()
    assert bindings["app/app.py"]["App.__bases__"] == "Root"  # a v23 layout
    assert bindings["app/app.py"]["App.request_context()"] == "RequestContext"
    assert bindings["app/extra.py"]["os"] == "os"
    assert await every_edge(db) == before  # opens, migrates, reads every edge
    assert fact_rows(root) == rows and edges(root) == graph
    conn = sqlite3.connect(db)
    try:
        for path, text in conn.execute("SELECT path, bindings FROM files"):
            assert read_bindings(text) == {k: v for k, v in bindings[path].items()
                                           if not is_type_fact(k)}
            assert text == name_facts.stored_bindings(read_bindings(text))  # as if written now
    finally:
        conn.close()
    # and the migrated store keeps following: a save still resolves through its facts
    write(root, "app/use.py", FILES["app/use.py"].lstrip("\n") + "\n\ndef more():\n    go()\n")
    await index(root, ["app/use.py"])
    assert edges(root) >= GO | RUN
