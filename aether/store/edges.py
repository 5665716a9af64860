"""The call graph's SQL: writing a file's call sites, re-resolving edges inside the same
transaction as the symbols they point to, and the reads the graph surfaces need.

Resolution is the engine's (a `Resolver` handed in); this module only loads what it reads
(`GraphView`) and writes what it answers, so the layers keep pointing one way.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterable, Sequence
from functools import lru_cache
from typing import Any

import aiosqlite

from aether.store.graph_records import (
    EDGE_KINDS,
    PROVENANCES,
    RECEIVERS,
    Edge,
    EdgeSite,
    FileBindings,
    GraphView,
    Resolution,
    Resolver,
    SymbolRef,
)
from aether.store.records import unpack_sites

CHUNK = 500  # host parameters per IN (...) list

# Schema v10 stores an edge compactly (it was ~250 bytes, 38% of a store): the caller and the
# target as symbol seqs (integers, not 32-hex ids), provenance/receiver/kind as their index
# in graph_records' tuples, no file path (the caller's), the callee only when it is not
# `qualifier.name` (or `name`), and an ambiguous candidate list as "count,seq,seq,...,".
PROV = {p: i for i, p in enumerate(PROVENANCES)}
RECV = {r: i for i, r in enumerate(RECEIVERS)}
KIND = {k: i for i, k in enumerate(EDGE_KINDS)}
AMBIGUOUS, UNRESOLVED, CALL = PROV["ambiguous"], PROV["unresolved"], KIND["call"]
CALLEE = ("COALESCE(e.callee, CASE WHEN e.qualifier = '' THEN e.name "
          "ELSE e.qualifier || '.' || e.name END)")

_COLS = "caller, line, col, name, callee, qualifier, receiver, kind"
INSERT_EDGE = (f"INSERT INTO edges ({_COLS}, provenance) "
               f"VALUES (?, ?, ?, ?, ?, ?, ?, ?, {UNRESOLVED})")
# a cold pass writes its edges once, at its end, already resolved
INSERT_RESOLVED_EDGE = (f"INSERT INTO edges ({_COLS}, provenance, target, detail) "
                        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
COLD_META = "graph_cold"  # "1" from the start of a cold pass until its edges are written
# through the caller's symbols (indexed by file), before those are deleted: an index on the
# edges by file would cost every insert of a cold index for this one statement
DELETE_EDGES_OF_FILE = (
    "DELETE FROM edges WHERE caller IN (SELECT seq FROM symbols WHERE file_path = ?)")
# the indexes of migration v10, dropped for a first index while the table is empty (each
# insert of a cold pass paid for three random b-tree inserts, the final resolution's UPDATE
# for one more) and built once, sorted, when its edges are resolved
EDGE_INDEXES = (
    "CREATE INDEX IF NOT EXISTS edges_by_caller ON edges(caller)",
    "CREATE INDEX IF NOT EXISTS edges_by_target ON edges(target) WHERE target IS NOT NULL",
    "CREATE INDEX IF NOT EXISTS edges_by_name ON edges(name)",
)
DROP_EDGE_INDEXES = ("DROP INDEX IF EXISTS edges_by_caller",
                     "DROP INDEX IF EXISTS edges_by_target", "DROP INDEX IF EXISTS edges_by_name")
ANY_EDGE = "SELECT 1 FROM edges LIMIT 1"
UPDATE_EDGE = "UPDATE edges SET provenance = ?, target = ?, detail = ? WHERE id = ?"
BULK_UPDATE_ROWS = 500
CREATE_ANSWERS = """
CREATE TEMP TABLE IF NOT EXISTS edge_answers (
    provenance INTEGER NOT NULL, target INTEGER, detail TEXT, id INTEGER PRIMARY KEY)
"""
INSERT_ANSWER = "INSERT INTO edge_answers (provenance, target, detail, id) VALUES (?, ?, ?, ?)"
UPDATE_FROM_ANSWERS = """
UPDATE edges SET provenance = a.provenance, target = a.target, detail = a.detail
FROM edge_answers a WHERE edges.id = a.id
"""
DROP_ANSWERS = "DROP TABLE edge_answers"
FILE_BINDINGS = "SELECT path, language, bindings, star_imports FROM files WHERE status = 'indexed'"
_REF = "SELECT id, file_path, language, kind, name, qualified_name, seq FROM symbols"
_SITE = f"""
SELECT e.id, s.id, s.qualified_name, s.file_path, s.language, {CALLEE}, e.name,
       e.receiver, e.qualifier, e.kind, e.provenance, e.target, e.detail
FROM edges e JOIN symbols s ON s.seq = e.caller
"""
_EDGE = f"""
SELECT c.id, c.qualified_name, c.kind, c.file_path, e.line, e.col, {CALLEE}, e.name,
       e.receiver, e.provenance, t.id, e.detail, t.qualified_name, t.file_path,
       t.start_line, e.kind
FROM edges e JOIN symbols c ON c.seq = e.caller
LEFT JOIN symbols t ON t.seq = e.target
"""
_SEQ_OF = "(SELECT seq FROM symbols WHERE id = ?)"
EDGES_FROM = _EDGE + f"WHERE e.caller = {_SEQ_OF} ORDER BY e.line, e.col"
EDGES_INTO = _EDGE + f"WHERE e.target = {_SEQ_OF} ORDER BY c.file_path, e.line, e.col LIMIT ?"
# ambiguous edges that list this symbol among their candidates (by name first: indexed)
AMBIGUOUS_NAMED = _EDGE + f"""
WHERE e.name = ?1 AND e.provenance = {AMBIGUOUS} AND e.kind = {CALL}
  AND instr(e.detail, ',' || (SELECT seq FROM symbols WHERE id = ?2) || ',') > 0
ORDER BY c.file_path, e.line LIMIT ?3
"""
@lru_cache(maxsize=4096)
def _parsed(text: str) -> Any:
    """A file's bindings or star imports, parsed once: a save's resolution reads every
    file's (parsing them all again was most of a save's 30 ms on the standard library).
    Shared between views: read only."""
    return json.loads(text)


def bindings_of(n: int) -> str:
    return f"SELECT path, bindings FROM files WHERE path IN ({_marks(n)})"


def counts_into(n: int) -> str:
    return (f"SELECT t.id, COUNT(*) FROM symbols t JOIN edges e ON e.target = t.seq "
            f"WHERE t.id IN ({_marks(n)}) AND e.kind = {CALL} GROUP BY t.id")


COUNT_INTO = f"SELECT COUNT(*) FROM edges WHERE target = {_SEQ_OF} AND kind = {CALL}"
UNRESOLVED_NAMED = (f"SELECT COUNT(*) FROM edges WHERE name = ? AND provenance = {UNRESOLVED} "
                    f"AND kind = {CALL}")
PROVENANCE_COUNTS = "SELECT provenance, COUNT(*) FROM edges GROUP BY provenance"
SEQ_IDS = "SELECT seq, id FROM symbols WHERE seq IN ({})"


RESOLVE_SLICE = 25_000  # call sites resolved and written together at the end of a cold pass
REF_BATCH = 4096  # symbol rows read at a time into a graph view


def _marks(n: int) -> str:
    return ",".join("?" * n)


def chunked(items: Sequence[Any]) -> Iterable[Sequence[Any]]:
    for i in range(0, len(items), CHUNK):
        yield items[i:i + CHUNK]


def edge_row(site: Sequence[Any], caller_seq: int) -> tuple[Any, ...]:
    """A CallSite (aether.symbols.model) -> the leading columns of an edge row (`_COLS`)."""
    _caller, callee, name, receiver, qualifier, line, col, kind = site[:8]
    derived = f"{qualifier}.{name}" if qualifier else name
    return (caller_seq, line, col, name, None if callee == derived else callee, qualifier,
            RECV[receiver], KIND[kind])


def seqs_of(view: GraphView) -> dict[str, int]:
    """symbol id -> seq for every symbol the view holds (all a resolver may answer with)."""
    return {r.id: r.seq for refs in view.by_name.values() for r in refs}


def encode(answer: Resolution, seq_of: dict[str, int]) -> tuple[int, int | None, str | None]:
    """A resolver's answer (ids, JSON) -> the stored (provenance, target, detail)."""
    code = PROV[answer.provenance]
    target = seq_of.get(answer.target_id) if answer.target_id else None
    detail = answer.detail
    if code == AMBIGUOUS and detail:
        found = json.loads(detail)
        seqs = [seq_of[i] for i in found.get("candidates", ()) if i in seq_of]
        detail = f"{int(found.get('count', len(seqs)))}," + "".join(f"{n}," for n in seqs)
    return code, target, detail


async def load_view(w: aiosqlite.Connection, names: Iterable[str] | None) -> GraphView:
    """Every indexed file's bindings and the symbols bearing `names` (all when None)."""
    files: dict[str, FileBindings] = {}
    async with w.execute(FILE_BINDINGS) as cur:
        for path, language, bindings, stars in await cur.fetchall():
            files[path] = FileBindings(language or "", _parsed(bindings), _parsed(stars))
    view = GraphView(files)
    by_name = view.by_name
    # A cold pass's view holds every symbol: one copy of each path, language and kind (not
    # one per row), and rows taken a batch at a time, not all at once beside their refs.
    shared: dict[str, str] = {}
    one = shared.setdefault

    async def add(query: str, params: Sequence[Any] = ()) -> None:
        async with w.execute(query, params) as cur:
            while rows := await cur.fetchmany(REF_BATCH):
                for sid, path, language, kind, name, qname, seq in rows:
                    by_name.setdefault(name, []).append(SymbolRef(
                        sid, one(path, path), one(language, language), one(kind, kind),
                        name, qname, seq))

    if names is None:
        await add(_REF)
    else:
        wanted_set = set(names)
        # an aliased import (`helper as h`) is called by its alias: read the real name too
        for info in files.values():
            for local, target in info.bindings.items():
                if local in wanted_set:
                    wanted_set.add(target.replace("::", ".").rsplit(".", 1)[-1])
        for chunk in chunked(sorted(wanted_set)):
            await add(_REF + f" WHERE name IN ({_marks(len(chunk))})", chunk)
    return view


Stored = tuple[int, int | None, str | None]  # (provenance, target, detail) as stored


async def _sites(w: aiosqlite.Connection, where: str, params: Sequence[Any]
                 ) -> list[tuple[EdgeSite, Stored]]:
    async with w.execute(_SITE + where, params) as cur:
        rows = await cur.fetchall()
    return [(EdgeSite(eid, caller, qualified, path, language, callee, name, RECEIVERS[receiver],
                      qualifier, EDGE_KINDS[kind]), (prov, target, detail))
            for (eid, caller, qualified, path, language, callee, name, receiver, qualifier,
                 kind, prov, target, detail) in rows]


_ALL_EDGES = f"""
SELECT e.id, e.caller, {CALLEE}, e.name, e.receiver, e.qualifier, e.kind,
       e.provenance, e.target, e.detail FROM edges e
"""


async def _all_sites(w: aiosqlite.Connection, view: GraphView
                     ) -> list[tuple[EdgeSite, Stored]]:
    """Every edge, its caller's id, name, file and language joined in Python from the view's
    symbols (a cold index resolves everything at once; the SQL join cost as much as
    resolving)."""
    callers = {r.seq: r for refs in view.by_name.values() for r in refs}
    async with w.execute(_ALL_EDGES) as cur:
        rows = await cur.fetchall()
    out = []
    for eid, caller, callee, name, receiver, qualifier, kind, prov, target, detail in rows:
        ref = callers.get(caller)
        if ref is None:  # cannot be (edges cascade with their caller); nothing to resolve
            continue
        out.append((EdgeSite(eid, ref.id, ref.qualified_name, ref.file_path, ref.language,
                             callee, name, RECEIVERS[receiver], qualifier, EDGE_KINDS[kind]),
                    (prov, target, detail)))
    return out


async def insert_resolved(w: aiosqlite.Connection, resolver: Resolver,
                          held: dict[str, bytes | list[tuple[Any, ...]]]) -> int:
    """Resolve a cold pass's held call sites (CallSite tuples, by file) against the whole
    store, in memory, and insert them with their answers; returns how many. A slice of
    files at a time (about RESOLVE_SLICE sites): every site's answer at once was the
    largest part of a cold index's peak memory."""
    if not any(held.values()):
        return 0
    view = await load_view(w, None)
    refs = {r.id: r for found in view.by_name.values() for r in found}
    seq_of = {i: r.seq for i, r in refs.items()}
    # most sites share an answer with others (the resolver memoises them): each distinct
    # answer encoded once
    encoded: dict[Resolution, tuple[int, int | None, str | None]] = {}
    written = 0
    # A slice's rows are inserted (in the connection's thread, the GIL mostly released)
    # while the next slice is resolved here.
    inserting: asyncio.Future[Any] | None = None
    try:
        while held:
            # each file's sites are let go as they are taken: the held sites were the largest
            # part of what the pass still had in memory at its end
            calls: list[tuple[Any, ...]] = []
            while held and len(calls) < RESOLVE_SLICE:
                some = held.popitem()[1]
                calls.extend(unpack_sites(some) if isinstance(some, bytes) else some)
            sites: list[EdgeSite] = []
            rows: list[tuple[Any, ...]] = []
            for c in calls:
                ref = refs.get(c[0])
                if ref is None:  # its symbol went meanwhile (the file was deleted): no edge
                    continue
                # c: caller_id, callee, name, receiver, qualifier, line, col, kind
                sites.append(EdgeSite._make((len(sites), c[0], ref.qualified_name,
                                             ref.file_path, ref.language, c[1], c[2], c[3],
                                             c[4], c[7])))
                rows.append(edge_row(c, ref.seq))
            answers = resolver(view, sites)
            batch = []
            for row, a in zip(rows, answers, strict=True):
                code = encoded.get(a)
                if code is None:
                    code = encoded[a] = encode(a, seq_of)
                batch.append((*row, *code))
            if inserting is not None:
                await inserting
            inserting = asyncio.ensure_future(w.executemany(INSERT_RESOLVED_EDGE, batch))
            await asyncio.sleep(0)  # the task hands its rows to the connection's thread now
            written += len(rows)
    except BaseException:
        if inserting is not None:  # its rows go with the caller's rollback
            await asyncio.gather(inserting, return_exceptions=True)
        raise
    if inserting is not None:
        await inserting
    return written


async def _aliases(w: aiosqlite.Connection, names: set[str]) -> set[str]:
    """Local names that import one of `names` under another name (`helper as h`): calls
    through them reach the same targets."""
    out: set[str] = set()
    async with w.execute(FILE_BINDINGS) as cur:
        for _path, _language, bindings, _stars in await cur.fetchall():
            if bindings == "{}":
                continue
            for local, imported in _renamed(bindings):
                if imported in names and local not in names:
                    out.add(local)
    return out


@lru_cache(maxsize=4096)
def _renamed(bindings: str) -> tuple[tuple[str, str], ...]:
    """(local name, imported name) of a file's bindings that import under another name:
    only those can alias (most bindings keep the name), worked out once per file."""
    pairs = ((local, target.replace("::", ".").rsplit(".", 1)[-1])
             for local, target in _parsed(bindings).items())
    return tuple((local, imported) for local, imported in pairs if local != imported)


def clear_parsed_bindings() -> None:
    """Forget the files' parsed bindings (an idle daemon: rebuilt by the next save)."""
    _parsed.cache_clear()
    _renamed.cache_clear()


async def resolve(w: aiosqlite.Connection, resolver: Resolver, *, paths: Sequence[str] = (),
                  names: Iterable[str] = (), removed_seqs: Iterable[int] = (),
                  everything: bool = False) -> int:
    """Re-resolve, inside the caller's transaction, the edges of `paths`, every edge that
    calls one of `names` (directly or through an import alias: its candidates may have
    appeared, changed or gone) and every edge into the removed symbols `removed_seqs`; or
    all edges. Writes only the rows whose answer changed; returns how many did."""
    view: GraphView | None = None
    if everything:
        view = await load_view(w, None)
        found = await _all_sites(w, view)
    else:
        found = []
        seen: set[int] = set()

        def add(sites: list[tuple[EdgeSite, Stored]]) -> None:
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
        for chunk in chunked(sorted(set(removed_seqs))):
            add(await _sites(w, f"WHERE e.target IN ({_marks(len(chunk))})", chunk))
    if not found:
        return 0
    if view is None:
        view = await load_view(w, _names_read(s for s, _ in found))
    seq_of = seqs_of(view)
    sites = [s for s, _ in found]
    answers = resolver(view, sites)
    updates = []
    for (site, old), answer in zip(found, answers, strict=True):
        new = encode(answer, seq_of)
        if new != old:
            updates.append((*new, site.edge_id))
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


async def edges_of(conn: aiosqlite.Connection, found: Iterable[Sequence[Any]]) -> list[Edge]:
    """`_EDGE` rows -> Edges as surfaces know them: provenance, receiver and kind by name, an
    ambiguous candidate list as JSON of symbol ids (one query for all of them)."""
    rows = list(found)
    lists: dict[int, tuple[int, list[int]]] = {}
    for i, row in enumerate(rows):
        if row[9] == AMBIGUOUS and row[11]:
            count, *seqs = row[11].rstrip(",").split(",")
            lists[i] = (int(count), [int(n) for n in seqs])
    ids: dict[int, str] = {}
    wanted = sorted({n for _, seqs in lists.values() for n in seqs})
    for chunk in chunked(wanted):
        async with conn.execute(SEQ_IDS.format(_marks(len(chunk))), chunk) as cur:
            ids.update({seq: sid for seq, sid in await cur.fetchall()})
    out = []
    for i, row in enumerate(rows):
        detail = row[11]
        if i in lists:
            count, seqs = lists[i]
            detail = json.dumps({"count": count,
                                 "candidates": [ids[n] for n in seqs if n in ids]})
        (caller, qualified, kind, path, line, col, callee, name, _r, _p, target, _d,
         target_qualified, target_path, target_line, _k) = row
        out.append(Edge(caller, qualified, kind, path, line, col, callee, name,
                        RECEIVERS[row[8]], PROVENANCES[row[9]], target, detail,
                        target_qualified, target_path, target_line, EDGE_KINDS[row[15]]))
    return out
