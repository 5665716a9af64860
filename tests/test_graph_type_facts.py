"""Calls resolved through types the code states elsewhere (aether.symbols.type_facts, the
engine's aether.engine.graph_resolve): what a function returns (`s = make_session()`
calls `Session.deliver`), what a class inherits (`self.close()` defined in a base class,
`super().close()`), and what stays untyped (a function that may return two things, a
name bound twice). A chain is only as sure as its weakest link: a function found by name
alone gives `unique_name` to the calls on its result."""

from __future__ import annotations

import json
from pathlib import Path

from aether.symbols.extract import analyze_source
from tests.helpers import write
from tests.test_cli import aether
from tests.test_graph_edges import edges, index, make_repo
from tests.test_graph_local_types import qualifiers


def facts(path: str, language: str, source: str) -> dict[str, str]:
    """A file's type facts: the bindings keys that are not imported names."""
    found = analyze_source(path, language, source.encode()).bindings
    return {k: v for k, v in found.items() if k.endswith(("()", ".__bases__", ".__class__"))}


def test_python_returns_and_bases() -> None:
    found = facts("m.py", "python", '''
import typing as t

class Base:
    pass

class A(Base, mod.Mixin, t.Generic[T], metaclass=Meta):
    def annotated(self) -> "Ctx":
        return make()

    def plain(self) -> mod.Ctx:
        pass

    def optional(self) -> t.Optional[Ctx]:
        return None

    def union(self) -> Ctx | Other:
        return None

    @classmethod
    def create(cls, x):
        if x:
            return cls(x)
        return cls()

    def made(self):
        if self:
            return Session(1)
        return Session(2)

    def mixed(self):
        if self:
            return Session()
        return None

    def two(self):
        if self:
            return Session()
        return Other()

    def result(self):
        return make_session()

    def generator(self):
        yield 1
        return Session()

    def fluent(self) -> t.Self:
        return other

    def __enter__(self):
        if self:
            return self
        return self

    def sometimes(self):
        if self:
            return self
        return None

    def bound(self: T) -> T:
        return self

def factory():
    return Session()
''')
    assert found == {
        "A.__bases__": "Base,mod.Mixin", "A.annotated()": "Ctx", "A.plain()": "mod.Ctx",
        "A.create()": "A", "A.made()": "Session", "factory()": "Session", "A.fluent()": "A",
        "A.__enter__()": "A", "A.optional()": "Ctx", "A.bound()": "A"}


def test_module_level_variables_bound_once_have_a_type() -> None:
    found = facts("g.py", "python", '''
request_ctx: RequestContext = LocalProxy(1)
app = Flask(__name__)
count = 3
made = make()
two = A()
two = B()
shadowed = C()

def f():
    shadowed = 1
''')
    assert found == {"request_ctx.__class__": "RequestContext", "app.__class__": "Flask"}
    assert facts("g.ts", "typescript", "export const store = new Store(); let n = 1;") == {
        "store.__class__": "Store"}


def test_typescript_and_javascript_returns_and_bases() -> None:
    found = facts("m.ts", "typescript", '''
class A extends ns.Base implements I {
  make(): Box { return other(); }
  build() { return new Box(); }
  maybe(x: number) { if (x) { return new Box(); } return null; }
  list(): Array<Box> { return []; }
}
function makeBox() { return new Box(); }
''')
    assert found == {"A.__bases__": "ns.Base", "A.make()": "Box", "A.build()": "Box",
                     "makeBox()": "Box"}
    assert facts("m.js", "javascript", "class A extends B { m() { return new C(); } }") == {
        "A.__bases__": "B", "A.m()": "C"}


def test_a_variable_bound_to_a_call_is_qualified_by_that_call() -> None:
    found = qualifiers("m.py", "python", '''
def run(app):
    s = make_session()
    s.deliver()
    c = self.request_context(1)
    c.push()
    x = app.test_client()
    x.open()
    y = ctx.ensure_object(Info).load()
    y.go()
    w = make()
    w = other()
    w.stop()
    with make() as v:
        v.close()
''')
    assert found == {"s.deliver": "make_session()", "c.push": "self.request_context()",
                     "app.test_client": "app", "x.open": "app.test_client()", "y.go": "y",
                     "w.stop": "w", "v.close": "make().__enter__()",
                     "ctx.ensure_object": "ctx"}
    assert qualifiers("m.ts", "typescript", '''
class K {
  constructor() { this.c = mk.make(); }
  run() { const b = makeBox(); b.fill(); this.c.go(); }
}
''') == {"b.fill": "makeBox()", "mk.make": "mk", "this.c.go": "mk.make()"}


def test_an_attribute_set_from_a_typed_parameter_has_its_type() -> None:
    found = qualifiers("m.py", "python", '''
class C:
    def __init__(self, ctx: t.Optional["Context"], cmd, sess: Session = None):
        self.ctx = ctx
        self.cmd = cmd
        self.sess = sess
        self.other = ctx
        self.other = 1

    def go(self):
        self.ctx.get_usage()
        self.cmd.run()
        self.sess.send()
        self.other.x()
''')
    assert found == {"self.ctx.get_usage": "Context", "self.cmd.run": "self.cmd",
                     "self.sess.send": "Session", "self.other.x": "self.other"}
    assert qualifiers("m.ts", "typescript", '''
class K {
  constructor(box: Box, y, private readonly c: Crate) { this.box = box; this.y = y; }
  go() { this.box.fill(); this.y.z(); this.c.open(); }
}
''') == {"this.box.fill": "Box", "this.y.z": "this.y", "this.c.open": "Crate"}


def test_a_methods_first_parameter_is_its_self_whatever_its_name() -> None:
    analysis = analyze_source("m.py", "python", b'''
class A:
    def invoke(__self, *args):
        return __self.go()

    @staticmethod
    def static(x):
        return x.go()

    def method(self, x):
        return x.go()


def function(a):
    return a.go()
''')
    assert [(c.callee, c.receiver) for c in analysis.calls] == [
        ("__self.go", "self"), ("x.go", "qualified"), ("x.go", "qualified"),
        ("a.go", "qualified")]


def test_a_local_name_shadows_a_module_level_one() -> None:
    analysis = analyze_source("t.py", "python", b'''
import os

app = Flask(__name__)


def test_fixture(app):
    app.run()
    os.path.join("a")


def test_import():
    from blueprints import cli
    cli.run()
    app.route()


def test_nested():
    def cli():
        pass
    cli.command()
''')
    found = {c.callee: (c.receiver, c.qualifier) for c in analysis.calls
             if c.kind == "call" and "." in c.callee}
    assert found == {"app.run": ("expression", ""), "os.path.join": ("qualified", "os.path"),
                     "cli.run": ("qualified", "cli"), "app.route": ("qualified", "app"),
                     "cli.command": ("expression", "")}


MODELS = '''
class Base:
    def close(self):
        return 0


class Session(Base):
    def deliver(self):
        return 1

    def __enter__(self):
        return self

    def go(self):
        return self.close()

    def again(self):
        return super().close()

    @classmethod
    def create(cls):
        return cls()


class Other:
    def deliver(self):
        return 2

    def close(self):
        return 3


def make_session() -> Session:
    return build()


def session():
    return Session()


def either(x):
    if x:
        return Session()
    return Other()
'''

USE = '''
from pkg.models import Other, Session, either, make_session, session


def run():
    s = make_session()
    s.deliver()
    s.close()
    t = session()
    t.deliver()
    u = Session.create()
    u.deliver()
    v = either(1)
    v.deliver()
    Session().deliver()
    make_session().close()
    either(1).deliver()
    with Session() as w:
        w.deliver()
    with open("f") as f:
        f.deliver()


def untyped(app):
    c = app.new_context()
    c.push()


def test_one():
    class Custom(Session):
        def deliver(self):
            return 5

    Custom().deliver()
    c = Custom()
    c.close()


def test_two():
    class Custom(Other):
        pass

    c = Custom()
    c.close()


class App:
    def request_context(self) -> "Context":
        return Context()

    def wsgi(self):
        ctx = self.request_context()
        ctx.push()


class Context:
    def push(self):
        return 4

    def new_context(self):
        return Context()
'''


GLOBALS = '''
from pkg.models import Session

current: Session = proxy()
'''

GLOBAL_USE = '''
from pkg.globals import current
from pkg.models import Other

fallback = Other()


def serve():
    current.deliver()
    fallback.deliver()
'''


async def test_calls_resolve_through_returns_and_bases(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    make_repo(root, {"pkg/__init__.py": "", "pkg/models.py": MODELS, "pkg/use.py": USE,
                     "pkg/globals.py": GLOBALS, "pkg/serve.py": GLOBAL_USE})
    await index(root)
    found = {(caller, callee): (prov, target) for caller, callee, prov, target in edges(root)}
    assert found[("run", "s.deliver")] == ("import", "pkg/models.py:Session.deliver")
    # inherited: Session has no close, its base has
    assert found[("run", "s.close")] == ("import", "pkg/models.py:Base.close")
    assert found[("run", "t.deliver")] == ("import", "pkg/models.py:Session.deliver")
    assert found[("run", "u.deliver")] == ("import", "pkg/models.py:Session.deliver")
    # may be a Session or an Other: by name (three `deliver`s)
    assert found[("run", "v.deliver")] == ("ambiguous", "3 candidates")
    # a call on a call's result, not bound to a variable
    assert found[("run", "Session().deliver")] == ("import", "pkg/models.py:Session.deliver")
    assert found[("run", "make_session().close")] == ("import", "pkg/models.py:Base.close")
    assert found[("run", "either().deliver")] == ("ambiguous", "3 candidates")
    # `with`: what __enter__ returns (Session's returns self; a builtin's is not known)
    assert found[("run", "w.deliver")] == ("import", "pkg/models.py:Session.deliver")
    assert found[("run", "f.deliver")] == ("ambiguous", "3 candidates")
    assert found[("Session.go", "self.close")] == ("local", "pkg/models.py:Base.close")
    assert found[("Session.again", "super().close")] == ("local", "pkg/models.py:Base.close")
    assert found[("App.wsgi", "ctx.push")] == ("local", "pkg/use.py:Context.push")
    # a class of the caller's own scope (a test's), each its own
    assert found[("test_one", "Custom().deliver")] == (
        "local", "pkg/use.py:test_one.Custom.deliver")
    assert found[("test_one", "c.close")] == ("import", "pkg/models.py:Base.close")
    assert found[("test_two", "c.close")] == ("import", "pkg/models.py:Other.close")
    # the function is found by its name alone: so is the call on what it returns
    assert found[("untyped", "c.push")] == ("unique_name", "pkg/use.py:Context.push")
    # module-level variables of a known type, imported or the file's own
    assert found[("serve", "current.deliver")] == ("import", "pkg/models.py:Session.deliver")
    assert found[("serve", "fallback.deliver")] == ("import", "pkg/models.py:Other.deliver")

    # a changed return type moves the calls on the result, in another file, in one pass
    write(root, "pkg/models.py", MODELS.replace("def make_session() -> Session:",
                                                "def make_session() -> Other:"))
    await index(root, ["pkg/models.py"])
    found = {(caller, callee): (prov, target) for caller, callee, prov, target in edges(root)}
    assert found[("run", "s.deliver")] == ("import", "pkg/models.py:Other.deliver")
    assert found[("run", "s.close")] == ("import", "pkg/models.py:Other.close")
    assert found[("run", "t.deliver")] == ("import", "pkg/models.py:Session.deliver")

    # a variable's type changes: the calls on it, in another file, follow in one pass
    write(root, "pkg/globals.py", GLOBALS.replace("import Session", "import Other").replace(
        "current: Session", "current: Other"))
    await index(root, ["pkg/globals.py"])
    found = {(caller, callee): (prov, target) for caller, callee, prov, target in edges(root)}
    assert found[("serve", "current.deliver")] == ("import", "pkg/models.py:Other.deliver")

    # the function goes: the calls on its result go back to the name
    write(root, "pkg/models.py", MODELS.replace("def make_session() -> Session:",
                                                "def made_session() -> Session:"))
    await index(root, ["pkg/models.py"])
    found = {(caller, callee): (prov, target) for caller, callee, prov, target in edges(root)}
    assert found[("run", "s.deliver")] == ("ambiguous", "3 candidates")


def test_callers_through_a_return_type_in_the_cli(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    make_repo(root, {"pkg/__init__.py": "", "pkg/models.py": MODELS, "pkg/use.py": USE})
    ws = ("--workspace", str(root))
    assert aether("index", *ws).returncode == 0
    res = aether("callers", "Session.deliver", "--json", *ws)
    assert res.returncode == 0, res.stderr
    data = json.loads(res.stdout)
    got = {(e["caller"]["qualified_name"], e["provenance"]) for e in data["callers"]}
    assert got == {("run", "import")}
    assert sum(1 for e in data["callers"] if e["caller"]["qualified_name"] == "run") == 5


async def test_a_namesake_that_overrides_a_library_method_is_no_unique_match(
        tmp_path: Path) -> None:
    root = tmp_path / "ws"
    make_repo(root, {
        "pkg/__init__.py": "",
        "pkg/loaders.py": '''
import jinja2


class Loader(jinja2.BaseLoader):
    def get_source(self, env, name):
        return name

    def render(self):
        return self.list_templates()


class Config(dict):
    def from_file(self, path):
        return path
''',
        "pkg/use.py": '''
def each(loaders, config):
    for loader in loaders:
        loader.get_source(1, 2)
    config.from_file("x")


class Listing:
    def list_templates(self):
        return []
''',
    })
    await index(root)
    found = {(caller, callee): (prov, target) for caller, callee, prov, target in edges(root)}
    # jinja2's own BaseLoader.get_source is as likely: listed, not chosen
    assert found[("each", "loader.get_source")] == ("ambiguous", "2 candidates")
    # a dict subclass's new method: dict's methods are never matched by name anyway
    assert found[("each", "config.from_file")] == ("unique_name", "pkg/loaders.py:Config.from_file")
    # not in the class nor its workspace bases: the library base's, not a namesake's
    assert found[("Loader.render", "self.list_templates")] == ("unresolved", None)
