"""The search envelope (CLI `search --json`, MCP `aether_search`): the fields of version 1
plus, additively, why each match matched, whether it is test code, how many other symbols
share an exact name, and the nearest names when nothing matched."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from aether.present.views import SearchMatch, SearchView, search_match


class RankedMatch(SearchMatch):
    why: str = Field(default="", description="One line: the terms that matched and where, "
                                             "or the semantic similarity")
    is_test: bool = Field(default=False, description="In a test, example, vendored or "
                                                     "generated file (ranked below product "
                                                     "code unless include_tests)")
    role: str = Field(default="product",
                      description="product | test | example | vendored | generated")
    same_name_count: int | None = Field(
        default=None, description="How many OTHER symbols have this exact name (when shared)")


class RankedSearchView(SearchView):
    matches: list[RankedMatch]  # type: ignore[assignment]
    suggestions: list[str] = Field(
        default_factory=list, description="Nearest symbol names when nothing matched")
    note: str | None = Field(default=None, description="Why nothing matched, when nothing did")


def ranked_match(hit: Any, *, full: bool = False) -> RankedMatch:
    """From an `aether.engine.search.SearchHit` (duck-typed: present sits below engine);
    `full` adds the signature and the whole SIR."""
    base = search_match(hit.record, full=full).model_dump()
    return RankedMatch(**base, why=hit.why, is_test=hit.is_test, role=hit.role,
                       same_name_count=hit.same_name_count)


def search_view(outcome: Any, *, full: bool = False) -> RankedSearchView:
    """From an `aether.engine.search.SearchOutcome`."""
    return RankedSearchView(
        query=outcome.query, limit=outcome.limit, mode_requested=outcome.mode_requested,
        mode_used=outcome.mode_used, fallback_reason=outcome.fallback_reason,
        result_count=len(outcome.hits), matches=[ranked_match(h, full=full) for h in outcome.hits],
        suggestions=outcome.suggestions, note=outcome.note)
