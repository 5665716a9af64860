"""Plain records of the call graph that the store reads and writes, and the shape of the
resolver it calls inside a write transaction (the resolver itself lives in the engine)."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from aether.store.packing import json_text

# The edges table stores each of these as its index in the tuple (schema v10): append only.
PROVENANCES = ("local", "import", "unique_name", "ambiguous", "external", "unresolved")
RECEIVERS = ("bare", "self", "qualified", "expression")  # aether.symbols.calls
EDGE_KINDS = ("call", "reference")
RESOLVED = frozenset({"local", "import", "unique_name"})


class SymbolRef(NamedTuple):
    """What resolution needs to know about a symbol."""

    id: str
    file_path: str
    language: str
    kind: str
    name: str
    qualified_name: str
    seq: int = 0  # the symbol's row (what edges store; the resolver answers with `id`)


class EdgeSite(NamedTuple):
    """A stored call site to (re-)resolve, with its caller."""

    edge_id: int
    caller_id: str
    caller_qualified_name: str
    file_path: str
    language: str
    callee: str
    name: str
    receiver: str
    qualifier: str
    kind: str = "call"  # call | reference


class Resolution(NamedTuple):
    provenance: str  # one of PROVENANCES
    target_id: str | None = None  # local | import | unique_name
    detail: str | None = None  # ambiguous: JSON list of candidate ids; external: the target


# A file's type facts (aether.symbols.type_facts) are named by keys no import can bind: `Q()`
# -> the type function Q returns, `Q.__bases__` -> class Q's bases, comma-separated,
# `v.__class__` -> module-level variable v's type. The symbol layer hands them over inside
# the file's bindings; the store keeps them apart, found by name (aether.store.name_facts).
RETURNS = "()"
BASES = ".__bases__"
CLASS_OF = ".__class__"  # `v.__class__` -> the type of module-level variable v
_FACTS = (RETURNS, BASES, CLASS_OF)


def is_type_fact(key: str) -> bool:
    """A bindings key that carries a type fact, not an imported name."""
    return key.endswith(_FACTS)


def read_bindings(stored: str | bytes) -> dict[str, str]:
    """`files.bindings` as stored (aether.store.name_facts.stored_bindings) -> imported
    name -> target: "" is a name imported as itself (`import os`)."""
    return {k: v or k for k, v in json.loads(json_text(stored)).items()}


_NO_FACTS: dict[str, str] = {}  # shared by the files with none loaded: never written


class FileBindings:
    """A file's language and import bindings, kept as their stored JSON until first read: a
    save's resolution loads every file's row but looks into a handful, and parsing them all
    (66,000 small objects at 100,000 symbols) was both its largest cost and, freed
    afterwards, what kept the interpreter's small-object arenas from being given back.
    Parsed once per view; read only. Its type facts are those the view loaded (by name:
    aether.store.name_facts), under their keys (above)."""

    __slots__ = ("_bindings", "_stars", "facts", "language", "stored_bindings", "stored_stars")

    def __init__(self, language: str, bindings: str | bytes | None,
                 star_imports: str | None) -> None:
        self.language = language
        # JSON (aether.store.packing.pack_json): imported name -> target; None: no bindings
        self.stored_bindings = bindings
        self.stored_stars = star_imports  # JSON list of modules imported with `*` (or None)
        self._bindings: dict[str, str] | None = None
        self._stars: list[str] | None = None
        self.facts = _NO_FACTS

    def fact(self, key: str) -> str | None:
        """A type fact of the file (`App.make()`, `App.__bases__`, `app.__class__`), if the
        view loaded it."""
        return self.facts.get(key)

    def add_fact(self, key: str, value: str) -> None:
        if self.facts is _NO_FACTS:
            self.facts = {}
        self.facts[key] = value

    @property
    def bindings(self) -> dict[str, str]:
        if self._bindings is None:
            stored = self.stored_bindings
            self._bindings = read_bindings(stored) if stored else {}
        return self._bindings

    @property
    def star_imports(self) -> list[str]:
        if self._stars is None:
            stored = self.stored_stars
            self._stars = json.loads(stored) if stored else []
        return self._stars


@dataclass(slots=True)
class GraphView:
    """The part of the store a batch of resolutions reads, loaded inside the transaction:
    every indexed file's imports, every symbol bearing one of the called names, and the type
    facts about those names."""

    files: dict[str, FileBindings]
    by_name: dict[str, list[SymbolRef]] = field(default_factory=dict)
    # What a resolver works out from this view, kept with it: the end of a cold pass
    # resolves slice after slice against one view (the resolver's own; opaque here).
    derived: dict[str, Any] = field(default_factory=dict)


Resolver = Callable[[GraphView, list[EdgeSite]], list[Resolution]]


@dataclass(slots=True)
class Edge:
    """A stored edge joined with what a surface shows about its caller and target."""

    caller_id: str
    caller_qualified_name: str
    caller_kind: str
    file_path: str
    line: int
    column: int
    callee: str
    name: str
    receiver: str
    provenance: str
    target_id: str | None
    detail: str | None
    target_qualified_name: str | None
    target_file_path: str | None
    target_line: int | None
    kind: str = "call"  # call | reference
