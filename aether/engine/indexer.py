"""One indexing pass: walk, skip what is unchanged, parse the rest, apply by file.

A cold index is embarrassingly parallel, so large batches of files go to a process pool
(one worker per core); small updates (a save, a few files) are parsed in a thread of this
process, which costs no start-up and keeps the event loop free for hovers.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import logging
import multiprocessing
import multiprocessing.spawn as spawn
import os
import time
from collections.abc import AsyncGenerator, Awaitable, Callable, Iterable, Iterator
from concurrent.futures import Executor, ProcessPoolExecutor
from dataclasses import dataclass, field

from aether.config import Settings
from aether.engine.graph_resolve import resolve_sites
from aether.engine.parse_worker import WORKER_GC_THRESHOLD, ParseOutcome, init_worker, parse_many
from aether.engine.pool_main import MAIN_ENV
from aether.engine.vector_text import VectorText
from aether.store.db import Store
from aether.store.records import FileChange, utc_now
from aether.symbols.calls import VERSION as CALLS_VERSION
from aether.symbols.languages import language_for_path
from aether.workspace import (
    IgnoreRules,
    SkippedPath,
    SourceFile,
    iter_source_files,
    stat_source_file,
)

# meta key: files of the last full pass that no language covers, counted by extension
UNSUPPORTED_META = "unsupported_files"

STATIC_MODEL = "static-v1"

CALLS_META = "calls_version"  # the call-site extractor that made the stored edges

log = logging.getLogger("aether.indexer")

ProgressFn = Callable[[int, int], None]  # (files_done, files_total)

POOL_MIN_FILES = 48  # below this, process start-up costs more than it saves
APPLY_BATCH_FILES = 64
CHUNK_BYTES = 256 * 1024
IN_FLIGHT_PER_WORKER = 2  # chunks submitted per worker: one parsing, one queued


@dataclass(slots=True)
class IndexReport:
    files_seen: int = 0
    files_parsed: int = 0
    files_unchanged: int = 0
    files_skipped: int = 0
    files_deleted: int = 0
    symbols_changed: int = 0
    needs_sir: list[str] = field(default_factory=list)
    skip_reasons: dict[str, int] = field(default_factory=dict)
    # Paths never handed to a parser (a name that is not UTF-8, a FIFO...): printable form
    # and reason. Not in the store's files table: such a path cannot be stored or served.
    skipped_paths: list[tuple[str, str]] = field(default_factory=list)
    sirs_salvaged: int = 0  # SIRs adopted from a damaged database's salvage (no inference)
    # every file was written anew (a first index, a heal): the store is compacted after it
    cold: bool = False
    seconds: float = 0.0  # the whole pass
    write_seconds: float = 0.0  # of which: writing to the store

    def skip(self, error_type: str) -> None:
        self.skip_reasons[error_type] = self.skip_reasons.get(error_type, 0) + 1
        self.files_skipped += 1
    workers: int = 0  # parse worker processes this pass used (0: parsed in a thread)


Todo = list[tuple[SourceFile, str | None]]  # file, and the content hash the store knows


def _chunks(items: Todo) -> list[Todo]:
    """Biggest files first (the top 1% of files take ~20% of parse time), in chunks of
    roughly equal bytes so both workers finish together."""
    items = sorted(items, key=lambda it: it[0].size, reverse=True)
    out: list[Todo] = []
    cur: Todo = []
    size = 0
    for it in items:
        cur.append(it)
        size += it[0].size
        if size >= CHUNK_BYTES or len(cur) >= 32:
            out.append(cur)
            cur, size = [], 0
    if cur:
        out.append(cur)
    return out


def main_identity() -> dict[str, str]:
    """What multiprocessing will ask each child to import as `__main__` (its path or module
    name), as `spawn.get_preparation_data` reports it."""
    data = spawn.get_preparation_data("aether-parse")
    return {k: data[k] for k in ("init_main_from_path", "init_main_from_name") if k in data}


def _pool(workers: int) -> ProcessPoolExecutor:
    # forkserver: children start from a clean process, not a fork of one running an event
    # loop and sqlite threads.
    ctx = multiprocessing.get_context("forkserver")
    # The workers need only parse_worker, preloaded once in the server. The parent's __main__
    # (the `aether` script: the whole CLI) is not imported at all: see pool_main.
    os.environ[MAIN_ENV] = json.dumps(main_identity())
    ctx.set_forkserver_preload(["aether.engine.pool_main", "aether.engine.parse_worker"])
    # Each worker exits when this process does, even on kill -9 (see parent_watch).
    return ProcessPoolExecutor(max_workers=workers, mp_context=ctx,
                               initializer=init_worker, initargs=(os.getpid(),))


class _BulkGC:
    """A bulk pass keeps hundreds of thousands of objects alive for a while (results from
    the workers, rows, a cold pass's call sites), and each full collection of the cyclic
    GC walked them all again: 3 s of a 20 s cold index of the standard library. Objects
    alive before the pass are frozen out of its sight and young ones are collected less
    often; both are undone when the pass ends (the last one, when passes overlap)."""

    passes = 0
    saved = gc.get_threshold()

    @classmethod
    @contextlib.contextmanager
    def during_pass(cls) -> Iterator[None]:
        if cls.passes == 0:
            cls.saved = gc.get_threshold()
            gc.freeze()
            gc.set_threshold(max(cls.saved[0], WORKER_GC_THRESHOLD), *cls.saved[1:])
        cls.passes += 1
        try:
            yield
        finally:
            cls.passes -= 1
            if cls.passes == 0:
                gc.set_threshold(*cls.saved)
                gc.unfreeze()


def _stat_unchanged(state: tuple[int, int, str | None, str] | None, f: SourceFile) -> bool:
    """The stored state of a file has its size and mtime now: not read again."""
    return state is not None and state[0] == f.size and state[1] == f.mtime_ns


@contextlib.contextmanager
def _no_collection() -> Iterator[None]:
    """No cyclic collection for a while: the final resolve of a cold pass makes ~1.5 million
    tuples (sites, answers, rows), none in a cycle, and keeps each slice a moment; the young
    generation filled again and again, 22 of the pass's 40 collections, each walking the
    slice and the view it resolves against. Freed by reference counting all the same; the
    collector runs again (if it ran before) when this ends."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _todo(listed: list[SourceFile], known: dict[str, tuple[int, int, str | None, str]],
          heal: bool) -> Todo:
    """The listed files to read, each with the content hash the store knows: those whose
    size or mtime changed, or every one when healing (no hash: parsed even if the same)."""
    if heal:
        return [(f, None) for f in listed]
    todo: Todo = []
    for f in listed:
        state = known.get(f.rel_path)
        if not _stat_unchanged(state, f):
            todo.append((f, state[2] if state else None))
    return todo


def configured_workers(settings: Settings) -> int:
    return settings.index.workers or max(1, os.cpu_count() or 1)


class Indexer:
    def __init__(self, settings: Settings, store: Store, *, static: bool,
                 after_write: Callable[[], None] | None = None,
                 max_workers: int | None = None,
                 hand_off: Callable[[int], Awaitable[bool]] | None = None,
                 vector_texts: Callable[[list[VectorText]], None] | None = None) -> None:
        self.settings = settings
        self.store = store
        self.static = static  # derive static SIRs while the tree is in hand
        # Told after each batch of files is written (the engine starts embedding them
        # while the next batches are parsed).
        self.after_write = after_write
        self.max_workers = max_workers  # the daemon's memory ceiling may lower it
        # Offered a full pass's count of files to read, before any is read: True when it
        # made the pass elsewhere (the daemon's child process), so this one finds them
        # current. Decided from this pass's own listing: the workspace is walked once.
        self.hand_off = hand_off
        # Given the vector text of each static SIR the workers made, before its file is
        # written (the engine's vector sync then embeds it without reading the SIR back).
        self.vector_texts = vector_texts

    def _workers(self) -> int:
        n = configured_workers(self.settings)
        return min(n, self.max_workers) if self.max_workers else n

    async def run(self, progress: ProgressFn | None = None,
                  paths: Iterable[str] | None = None) -> IndexReport:
        """Index the whole workspace, or only `paths` (workspace-relative) when given."""
        started = time.perf_counter()
        root = self.settings.workspace
        report = IndexReport()
        paths = None if paths is None else list(paths)
        known = await self.store.file_states(paths)
        # a first index of this store (a save's states are only its own paths')
        first = not known if paths is None else not (known or await self.store.has_files())
        unsupported: dict[str, int] = {}
        passed_over: list[SkippedPath] = []
        if paths is None:
            listed = await asyncio.to_thread(
                lambda: list(iter_source_files(root, self.settings.index.exclude, unsupported,
                                               skipped=passed_over)))
            await self.store.set_meta(UNSUPPORTED_META, json.dumps(unsupported, sort_keys=True))
            on_disk = {f.rel_path for f in listed}
            gone = [p for p in known if p not in on_disk]
        else:
            listed, gone = await asyncio.to_thread(self._stat_paths, paths, passed_over)
        report.files_seen = len(listed) + len(passed_over)
        for sk in passed_over:
            report.skip(sk.error_type)
            report.skipped_paths.append((sk.path, sk.reason))
            log.warning("skipped %s: %s", sk.path, sk.reason)
        await self.store.record_errors([("index_file", sk.error_type, f"{sk.path}: {sk.reason}",
                                         sk.path) for sk in passed_over])

        heal = paths is None and bool(known) and await self._needs_heal()
        todo = _todo(listed, known, heal)
        if paths is None and todo and self.hand_off is not None and await self.hand_off(
                len(todo)):
            # made elsewhere: what is left is read against the store as it is now
            known = await self.store.file_states()
            first = not known
            gone = [p for p in known if p not in on_disk]
            heal = bool(known) and await self._needs_heal()
            todo = _todo(listed, known, heal)
        report.files_unchanged += len(listed) - len(todo)

        # A bulk pass resolves the call graph once at its end (resolving per batch would
        # re-resolve earlier batches' edges over and over); a small one, file by file.
        bulk = first or heal or len(todo) + len(gone) >= POOL_MIN_FILES  # first: bulk
        resolver = None if bulk else resolve_sites
        if first or heal:
            await self.store.defer_edge_indexes()
        if gone:
            report.files_deleted = await self.store.delete_files(gone, resolver)
        total = len(todo)
        if progress:
            progress(0, total)
        done = 0
        pending: list[ParseOutcome] = []

        async def flush() -> None:
            write_started = time.perf_counter()
            changes: list[FileChange] = []
            touched: list[tuple[int, int, str]] = []
            errors: list[tuple[str, str, str, str | None]] = []
            for o in pending:
                if o.vector_texts and self.vector_texts is not None:
                    self.vector_texts(o.vector_texts)
                if o.unchanged:
                    # same bytes under a new mtime: keep the symbols, refresh the stat only
                    report.files_unchanged += 1
                    touched.append((o.record.size, o.record.mtime_ns, o.record.path))
                    continue
                if o.error:
                    errors.append(("index_file", o.error[0], o.error[1], o.record.path))
                    report.skip(o.error[0])
                    if o.record.skip_reason:
                        report.skipped_paths.append((o.record.path, o.record.skip_reason))
                else:
                    report.files_parsed += 1
                changes.append(_change(o))
            changed, ids = await self.store.apply_files(changes, static_model=STATIC_MODEL,
                                                        resolver=resolver)
            await self.store.touch_files(touched)
            await self.store.record_errors(errors)
            report.needs_sir.extend(ids)
            report.symbols_changed += changed
            pending.clear()
            report.write_seconds += time.perf_counter() - write_started
            if changed and self.after_write is not None:
                self.after_write()

        async with contextlib.AsyncExitStack() as bulk_pass:
            if bulk and total:
                bulk_pass.enter_context(_BulkGC.during_pass())
                await bulk_pass.enter_async_context(self.store.bulk_writes())
            # aclosing: on any exit (an error, a cancelled pass, a stopping daemon) the pool
            # is shut down now, not whenever the generator happens to be collected
            async with contextlib.aclosing(self._parse(todo, report)) as outcomes:
                async for outcome in outcomes:
                    pending.append(outcome)
                    done += 1
                    if len(pending) >= APPLY_BATCH_FILES:
                        await flush()
                    if progress:
                        progress(done, total)
            await flush()
            with _no_collection() if bulk else contextlib.nullcontext():
                await self.store.resolve_graph(resolve_sites)  # a no-op unless edges wait
            if heal:
                await self.store.end_cold_graph()
        if paths is None and (heal or first):
            report.cold = report.files_parsed > 0
            # every file was parsed: its call sites are the current extractor's
            await self.store.set_meta(CALLS_META, str(CALLS_VERSION))
        await self.store.set_meta("last_indexed_at", utc_now())
        report.seconds = time.perf_counter() - started
        return report

    async def _needs_heal(self) -> bool:
        """Every file must be parsed again, edges and all: a cold pass died before writing
        its edges, or the files' call sites were extracted by an older extractor."""
        if await self.store.cold_graph_interrupted():
            return True
        return await self.store.get_meta(CALLS_META) != str(CALLS_VERSION)

    def _stat_paths(self, paths: list[str], skipped: list[SkippedPath]
                    ) -> tuple[list[SourceFile], list[str]]:
        root = self.settings.workspace
        rules = IgnoreRules(root, self.settings.index.exclude)
        listed, gone = [], []
        for rel in paths:
            language = language_for_path(rel)
            if language is None:
                continue
            found = None if rules.ignored(rel) else stat_source_file(root, rel, language)
            if isinstance(found, SourceFile):
                listed.append(found)
                continue
            if isinstance(found, SkippedPath):
                skipped.append(found)
                if found.error_type == "invalid_file_name":
                    continue  # never stored, so nothing to remove
            gone.append(rel)
        return listed, gone

    async def _parse(
        self, todo: Todo, report: IndexReport
    ) -> AsyncGenerator[ParseOutcome, None]:
        if not todo:
            return
        idx = self.settings.index
        root = str(self.settings.workspace)
        chunks = _chunks(todo)
        workers = self._workers()
        texts = self.static and self.vector_texts is not None
        loop = asyncio.get_running_loop()
        executor: Executor | None = None
        if workers > 1 and len(todo) >= POOL_MIN_FILES:
            report.workers = min(workers, len(chunks))
            executor = _pool(report.workers)
        try:
            if executor:
                # A bounded window of chunks in flight: the workers parse faster than this
                # process writes, and results of every chunk submitted at once would wait
                # here, in memory, for their turn (most of a cold index's peak).
                waiting = iter(chunks)
                running: set[asyncio.Future[list[ParseOutcome]]] = set()

                def submit() -> None:
                    chunk = next(waiting, None)
                    if chunk is not None:
                        running.add(loop.run_in_executor(
                            executor, parse_many, root, chunk, idx.max_file_bytes,
                            idx.parse_timeout_s, self.static, texts))

                for _ in range(report.workers * IN_FLIGHT_PER_WORKER):
                    submit()
                while running:
                    done, running = await asyncio.wait(running,
                                                       return_when=asyncio.FIRST_COMPLETED)
                    for fut in done:
                        submit()  # the workers keep busy while this one is written
                        for outcome in fut.result():
                            yield outcome
            else:
                for chunk in chunks:
                    outcomes = await asyncio.to_thread(parse_many, root, chunk,
                                                       idx.max_file_bytes, idx.parse_timeout_s,
                                                       self.static, texts)
                    for outcome in outcomes:
                        yield outcome
        finally:
            if executor:
                executor.shutdown(wait=False, cancel_futures=True)


def _change(o: ParseOutcome) -> FileChange:
    if o.analysis is None:  # skipped: the file's symbols (if any were indexed) go away
        return FileChange(o.record)
    return FileChange(o.record, o.analysis.symbols, o.static_sirs, o.analysis.calls,
                      o.packed_calls)
