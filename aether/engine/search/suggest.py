"""Nearest symbol names for a query that matched nothing (typos, half-remembered names), by
fuzzy matching over the distinct names of the index. The name list is cached and reloaded
only when the index changed.

rapidfuzz is imported by the first query that needs suggestions (~3 MB and 40 modules a
daemon would otherwise hold from its start, though most searches match something)."""

from __future__ import annotations

from aether.store.db import Store

MAX_SUGGESTIONS = 5
MIN_SCORE = 60.0


class NameSuggester:
    def __init__(self, store: Store) -> None:
        self.store = store
        self._names: list[str] = []
        self._key: str | None = None

    async def _load(self) -> list[str]:
        key = await self.store.get_meta("last_indexed_at")
        if key != self._key or not self._names:
            self._names = await self.store.all_names()
            self._key = key
        return self._names

    def release(self) -> bool:
        """Drop the cached name list (an idle daemon); the next query reloads it."""
        held, self._names, self._key = bool(self._names), [], None
        return held

    async def nearest(self, query: str) -> list[str]:
        from rapidfuzz import fuzz, process, utils

        names = await self._load()
        found = process.extract(query.strip()[:200], names, scorer=fuzz.WRatio,
                                processor=utils.default_process, limit=MAX_SUGGESTIONS,
                                score_cutoff=MIN_SCORE)
        return [name for name, _, _ in found]

    async def count_named(self, name: str) -> int:
        return await self.store.count_named(name)
