"""Ranked lexical search: FTS5 over names, qualified names, name words, paths and SIR text."""

from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass, field

from aether.store.db import Store
from aether.store.records import SymbolRecord

MODES = ("lexical", "semantic")
_TERM = re.compile(r"\w+", re.UNICODE)


@dataclass(slots=True)
class SearchOutcome:
    query: str
    limit: int
    mode_requested: str
    mode_used: str
    fallback_reason: str | None
    records: list[SymbolRecord] = field(default_factory=list)


def fts_query(text: str) -> str | None:
    """Every word of the query must match, each as a prefix; quoting makes user text inert."""
    terms = _TERM.findall(text)
    if not terms:
        return None
    return " ".join(f'"{t}"*' for t in terms[:16])


def _exact_first(query: str, records: list[SymbolRecord]) -> list[SymbolRecord]:
    q = query.strip().lower()
    return sorted(
        records,
        key=lambda r: (r.qualified_name.lower() != q, r.name.lower() != q),
    )


async def search(store: Store, query: str, limit: int = 20,
                 mode: str = "lexical") -> SearchOutcome:
    limit = max(1, min(int(limit), 500))
    outcome = SearchOutcome(query, limit, mode, "lexical", None)
    if mode != "lexical":
        outcome.fallback_reason = f"{mode} search is not available; used lexical search"
    match = fts_query(query)
    records: list[SymbolRecord] = []
    if match is not None:
        try:
            records = await store.search(match, limit * 3)
        except sqlite3.OperationalError as exc:  # should not happen with quoted terms
            outcome.fallback_reason = f"full-text query failed ({exc}); used substring match"
    if not records and query.strip():
        records = await store.search_like(query.strip(), limit)
        if records:
            outcome.mode_used = "substring"
            outcome.fallback_reason = outcome.fallback_reason or "no full-text match"
    outcome.records = _exact_first(query, records)[:limit]
    return outcome
