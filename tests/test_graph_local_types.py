"""Calls on local variables of a known type resolve through that type (aether.symbols
.local_types): an instance made in the function or an annotation; a variable bound twice is
never guessed; a type without the method falls back to the name-based answer."""

from __future__ import annotations

from pathlib import Path

import pytest

from aether.config import load_settings
from aether.engine.engine import Engine
from aether.engine.indexer import CALLS_META
from aether.symbols.calls import VERSION as CALLS_VERSION
from aether.symbols.extract import analyze_source
from aether.symbols.local_types import binds_in
from tests.helpers import ScriptedProvider, write
from tests.test_graph_edges import edges, index, make_repo


def qualifiers(path: str, language: str, source: str) -> dict[str, str]:
    """Callee as written -> the qualifier resolution will use, for qualified calls."""
    analysis = analyze_source(path, language, source.encode())
    return {c.callee: c.qualifier for c in analysis.calls
            if c.receiver == "qualified" and c.kind == "call"}


def test_python_variables_bound_once_get_their_type() -> None:
    found = qualifiers("m.py", "python", '''
def run(w, s: Session, t: "Quoted", u: Optional[Y] = None, v: mod.Sess = None):
    s.send()
    t.a()
    u.b()
    v.c()
    x = Foo(1)
    x.d()
    y: Foo = make()
    y.e()
    z = make()
    z.f()
    r = models.Request()
    r.g()
    if w:
        n = Foo()
    else:
        n = Bar()
    n.h()
    for q in w:
        pass
    q = Foo()
    q.i()
    k = Foo()
    k = k.child()
    k.j()

    def inner():
        s.k()
''')
    assert found == {
        "s.send": "Session", "t.a": "Quoted", "u.b": "Y", "v.c": "mod.Sess", "x.d": "Foo",
        "y.e": "Foo", "z.f": "make()", "models.Request": "models", "r.g": "models.Request",
        "n.h": "n", "q.i": "q", "k.child": "k", "k.j": "k", "s.k": "s"}


def test_typescript_variables_bound_once_get_their_type() -> None:
    found = qualifiers("m.ts", "typescript", '''
export function main(p: Box, o?: ns.Thing, g: Array<Box>): void {
  const b = new Box();
  b.fill();
  p.seal();
  o.x();
  g.y();
  let c: Box = make();
  c.fill2();
  let d = new Box(); d = other(); d.fill3();
  let e = make(); e.fill4();
}
''')
    assert found == {"b.fill": "Box", "p.seal": "Box", "o.x": "ns.Thing", "g.y": "g",
                     "c.fill2": "Box", "d.fill3": "d", "e.fill4": "make()"}
    js = qualifiers("m.js", "javascript", "function f() {\n  const b = new Box();\n"
                                          "  b.fill();\n}\n")
    assert js == {"b.fill": "Box"}


def test_attributes_of_self_get_their_type_from_the_class() -> None:
    found = qualifiers("m.py", "python", '''
class App:
    session_interface: SessionInterface = SecureCookieSessionInterface()
    other: Foo

    def __init__(self):
        self.json: JSONProvider = self.json_provider_class(self)
        self.cfg = Config()
        self.other = make()
        self.x = X()
        self.x = Y()

    def run(self, cfg):
        self.json.response()
        self.session_interface.save_session()
        self.cfg.get()
        self.other.z()
        self.x.q()
        cfg.get()

        def inner():
            self.cfg.h()
''')
    assert found == {
        "self.json.response": "JSONProvider",
        "self.session_interface.save_session": "SessionInterface",  # the declared type
        "self.cfg.get": "Config", "self.cfg.h": "Config",
        "self.other.z": "self.other",  # annotated, then bound to a function's result
        "self.x.q": "self.x",  # two types
        "cfg.get": "cfg",  # a parameter that only shares the attribute's name
    }
    ts = qualifiers("m.ts", "typescript", '''
class A {
  private box: Box;
  other: Thing = new Thing();
  constructor() { this.c = new Crate(); }
  run() { this.box.fill(); this.other.go(); this.c.open(); }
}
''')
    assert ts == {"this.box.fill": "Box", "this.other.go": "Thing", "this.c.open": "Crate"}


@pytest.mark.parametrize(("text", "name", "count"), [
    (b"r = A()\nfor x in r.items():\n    r.go()\n", "r", 1),
    (b"for k, r in xs:\n", "r", 1),
    (b"with f() as r:\n", "r", 1),
    (b"for (const r of xs) {}", "r", 1),
    (b"r == 3; r <= 2; r: int\n", "r", 0),
    (b"f(r=1)", "r", 1),  # an over-count: it only ever leaves a name untyped
    (b"self.r = A()\nthis.r = B()\nx.r = 3\nr = 1\n", "self.r", 2),
    (b"rr = 1; r_ = 2; xs.map(r => 3)", "r", 0),
    (b"(r := f())", "r", 1),
    (b"def f(r: A = None, q: B = 1):", "r", 1),
    (b"def f(r: A, q: B = 1):", "r", 0),
])
def test_bindings_are_counted_from_the_text(text: bytes, name: str, count: int) -> None:
    assert binds_in(text, name) == count


async def test_typed_receivers_resolve_through_their_class(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    make_repo(root, {
        "pkg/__init__.py": "",
        "pkg/jobs.py": '''
            class Base:
                def finish(self):
                    return 0


            class Job(Base):
                def process(self):
                    return 1


            class Worker:
                def process(self):
                    return 2

                def finish(self):
                    return 3
            ''',
        "pkg/use.py": '''
            import requests

            from pkg.jobs import Job, Worker


            def typed(w: Worker):
                j = Job()
                j.process()
                w.process()
                j.finish()
                s = requests.Session()
                s.get("x")


            def untyped(x):
                x.process()


            class Holder:
                def __init__(self):
                    self.job = Job()

                def work(self):
                    return self.job.process()
            ''',
    })
    await index(root)
    found = {(caller, callee): (prov, target) for caller, callee, prov, target in edges(root)}
    assert found[("typed", "j.process")] == ("import", "pkg/jobs.py:Job.process")
    assert found[("typed", "w.process")] == ("import", "pkg/jobs.py:Worker.process")
    # Job.finish is inherited: found through Job's bases (two `finish`es by name)
    assert found[("typed", "j.finish")] == ("import", "pkg/jobs.py:Base.finish")
    assert found[("typed", "s.get")] == ("external", "requests.Session.get")
    assert found[("untyped", "x.process")] == ("ambiguous", "2 candidates")
    assert found[("Holder.work", "self.job.process")] == ("import", "pkg/jobs.py:Job.process")

    # the variable's class is renamed away: its calls fall back to the name
    write(root, "pkg/jobs.py", (root / "pkg/jobs.py").read_text().replace(
        "def process(self):\n        return 1", "def handle(self):\n        return 1"))
    await index(root, ["pkg/jobs.py"])
    found = {(caller, callee): (prov, target) for caller, callee, prov, target in edges(root)}
    assert found[("typed", "j.process")] == ("unique_name", "pkg/jobs.py:Worker.process")


async def test_edges_of_an_older_extractor_are_made_again_once(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    make_repo(root, {"pkg/__init__.py": "", "pkg/a.py": "class A:\n    def go(self):\n"
                     "        return 1\n\n\ndef f():\n    a = A()\n    return a.go()\n"})
    engine = await Engine.open(load_settings(root), ScriptedProvider())  # type: ignore[arg-type]
    try:
        assert (await engine.index()).index.files_parsed == 2
        assert (await engine.index()).index.files_parsed == 0
        await engine.store.set_meta(CALLS_META, str(CALLS_VERSION - 1))
        assert (await engine.index()).index.files_parsed == 2  # every file, edges and all
        assert await engine.store.get_meta(CALLS_META) == str(CALLS_VERSION)
        assert (await engine.index()).index.files_parsed == 0
    finally:
        await engine.close()
    assert ("f", "a.go", "local", "pkg/a.py:A.go") in edges(root)
