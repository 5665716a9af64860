"""The call graph's SQL: writing a file's call sites, re-resolving edges inside the same
transaction as the symbols they point to, and the reads the graph surfaces need.

Resolution is the engine's (a `Resolver` handed in); this module only loads what it reads
(`GraphView`) and writes what it answers, so the layers keep pointing one way.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

import aiosqlite

from aether.store import name_facts
from aether.store.graph_records import (
    BASES,
    CLASS_OF,
    EDGE_KINDS,
    PROVENANCES,
    RECEIVERS,
    RETURNS,
    Edge,
    EdgeSite,
    GraphView,
    Resolution,
    Resolver,
    SymbolRef,
    is_type_fact,
)
from aether.store.graph_view import load_view
from aether.store.queries import label, path_of, qname, sid
from aether.store.records import unpack_sites

CHUNK = 500  # host parameters per IN (...) list

# Schema v10 made an edge compact (it was ~250 bytes, 38% of a store): the caller and the
# target as symbol seqs, no file path (the caller's), the callee only when it is not
# `qualifier.name` (or `name`), and an ambiguous candidate list as "count,seq,seq,...,".
# Schema v21 made it smaller again (30 of 105 MB on the standard library, indexes included):
# - its rowid is the caller's seq << SHIFT | its ordinal among the caller's edges, so a
#   caller's edges are one range of the table: no caller column, no index by caller; its
#   line counts from the caller's start line (one byte, not two);
# - the name, the qualifier and the detail are numbers in `edge_texts` (20,000 names for
#   370,000 edges);
# - receiver, kind and provenance are one small integer, `flags`; the target (resolved) and
#   the detail (ambiguous, external) share one column, `answer`;
# - edges are found by name and by target through `edge_callers` (name, caller) and
#   `edge_targets` (target, caller): one row per name a caller calls, or symbol it reaches,
#   kept by triggers, instead of an index entry per edge; then the caller's range is read.
PROV = {p: i for i, p in enumerate(PROVENANCES)}
RECV = {r: i for i, r in enumerate(RECEIVERS)}
KIND = {k: i for i, k in enumerate(EDGE_KINDS)}
AMBIGUOUS, UNRESOLVED, CALL = PROV["ambiguous"], PROV["unresolved"], KIND["call"]
TARGETED = AMBIGUOUS  # provenances below it (local, import, unique_name) have a target
SHIFT = 16
# Ordinals past it (65,536 call sites in one symbol: generated code, if ever) are not kept.
LAST = (1 << SHIFT) - 1


def flags(receiver: int, kind: int, provenance: int) -> int:
    return receiver | kind << 2 | provenance << 3


def answer_of(provenance: int, target: int | None, detail: int | None) -> int | None:
    """The `answer` column: the target of a resolved edge, else its detail's text number."""
    return target if provenance < TARGETED else detail


def _range(seq: str) -> str:
    """The rowids of the edges whose caller's seq is `seq` (an SQL expression)."""
    return f"e.id BETWEEN ({seq}) << {SHIFT} AND (({seq}) << {SHIFT}) | {LAST}"


RECEIVER_OF, KIND_OF, PROVENANCE_OF = "e.flags & 3", "(e.flags >> 2) & 1", "e.flags >> 3"
HAS_TARGET = f"e.flags < {TARGETED << 3}"
TARGET_OF = f"CASE WHEN {HAS_TARGET} THEN e.answer END"
AMBIGUOUS_CALL = f"e.flags >> 2 = {AMBIGUOUS << 1 | CALL}"
UNRESOLVED_CALL = f"e.flags >> 2 = {UNRESOLVED << 1 | CALL}"
IS_CALL = "e.flags & 4 = 0"
TEXTS = f"""
JOIN edge_texts n ON n.id = e.name
LEFT JOIN edge_texts q ON q.id = e.qualifier
LEFT JOIN edge_texts d ON d.id = e.answer AND e.flags >= {TARGETED << 3}
"""
# An edge's callee as written (see `stored_callee`): NULL is `qualifier.name` (or the name),
# one ending in "." is followed by the name.
CALLEE = ("CASE WHEN e.callee IS NULL THEN CASE WHEN q.text IS NULL THEN n.text "
          "ELSE q.text || '.' || n.text END "
          "WHEN substr(e.callee, -1) = '.' THEN e.callee || n.text ELSE e.callee END")
# the callers of a target `y.target`, then their edges resolved to it
_INTO = f"""
edge_targets y CROSS JOIN edges e ON {_range("y.caller")} AND e.answer = y.target
  AND {HAS_TARGET}
"""
# the callers of one of the names in edge_texts `w`, then their edges of that name
_NAMED = f"""
edge_texts w CROSS JOIN edge_callers x ON x.name = w.id
CROSS JOIN edges e ON {_range("x.caller")} AND e.name = x.name
"""

# the callers of one of the names in edge_texts `w`, then all their edges
_CALLERS_NAMING = f"""
edge_texts w CROSS JOIN edge_callers x ON x.name = w.id
JOIN symbols s ON s.seq = x.caller CROSS JOIN edges e ON {_range("s.seq")}
"""

_COLS = "id, line, col, name, qualifier, flags, callee"
INSERT_EDGE = f"INSERT INTO edges ({_COLS}) VALUES (?, ?, ?, ?, ?, ?, ?)"
# a cold pass writes its edges once, at its end, already resolved
INSERT_RESOLVED_EDGE = f"INSERT INTO edges ({_COLS}, answer) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
START_LINES = "SELECT seq, start_line FROM symbols"
COLD_META = "graph_cold"  # "1" from the start of a cold pass until its edges are written
# through the caller's symbols (indexed by file), each one's range of rows, before those
# symbols are deleted
DELETE_EDGES_OF_FILE = f"""
DELETE FROM edges WHERE id IN (
    SELECT e.id FROM symbols s CROSS JOIN edges e ON {_range("s.seq")}
    WHERE s.file = (SELECT id FROM files WHERE path = ?))
"""
# `edge_callers` and `edge_targets` are kept by triggers, except while a first index inserts
# its edges (each insert of a cold pass paid for a random b-tree insert in each): then they
# are rebuilt once, sorted, when its edges are resolved.
_SAME_CALLER = f"id BETWEEN (old.id >> {SHIFT}) << {SHIFT} AND old.id | {LAST}"
_TARGETED = f"flags < {TARGETED << 3}"
SIDE_TRIGGERS = {
    "edge_callers_add": f"""
CREATE TRIGGER edge_callers_add AFTER INSERT ON edges BEGIN
    INSERT INTO edge_callers (name, caller) SELECT new.name, new.id >> {SHIFT}
    WHERE NOT EXISTS (SELECT 1 FROM edge_callers
                      WHERE name = new.name AND caller = new.id >> {SHIFT});
END""",
    "edge_targets_add": f"""
CREATE TRIGGER edge_targets_add AFTER INSERT ON edges
WHEN new.{_TARGETED} AND new.answer IS NOT NULL BEGIN
    INSERT INTO edge_targets (target, caller) SELECT new.answer, new.id >> {SHIFT}
    WHERE NOT EXISTS (SELECT 1 FROM edge_targets
                      WHERE target = new.answer AND caller = new.id >> {SHIFT});
END""",
    "edge_targets_moved": f"""
CREATE TRIGGER edge_targets_moved AFTER UPDATE OF flags, answer ON edges BEGIN
    DELETE FROM edge_targets WHERE old.{_TARGETED} AND target = old.answer
        AND caller = old.id >> {SHIFT}
        AND NOT EXISTS (SELECT 1 FROM edges WHERE answer = old.answer AND {_TARGETED}
                        AND {_SAME_CALLER});
    INSERT INTO edge_targets (target, caller) SELECT new.answer, new.id >> {SHIFT}
    WHERE new.{_TARGETED} AND new.answer IS NOT NULL AND NOT EXISTS (
        SELECT 1 FROM edge_targets WHERE target = new.answer AND caller = new.id >> {SHIFT});
END""",
}
SIDE_TRIGGERS_PRESENT = (
    f"SELECT COUNT(*) FROM sqlite_master WHERE type = 'trigger' "
    f"AND name IN ({', '.join(repr(n) for n in SIDE_TRIGGERS)})")
REBUILD_SIDE_TABLES = (
    "DELETE FROM edge_callers",
    f"INSERT INTO edge_callers (name, caller) SELECT DISTINCT name, id >> {SHIFT} FROM edges "
    "ORDER BY 1, 2",
    "DELETE FROM edge_targets",
    f"INSERT INTO edge_targets (target, caller) SELECT DISTINCT answer, id >> {SHIFT} "
    f"FROM edges WHERE {_TARGETED} AND answer IS NOT NULL ORDER BY 1, 2",
)
DROP_SIDE_TRIGGERS = tuple(f"DROP TRIGGER IF EXISTS {name}" for name in SIDE_TRIGGERS)
ANY_EDGE = "SELECT 1 FROM edges LIMIT 1"
UPDATE_EDGE = "UPDATE edges SET flags = (flags & 7) | (? << 3), answer = ? WHERE id = ?"
BULK_UPDATE_ROWS = 500
CREATE_ANSWERS = """
CREATE TEMP TABLE IF NOT EXISTS edge_answers (
    provenance INTEGER NOT NULL, answer INTEGER, id INTEGER PRIMARY KEY)
"""
INSERT_ANSWER = "INSERT INTO edge_answers (provenance, answer, id) VALUES (?, ?, ?)"
UPDATE_FROM_ANSWERS = """
UPDATE edges SET flags = (edges.flags & 7) | (a.provenance << 3), answer = a.answer
FROM edge_answers a WHERE edges.id = a.id
"""
DROP_ANSWERS = "DROP TABLE edge_answers"
TEXT_IDS = "SELECT text, id FROM edge_texts WHERE text IN ({})"
ALL_TEXTS = "SELECT id, text FROM edge_texts"
NEXT_TEXT = "SELECT COALESCE(MAX(id), 0) + 1 FROM edge_texts"
INSERT_TEXT = "INSERT INTO edge_texts (id, text) VALUES (?, ?)"
# Texts no edge uses any more (an ambiguous candidate list changes with its candidates) go
# when there are twice as many as the last time they were counted.
TEXTS_META = "edge_texts_kept"
TEXTS_SLACK = 1024  # and at least this many more
COUNT_TEXTS = "SELECT COUNT(*) FROM edge_texts"
GET_TEXTS_KEPT = f"SELECT value FROM meta WHERE key = '{TEXTS_META}'"
SET_TEXTS_KEPT = (f"INSERT INTO meta (key, value) VALUES ('{TEXTS_META}', ?) "
                  "ON CONFLICT(key) DO UPDATE SET value = excluded.value")
DELETE_UNUSED_TEXTS = f"""
DELETE FROM edge_texts WHERE id NOT IN (
    SELECT name FROM edges UNION SELECT qualifier FROM edges
    UNION SELECT answer FROM edges WHERE flags >= {TARGETED << 3} AND answer IS NOT NULL)
"""
_SITE = f"""
SELECT e.id, {sid('s')}, {qname('s')}, {path_of('s')}, {label('s.language')}, {CALLEE},
       n.text,
       {RECEIVER_OF}, COALESCE(q.text, ''), {KIND_OF}, {PROVENANCE_OF}, {TARGET_OF}, d.text
"""


def sites_in_files(n: int) -> str:
    return (_SITE + f"FROM symbols s CROSS JOIN edges e ON {_range('s.seq')} {TEXTS}"
            f"WHERE s.file IN (SELECT id FROM files WHERE path IN ({_marks(n)}))")


def sites_named(n: int) -> str:
    return (_SITE + f"FROM {_NAMED} JOIN symbols s ON s.seq = x.caller {TEXTS}"
            f"WHERE w.text IN ({_marks(n)})")


def sites_of_callers_naming(n: int) -> str:
    """Every edge of the callers that call or reference one of n names."""
    return (_SITE + f"FROM {_CALLERS_NAMING} {TEXTS}WHERE w.text IN ({_marks(n)})")


def sites_qualified_by(n: int) -> str:
    """Every edge whose qualifier is one of n texts (a scan: for a rare change)."""
    return (_SITE + f"FROM edge_texts w JOIN edges e ON e.qualifier = w.id "
            f"JOIN symbols s ON s.seq = e.id >> {SHIFT} {TEXTS}"
            f"WHERE w.text IN ({_marks(n)})")


def fact_names(keys: Iterable[str]) -> set[str]:
    """The symbols' names that type-fact keys are about (`request_context` of
    `App.request_context()`, `Blueprint` of `Blueprint.__bases__`)."""
    return {key.removesuffix(RETURNS).removesuffix(BASES).removesuffix(CLASS_OF)
            .rsplit(".", 1)[-1] for key in keys if is_type_fact(key)}


def fact_variables(keys: Iterable[str]) -> set[str]:
    """The module-level variables that type-fact keys give a type (`app` of `app.__class__`)."""
    return {key.removesuffix(CLASS_OF) for key in keys if key.endswith(CLASS_OF)}


def sites_into(n: int) -> str:
    return (_SITE + f"FROM {_INTO} JOIN symbols s ON s.seq = y.caller {TEXTS}"
            f"WHERE y.target IN ({_marks(n)})")


_EDGE = f"""
SELECT {sid('c')}, {qname('c')}, {label('c.kind')}, {path_of('c')}, c.start_line + e.line,
       e.col, {CALLEE}, n.text, {RECEIVER_OF}, {PROVENANCE_OF}, {sid('t')}, d.text,
       {qname('t')}, {path_of('t')}, t.start_line, {KIND_OF}
"""
_TARGET = f"LEFT JOIN symbols t ON t.seq = e.answer AND {HAS_TARGET}"
_SEQ_OF = "(SELECT seq FROM symbols WHERE id = ?)"
EDGES_FROM = (_EDGE + f"FROM symbols c CROSS JOIN edges e ON {_range('c.seq')} {TEXTS} "
              f"{_TARGET} WHERE c.id = ? ORDER BY e.line, e.col")
EDGES_INTO = (_EDGE + f"FROM {_INTO} JOIN symbols c ON c.seq = y.caller {TEXTS} {_TARGET} "
              f"WHERE y.target = {_SEQ_OF} "
              f"ORDER BY {path_of('c')}, c.start_line + e.line, e.col LIMIT ?")
# ambiguous edges that list this symbol among their candidates (by name first; each
# candidate list read before its caller: most lists do not name it)
AMBIGUOUS_NAMED = _EDGE + f"""
FROM {_NAMED}
JOIN edge_texts d ON d.id = e.answer
CROSS JOIN symbols c ON c.seq = x.caller
JOIN edge_texts n ON n.id = e.name
LEFT JOIN edge_texts q ON q.id = e.qualifier
{_TARGET}
WHERE w.text = ?1 AND {AMBIGUOUS_CALL}
  AND instr(d.text, ',' || (SELECT seq FROM symbols WHERE id = ?2) || ',') > 0
ORDER BY {path_of('c')}, c.start_line + e.line LIMIT ?3
"""
def bindings_of(n: int) -> str:
    return f"SELECT path, bindings FROM files WHERE path IN ({_marks(n)})"


def counts_into(n: int) -> str:
    return (f"SELECT {sid('t')}, COUNT(*) FROM symbols t CROSS JOIN {_INTO} "
            f"AND y.target = t.seq WHERE t.id IN ({_marks(n)}) AND {IS_CALL} GROUP BY t.id")


COUNT_INTO = f"SELECT COUNT(*) FROM {_INTO} WHERE y.target = {_SEQ_OF} AND {IS_CALL}"


def inbound_by_seqs(n: int) -> str:
    """(seq, resolved sites, calls and references, that reach it) for these seqs that have
    any."""
    return (f"SELECT y.target, COUNT(*) FROM {_INTO} WHERE y.target IN ({_marks(n)}) "
            "GROUP BY y.target")


UNRESOLVED_NAMED = f"SELECT COUNT(*) FROM {_NAMED} WHERE w.text = ? AND {UNRESOLVED_CALL}"
PROVENANCE_COUNTS = f"SELECT {PROVENANCE_OF}, COUNT(*) FROM edges e GROUP BY 1"
SEQ_IDS = "SELECT seq, " + sid("symbols") + " FROM symbols WHERE seq IN ({})"


RESOLVE_SLICE = 25_000  # call sites resolved and written together at the end of a cold pass


def _marks(n: int) -> str:
    return ",".join("?" * n)


def chunked(items: Sequence[Any]) -> Iterable[Sequence[Any]]:
    for i in range(0, len(items), CHUNK):
        yield items[i:i + CHUNK]


def edge_row(site: Sequence[Any], ordinal: int, caller_seq: int, start_line: int,
             texts: dict[str, int], provenance: int = UNRESOLVED) -> tuple[Any, ...]:
    """A CallSite (aether.symbols.model) -> the leading columns of an edge row (`_COLS`):
    its line from its caller's `start_line`, its texts as their numbers (`texts`: every
    name and qualifier, see `text_ids`)."""
    _caller, callee, name, receiver, qualifier, line, col, kind = site[:8]
    return ((caller_seq << SHIFT) | ordinal, line - start_line, col, texts[name],
            texts[qualifier] if qualifier else 0, flags(RECV[receiver], KIND[kind], provenance),
            stored_callee(callee, name, qualifier))


def stored_callee(callee: str, name: str, qualifier: str) -> str | None:
    """An edge's `callee` column: NULL when it is `qualifier.name` (or the bare name), and
    without its name when it ends with `.name` (`Book.objects.all().` for
    `Book.objects.all().delete`: schema v26, 0.19 MB of Django's edges). A callee never ends
    with "." itself (aether.symbols.calls.shape ends it with the name called)."""
    if callee == (f"{qualifier}.{name}" if qualifier else name):
        return None
    if callee.endswith("." + name):
        return callee[:-len(name)]
    return callee


def callee_of(stored: str | None, name: str, qualifier: str) -> str:
    """The callee as written, from what `stored_callee` kept (CALLEE in SQL)."""
    if stored is None:
        return f"{qualifier}.{name}" if qualifier else name
    return stored + name if stored.endswith(".") else stored


def site_texts(sites: Sequence[Sequence[Any]]) -> set[str]:
    """The names and qualifiers of CallSites (what `edge_row` looks up)."""
    out = {c[2] for c in sites}
    out.update(c[4] for c in sites if c[4])
    return out


class Ordinals:
    """Each caller's next ordinal (the low bits of its edges' rowids), from 0: a caller's
    edges are all written together, its old ones deleted first."""

    def __init__(self) -> None:
        self._next: dict[int, int] = {}

    def __call__(self, caller_seq: int) -> int | None:
        n = self._next.get(caller_seq, 0)
        if n > LAST:
            return None
        self._next[caller_seq] = n + 1
        return n


async def text_ids(w: aiosqlite.Connection, texts: Iterable[str],
                   known: dict[str, int] | None = None) -> dict[str, int]:
    """text -> its number in `edge_texts`, added when new (inside the caller's write
    transaction: the numbers are stable while it holds the lock). `known` is read first and
    updated."""
    out = known if known is not None else {}
    wanted = sorted({t for t in texts if t not in out})
    for chunk in chunked(wanted):
        async with w.execute(TEXT_IDS.format(_marks(len(chunk))), chunk) as cur:
            out.update({t: i for t, i in await cur.fetchall()})
    missing = [t for t in wanted if t not in out]
    if missing:
        async with w.execute(NEXT_TEXT) as cur:
            row = await cur.fetchone()
        first = int(row[0]) if row else 1
        await w.executemany(INSERT_TEXT, [(first + i, t) for i, t in enumerate(missing)])
        out.update((t, first + i) for i, t in enumerate(missing))
    return out


async def insert_sites(w: aiosqlite.Connection, calls: Sequence[Sequence[Any]],
                       seq_of: dict[str, int]) -> int:
    """A save's call sites (CallSite tuples) as unresolved edges of their callers (whose
    old edges are gone); returns how many."""
    calls = [c for c in calls if c[0] in seq_of]
    if not calls:
        return 0
    texts = await text_ids(w, site_texts(calls))
    seqs = sorted({seq_of[c[0]] for c in calls})
    start: dict[int, int] = {}
    for chunk in chunked(seqs):
        async with w.execute(START_LINES + f" WHERE seq IN ({_marks(len(chunk))})",
                             chunk) as cur:
            start.update({seq: line for seq, line in await cur.fetchall()})
    ordinal = Ordinals()
    rows = []
    for c in calls:
        seq = seq_of[c[0]]
        n = ordinal(seq)
        if n is not None:
            rows.append(edge_row(c, n, seq, start[seq], texts))
    await w.executemany(INSERT_EDGE, rows)
    return len(rows)


def seqs_of(view: GraphView) -> dict[str, int]:
    """symbol id -> seq for every symbol the view holds (all a resolver may answer with)."""
    return {r.id: r.seq for refs in view.by_name.values() for r in refs}


class _SeqsOf(Mapping[str, int]):
    """symbol id -> seq read through the cold pass's refs by id: a second dict of every
    symbol (113,000 entries, ~5 MB at the cold pass's peak) for what `encode` asks once per
    distinct answer."""

    def __init__(self, refs: dict[str, SymbolRef]) -> None:
        self._refs = refs

    def __getitem__(self, key: str) -> int:
        return self._refs[key].seq

    def __contains__(self, key: object) -> bool:
        return key in self._refs

    def get(self, key: str, default: Any = None) -> Any:
        ref = self._refs.get(key)
        return default if ref is None else ref.seq

    def __iter__(self) -> Iterator[str]:
        return iter(self._refs)

    def __len__(self) -> int:
        return len(self._refs)


def encode(answer: Resolution, seq_of: Mapping[str, int]) -> tuple[int, int | None, str | None]:
    """A resolver's answer (ids, JSON) -> the stored (provenance, target, detail)."""
    code = PROV[answer.provenance]
    target = seq_of.get(answer.target_id) if answer.target_id else None
    detail = answer.detail
    if code == AMBIGUOUS and detail:
        found = json.loads(detail)
        seqs = [seq_of[i] for i in found.get("candidates", ()) if i in seq_of]
        detail = f"{int(found.get('count', len(seqs)))}," + "".join(f"{n}," for n in seqs)
    # one column holds either (schema v21): a resolved edge's target, another's detail
    return (code, target, None) if code < TARGETED else (code, None, detail)


Stored = tuple[int, int | None, str | None]  # (provenance, target, detail) as stored


async def _sites(w: aiosqlite.Connection, query: str, params: Sequence[Any]
                 ) -> list[tuple[EdgeSite, Stored]]:
    async with w.execute(query, params) as cur:
        rows = await cur.fetchall()
    return [(EdgeSite(eid, caller, qualified, path, language, callee, name, RECEIVERS[receiver],
                      qualifier, EDGE_KINDS[kind]), (prov, target, detail))
            for (eid, caller, qualified, path, language, callee, name, receiver, qualifier,
                 kind, prov, target, detail) in rows]


_ALL_EDGES = "SELECT id, name, qualifier, callee, flags, answer FROM edges"


async def _all_sites(w: aiosqlite.Connection, view: GraphView
                     ) -> list[tuple[EdgeSite, Stored]]:
    """Every edge, its caller's id, name, file and language joined in Python from the view's
    symbols, its texts from `edge_texts` read once (a cold index resolves everything at
    once; the SQL join cost as much as resolving)."""
    callers = {r.seq: r for refs in view.by_name.values() for r in refs}
    async with w.execute(ALL_TEXTS) as cur:
        texts: dict[int, str] = {i: t for i, t in await cur.fetchall()}
    async with w.execute(_ALL_EDGES) as cur:
        rows = await cur.fetchall()
    out: list[tuple[EdgeSite, Stored]] = []
    for eid, name_id, qualifier_id, callee, bits, answer in rows:
        ref = callers.get(eid >> SHIFT)
        if ref is None:  # cannot be (edges go with their caller); nothing to resolve
            continue
        name = texts[name_id]
        qualifier = texts[qualifier_id] if qualifier_id else ""
        callee = callee_of(callee, name, qualifier)
        prov = bits >> 3
        stored: Stored = ((prov, answer, None) if prov < TARGETED else
                          (prov, None, texts[answer] if answer is not None else None))
        out.append((EdgeSite(eid, ref.id, ref.qualified_name, ref.file_path, ref.language,
                             callee, name, RECEIVERS[bits & 3], qualifier,
                             EDGE_KINDS[(bits >> 2) & 1]), stored))
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
    seq_of = _SeqsOf(refs)
    # Files in the order of their symbols' seqs, so that rows (keyed by their caller's seq)
    # are appended to the table, never inserted between others (its pages stay full).
    first_seq: dict[str, int] = {}
    for r in refs.values():
        if r.seq < first_seq.get(r.file_path, r.seq + 1):
            first_seq[r.file_path] = r.seq
    order = sorted(held, key=lambda path: first_seq.get(path, 0), reverse=True)
    texts: dict[str, int] = {}
    async with w.execute(ALL_TEXTS) as cur:
        texts.update({t: i for i, t in await cur.fetchall()})
    async with w.execute(START_LINES) as cur:
        start: dict[int, int] = {seq: line for seq, line in await cur.fetchall()}
    # most sites share an answer with others (the resolver memoises them): each distinct
    # answer encoded once
    encoded: dict[Resolution, tuple[int, int | None, str | None]] = {}
    written = 0
    # A slice's rows are inserted (in the connection's thread, the GIL mostly released)
    # while the next slice is resolved here.
    inserting: asyncio.Future[Any] | None = None
    try:
        while order:
            # each file's sites are let go as they are taken: the held sites were the largest
            # part of what the pass still had in memory at its end
            calls: list[tuple[Any, ...]] = []
            while order and len(calls) < RESOLVE_SLICE:
                some = held.pop(order.pop())
                calls.extend(unpack_sites(some) if isinstance(some, bytes) else some)
            sites: list[EdgeSite] = []
            placed: list[tuple[Any, ...]] = []
            ordinal = Ordinals()
            for c in calls:
                ref = refs.get(c[0])
                if ref is None:  # its symbol went meanwhile (the file was deleted): no edge
                    continue
                n = ordinal(ref.seq)
                if n is None:
                    continue
                # c: caller_id, callee, name, receiver, qualifier, line, col, kind
                sites.append(EdgeSite._make((len(sites), c[0], ref.qualified_name,
                                             ref.file_path, ref.language, c[1], c[2], c[3],
                                             c[4], c[7])))
                placed.append((c, n, ref.seq))
            answers = resolver(view, sites)
            if inserting is not None:
                await inserting
            codes = []
            for a in answers:
                code = encoded.get(a)
                if code is None:
                    code = encoded[a] = encode(a, seq_of)
                codes.append(code)
            wanted = site_texts([c for c, _n, _s in placed])
            wanted.update(detail for _p, _t, detail in encoded.values() if detail is not None)
            await text_ids(w, wanted, texts)
            batch = [(*edge_row(c, n, seq, start[seq], texts, prov),
                      answer_of(prov, target, texts[detail] if detail is not None else None))
                     for (c, n, seq), (prov, target, detail) in zip(placed, codes, strict=True)]
            batch.sort()
            inserting = asyncio.ensure_future(w.executemany(INSERT_RESOLVED_EDGE, batch))
            await asyncio.sleep(0)  # the task hands its rows to the connection's thread now
            written += len(batch)
    except BaseException:
        if inserting is not None:  # its rows go with the caller's rollback
            await asyncio.gather(inserting, return_exceptions=True)
        raise
    if inserting is not None:
        await inserting
    return written


async def resolve(w: aiosqlite.Connection, resolver: Resolver, *, paths: Sequence[str] = (),
                  names: Iterable[str] = (), removed_seqs: Iterable[int] = (),
                  callers_of: Iterable[str] = (), qualified_by: Iterable[str] = (),
                  everything: bool = False) -> int:
    """Re-resolve, inside the caller's transaction, the edges of `paths`, every edge that
    calls one of `names` (directly or through an import alias: its candidates may have
    appeared, changed or gone), every edge into the removed symbols `removed_seqs` and
    every edge of the callers that call or reference one of `callers_of` (functions whose
    return type, classes whose bases changed: the calls on what they made) and every call
    on one of the variables `qualified_by` (whose type changed); or all edges.
    Writes only the rows whose answer changed; returns how many did."""
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
            add(await _sites(w, sites_in_files(len(chunk)), chunk))
        wanted = set(names)
        if wanted:  # local names that import one under another name (`helper as h`)
            wanted |= await name_facts.local_names(w, wanted)
        for chunk in chunked(sorted(wanted)):
            add(await _sites(w, sites_named(len(chunk)), chunk))
        for chunk in chunked(sorted(set(removed_seqs))):
            add(await _sites(w, sites_into(len(chunk)), chunk))
        for chunk in chunked(sorted(set(callers_of))):
            add(await _sites(w, sites_of_callers_naming(len(chunk)), chunk))
        for chunk in chunked(sorted(set(qualified_by))):
            add(await _sites(w, sites_qualified_by(len(chunk)), chunk))
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
    if not updates:
        return 0
    texts = await text_ids(w, (detail for _p, _t, detail, _i in updates if detail is not None))
    rows = [(prov, answer_of(prov, target, texts[detail] if detail is not None else None), eid)
            for prov, target, detail, eid in updates]
    if len(rows) > BULK_UPDATE_ROWS:
        # many rows: through a temp table and one UPDATE ... FROM (a third of the cost)
        await w.execute(CREATE_ANSWERS)
        await w.executemany(INSERT_ANSWER, rows)
        await w.execute(UPDATE_FROM_ANSWERS)
        await w.execute(DROP_ANSWERS)
    else:
        await w.executemany(UPDATE_EDGE, rows)
    return len(rows)


async def ensure_lookups(w: aiosqlite.Connection) -> None:
    """After a pass: `edge_callers` and `edge_targets` rebuilt, sorted, and kept by their
    triggers again when a cold pass went without them, and the index of name_facts made
    again; unused texts go now and then."""
    async with w.execute(SIDE_TRIGGERS_PRESENT) as cur:
        row = await cur.fetchone()
    if row is None or row[0] != len(SIDE_TRIGGERS):
        for statement in (*DROP_SIDE_TRIGGERS, *REBUILD_SIDE_TABLES, *SIDE_TRIGGERS.values()):
            await w.execute(statement)
    await w.execute(name_facts.CREATE_INDEX)  # dropped by a cold pass (name_facts.INDEX)
    async with w.execute(COUNT_TEXTS) as cur:
        row = await cur.fetchone()
    count = int(row[0]) if row else 0
    async with w.execute(GET_TEXTS_KEPT) as cur:
        kept = await cur.fetchone()
    if kept is None or count > 2 * int(kept[0]) + TEXTS_SLACK:
        if kept is not None:
            await w.execute(DELETE_UNUSED_TEXTS)
            async with w.execute(COUNT_TEXTS) as cur:
                row = await cur.fetchone()
            count = int(row[0]) if row else 0
        await w.execute(SET_TEXTS_KEPT, (str(count),))


def _names_read(sites: Iterable[EdgeSite]) -> set[str]:
    """The names resolution looks up: the called name, the receiver's head (a class of the
    file?) and the caller's enclosing scopes (its class)."""
    names: set[str] = set()
    for site in sites:
        names.add(site.name)
        if site.qualifier.endswith(RETURNS):  # a call's result: the functions called
            names.update(p.removesuffix(RETURNS) for p in site.qualifier.split("."))
        elif site.receiver == "expression" and "()." in site.callee:  # `f().g()`: f
            names.update(site.callee.rpartition("().")[0].split("."))
        elif site.qualifier:
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
