"""What a file says about names that the call graph looks up by name (schema v24): the type
each function returns, the bases of each class, the type of each module-level variable
(aether.symbols.type_facts) and the imports that bind a name under another one (`helper as
h`).

Until v23 these rode inside `files.bindings` (the type facts under keys no import can bind),
so every save read and scanned every file's bindings to find the few that mattered to it
(~5 ms, and the objects built then freed kept the interpreter's small-object arenas from
being given back). Here they are rows found through an index by name: a save reads the
facts of the names it resolves and nothing else.

A row's id is its file's id << SHIFT | its ordinal, as edges are keyed by their caller
(aether.store.edges): a file's facts are one range of the table, replaced together when the
file is written again and deleted with it (trigger name_facts_of_file_gone), with no index
by file.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, NamedTuple

import aiosqlite

from aether.store.graph_records import BASES, CLASS_OF, RETURNS, is_type_fact
from aether.store.packing import pack_json

SHIFT = 16
LAST = (1 << SHIFT) - 1  # facts past it in one file (none in practice) are not kept
CHUNK = 500  # host parameters per IN (...) list

# kinds: stored as these numbers (append only); RENAMED: `name` is a local name that a file
# imports under another (`value`), found by either (index name_facts_renamed, by value)
RETURNS_KIND, BASES_KIND, CLASS_KIND, RENAMED = range(4)
TYPE_KINDS = 3  # the kinds below it are type facts (the resolver's)
SUFFIX = {RETURNS_KIND: RETURNS, BASES_KIND: BASES, CLASS_KIND: CLASS_OF}


class NameFact(NamedTuple):
    """A type fact as read: the file that states it and its bindings-style key (`App.make()`,
    `App.__bases__`, `app.__class__`) with its value (aether.store.graph_records)."""

    path: str
    key: str
    value: str


def _range(file_id: str) -> str:
    return f"id BETWEEN {file_id} << {SHIFT} AND ({file_id} << {SHIFT}) | {LAST}"


# The index by name is dropped while a first (cold) index writes every file's facts and made
# again, sorted, at its end (`ensure_lookups` of aether.store.edges): built as rows came, in
# file order, its pages were a third empty (0.27 MB on the standard library).
INDEX = "name_facts_by_name"
DROP_INDEX = f"DROP INDEX IF EXISTS {INDEX}"
CREATE_INDEX = f"CREATE INDEX IF NOT EXISTS {INDEX} ON name_facts(name)"
INSERT = "INSERT INTO name_facts (id, kind, name, scope, value) VALUES (?, ?, ?, ?, ?)"
DELETE_OF_FILE = f"DELETE FROM name_facts WHERE {_range('?1')}"
FILE_IDS = "SELECT path, id FROM files WHERE path IN ({})"
_TYPE_COLS = "f.path, n.kind, n.name, n.scope, n.value"
ALL_TYPE_FACTS = (f"SELECT {_TYPE_COLS} FROM name_facts n JOIN files f "
                  f"ON f.id = n.id >> {SHIFT} WHERE n.kind < {TYPE_KINDS}")


def _marks(n: int) -> str:
    return ",".join("?" * n)


def type_facts_named(n: int) -> str:
    return ALL_TYPE_FACTS + f" AND n.name IN ({_marks(n)})"


def type_facts_of_files(n: int) -> str:
    return (f"SELECT {_TYPE_COLS} FROM files f JOIN name_facts n "
            f"ON n.{_range('f.id')} AND n.kind < {TYPE_KINDS} WHERE f.path IN ({_marks(n)})")


def imported_as(n: int) -> str:
    return (f"SELECT DISTINCT value FROM name_facts WHERE name IN ({_marks(n)}) "
            f"AND kind = {RENAMED}")


def importing_as(n: int) -> str:
    return (f"SELECT DISTINCT name FROM name_facts WHERE value IN ({_marks(n)}) "
            f"AND kind = {RENAMED}")


def last_segment(target: str) -> str:
    """The name an import target ends with (`helper` of `pkg.models.helper`, of
    `crate::util::helper`)."""
    return target.replace("::", ".").rsplit(".", 1)[-1]


def split_bindings(bindings: Mapping[str, str]) -> tuple[dict[str, str], list[tuple[Any, ...]]]:
    """A file's bindings as the symbol layer makes them (imports and type facts in one map)
    -> (its imports, as `files.bindings` keeps them; its name_facts rows as (kind, name,
    scope, value), without ids)."""
    imports: dict[str, str] = {}
    rows: list[tuple[Any, ...]] = []
    for key, value in bindings.items():
        if not is_type_fact(key):
            imports[key] = value
            imported = last_segment(value)
            if imported != key:  # only an import under another name can alias
                rows.append((RENAMED, key, "", imported))
            continue
        if key.endswith(RETURNS):
            kind, subject = RETURNS_KIND, key[:-len(RETURNS)]
        elif key.endswith(BASES):
            kind, subject = BASES_KIND, key[:-len(BASES)]
        else:
            kind, subject = CLASS_KIND, key[:-len(CLASS_OF)]
        scope, _, name = subject.rpartition(".")
        rows.append((kind, name, scope, value))
    return imports, rows


def fact_of(path: str, kind: int, name: str, scope: str, value: str) -> NameFact:
    """A type-fact row -> its bindings-style key, as the resolver looks it up."""
    subject = f"{scope}.{name}" if scope else name
    return NameFact(path, subject + SUFFIX[kind], value)


def numbered(file_id: int, found: Iterable[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """A file's rows (from `split_bindings`) with their ids, in sorted order: the same file
    gives the same rows, and the store the same bytes, whatever order its facts came in
    (two cold indexes of rich 13.9 numbered `box.py`'s variables differently)."""
    return [((file_id << SHIFT) | n, *row) for n, row in enumerate(sorted(found)[:LAST + 1])]


async def write_files(w: aiosqlite.Connection, facts: Mapping[str, list[tuple[Any, ...]]]
                      ) -> int:
    """Replace the facts of these files (path -> rows from `split_bindings`), inside the
    caller's transaction, after their `files` rows are written; returns rows written."""
    paths = list(facts)
    ids: dict[str, int] = {}
    for i in range(0, len(paths), CHUNK):
        chunk = paths[i:i + CHUNK]
        async with w.execute(FILE_IDS.format(_marks(len(chunk))), chunk) as cur:
            ids.update({path: fid for path, fid in await cur.fetchall()})
    await w.executemany(DELETE_OF_FILE, [(ids[p],) for p in paths if p in ids])
    rows = [row for path, found in facts.items() if path in ids
            for row in numbered(ids[path], found)]
    if rows:
        await w.executemany(INSERT, rows)
    return len(rows)


async def of_files(w: aiosqlite.Connection, paths: Sequence[str]) -> dict[str, dict[str, str]]:
    """path -> its type facts as bindings-style keys (`App.make()` -> its type), for the
    files that have any."""
    out: dict[str, dict[str, str]] = {}
    for i in range(0, len(paths), CHUNK):
        chunk = list(paths[i:i + CHUNK])
        async with w.execute(type_facts_of_files(len(chunk)), chunk) as cur:
            for row in await cur.fetchall():
                fact = fact_of(*row)
                out.setdefault(fact.path, {})[fact.key] = fact.value
    return out


async def named(w: aiosqlite.Connection, names: Iterable[str]) -> list[NameFact]:
    """The type facts about symbols or variables called one of `names`."""
    wanted = sorted(set(names))
    out: list[NameFact] = []
    for i in range(0, len(wanted), CHUNK):
        chunk = wanted[i:i + CHUNK]
        async with w.execute(type_facts_named(len(chunk)), chunk) as cur:
            out.extend(fact_of(*row) for row in await cur.fetchall())
    return out


async def imported_names(w: aiosqlite.Connection, names: Iterable[str]) -> set[str]:
    """The names that local names `names` import under another name (`h` of `helper as h`:
    helper)."""
    return await _names(w, imported_as, names)


async def local_names(w: aiosqlite.Connection, names: Iterable[str]) -> set[str]:
    """The local names under which some file imports one of `names` (helper: `h`)."""
    return await _names(w, importing_as, names)


async def _names(w: aiosqlite.Connection, query: Callable[[int], str], names: Iterable[str]
                 ) -> set[str]:
    wanted = sorted(set(names))
    out: set[str] = set()
    for i in range(0, len(wanted), CHUNK):
        chunk = wanted[i:i + CHUNK]
        async with w.execute(query(len(chunk)), chunk) as cur:
            out.update(found for (found,) in await cur.fetchall())
    return out


def stored_bindings(imports: Mapping[str, str]) -> str | bytes:
    """`files.bindings` as stored: compact JSON, an import of a name as itself (`import os`)
    as "", deflated when longer than a few names (aether.store.packing.pack_json; read back
    by aether.store.graph_records.read_bindings)."""
    return pack_json(json.dumps({k: "" if v == k else v for k, v in imports.items()},
                                separators=(",", ":"), sort_keys=True))
