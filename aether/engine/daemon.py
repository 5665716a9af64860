"""The daemon: the engine plus a background work loop, shared by `aether lsp`, `aether mcp`
and `aether watch`.

Servers never block on indexing or inference: reads go straight to the store while one
background task does the writing. Index requests are coalesced: many saves while a pass runs
become one follow-up pass over the union of their paths.

Per workspace one process is the writer (an OS file lock decides); the others are readers
that serve from the same database, hand their saves and refreshes to the writer through the
store, and take the role over when the writer goes away.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any, Literal

from aether.config import Settings, ensure_data_dir
from aether.engine.bulk_child import BULK_CHILD_FILES, index_in_child
from aether.engine.engine import Engine, IndexSummary
from aether.engine.indexer import configured_workers
from aether.engine.memory import MemoryGuard, MemoryState, tree_rss_mb
from aether.engine.watcher import Watcher
from aether.engine.writer_lock import WriterLock
from aether.providers.base import Provider
from aether.store.db import StoreDamaged, StoreError, StoreGone
from aether.store.records import SymbolRecord, utc_now

log = logging.getLogger("aether.daemon")

State = Literal["starting", "indexing", "idle", "error", "stopped"]
Role = Literal["writer", "reader"]
PROGRESS_INTERVAL_S = 0.5  # at most two progress events a second
POLL_S = 1.0  # how often a writer looks for requests from readers, and a reader for the lock
RETRY_BACKOFF_CAP = 32
MEMORY_POLL_S = 5.0  # how often an idle daemon reads its memory against the ceiling
# An idle daemon drops the search model, vectors and name list after this long unused (at
# 100,000 symbols ~45 MB; loading them again takes a fraction of a second).
RELEASE_IDLE_S = 60.0

Shedder = Callable[[], object]  # drops a cache a surface owns (e.g. the LSP's parsed buffers)


@dataclass(slots=True)
class DaemonStatus:
    """What status bars and `aether_status` show; the `aether/status` notification body."""

    state: State = "starting"
    files_done: int = 0
    files_total: int = 0
    sirs_done: int = 0
    sirs_total: int = 0
    symbol_count: int = 0
    sir_count: int = 0
    stale_count: int = 0
    pending_count: int = 0
    circuit: str = "closed"
    message: str | None = None
    role: str = "reader"
    watching: bool = False
    spend_cap: str | None = None  # the cap that stopped requests, and when it resets
    memory_mb: float = 0.0  # this process and its parse workers
    memory_limit_mb: int = 0
    memory_over: bool = False  # above the ceiling even after shedding caches

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class DaemonEvent:
    kind: Literal["status", "progress", "circuit", "spend_cap"]
    status: DaemonStatus
    circuit_from: str | None = None  # for kind == "circuit"


Listener = Callable[[DaemonEvent], None]


class Daemon:
    def __init__(self, settings: Settings, provider: Provider | None = None, *,
                 command: str = "aether", watch: bool = True) -> None:
        self.settings = settings
        self._provider = provider
        self.command = command
        self.watch = watch
        self.engine: Engine | None = None
        self.status = DaemonStatus()
        self.lock = WriterLock(settings.data_dir)
        self.watcher: Watcher | None = None
        self._listeners: list[Listener] = []
        self._wake = asyncio.Event()
        self._idle = asyncio.Event()
        self._full = True  # the first pass reconciles the whole workspace
        self._paths: set[str] = set()
        self._retry_failed = True
        self._tasks: list[asyncio.Task[Any]] = []
        self._stopping = False
        self._last_progress = 0.0
        self._background: set[asyncio.Task[Any]] = set()
        self._retry_delay = settings.inference.retry_stale_s
        self._next_retry = time.monotonic() + self._retry_delay
        self.repairs = 0  # damaged databases repaired by this process
        self.recreations = 0  # deleted databases this process began to re-create
        self.memory = MemoryGuard(settings.daemon.max_memory_mb, configured_workers(settings))
        self.status.memory_limit_mb = settings.daemon.max_memory_mb
        self._shedders: list[Shedder] = []
        self._lean = False  # caches kept small until memory is well under the ceiling
        self._published = False  # the writer has recorded its memory state for `status`
        self.release_idle_s = RELEASE_IDLE_S
        self.bulk_child_files = BULK_CHILD_FILES
        self.bulk_children = 0  # full passes a child process made for this one
        self.last_pass: IndexSummary | None = None  # what this process's last pass did

    @property
    def role(self) -> Role:
        return "writer" if self.lock.held else "reader"

    # ------------------------------------------------------------------ lifecycle

    async def start(self, *, index: bool = True) -> Engine:
        self.engine = await Engine.open(self.settings, self._provider)
        self.engine.memory = self.memory.state
        await self._refresh_counts()
        if not index:
            self._full = False
        if self.engine.store.read_only:
            self._idle.set()
            self._set_state("idle", "read-only database: served as it is, not kept current")
        elif self.lock.try_acquire(self.command):
            self._become_writer()
        else:
            self._idle.set()
            self._set_state("idle", "another aether process is the writer")
            self._spawn(self._standby(), "aether-standby")
        self._spawn(self._memory_watch(), "aether-memory")
        return self.engine

    def _spawn(self, coro: Any, name: str) -> None:
        self._tasks.append(asyncio.create_task(coro, name=name))

    def _become_writer(self) -> None:
        log.info("this process is the writer for %s", self.settings.workspace)
        assert self.engine is not None
        # every write batch first checks that the lock file is still the one we hold
        self.engine.store.add_write_check(self.lock.problem)
        self.status.role = "writer"
        if self._full:
            self._idle.clear()
            self._wake.set()
        else:
            self._idle.set()
            self._set_state("idle")
        self._spawn(self._loop(), "aether-writer")
        if self.watch:
            self.watcher = Watcher(self.settings.workspace, self.settings.index.exclude,
                                   self.request_index)
            self._spawn(self._watch(), "aether-watcher")

    async def _standby(self) -> None:
        """A reader: wait for the writer to go away, then take over and reconcile."""
        while not self._stopping:
            await asyncio.sleep(POLL_S)
            store = self.engine.store if self.engine else None
            if store is not None and store.identity_problem() and store.path.exists():
                # the writer re-created or repaired the database: read the new file
                with contextlib.suppress(StoreError):
                    await store.reopen()
            if self.lock.try_acquire(self.command):
                if store is not None and store.identity_problem():
                    with contextlib.suppress(StoreError):
                        await store.reopen()  # gone entirely: the new writer re-creates it
                self._full = True  # the old writer may have left work half done
                self._become_writer()
                return

    async def _watch(self) -> None:
        assert self.watcher is not None
        try:
            self.status.watching = True
            await self.watcher.run()
        except Exception:
            log.exception("file watcher stopped")
        finally:
            self.status.watching = False
            if not self._stopping:
                self._emit("status")

    async def stop(self, grace_s: float = 2.0) -> None:
        """Stop taking work; let the current pass finish briefly, else cancel (every write is
        a transaction, so a cancelled one rolls back); release the lock; close the store."""
        self._stopping = True
        self._wake.set()
        if self.watcher is not None:
            self.watcher.stop()
        tasks = [*self._tasks, *self._background]
        if tasks:
            _, pending = await asyncio.wait(tasks, timeout=grace_s)
            for t in pending:
                t.cancel()
            for t in pending:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await t
        if self.engine is not None:
            await self.engine.close()
        self.lock.release()
        self.status.state = "stopped"

    # ------------------------------------------------------------------ memory

    def add_shedder(self, shedder: Shedder) -> None:
        """A cache to drop when the daemon is above its memory ceiling."""
        self._shedders.append(shedder)

    async def _memory_watch(self) -> None:
        while not self._stopping:
            await asyncio.sleep(MEMORY_POLL_S)
            if self._idle.is_set():  # a running pass checks when it ends
                try:
                    await self.release_idle()
                    await self.check_memory()
                except Exception:
                    log.exception("memory check failed")

    async def release_idle(self) -> bool:
        """Drop what searching loaded when nothing has used it for `release_idle_s`."""
        assert self.engine is not None
        return await self.engine.release_idle(self.release_idle_s, lean=self._lean)

    async def check_memory(self, *, after_pass: bool = False) -> MemoryState:
        """Read the process tree's memory against the ceiling; above it, shed every cache
        and use fewer workers next time; still above, say so on every surface."""
        assert self.engine is not None
        state = self.memory.state
        before = (state.over, state.sheds, state.worker_cap)
        if after_pass:  # what one pass needed is garbage now: give it back to the OS
            await self.engine.release_memory(shed=self._lean)
        if self.memory.observe(await asyncio.to_thread(tree_rss_mb)):
            for shed in list(self._shedders):
                try:
                    shed()
                except Exception:
                    log.exception("a cache could not be shed")
            self._lean = True
            await self.engine.release_memory(shed=True)
            self.memory.settle(await asyncio.to_thread(tree_rss_mb))
            log.warning("memory above the %d MB ceiling: caches shed (%d times), %d worker(s)"
                        "%s", state.limit_mb, state.sheds, state.worker_cap,
                        f"; {state.reason}" if state.reason else "")
        elif self._lean and state.worker_cap == self.memory.max_workers:
            self._lean = False  # well under the ceiling again: normal caches
            await self.engine.release_memory(shed=False)
        self.status.memory_mb, self.status.memory_over = state.rss_mb, state.over
        if (state.over, state.sheds, state.worker_cap) != before or not self._published:
            if self.role == "writer":
                await self.engine.record_memory(state)
                self._published = True
            self._emit("status")
        return state

    # ------------------------------------------------------------------ events

    def subscribe(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def _emit(self, kind: Literal["status", "progress", "circuit", "spend_cap"],
              circuit_from: str | None = None) -> None:
        event = DaemonEvent(kind, DaemonStatus(**self.status.to_dict()), circuit_from)
        for listener in list(self._listeners):
            try:
                listener(event)
            except Exception:  # a broken listener must not stop indexing
                log.exception("daemon listener failed")

    def _set_state(self, state: State, message: str | None = None) -> None:
        self.status.state = state
        self.status.message = message
        self._emit("status")

    def _check_circuit(self) -> None:
        assert self.engine is not None
        snap = self.engine.guard_snapshot()
        state = str(snap.get("circuit_state", "closed")) if snap else "closed"
        if state != self.status.circuit:
            before, self.status.circuit = self.status.circuit, state
            self._emit("circuit", circuit_from=before)

    def _on_files(self, done: int, total: int) -> None:
        self.status.files_done, self.status.files_total = done, total
        self._progress()

    def _on_sirs(self, done: int, total: int) -> None:
        self.status.sirs_done, self.status.sirs_total = done, total
        self._check_circuit()
        self._progress()

    def _progress(self) -> None:
        now = time.monotonic()
        if now - self._last_progress >= PROGRESS_INTERVAL_S:
            self._last_progress = now
            self._emit("progress")

    async def _refresh_counts(self) -> None:
        assert self.engine is not None
        try:
            c = await self.engine.store.counts()
        except StoreError:
            return  # damaged or gone: status says so; the counts stay as last known
        s = self.status
        s.symbol_count, s.sir_count = c.symbol_count, c.sir_count
        s.stale_count, s.pending_count = c.stale_count, c.pending_count

    # ------------------------------------------------------------------ work

    def request_index(self, paths: list[str] | None = None) -> None:
        """Queue a pass: the whole workspace (None) or just these workspace-relative paths.
        A reader hands it to the writer through the store."""
        if self.role == "reader":
            if paths and self.engine is not None:
                task = asyncio.create_task(self.engine.store.add_work("index", paths))
                self._background.add(task)
                task.add_done_callback(self._background.discard)
            return
        if paths is None:
            self._full = True
        else:
            self._paths.update(paths)
        self._idle.clear()
        self._wake.set()

    async def wait_idle(self, wait_s: float | None = None) -> bool:
        """Wait until no pass is queued or running; False if `wait_s` passes first."""
        try:
            await asyncio.wait_for(self._idle.wait(), wait_s)
        except TimeoutError:
            return False
        return True

    async def _next_pass(self) -> None:
        """Sleep until there is work: a local request, a reader's request, or a retry."""
        assert self.engine is not None
        while not self._stopping:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), POLL_S)
            # health tick: is the database still ours, and are we still the only writer?
            problem = self.engine.store.identity_problem() or self.lock.problem()
            if problem:
                raise StoreGone(problem)
            if self._wake.is_set():
                self._wake.clear()
                return
            for kind, items in await self.engine.store.take_work():
                if kind == "index":
                    self._paths.update(items)
                else:
                    await self.engine.refresh(items)
                    await self._after_pass()
            if self._paths:
                return
            if self.status.stale_count and time.monotonic() >= self._next_retry:
                self._retry_failed = True
                return
            if self._cap_lifted():  # a new UTC day: what the day cap held back may go now
                self._retry_failed = True
                return

    async def _loop(self) -> None:
        """The writer's loop. A damaged database is repaired in place; a deleted one is
        re-created, unless another process became the writer meanwhile (then this one
        steps down to reader): never two writers, never a write to an unlinked file."""
        while not self._stopping:
            try:
                await self._passes()
                return
            except StoreDamaged as exc:
                await self._repair(str(exc))
            except StoreGone as exc:
                if not await self._store_moved(str(exc)):
                    return

    async def _repair(self, reason: str) -> None:
        assert self.engine is not None
        log.warning("%s: repairing the database", reason)
        self._set_state("error", f"{reason}; repairing")
        try:
            recovery = await self.engine.repair()
        except StoreError as exc:
            self._set_state("error", f"cannot repair the database: {exc}")
            await asyncio.sleep(POLL_S * 5)  # bounded retry rate, not a spin
            return
        log.warning("damaged database moved to %s; %d SIR(s) kept for the rebuild",
                    recovery.moved_to, recovery.salvaged_sirs)
        self.repairs += 1
        self._full = True
        self._idle.clear()
        self._wake.set()

    async def _store_moved(self, reason: str) -> bool:
        """Re-create the store after `.aether` (or the file) was deleted. Returns False when
        this process is no longer the writer."""
        assert self.engine is not None
        log.warning("%s: re-creating the store", reason)
        self._set_state("error", f"{reason}; re-creating it")
        store = self.engine.store
        store.remove_write_check(self.lock.problem)
        self.lock.release()
        self.lock = WriterLock(self.settings.data_dir)
        self.recreations += 1
        with contextlib.suppress(OSError):
            ensure_data_dir(self.settings.data_dir)  # with its .gitignore, as at first
        try:
            await store.reopen()
        except StoreError as exc:
            self._set_state("error", f"cannot re-create the database: {exc}")
        if self.lock.try_acquire(self.command):
            store.add_write_check(self.lock.problem)
            self._full = True
            self._idle.clear()
            self._wake.set()
            return True
        log.warning("another process became the writer: this one is now a reader")
        self.status.role = "reader"
        if self.watcher is not None:
            self.watcher.stop()
        self._idle.set()
        self._set_state("idle", "another aether process is the writer")
        self._spawn(self._standby(), "aether-standby")
        return False

    async def _passes(self) -> None:
        assert self.engine is not None
        while not self._stopping:
            await self._next_pass()
            if self._stopping:
                break
            full, paths, retry = self._full, sorted(self._paths), self._retry_failed
            self._full, self._paths, self._retry_failed = False, set(), False
            stale_before = self.status.stale_count
            self._set_state("indexing")
            try:
                if self.engine.store.problem:
                    raise StoreDamaged(self.engine.store.problem)
                self.last_pass = await self.engine.index(
                    self._on_files, self._on_sirs, paths=None if full else paths,
                    retry_failed=full or retry, max_workers=self.memory.state.worker_cap,
                    hand_off=self._index_in_child)
            except (asyncio.CancelledError, StoreDamaged, StoreGone):
                raise
            except Exception as exc:
                log.exception("index pass failed")
                await self._refresh_counts()
                self._set_state("error", f"indexing failed: {type(exc).__name__}: {exc}")
                if not self._wake.is_set() and not self._paths:
                    self._idle.set()  # nothing left to wait for: waiters must not hang
                continue
            await self._after_pass()
            await self.check_memory(after_pass=True)
            if full or retry:
                self._schedule_retry(improved=self.status.stale_count < stale_before)
            if not self._wake.is_set() and not self._paths:
                self._set_state("idle")
                self._idle.set()

    async def _index_in_child(self, todo: int) -> bool:
        """A full pass that would read many files is made by a child process (see
        bulk_child), so this long-lived one never holds a cold pass: its own pass then
        finds those files current. True if the child made it."""
        if todo < self.bulk_child_files:
            return False
        assert self.engine is not None
        log.info("%d files to read: indexed by a child process", todo)
        made = await index_in_child(self.settings, static=self.engine.provider.name == "static",
                                    max_workers=self.memory.state.worker_cap,
                                    on_files=self._on_files)
        self.bulk_children += made
        return made

    def _schedule_retry(self, *, improved: bool) -> None:
        base = self.settings.inference.retry_stale_s
        if improved or not self.status.stale_count:
            self._retry_delay = base
        else:  # still failing: back off so an outage is not hammered
            self._retry_delay = min(self._retry_delay * 2, base * RETRY_BACKOFF_CAP)
        self._next_retry = time.monotonic() + self._retry_delay

    async def _after_pass(self) -> None:
        await self._refresh_counts()
        self._check_circuit()
        self._check_spend_cap()

    def _cap_lifted(self) -> bool:
        meter = self.engine.meter if self.engine is not None else None
        if meter is None or self.status.spend_cap is None:
            return False
        lifted = meter.snapshot()["cap_reached"] is None  # the snapshot rolls the day over
        if lifted:
            self._check_spend_cap()
        return lifted

    def _check_spend_cap(self) -> None:
        """One event when a spend cap starts holding requests back (and when it lifts)."""
        meter = self.engine.meter if self.engine is not None else None
        cap = str(meter.cap_reached) if meter is not None and meter.cap_reached else None
        if cap != self.status.spend_cap:
            self.status.spend_cap = cap
            self._emit("spend_cap")

    async def refresh(self, symbol_ids: list[str], wait_s: float = 20.0) -> list[SymbolRecord]:
        """Ask for new SIRs now; waits at most `wait_s`, then returns the state as it is while
        the attempt carries on in the background (in the writer, wherever it runs)."""
        assert self.engine is not None
        engine = self.engine
        if self.role == "writer":
            task = asyncio.create_task(engine.refresh(symbol_ids))
            self._background.add(task)
            task.add_done_callback(self._background.discard)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(task), wait_s)
            if task.done():
                await self._after_pass()
                self._emit("status")
        else:
            since = utc_now()
            await engine.store.add_work("refresh", symbol_ids)
            deadline = time.monotonic() + wait_s
            wanted = len(set(symbol_ids))
            while time.monotonic() < deadline:
                await asyncio.sleep(min(0.1 + wanted / 20_000, 1.0))  # big asks poll less
                if await engine.store.attempted_since(symbol_ids, since) >= wanted:
                    break
        return await engine.store.symbols(symbol_ids)
