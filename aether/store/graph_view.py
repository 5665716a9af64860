"""What a batch of call-graph resolutions reads (`GraphView`), loaded inside the write
transaction: every indexed file's imports (the workspace's modules), the symbols bearing the
names the batch resolves, and the type facts about those names, followed a few rounds
through the types they name (a class, its bases, theirs...).

A save reads facts by name through `name_facts` (aether.store.name_facts), never every
file's bindings; a cold pass (`names` None) reads everything.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any

import aiosqlite

from aether.store import name_facts
from aether.store.graph_records import BASES, CLASS_OF, RETURNS, FileBindings, GraphView, SymbolRef
from aether.store.queries import label, qname, sid

CHUNK = 500  # host parameters per IN (...) list
REF_BATCH = 4096  # symbol rows read at a time into a graph view
FILE_BATCH = 512  # files' rows read at a time (each save reads every file's imports)
TYPE_ROUNDS = 4  # a class, its bases, theirs...: how far a save's view follows type facts
RENAME_ROUNDS = 4  # `a as b` imported elsewhere `as c`...: how far aliases are followed

# most files import nothing by `*` and many nothing at all: NULL, not one more string each
FILE_BINDINGS = ("SELECT path, language, NULLIF(bindings, '{}'), NULLIF(star_imports, '[]') "
                 "FROM files WHERE status = 'indexed'")
# a symbol's id, file, language and kind as text (schema v22 keeps numbers: aether.store.queries)
REF = (f"SELECT {sid('s')}, f.path, {label('s.language')}, {label('s.kind')}, s.name, "
       f"{qname('s')}, s.seq FROM symbols s JOIN files f ON f.id = s.file")


def _chunks(items: Sequence[str]) -> Iterable[Sequence[str]]:
    for i in range(0, len(items), CHUNK):
        yield items[i:i + CHUNK]


async def load_view(w: aiosqlite.Connection, names: Iterable[str] | None) -> GraphView:
    """Every indexed file's imports, the symbols bearing `names` and the type facts about
    them (all when None)."""
    # A cold pass's view holds every symbol: one copy of each path, language and kind (not
    # one per row), and rows taken a batch at a time, not all at once beside their refs.
    shared: dict[str, str] = {}
    one = shared.setdefault
    files: dict[str, FileBindings] = {}
    async with w.execute(FILE_BINDINGS) as cur:
        while rows := await cur.fetchmany(FILE_BATCH):
            for path, language, bindings, stars in rows:  # parsed when read
                files[one(path, path)] = FileBindings(one(language or "", language or ""),
                                                      bindings, stars)
    view = GraphView(files)
    by_name = view.by_name

    async def add(query: str, params: Sequence[Any] = ()) -> None:
        async with w.execute(query, params) as cur:
            while rows := await cur.fetchmany(REF_BATCH):
                for sid_, path, language, kind, name, qualified, seq in rows:
                    by_name.setdefault(name, []).append(SymbolRef(
                        sid_, one(path, path), one(language, language), one(kind, kind),
                        name, qualified, seq))

    async def add_facts(about: Iterable[str]) -> list[name_facts.NameFact]:
        found = await name_facts.named(w, about)
        for fact in found:
            info = files.get(fact.path)
            if info is not None:
                info.add_fact(fact.key, fact.value)
        return found

    if names is None:
        await add(REF)
        # every fact, straight into its file's map (no list of all of them at a cold
        # pass's peak)
        async with w.execute(name_facts.ALL_TYPE_FACTS) as cur:
            while rows := await cur.fetchmany(REF_BATCH):
                for row in rows:
                    fact = name_facts.fact_of(*row)
                    info = files.get(fact.path)
                    if info is not None:
                        info.add_fact(fact.key, fact.value)
        return view
    wanted = set(names)
    # an aliased import (`helper as h`) is called by its alias: read the real name too
    # (a binding that keeps its name adds nothing)
    new = wanted
    for _round in range(RENAME_ROUNDS):
        new = await name_facts.imported_names(w, new) - wanted
        if not new:
            break
        wanted |= new
    # a module-level variable called through: the names its type is read by (whose own
    # facts are read with their symbols, below)
    asked = set(wanted)
    for fact in await add_facts(asked):
        info = files.get(fact.path)
        if info is not None and fact.key.endswith(CLASS_OF):
            wanted |= _names_of_types(info, fact.value)
    loaded: set[str] = set()
    for _round in range(TYPE_ROUNDS):
        for chunk in _chunks(sorted(wanted)):
            await add(REF + f" WHERE s.name IN ({','.join('?' * len(chunk))})", chunk)
        await add_facts(wanted - asked)
        asked |= wanted
        loaded |= wanted
        wanted = _type_names(view, wanted) - loaded
        if not wanted:
            break
    return view


def _names_of_types(info: FileBindings, text: str) -> set[str]:
    """The names a type fact's types (`Base,mod.Other`) are read by: as written, and what
    the file's imports bind them to."""
    out: set[str] = set()
    for written in text.split(","):
        head = written.split(".", 1)[0]
        out.update((head, written.rsplit(".", 1)[-1]))
        target = info.bindings.get(head)
        if target is not None:
            out.add(name_facts.last_segment(target))
    return out


def _type_names(view: GraphView, names: Iterable[str]) -> set[str]:
    """The names resolution through types reads beyond the sites' own: the types that the
    functions named `names` return, the bases of the classes named so (as written, and what
    the file's imports bind them to), and the class of a method named so when it is the
    only one of its language: a call matched by name to the only method of that name asks
    whether its class derives from a library's (whose own method may be meant). The class
    of every namesake method (hundreds for `get` or `run`, each followed to its bases) was
    most of what a save's view read, for answers no resolution asks."""
    out: set[str] = set()
    for name in names:
        refs = view.by_name.get(name, ())
        methods = Counter(r.language for r in refs if r.qualified_name != r.name)
        for ref in refs:
            owner = ref.qualified_name.rpartition(".")[0]
            if owner and methods[ref.language] == 1:
                out.add(owner.rpartition(".")[2])
            info = view.files.get(ref.file_path)
            if info is None or not info.facts:
                continue
            for key in (ref.qualified_name + RETURNS, ref.qualified_name + BASES):
                text = info.fact(key)
                if text:
                    out |= _names_of_types(info, text)
    return out
