"""The call graph's SQL: writing a file's call sites, re-resolving edges inside the same
transaction as the symbols they point to, and the reads the graph surfaces need.

Resolution is the engine's (a `Resolver` handed in); this module only loads what it reads
(`GraphView`) and writes what it answers, so the layers keep pointing one way.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

import aiosqlite

from aether.store.graph_records import (
    Edge,
    EdgeSite,
    FileBindings,
    GraphView,
    Resolver,
    SymbolRef,
)

CHUNK = 500  # host parameters per IN (...) list

# columns in CallSite's field order, then the file: a row is `site + (path,)`
INSERT_EDGE = """
INSERT INTO edges (caller_id, callee, name, receiver, qualifier, line, col, kind, file_path,
                   provenance)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'unresolved')
"""
# a cold pass writes its edges once, at its end, already resolved
INSERT_RESOLVED_EDGE = """
INSERT INTO edges (caller_id, callee, name, receiver, qualifier, line, col, kind, file_path,
                   provenance, target_id, detail)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
"""
COLD_META = "graph_cold"  # "1" from the start of a cold pass until its edges are written
# through the caller's symbols (indexed by file), before those are deleted: an index on
# edges(file_path) would cost every insert of a cold index for this one statement
DELETE_EDGES_OF_FILE = (
    "DELETE FROM edges WHERE caller_id IN (SELECT id FROM symbols WHERE file_path = ?)")
# the indexes of migration v5, dropped for a first index while the table is empty (each
# insert of a cold pass paid for three random b-tree inserts, the final resolution's UPDATE
# for one more) and built once, sorted, when its edges are resolved
EDGE_INDEXES = (
    "CREATE INDEX IF NOT EXISTS edges_by_caller ON edges(caller_id)",
    "CREATE INDEX IF NOT EXISTS edges_by_target ON edges(target_id) WHERE target_id IS NOT NULL",
    "CREATE INDEX IF NOT EXISTS edges_by_name ON edges(name)",
)
DROP_EDGE_INDEXES = ("DROP INDEX IF EXISTS edges_by_caller",
                     "DROP INDEX IF EXISTS edges_by_target", "DROP INDEX IF EXISTS edges_by_name")
ANY_EDGE = "SELECT 1 FROM edges LIMIT 1"
UPDATE_EDGE = "UPDATE edges SET provenance = ?, target_id = ?, detail = ? WHERE id = ?"
BULK_UPDATE_ROWS = 500
CREATE_ANSWERS = """
CREATE TEMP TABLE IF NOT EXISTS edge_answers (
    provenance TEXT NOT NULL, target_id TEXT, detail TEXT, id INTEGER PRIMARY KEY)
"""
INSERT_ANSWER = "INSERT INTO edge_answers (provenance, target_id, detail, id) VALUES (?, ?, ?, ?)"
UPDATE_FROM_ANSWERS = """
UPDATE edges SET provenance = a.provenance, target_id = a.target_id, detail = a.detail
FROM edge_answers a WHERE edges.id = a.id
"""
DROP_ANSWERS = "DROP TABLE edge_answers"
FILE_BINDINGS = "SELECT path, language, bindings, star_imports FROM files WHERE status = 'indexed'"
_REF = "SELECT id, file_path, language, kind, name, qualified_name FROM symbols"
_SITE = """
SELECT e.id, e.caller_id, s.qualified_name, e.file_path, s.language, e.callee, e.name,
       e.receiver, e.qualifier, e.kind, e.provenance, e.target_id, e.detail
FROM edges e JOIN symbols s ON s.id = e.caller_id
"""
_EDGE = """
SELECT e.caller_id, c.qualified_name, c.kind, e.file_path, e.line, e.col, e.callee, e.name,
       e.receiver, e.provenance, e.target_id, e.detail, t.qualified_name, t.file_path,
       t.start_line, e.kind
FROM edges e JOIN symbols c ON c.id = e.caller_id
LEFT JOIN symbols t ON t.id = e.target_id
"""
EDGES_FROM = _EDGE + "WHERE e.caller_id = ? ORDER BY e.line, e.col"
EDGES_INTO = _EDGE + "WHERE e.target_id = ? ORDER BY e.file_path, e.line, e.col LIMIT ?"
# ambiguous edges that list this symbol among their candidates (by name first: indexed)
AMBIGUOUS_NAMED = _EDGE + """
WHERE e.name = ? AND e.provenance = 'ambiguous' AND e.kind = 'call' AND instr(e.detail, ?) > 0
ORDER BY e.file_path, e.line LIMIT ?
"""
def bindings_of(n: int) -> str:
    return f"SELECT path, bindings FROM files WHERE path IN ({_marks(n)})"


def counts_into(n: int) -> str:
    return (f"SELECT target_id, COUNT(*) FROM edges WHERE target_id IN ({_marks(n)}) "
            "AND kind = 'call' GROUP BY target_id")


COUNT_INTO = "SELECT COUNT(*) FROM edges WHERE target_id = ? AND kind = 'call'"
UNRESOLVED_NAMED = ("SELECT COUNT(*) FROM edges WHERE name = ? AND provenance = 'unresolved' "
                    "AND kind = 'call'")
PROVENANCE_COUNTS = "SELECT provenance, COUNT(*) FROM edges GROUP BY provenance"


def _marks(n: int) -> str:
    return ",".join("?" * n)


def chunked(items: Sequence[Any]) -> Iterable[Sequence[Any]]:
    for i in range(0, len(items), CHUNK):
        yield items[i:i + CHUNK]


def site_rows(calls: Iterable[Any], file_path: str) -> list[tuple[Any, ...]]:
    """CallSite tuples -> INSERT_EDGE rows."""
    tail = (file_path,)
    return [tuple(c) + tail for c in calls]


async def load_view(w: aiosqlite.Connection, names: Iterable[str] | None) -> GraphView:
    """Every indexed file's bindings and the symbols bearing `names` (all when None)."""
    files: dict[str, FileBindings] = {}
    async with w.execute(FILE_BINDINGS) as cur:
        for path, language, bindings, stars in await cur.fetchall():
            files[path] = FileBindings(language or "", json.loads(bindings), json.loads(stars))
    view = GraphView(files)
    rows: list[Any] = []
    if names is None:
        async with w.execute(_REF) as cur:
            rows = list(await cur.fetchall())
    else:
        wanted_set = set(names)
        # an aliased import (`helper as h`) is called by its alias: read the real name too
        for info in files.values():
            for local, target in info.bindings.items():
                if local in wanted_set:
                    wanted_set.add(target.replace("::", ".").rsplit(".", 1)[-1])
        wanted = sorted(wanted_set)
        for chunk in chunked(wanted):
            async with w.execute(_REF + f" WHERE name IN ({_marks(len(chunk))})", chunk) as cur:
                rows.extend(await cur.fetchall())
    by_name = view.by_name
    for row in rows:
        ref = SymbolRef(*row)
        by_name.setdefault(ref.name, []).append(ref)
    return view


async def _sites(w: aiosqlite.Connection, where: str, params: Sequence[Any]
                 ) -> list[tuple[EdgeSite, tuple[str, str | None, str | None]]]:
    async with w.execute(_SITE + where, params) as cur:
        rows = await cur.fetchall()
    return [(EdgeSite(*row[:10]), (row[10], row[11], row[12])) for row in rows]


_ALL_EDGES = """
SELECT e.id, e.caller_id, e.file_path, e.callee, e.name, e.receiver, e.qualifier, e.kind,
       e.provenance, e.target_id, e.detail FROM edges e
"""


async def _all_sites(w: aiosqlite.Connection, view: GraphView
                     ) -> list[tuple[EdgeSite, tuple[str, str | None, str | None]]]:
    """Every edge, its caller's name and language joined in Python from the view's symbols
    (a cold index resolves everything at once; the SQL join cost as much as resolving)."""
    callers = {r.id: (r.qualified_name, r.language)
               for refs in view.by_name.values() for r in refs}
    async with w.execute(_ALL_EDGES) as cur:
        rows = await cur.fetchall()
    out = []
    for eid, caller, path, callee, name, receiver, qualifier, kind, prov, target, detail in rows:
        qualified, language = callers.get(caller, ("", ""))
        out.append((EdgeSite(eid, caller, qualified, path, language, callee, name, receiver,
                             qualifier, kind), (prov, target, detail)))
    return out


async def insert_resolved(w: aiosqlite.Connection, resolver: Resolver,
                          held: dict[str, list[tuple[Any, ...]]]) -> int:
    """Resolve a cold pass's held call sites (INSERT_EDGE rows, by file) against the whole
    store, in memory, and insert them with their answers; returns how many."""
    rows = [row for file_rows in held.values() for row in file_rows]
    if not rows:
        return 0
    view = await load_view(w, None)
    callers = {r.id: (r.qualified_name, r.language)
               for refs in view.by_name.values() for r in refs}
    sites = []
    for i, row in enumerate(rows):
        qualified, language = callers.get(row[0], ("", ""))
        # row: caller_id, callee, name, receiver, qualifier, line, col, kind, file_path
        sites.append(EdgeSite(i, row[0], qualified, row[8], language, row[1], row[2], row[3],
                              row[4], row[7]))
    answers = resolver(view, sites)
    await w.executemany(INSERT_RESOLVED_EDGE, [
        (*row, a.provenance, a.target_id, a.detail)
        for row, a in zip(rows, answers, strict=True)])
    return len(rows)


async def _aliases(w: aiosqlite.Connection, names: set[str]) -> set[str]:
    """Local names that import one of `names` under another name (`helper as h`): calls
    through them reach the same targets."""
    out: set[str] = set()
    async with w.execute(FILE_BINDINGS) as cur:
        for _path, _language, bindings, _stars in await cur.fetchall():
            if bindings == "{}":
                continue
            for local, target in json.loads(bindings).items():
                if target.replace("::", ".").rsplit(".", 1)[-1] in names and local not in names:
                    out.add(local)
    return out


async def resolve(w: aiosqlite.Connection, resolver: Resolver, *, paths: Sequence[str] = (),
                  names: Iterable[str] = (), removed_ids: Iterable[str] = (),
                  everything: bool = False) -> int:
    """Re-resolve, inside the caller's transaction, the edges of `paths`, every edge that
    calls one of `names` (directly or through an import alias: its candidates may have
    appeared, changed or gone) and every edge into `removed_ids`; or all edges. Writes only
    the rows whose answer changed; returns how many did."""
    view: GraphView | None = None
    if everything:
        view = await load_view(w, None)
        found = await _all_sites(w, view)
    else:
        found = []
        seen: set[int] = set()

        def add(sites: list[tuple[EdgeSite, tuple[str, str | None, str | None]]]) -> None:
            for site in sites:
                if site[0].edge_id not in seen:
                    seen.add(site[0].edge_id)
                    found.append(site)

        for chunk in chunked(list(paths)):
            add(await _sites(w, f"WHERE s.file_path IN ({_marks(len(chunk))})", chunk))
        wanted = set(names)
        if wanted:
            wanted |= await _aliases(w, wanted)
        for chunk in chunked(sorted(wanted)):
            add(await _sites(w, f"WHERE e.name IN ({_marks(len(chunk))})", chunk))
        for chunk in chunked(sorted(set(removed_ids))):
            add(await _sites(w, f"WHERE e.target_id IN ({_marks(len(chunk))})", chunk))
    if not found:
        return 0
    if view is None:
        view = await load_view(w, _names_read(s for s, _ in found))
    sites = [s for s, _ in found]
    answers = resolver(view, sites)
    updates = [(a.provenance, a.target_id, a.detail, s.edge_id)
               for (s, old), a in zip(found, answers, strict=True)
               if (a.provenance, a.target_id, a.detail) != old]
    if len(updates) > BULK_UPDATE_ROWS:
        # many rows: through a temp table and one UPDATE ... FROM (a third of the cost)
        await w.execute(CREATE_ANSWERS)
        await w.executemany(INSERT_ANSWER, updates)
        await w.execute(UPDATE_FROM_ANSWERS)
        await w.execute(DROP_ANSWERS)
    elif updates:
        await w.executemany(UPDATE_EDGE, updates)
    return len(updates)


def _names_read(sites: Iterable[EdgeSite]) -> set[str]:
    """The names resolution looks up: the called name, the receiver's head (a class of the
    file?) and the caller's enclosing scopes (its class)."""
    names: set[str] = set()
    for site in sites:
        names.add(site.name)
        if site.qualifier:
            names.add(site.qualifier.split(".", 1)[0])
        names.update(site.caller_qualified_name.split("."))
    return names


def edge_of(row: Sequence[Any]) -> Edge:
    return Edge(*row)
