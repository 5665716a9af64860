"""Search that answers questions. Three modes, one ranking behind every surface:

- `lexical`: BM25 over stemmed, identifier-split FTS5 columns, any term may match
  (`aether.engine.search.lexical`);
- `semantic`: cosine over local static embeddings (`aether.engine.search.semantic`);
- `hybrid` (default): both, fused by reciprocal rank fusion.

A name typed exactly still comes first. Tests, examples, vendored and generated code rank
below product code unless asked. An empty answer offers the nearest names; every match says
why it matched; `mode_used` and `fallback_reason` say what really ran.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field

from aether.engine.search.embedder import EmbedderUnavailable
from aether.engine.search.lexical import (
    EXACT,
    NON_PRODUCT_FACTOR,
    OTHER,
    SPELLED,
    Candidate,
    finish,
    lexical_candidates,
    nesting,
)
from aether.engine.search.semantic import VectorIndex
from aether.engine.search.suggest import NameSuggester
from aether.providers.errors import ProviderError
from aether.store.db import Store
from aether.store.records import SymbolRecord
from aether.symbols.file_roles import file_role
from aether.symbols.terms import QueryError, QueryTerms, parse_query

MODES = ("hybrid", "lexical", "semantic")
MAX_LIMIT = 500
RRF_K = 60  # the usual constant: ranks past ~60 add little, so one list cannot drown the other
SEMANTIC_CANDIDATES = 100
# Below this cosine a static-embedding neighbour is noise (unrelated texts score ~0.1-0.2):
# a typo must get "nothing matches, did you mean", not ten random symbols.
SEMANTIC_FLOOR = 0.3
PREFIX_MAX_CHARS = 3  # as-you-type: a query this short is a name prefix
# Languages whose classes and modules are open: `module Rack::Multipart` in another file
# reopens the same module, so a second hit of the name repeats the first one.
OPEN_CONTAINERS = {"ruby": frozenset({"module", "class"})}

log = logging.getLogger("aether.search")

__all__ = ["MODES", "QueryError", "SearchHit", "SearchOutcome", "Searcher"]


@dataclass(slots=True)
class SearchHit:
    record: SymbolRecord
    why: str
    is_test: bool
    role: str
    score: float
    same_name_count: int | None = None  # other symbols with this exact name, when shared


@dataclass(slots=True)
class SearchOutcome:
    query: str
    limit: int
    mode_requested: str
    mode_used: str
    fallback_reason: str | None
    hits: list[SearchHit] = field(default_factory=list)
    suggestions: list[str] = field(default_factory=list)
    note: str | None = None

    @property
    def records(self) -> list[SymbolRecord]:
        return [h.record for h in self.hits]


class Searcher:
    """Per engine: holds the cached vector matrix and name list between queries."""

    def __init__(self, store: Store, vectors: VectorIndex | None) -> None:
        self.store = store
        self.vectors = vectors
        self.names = NameSuggester(store)
        self.last_used = time.monotonic()

    async def search(self, query: str, limit: int = 20, mode: str = "hybrid", *,
                     include_tests: bool = False, prefix: bool | None = None) -> SearchOutcome:
        """Raises QueryError (one line, for the user) when the query has nothing to search."""
        if mode not in MODES:
            raise QueryError(f"unknown search mode {mode!r}: use one of {', '.join(MODES)}")
        limit = max(1, min(int(limit), MAX_LIMIT))
        self.last_used = time.monotonic()
        terms = parse_query(query)
        if prefix is None:
            prefix = len(terms.whole) == 1 and len(query.strip()) <= PREFIX_MAX_CHARS
        out = SearchOutcome(query, limit, mode, mode, None)

        async def semantic() -> list[tuple[int, float]]:
            if mode == "lexical":
                return []
            found, reason, note = await self._semantic(self.semantic_text(terms, query))
            if reason:
                out.mode_used, out.fallback_reason = "lexical", reason
            elif note:
                out.fallback_reason = note  # local vectors stood in for the provider's
            return [(s, v) for s, v in found if v >= SEMANTIC_FLOOR]

        async def lexical(needed: bool) -> list[Candidate]:
            if not needed:
                return []
            return await lexical_candidates(self.store, terms, include_tests=include_tests,
                                            prefix=prefix)

        # Both retrievers at once: the FTS query runs in the store's thread, the embedding
        # and the matrix product in another.
        sem, lex = await asyncio.gather(semantic(), lexical(mode != "semantic"))
        if mode == "semantic" and out.mode_used == "lexical":
            lex = await lexical(True)  # semantic fell back: its answer is the lexical one
        info = await self.store.symbol_paths(
            list(dict.fromkeys([c.seq for c in lex] + [s for s, _ in sem])))
        exact = [c.seq for c in lex if c.tier == EXACT][:MAX_LIMIT]
        inbound = await self.store.inbound_counts(exact) if len(exact) > 1 else {}
        lex = finish(info, [c for c in lex if c.seq in info], terms,
                     include_tests=include_tests, inbound=inbound)
        sem = [(s, v) for s, v in sem if s in info]

        ranked = self._fuse(lex, sem, out.mode_used, info, include_tests)[:limit]
        # Full records (with their SIRs) only for what is shown.
        records = await self.store.symbols_by_seqs([seq for seq, *_ in ranked])
        for seq, score, why, _exact in ranked:
            r = records.get(seq)
            if r is None:
                continue  # removed since the candidates were read
            role = file_role(r.file_path)
            out.hits.append(SearchHit(r, why, role != "product", role, round(score, 6)))
        out.hits = _reopenings_last(out.hits)
        await self._same_names(out)
        if not out.hits or (out.mode_used != "semantic" and not lex):
            # No word of the query is in the index: a misspelt name, most likely.
            out.suggestions = await self.names.nearest(query)
        if not out.hits:
            out.note = ("nothing matches; " + (
                "did you mean: " + ", ".join(out.suggestions) if out.suggestions
                else "try other words or a symbol's name"))
        return out

    def release_idle(self, idle_s: float) -> bool:
        """Drop what searching loaded (vectors, the local model, the name list) when no
        search used it for `idle_s` seconds (0: now); the next search loads it again. True
        if anything was dropped."""
        if time.monotonic() - self.last_used < idle_s:
            return False
        dropped = self.vectors.release_idle(idle_s) if self.vectors is not None else False
        return self.names.release() or dropped

    @staticmethod
    def semantic_text(terms: QueryTerms, query: str) -> str:
        return " ".join(terms.raw_words) or query

    async def _semantic(self, text: str
                        ) -> tuple[list[tuple[int, float]], str | None, str | None]:
        """(neighbours, why semantic search could not run, a note on what stood in)."""
        if self.vectors is None:
            return [], "semantic search is turned off ([search] vectors = false)", None
        matrix, reason = await self.vectors.readiness(self.store)
        if matrix is None:
            return [], reason, None
        try:
            found = await self.vectors.nearest(self.store, matrix, text, SEMANTIC_CANDIDATES)
            return found, None, matrix.note
        except EmbedderUnavailable as exc:
            return [], str(exc), None
        except ProviderError as exc:
            # The stored vectors are the provider's: local ones cannot be compared to them.
            return [], (f"provider embeddings failed for the query ({exc.kind}: {exc}); "
                        "lexical results only"), None

    @staticmethod
    def _fuse(lex: list[Candidate], sem: list[tuple[int, float]], mode: str,
              info: dict[int, tuple[str, str, str]], include_tests: bool,
              ) -> list[tuple[int, float, str, bool]]:
        """(seq, score, why, exact name hit), best first."""
        by_seq = {c.seq: c for c in lex}
        if mode == "lexical":
            return [(c.seq, c.score, c.why(), c.tier == EXACT) for c in lex]

        def demote(seq: int) -> float:
            role = file_role(info[seq][0])
            factor = nesting(info[seq][1])
            return factor if include_tests or role == "product" else factor * NON_PRODUCT_FACTOR

        if mode == "semantic":
            ranked = sorted(((s, v * demote(s)) for s, v in sem), key=lambda t: -t[1])
            return [(s, v, f"similar meaning (cosine {v:.2f})", False) for s, v in ranked]
        fused: dict[int, float] = {}
        # A rank keeps no magnitude: a test first among the lexical candidates would still
        # outrank product code, so what is not product code weighs less in both lists (its
        # lexical rank already carries the nesting and privacy factors; semantic ranks get
        # them here).
        role_weight = 1.0 if include_tests else NON_PRODUCT_FACTOR
        for rank, c in enumerate(lex[:SEMANTIC_CANDIDATES]):
            weight = role_weight if c.is_test else 1.0
            fused[c.seq] = fused.get(c.seq, 0.0) + weight / (RRF_K + rank + 1)
        sem_sorted = sorted(sem, key=lambda t: -t[1] * demote(t[0]))
        cosine = dict(sem)
        for rank, (s, _) in enumerate(sem_sorted):
            fused[s] = fused.get(s, 0.0) + demote(s) / (RRF_K + rank + 1)
        tiers = {c.seq: c.tier for c in lex}
        as_typed = {c.seq for c in lex if c.same_case}
        first = {EXACT: 0, SPELLED: 1}  # then everything else, by fused rank
        order = sorted(fused, key=lambda s: (first.get(tiers.get(s, OTHER), 2),
                                             s not in as_typed, -fused[s]))
        out = []
        for s in order:
            hit = by_seq.get(s)
            whys = [hit.why()] if hit else []
            if s in cosine:
                whys.append(f"similar meaning (cosine {cosine[s]:.2f})")
            out.append((s, fused[s], "; ".join(whys), bool(hit and hit.tier == EXACT)))
        return out

    async def _same_names(self, out: SearchOutcome) -> None:
        """For exact-name hits whose name many symbols share, say how many others do."""
        counts: dict[str, int] = {}
        for hit in out.hits:
            name = hit.record.name
            if not hit.why.startswith("exact name match"):
                continue
            if name not in counts:
                counts[name] = await self.names.count_named(name)
            others = counts[name] - 1
            if others > 0:
                hit.same_name_count = others
                shared = f" ({others} other symbol{'s' if others != 1 else ''} share the name)"
                hit.why = hit.why.replace("exact name match", "exact name match" + shared, 1)


def _reopenings_last(hits: list[SearchHit]) -> list[SearchHit]:
    """Hits that reopen a container shown above them (see OPEN_CONTAINERS) after the rest:
    usually a bare `module X` wrapping the file's code, which says nothing the first did."""
    seen: set[tuple[str, str, str]] = set()
    first: list[SearchHit] = []
    again: list[SearchHit] = []
    for hit in hits:
        r = hit.record
        if r.kind not in OPEN_CONTAINERS.get(r.language, ()):
            first.append(hit)
            continue
        key = (r.language, r.kind, r.qualified_name)
        (again if key in seen else first).append(hit)
        seen.add(key)
    return first + again
