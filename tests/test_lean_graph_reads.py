"""What a save's call-graph resolution reads, kept small: the workspace's modules as sorted
lists (answers equal to a dict of every suffix), bindings parsed only when read, and file
states read for the saved paths only (type facts and renames: tests/test_name_facts.py)."""

from __future__ import annotations

import gc
import sys
import sysconfig
import weakref
from pathlib import Path

from aether.config import load_settings
from aether.engine.engine import Engine
from aether.engine.graph_resolve import GraphResolver, _Modules, _prefix_folder, module_name
from aether.store.db import Store
from aether.store.graph_records import EdgeSite, FileBindings, GraphView, SymbolRef
from tests.helpers import ScriptedProvider, write


class _Reference:
    """The modules' answers as a dict of every name and every suffix of every name gave them
    (the layout before the sorted lists)."""

    def __init__(self, paths: list[str]) -> None:
        self.exact: dict[str, list[str]] = {}
        self.suffix: dict[str, list[str]] = {}
        for path in paths:
            name = module_name(path)
            if name is None:
                continue
            self.exact.setdefault(name, []).append(path)
            parts = name.split(".")
            for i in range(1, len(parts)):
                self.suffix.setdefault(".".join(parts[i:]), []).append(path)
        self.packages = {p.rpartition("/")[0] or "." for p in paths
                         if p.rpartition("/")[2] == "__init__.py"}

    def files(self, dotted: str) -> list[str]:
        if self.exact.get(dotted):
            return self.exact[dotted]
        found = [p for p in self.suffix.get(dotted, [])
                 if _prefix_folder(p, dotted) not in self.packages]
        return found if len({module_name(p) for p in found}) == 1 else []


def test_modules_answer_like_every_suffix_in_a_dict() -> None:
    paths = ["src/flask/__init__.py", "src/flask/json/__init__.py", "src/flask/json/tag.py",
             "a/util.py", "b/util.py", "lib/x.ts", "lib/x/index.ts", "__init__.py",
             "README.md", "tools/my-script.py"]
    modules = _Modules.build(paths)
    assert all(modules.files(d) == _Reference(paths).files(d)
               for d in ("flask", "json", "util", "lib.x", "x", "index", "nope"))
    assert modules.files("flask") == ["src/flask/__init__.py"]
    assert modules.files("json") == []  # below the package flask: the standard library's
    assert modules.files("flask.json.tag") == ["src/flask/json/tag.py"]
    assert modules.files("src.flask.json") == ["src/flask/json/__init__.py"]
    assert modules.files("util") == []  # two modules could be meant
    assert modules.files("lib.x") == ["lib/x.ts", "lib/x/index.ts"]  # one module, two files
    assert modules.files("tools.my_script") == ["tools/my-script.py"]
    assert modules.heads == {"flask", "a", "b", "x", "", "tools"}
    # the standard library's files: every module name and every suffix of one
    root = Path(sysconfig.get_paths()["stdlib"])
    stdlib = sorted(p.relative_to(root).as_posix() for p in root.rglob("*.py")
                    if "site-packages" not in p.parts)[:3000]
    modules, reference = _Modules.build(stdlib), _Reference(stdlib)
    names = {n for p in stdlib if (n := module_name(p)) is not None}
    asked = names | {n.split(".", i)[-1] for n in names for i in range(1, n.count(".") + 1)}
    assert len(asked) > 1000
    for dotted in [*sorted(asked), "nosuchmodule", "x.nosuch"]:
        assert modules.files(dotted) == reference.files(dotted), dotted


def test_bindings_are_parsed_when_read() -> None:
    info = FileBindings("python", '{"h": "pkg.models.helper", "os": "os"}', None)
    assert info.star_imports == [] and info.bindings == {"h": "pkg.models.helper", "os": "os"}
    assert info.fact("h()") is None and not info.facts  # none loaded: the shared empty map
    info.add_fact("make()", "Ctx")
    assert info.fact("make()") == "Ctx"
    assert not FileBindings("python", None, None).facts  # each file its own map, once added


def test_a_resolver_and_its_view_go_without_the_cyclic_collector() -> None:
    """A save's view (every file's row, thousands of symbols) is freed as soon as its
    resolution ends, not whenever the cyclic collector runs: nothing in a resolver points
    back at it (views piled up between collections: 12 MB more per save at 100k symbols)."""
    info = FileBindings("python", '{"Base": "pkg.base.Base"}', None)
    info.add_fact("App.__bases__", "Base")
    view = GraphView({"pkg/app.py": info, "pkg/base.py": FileBindings("python", None, None)})
    for ref in (SymbolRef("a", "pkg/app.py", "python", "class", "App", "App", 1),
                SymbolRef("r", "pkg/app.py", "python", "method", "run", "App.run", 2),
                SymbolRef("b", "pkg/base.py", "python", "class", "Base", "Base", 3),
                SymbolRef("c", "pkg/base.py", "python", "method", "close", "Base.close", 4)):
        view.by_name.setdefault(ref.name, []).append(ref)
    site = EdgeSite(1, "r", "App.run", "pkg/app.py", "python", "self.close", "close", "self",
                    "self")
    gc.disable()
    try:
        resolver = GraphResolver(view)
        assert resolver.resolve(site) == ("import", "c", None)  # through App's base
        gone, derived = weakref.ref(resolver), view.derived  # the resolver's memos
        before = sys.getrefcount(view)
        del resolver
        assert gone() is None and sys.getrefcount(view) == before - 1 and derived["by_file"]
        # answers per site stay with their batch's resolver, not with the view
        assert "memo" not in derived
    finally:
        gc.enable()


async def test_a_save_reads_the_states_of_its_own_files(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    for name in ("a", "b", "c"):
        write(root, f"pkg/{name}.py", f"def {name}():\n    return 1\n")
    settings = load_settings(root)
    store = await Store.open(settings.db_path)
    try:
        assert not await store.has_files() and await store.file_states(["pkg/a.py"]) == {}
    finally:
        await store.close()
    engine = await Engine.open(settings, ScriptedProvider())
    try:
        await engine.index()
        assert await engine.store.has_files()
        assert set(await engine.store.file_states()) == {"pkg/a.py", "pkg/b.py", "pkg/c.py"}
        assert set(await engine.store.file_states(["pkg/b.py", "pkg/nope.py"])) == {"pkg/b.py"}
        # a new file saved into an indexed store is not a first index (no bulk pass)
        write(root, "pkg/d.py", "from pkg.a import a as first\n\ndef d():\n    return first()\n")
        report = (await engine.index(paths=["pkg/d.py"])).index
        assert (report.files_parsed, report.workers) == (1, 0)
        found = await engine.store.symbols_by_name("d")
        assert len(found) == 1
        out = await engine.store.edges_from(found[0].id)
        assert [(e.name, e.provenance, e.target_qualified_name) for e in out] == [
            ("first", "import", "a")]
    finally:
        await engine.close()
