"""The engine: one object that owns the store and the provider, used by every surface."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import sqlite3
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from aether.config import Settings
from aether.engine import health, memory
from aether.engine.estimate import Estimate, estimate
from aether.engine.graph_resolve import clear_modules
from aether.engine.indexer import UNSUPPORTED_META, Indexer, IndexReport, ProgressFn
from aether.engine.pipeline import PipelineReport, SirPipeline
from aether.engine.priority import rank
from aether.engine.search import Searcher, SearchOutcome
from aether.engine.search.embedder import LocalEmbedder
from aether.engine.search.lexical import prominence
from aether.engine.search.remote import make_remote_embedder
from aether.engine.search.semantic import SyncReport, VectorIndex, VectorOverlap
from aether.engine.spending import attach_meter, spend_status
from aether.engine.writer_lock import current_writer
from aether.guard.spend import SpendMeter
from aether.present import HealthView, StatusView
from aether.present.memory import MemoryView
from aether.providers.base import Provider
from aether.sir.prompt import PROMPT_VERSION
from aether.sir.static_rules import clear_cache as clear_static_cache
from aether.store.db import Recovery, Store, StoreDamaged, StoreError
from aether.store.records import Counts, SymbolRecord, clear_search_row_cache
from aether.symbols.languages import language_for_path
from aether.symbols.spellings import canonical_spelling, module_prefixes, path_mentions
from aether.symbols.terms import clear_caches as clear_term_caches
from aether.symbols.terms import dotted
from aether.workspace import resolve_in_workspace

MEMORY_META = "daemon_memory"
_SYMBOL_ID = re.compile(r"^[0-9a-f]{32}$")


class NotIndexed(StoreError):
    """No database yet for this workspace (and the caller asked not to create one)."""


MAX_LINE = 2**31 - 1  # SQLite integers stop at 2^63; no file has this many lines
# symbols sharing one name read to match a qualified name written with another separator
MAX_SAME_NAME = 5000
MAX_QUERY_CHARS = 1024  # a query is a few words; SQLite refuses patterns far shorter than 60 K


class QueryTooLong(ValueError):
    """A search query beyond MAX_QUERY_CHARS; the message says the limit."""


class UnknownTarget(LookupError):
    """No symbol matches what the user asked for; the message says so plainly."""


class AmbiguousTarget(LookupError):
    def __init__(self, target: str, candidates: list[SymbolRecord]) -> None:
        where = ", ".join(f"{c.file_path}:{c.start_line}" for c in candidates[:5])
        super().__init__(f"{len(candidates)} symbols are named {target!r}: {where}")
        self.candidates = candidates


@dataclass(slots=True)
class IndexSummary:
    index: IndexReport
    sirs: PipelineReport
    vectors: SyncReport | None = None


def _make_provider(settings: Settings) -> Provider:
    from aether.providers.factory import make_provider

    return make_provider(settings.inference)


def not_indexed_status(settings: Settings) -> StatusView:
    """The status of a workspace with no database yet, built without creating anything."""
    return StatusView(
        workspace=str(settings.workspace), db_path=str(settings.db_path), file_count=0,
        skipped_file_count=0, symbol_count=0, sir_count=0, ok_count=0, stale_count=0,
        pending_count=0, error_count=0, last_indexed_at=None,
        provider=settings.inference.provider, model=settings.inference.model,
        health=HealthView(status="not_indexed", reasons=[
            "no database yet: `aether index` (or an editor/agent session) creates it"]),
        writer=current_writer(settings.data_dir),
        untrusted_config=settings.untrusted_config, untrusted_reason=settings.untrusted_reason)


class Engine:
    def __init__(self, settings: Settings, store: Store, provider: Provider) -> None:
        self.settings = settings
        self.store = store
        self.provider = provider
        self.meter: SpendMeter | None = None
        self._model_checked = False
        # Someone's own request (hover, get_sir, explain, refresh) is being served: bulk
        # passes wait before their next symbol, so asked-for symbols jump the queue.
        self._demands = 0
        self._no_demand = asyncio.Event()
        self._no_demand.set()
        self.vectors = (VectorIndex(LocalEmbedder(), make_remote_embedder(settings))
                        if settings.search.vectors else None)
        self.searcher = Searcher(store, self.vectors)
        # Set by a daemon in this process; otherwise status reads what the writer recorded.
        self.memory: memory.MemoryState | None = None

    @classmethod
    async def open(cls, settings: Settings, provider: Provider | None = None, *,
                   create: bool = True, check: bool = True) -> Engine:
        """`create=False`: a folder never indexed raises NotIndexed and nothing is created.
        `check=False` skips the bounded integrity check at open (a quick lookup; damage is
        still caught by the first query that meets it)."""
        if not create and not settings.db_path.exists():
            raise NotIndexed(f"{settings.workspace} is not indexed: run `aether index`")
        memory.fix_mmap_threshold()  # before the engine's big buffers come and go
        store = await Store.open(settings.db_path, check_budget_s=1.0 if check else 0.0)
        try:
            engine = cls(settings, store, provider or _make_provider(settings))
            # a damaged store cannot seed the meter: status reports it, and `repair` (which
            # comes before any provider request) attaches the meter once the store is new
            with contextlib.suppress(StoreDamaged):
                engine.meter = await attach_meter(settings, store, engine.provider)
            return engine
        except BaseException:
            await store.close()  # its threads would otherwise keep the process alive
            raise

    async def close(self) -> None:
        try:
            await self.provider.aclose()
            if self.vectors is not None and self.vectors.remote is not None:
                await self.vectors.remote.aclose()
        finally:
            await self.store.close()

    # ------------------------------------------------------------------ writing

    def _pipeline(self, *, demand: bool = False) -> SirPipeline:
        inf = self.settings.inference
        workers = 1 if self.provider.name == "static" else inf.max_concurrency * 2
        key = inf.api_key()
        return SirPipeline(self.store, self.provider, self.settings.workspace,
                           workers=workers, secrets=[key] if key else [], meter=self.meter,
                           verify_retry_share=inf.verify_retry_share,
                           yield_to=None if demand else self._no_demand.wait,
                           skip_fresh=not demand)

    async def index(self, progress: ProgressFn | None = None,
                    sir_progress: ProgressFn | None = None,
                    paths: list[str] | None = None, *,
                    retry_failed: bool = True, max_workers: int | None = None,
                    hand_off: Callable[[int], Awaitable[bool]] | None = None) -> IndexSummary:
        """Index the workspace (or `paths`), then make SIRs for everything that needs one:
        new and changed symbols, those left pending by earlier runs, and (unless
        `retry_failed` is off) those whose last attempt failed. `hand_off`: see Indexer."""
        static = self.provider.name == "static"
        overlap = VectorOverlap(self.vectors, self.store) if (
            static and self.vectors is not None and self.vectors.remote is None) else None
        indexer = Indexer(self.settings, self.store, static=static,
                          after_write=overlap.kick if overlap else None,
                          max_workers=max_workers, hand_off=hand_off,
                          vector_texts=self.vectors.hint if self.vectors is not None else None)
        try:
            return await self._index(indexer, overlap, paths, progress, sir_progress,
                                     retry_failed, static)
        finally:
            if self.vectors is not None:
                self.vectors.drop_hints()  # what no sync took: a few bytes a symbol

    async def _index(self, indexer: Indexer, overlap: VectorOverlap | None,
                     paths: list[str] | None, progress: ProgressFn | None,
                     sir_progress: ProgressFn | None, retry_failed: bool,
                     static: bool) -> IndexSummary:
        try:
            report = await indexer.run(progress, paths)
        except BaseException:
            if overlap:
                overlap.cancel()
            raise
        early = await overlap.finish() if overlap else None
        # after a recovery: SIRs read back from the damaged file, for exactly this code
        report.sirs_salvaged = await self.store.adopt_salvaged()
        if paths is None:
            await self.store.clear_salvage()
        if not static and not self._model_checked:
            # another provider, model or prompt version wrote these: stale, regenerated
            # (under the caps) and served meanwhile, labelled with their model. Once per
            # process: every SIR written after this is by the configured model.
            await self.store.mark_model_changed(self.provider.name, self.provider.model,
                                                PROMPT_VERSION)
            self._model_checked = True
        queue = rank(await self.store.sir_queue(include_failed=retry_failed))
        sirs = await self._pipeline().run(queue, sir_progress)
        vectors = await self.sync_vectors()
        if early is not None and vectors is not None:
            vectors.symbols += early.symbols
            vectors.embedded += early.embedded
            vectors.seconds += early.seconds
        if report.cold:
            await self.store.compact()  # every row is written: pack them on full pages
        return IndexSummary(report, sirs, vectors)

    async def sync_vectors(self) -> SyncReport | None:
        """Embed what changed since the last sync (search is lexical until this is done)."""
        if self.vectors is None:
            return None
        from aether.engine.search.embedder import EmbedderUnavailable

        try:
            return await self.vectors.sync(self.store)
        except EmbedderUnavailable as exc:
            await self.store.record_errors([("embed", "embedder_unavailable", str(exc), None)])
            return None

    async def estimate(self, progress: ProgressFn | None = None, *,
                       reindex: bool = True) -> Estimate:
        """What the next pass would cost with the configured provider and model. Brings the
        symbol table up to date (parsing only; no provider is called, no SIR is touched)."""
        if reindex:
            static = self.provider.name == "static"
            await Indexer(self.settings, self.store, static=static).run(progress)
        queue = rank(await self.store.sir_queue(include_failed=True))
        if self.provider.name != "static":
            queued = set(queue)
            queue += [i for i in rank(await self.store.model_changed_queue(
                self.provider.name, self.provider.model, PROMPT_VERSION)) if i not in queued]
        return await estimate(self.settings, self.store, self._pipeline(), queue,
                              self.provider.name, self.provider.model)

    async def release_memory(self, *, shed: bool = False) -> None:
        """After a pass: drop per-pass caches and hand freed heap back to the OS. With `shed`
        (above the memory ceiling) also keep SQLite's page caches minimal until told
        otherwise (`shed=False` on a later call restores them)."""
        clear_static_cache()
        clear_term_caches()
        if shed:
            self.searcher.release_idle(0)
        await self.store.shed_memory(lean=shed)
        await asyncio.to_thread(memory.collect if shed else memory.trim_heap)

    async def release_idle(self, idle_s: float, *, lean: bool = False) -> bool:
        """Drop the search model, vectors and name list when no search or sync used them
        for `idle_s` seconds, empty SQLite's page caches (their limit stays, `lean` or not;
        the OS keeps the file cached), and give the memory back to the OS. True if anything
        went."""
        if not self.searcher.release_idle(idle_s):
            return False
        # what the last saves' edge resolution kept: the workspace's modules; the next save
        # rebuilds them.
        # The term caches too: filled while active, their entries are scattered over the
        # interpreter's small-object arenas and would keep them from being freed.
        clear_modules()
        clear_static_cache()
        clear_term_caches()
        clear_search_row_cache()
        await self.store.shed_memory(lean=lean)
        await asyncio.to_thread(memory.collect)
        return True

    async def refresh(self, symbol_ids: list[str]) -> list[SymbolRecord]:
        """SIRs for these symbols now: someone asked, so bulk passes wait meanwhile."""
        self._demands += 1
        self._no_demand.clear()
        try:
            await self._pipeline(demand=True).run(symbol_ids)
        finally:
            self._demands -= 1
            if self._demands == 0:
                self._no_demand.set()
        await self.sync_vectors()
        return await self.store.symbols(symbol_ids)

    # ------------------------------------------------------------------ reading

    async def resolve(self, target: str) -> SymbolRecord:
        """A symbol id, a qualified name (or bare name), or `path:line`."""
        target = target.strip()
        path, sep, line = target.rpartition(":")
        if sep and line.isdigit() and path:
            if len(line) > 10 or int(line) > MAX_LINE:
                raise UnknownTarget(f"line {line[:20]} is out of range (at most {MAX_LINE:,})")
            return await self.symbol_enclosing(path, int(line))
        if _SYMBOL_ID.match(target):
            rec = await self.store.symbol(target)
            if rec is not None:
                return rec
        found = await self.symbols_by_qualified_name(target)
        if not found:
            found = await self.store.symbols_by_name(canonical_spelling(target))
        if not found:
            raise UnknownTarget(f"unknown symbol: {target}")
        if len(found) > 1:
            raise AmbiguousTarget(target, found)
        return found[0]

    async def symbols_by_qualified_name(self, target: str) -> list[SymbolRecord]:
        """Symbols of this qualified name, written with any language's separator: Rust's
        `Error.context` is found as `Error::context` too, C++'s `ns::Cache::get` as
        `ns.Cache.get`, Ruby's `Foo.bar` as `Foo#bar`. When none has the whole name, those
        it ends: `Query::parse` finds PHP's `GuzzleHttp\\Psr7\\Query::parse`. Written as
        developers do (aether.symbols.spellings): Go's `(*Command).Execute`, Rust's
        `<Value as Deserialize>::deserialize`, `Map<K, V>::insert`, `Cache.get()`; and with
        the module in front (`cobra.Command.Execute`, `serde_json::from_str`,
        `requests.sessions.Session.send`) when nothing has the whole name: the symbols named
        by the rest, those whose path names the module first."""
        target = canonical_spelling(target)
        found = await self.store.symbols_by_qualified_name(target)
        want = dotted(target)
        name = want.rpartition(".")[2]
        if found or not name or want == name:
            return found
        named = await self.store.symbols_by_name(name, MAX_SAME_NAME)
        whole = [r for r in named if dotted(r.qualified_name) == want]
        ends = whole or [r for r in named if dotted(r.qualified_name).endswith("." + want)]
        if ends:
            return ends
        for modules, rest in module_prefixes(want):
            under = [r for r in named if dotted(r.qualified_name) == rest]
            if under:
                return [r for r in under if path_mentions(r.file_path, modules)] or under
        return []

    async def not_indexed_reason(self, rel: str) -> str | None:
        """Why a workspace file has no symbols in the store when that is because it is not
        indexed (`huge.go is not indexed: ...` with the reason it was skipped); None when it
        is indexed."""
        state = await self.store.file_status(rel)
        if state is not None:
            status, reason = state
            return f"{rel} is not indexed: {reason or 'skipped'}" if status == "skipped" else None
        if not (self.settings.workspace / rel).is_file():
            return f"{rel} is not indexed: no such file"
        if language_for_path(rel) is None:
            return f"{rel} is not indexed: no supported language"
        return f"{rel} is not indexed: ignored, or not reached yet"

    async def symbol_enclosing(self, path: str, line: int) -> SymbolRecord:
        """The innermost symbol at `path:line`; UnknownTarget when there is none, with the
        reason the file was skipped when it is not indexed."""
        rel = resolve_in_workspace(self.settings.workspace, path)
        rec = await self.store.symbol_at(rel, line)
        if rec is None:
            why = await self.not_indexed_reason(rel)
            raise UnknownTarget(f"no symbol encloses {rel}:{line}" + (f" ({why})" if why else ""))
        return rec

    async def search(self, query: str, limit: int = 20, mode: str = "hybrid", *,
                     include_tests: bool = False, prefix: bool | None = None) -> SearchOutcome:
        """Ranked search (see aether.engine.search); raises QueryError for a query with
        nothing to search, QueryTooLong for one past the length every surface accepts."""
        if len(query) > MAX_QUERY_CHARS:
            raise QueryTooLong(f"the search query is {len(query):,} characters long; the "
                               f"limit is {MAX_QUERY_CHARS:,}")
        return await self.searcher.search(query, limit, mode, include_tests=include_tests,
                                          prefix=prefix)

    async def nearest_names(self, query: str) -> list[str]:
        """Fuzzy nearest symbol names (for "did you mean")."""
        return await self.searcher.names.nearest(query)

    @staticmethod
    def by_prominence(records: list[SymbolRecord]) -> list[SymbolRecord]:
        """Equally good matches (one shared name) in the order search ranks them."""
        return sorted(records, key=lambda r: prominence(r.file_path, r.qualified_name, r.name))

    def guard_snapshot(self) -> dict[str, Any] | None:
        guard = getattr(self.provider, "guard", None)
        return guard.snapshot() if guard is not None else None

    async def repair(self) -> Recovery:
        """Move a damaged database aside and start afresh, keeping its readable SIRs; the
        caller (a writer) re-indexes next."""
        recovery = await self.store.recover()
        if self.meter is None:  # spend caps hold after a repair too
            self.meter = await attach_meter(self.settings, self.store, self.provider)
        return recovery

    def store_problems(self) -> list[str]:
        """What makes the store untrustworthy now: damage, a deleted or replaced file."""
        found = [p for p in (self.store.problem, self.store.identity_problem()) if p]
        return found

    async def status(self, *, watcher_ok: bool | None = None) -> StatusView:
        since = (datetime.now(UTC) - timedelta(hours=1)).isoformat().replace("+00:00", "Z")
        spend: dict[str, Any] | None = None
        unsupported: dict[str, int] = {}
        unverified = 0
        try:
            counts = await self.store.counts()
            recent = {k: n for k, n, _ in await self.store.recent_errors(since)}
            last_indexed = await self.store.get_meta("last_indexed_at")
            unsupported = await self._unsupported_files()
            spend = await spend_status(self.settings, self.store, self.meter)
            unverified = await self.store.unverified_count()
        except StoreError:  # damaged or gone: the health below says so, with the reason
            counts, recent, last_indexed = Counts(0, 0, 0, 0, 0, 0, 0, 0), {}, None
        problems = self.store_problems()
        if problems and not self.store.read_only:
            problems.append("`aether doctor` repairs it (a running writer does so by itself)")
        guard = self.guard_snapshot()
        mem = await self._memory_state()
        db = self.settings.db_path
        writable = (not self.store.read_only and os.access(db, os.W_OK)
                    and os.access(db.parent, os.W_OK))
        return StatusView(
            workspace=str(self.settings.workspace), db_path=str(db),
            file_count=counts.file_count, skipped_file_count=counts.skipped_file_count,
            symbol_count=counts.symbol_count, sir_count=counts.sir_count,
            ok_count=counts.ok_count, stale_count=counts.stale_count,
            pending_count=counts.pending_count, error_count=counts.error_count,
            last_indexed_at=last_indexed, read_only=self.store.read_only,
            provider=self.provider.name, model=self.provider.model,
            health=health.assess(counts, recent, guard, db_writable=writable,
                                 watcher_ok=watcher_ok, store_problems=problems,
                                 read_only=self.store.read_only,
                                 memory_reason=mem.reason if mem and mem.over else None),
            guard=guard, recent_errors=recent,
            writer=current_writer(self.settings.data_dir),
            untrusted_config=self.settings.untrusted_config,
            untrusted_reason=self.settings.untrusted_reason,
            redacted_symbol_count=counts.redacted_symbol_count,
            redaction_count=counts.redaction_count,
            unsupported_files=unsupported, spend=spend, unverified_count=unverified,
            memory=MemoryView.model_validate(mem.to_dict()) if mem else None,
        )

    async def _unsupported_files(self) -> dict[str, int]:
        raw = await self.store.get_meta(UNSUPPORTED_META)
        try:
            found = json.loads(raw) if raw else {}
        except ValueError:
            return {}
        return {str(k): int(v) for k, v in found.items()} if isinstance(found, dict) else {}

    async def _memory_state(self) -> memory.MemoryState | None:
        """This process's daemon's, else the one the live writer last recorded."""
        if self.memory is not None:
            return self.memory
        if self.store.problem:
            return None  # a damaged store: status reports that, not a stale memory record
        try:
            raw = await self.store.get_meta(MEMORY_META)
        except (StoreError, sqlite3.Error):
            return None
        writer = current_writer(self.settings.data_dir)
        if not raw or writer is None:
            return None
        try:
            data = json.loads(raw)
            if data.pop("pid", None) != writer.get("pid"):
                return None  # recorded by a writer that has gone
            return memory.MemoryState(**data)
        except (ValueError, TypeError):
            return None

    async def record_memory(self, state: memory.MemoryState) -> None:
        """The writer publishes its memory state for other processes' `status`."""
        await self.store.set_meta(MEMORY_META, json.dumps({**state.to_dict(),
                                                            "pid": os.getpid()}))
