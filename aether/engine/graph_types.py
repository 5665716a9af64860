"""Following calls through types, for the call graph's resolver
(aether.engine.graph_resolve): a receiver typed by a call's result takes the type the
called function returns, a module-level variable its stated type, and a method missing from
a class is looked up in its bases (depth first, in the order written). The types are the
files' type facts (aether.symbols.type_facts), as the view loaded them by name
(aether.store.graph_view).

Each step is a resolution of its own; the answer is as sure as the weakest (`unique_name`
if the function was found by name, `import` if a step crossed files). A class whose
ancestry reaches a library class casts doubt on a namesake method: the library's may be
meant.
"""

from __future__ import annotations

import builtins

from aether.store.graph_records import BASES, RETURNS, EdgeSite, GraphView, Resolution, SymbolRef
from aether.symbols.local_types import RESULT

MAX_ANCESTORS = 12  # classes looked through, bases of bases included, for one method
MAX_NESTED = 4  # method lookups inside method lookups (a base named through a variable...)
_STRENGTH = {"local": 0, "import": 1, "unique_name": 2}  # a chain is as sure as its weakest
TYPES = frozenset({"class", "interface", "struct"})
# Bases outside the workspace whose methods cast no doubt on a namesake of ours: Python's
# builtin types (a call of one of their methods' names is never matched by name at all:
# COMMON_METHODS) and the usual abstract roots.
_PLAIN_BASES = frozenset({n for n in dir(builtins) if isinstance(getattr(builtins, n), type)}
                         | {"ABC", "Protocol", "Generic", "Enum", "IntEnum", "NamedTuple",
                            "TypedDict", "Error"})


class TypeFollowing:
    """Classes, their bases and the types calls return: a part of the resolver
    (aether.engine.graph_resolve.GraphResolver), which supplies the lookups below. A base
    class, not an object of its own: one pointing back at its resolver made a cycle, and
    every save's view then waited for the cyclic collector (its memory piled up meanwhile)."""

    view: GraphView
    _nested: int  # method_of calls on the stack
    _external_memo: dict[str, bool]  # class id -> external_ancestry (kept with the view)

    def in_file(self, path: str, name: str, qualified: str) -> SymbolRef | None:
        """The symbol of `path` with this name and qualified name."""
        raise NotImplementedError

    def dotted(self, from_path: str, language: str, target: str, hops: int = 0
               ) -> SymbolRef | str | None:
        """An import target from `from_path` -> its symbol ("" : its module, no symbol)."""
        raise NotImplementedError

    def resolve(self, site: EdgeSite) -> Resolution:
        """A call site's own resolution."""
        raise NotImplementedError

    def through_type(self, site: EdgeSite) -> Resolution | None:
        """A call on a typed receiver, through its class and that class's bases: the type
        as written (`Request`, `models.Request`) or a call's result (`make_session()`, the
        type its definition says it returns). None when the type is not a class of the
        workspace (the caller falls back to what it did before)."""
        if site.qualifier.endswith(RESULT):
            typed = self.result_type(site)
            if typed is None:
                return None
            cls, sure = typed
        else:
            found = self.type_ref(site.file_path, site.language, site.qualifier,
                                  site.caller_qualified_name)
            if found is None:
                return None
            cls, sure = found, provenance(site.file_path, found)
        ref = self.method_of(cls, site.name)
        if ref is None:
            return None
        return Resolution(_weakest(sure, provenance(site.file_path, ref)), ref.id)

    def result_type(self, site: EdgeSite) -> tuple[SymbolRef, str] | None:
        """The class a call's result is (`self.request_context()` -> RequestContext), with
        how sure the call's own resolution is; one call deep (the function's return type is
        a name, never another call's result)."""
        producer = site.qualifier[:-len(RESULT)]
        name = producer.rpartition(".")[2]
        if "()." in producer:  # `with Session() as s`: what Session().__enter__ returns
            inner = made_by_call(site._replace(callee=producer, name=name,
                                               receiver="expression", qualifier=""))
            typed = None if inner is None else self.through_type(inner)
            if typed is None:
                return None  # never by name: a guessed method's type would be a guess
            made = typed
        else:
            shaped = _call_shape(producer)
            if shaped is None:
                return None
            callee, name, receiver, qualifier = shaped
            made = self.resolve(site._replace(
                callee=callee, name=name, receiver=receiver, qualifier=qualifier, kind="call"))
        if made.target_id is None:
            return None
        called = self._ref_by_id(name, made.target_id)
        if called is None:
            return None
        if called.kind in TYPES:  # a class called through a factory-looking name
            return called, made.provenance
        info = self.view.files.get(called.file_path)
        returned = None if info is None else info.fact(called.qualified_name + RETURNS)
        if not returned:
            return None
        cls = self.type_ref(called.file_path, called.language, returned,
                            _parent(called.qualified_name))
        if cls is None:
            return None
        return cls, _weakest(made.provenance, provenance(called.file_path, cls))

    def _ref_by_id(self, name: str, symbol_id: str) -> SymbolRef | None:
        for ref in self.view.by_name.get(name, ()):
            if ref.id == symbol_id:
                return ref
        return None

    def type_ref(self, path: str, language: str, text: str, scope: str = ""
                 ) -> SymbolRef | None:
        """A type name as written in `path` (`Request`, `models.Request`, `A.B`) inside
        `scope` (a qualified name) -> the workspace's class: one defined in an enclosing
        scope, imported, or of the file."""
        name = text.rpartition(".")[2]
        parts = scope.split(".") if scope else []
        for k in range(len(parts), 0, -1):  # innermost first: a class in a test function
            ref = self.in_file(path, name, ".".join([*parts[:k], text]))
            if ref is not None and ref.kind in TYPES:
                return ref
        head, _, rest = text.partition(".")
        info = self.view.files.get(path)
        found: SymbolRef | str | None = None
        if info is not None:
            target = info.bindings.get(head)
            if target is not None:
                found = self.dotted(
                    path, language, binding(language, target) + ("." + rest if rest else ""))
        if found is None or found == "":
            found = self.in_file(path, text.rsplit(".", 1)[-1], text)
        return found if isinstance(found, SymbolRef) and found.kind in TYPES else None

    def method_of(self, cls: SymbolRef, name: str) -> SymbolRef | None:
        """`name` defined in `cls` or, failing that, in its bases (depth first, in the order
        written, at most MAX_ANCESTORS classes; a cycle ends where it repeats)."""
        if self._nested >= MAX_NESTED:  # pathological code: types named through types
            return None
        self._nested += 1
        try:
            return self._method_of_uncounted(cls, name)
        finally:
            self._nested -= 1

    def _method_of_uncounted(self, cls: SymbolRef, name: str) -> SymbolRef | None:
        seen: set[str] = set()
        todo = [cls]
        while todo and len(seen) < MAX_ANCESTORS:
            current = todo.pop()
            if current.id in seen:
                continue
            seen.add(current.id)
            ref = self.in_file(current.file_path, name,
                                       f"{current.qualified_name}.{name}")
            if ref is not None:
                return ref
            info = self.view.files.get(current.file_path)
            bases = None if info is None else info.fact(current.qualified_name + BASES)
            if bases:
                found = [self.type_ref(current.file_path, current.language, b,
                                       _parent(current.qualified_name))
                         for b in bases.split(",")]
                todo.extend(b for b in reversed(found) if b is not None)
        return None

    def inherited(self, cls: SymbolRef, name: str) -> Resolution | None:
        """`name` found in one of `cls`'s bases (not in `cls` itself: the caller looked)."""
        info = self.view.files.get(cls.file_path)
        bases = None if info is None else info.fact(cls.qualified_name + BASES)
        if not bases:
            return None
        for text in bases.split(","):
            base = self.type_ref(cls.file_path, cls.language, text, _parent(cls.qualified_name))
            if base is None:
                continue
            ref = self.method_of(base, name)
            if ref is not None:
                return Resolution(_weakest(provenance(cls.file_path, base),
                                           provenance(cls.file_path, ref)), ref.id)
        return None

    def class_of(self, method: SymbolRef) -> SymbolRef | None:
        """The class a method is defined in (None for a function, or a method of an impl
        block or module)."""
        qualified = method.qualified_name.rpartition(".")[0]
        cls = self.in_file(method.file_path, qualified.rpartition(".")[2], qualified)
        return cls if cls is not None and cls.kind in TYPES else None

    def external_ancestry(self, cls: SymbolRef) -> bool:
        """A base of `cls` or of one of its bases is a class outside the workspace (other
        than the few every class may have: object, ABC, Generic, Exception...)."""
        found = self._external_memo.get(cls.id)
        if found is not None:
            return found
        found = False
        seen: set[str] = set()
        todo = [cls]
        while todo and len(seen) < MAX_ANCESTORS and not found:
            current = todo.pop()
            if current.id in seen:
                continue
            seen.add(current.id)
            info = self.view.files.get(current.file_path)
            bases = None if info is None else info.fact(current.qualified_name + BASES)
            for text in bases.split(",") if bases else ():
                base = self.type_ref(current.file_path, current.language, text,
                                     _parent(current.qualified_name))
                if base is not None:
                    todo.append(base)
                elif text.rpartition(".")[2] not in _PLAIN_BASES:
                    found = True
        self._external_memo[cls.id] = found
        return found


def provenance(path: str, ref: SymbolRef) -> str:
    """How a symbol reached from `path` through names the code wrote was found."""
    return "local" if ref.file_path == path else "import"


def _parent(qualified: str) -> str:
    return qualified.rpartition(".")[0]


def _weakest(a: str, b: str) -> str:
    return a if _STRENGTH.get(a, 3) >= _STRENGTH.get(b, 3) else b


def _call_shape(text: str) -> tuple[str, str, str, str] | None:
    """A called path as written (`make`, `self.make`, `mod.Cls.make`) -> (callee, name,
    receiver, qualifier), as aether.symbols.calls shapes call sites."""
    parts = text.split(".")
    if not all(p.isidentifier() or p.replace("$", "a").isidentifier() for p in parts):
        return None
    if len(parts) == 1:
        return text, text, "bare", ""
    if len(parts) == 2 and parts[0] in ("self", "this", "cls"):
        return text, parts[1], "self", parts[0]
    return text, parts[-1], "qualified", ".".join(parts[:-1])


def made_by_call(site: EdgeSite) -> EdgeSite | None:
    """An expression call on a plain call's result (`requests.Session().send`, arguments
    already dropped) as a call on a variable holding that result (qualifier
    `requests.Session()`); None for any other expression."""
    head, sep, name = site.callee.rpartition("().")
    if not sep or name != site.name or not head or "(" in head or "[" in head:
        return None
    return site._replace(receiver="qualified", qualifier=head + RESULT)


def binding(language: str, target: str) -> str:
    """An import binding's target as a dotted path (Rust's `::` as dots)."""
    return target.replace("::", ".") if language == "rust" else target
