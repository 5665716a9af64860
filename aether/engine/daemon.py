"""The daemon: the engine plus a background work loop, shared by `aether lsp`, `aether mcp`
and `aether watch`.

Servers never block on indexing or inference: reads go straight to the store while one
background task does the writing. Index requests are coalesced: many saves while a pass runs
become one follow-up pass over the union of their paths.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any, Literal

from aether.config import Settings
from aether.engine.engine import Engine
from aether.providers.base import Provider
from aether.store.records import SymbolRecord

log = logging.getLogger("aether.daemon")

State = Literal["starting", "indexing", "idle", "error", "stopped"]
PROGRESS_INTERVAL_S = 0.5  # at most two progress events a second


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

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class DaemonEvent:
    kind: Literal["status", "progress", "circuit"]
    status: DaemonStatus
    circuit_from: str | None = None  # for kind == "circuit"


Listener = Callable[[DaemonEvent], None]


class Daemon:
    def __init__(self, settings: Settings, provider: Provider | None = None) -> None:
        self.settings = settings
        self._provider = provider
        self.engine: Engine | None = None
        self.status = DaemonStatus()
        self._listeners: list[Listener] = []
        self._wake = asyncio.Event()
        self._idle = asyncio.Event()
        self._full = True  # the first pass reconciles the whole workspace
        self._paths: set[str] = set()
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self._last_progress = 0.0
        self._background: set[asyncio.Task[Any]] = set()

    # ------------------------------------------------------------------ lifecycle

    async def start(self, *, index: bool = True) -> Engine:
        self.engine = await Engine.open(self.settings, self._provider)
        await self._refresh_counts()
        if index:
            self._wake.set()
        else:
            self._full = False
            self._idle.set()
            self._set_state("idle")
        self._task = asyncio.create_task(self._loop(), name="aether-daemon")
        return self.engine

    async def stop(self, grace_s: float = 2.0) -> None:
        """Stop taking work; let the current pass finish briefly, else cancel (every write is
        a transaction, so a cancelled one rolls back); close the store."""
        self._stopping = True
        self._wake.set()
        tasks = [t for t in (self._task, *self._background) if t is not None]
        if tasks:
            _, pending = await asyncio.wait(tasks, timeout=grace_s)
            for t in pending:
                t.cancel()
            for t in pending:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await t
        if self.engine is not None:
            await self.engine.close()
        self.status.state = "stopped"

    # ------------------------------------------------------------------ events

    def subscribe(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def _emit(self, kind: Literal["status", "progress", "circuit"],
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
        c = await self.engine.store.counts()
        s = self.status
        s.symbol_count, s.sir_count = c.symbol_count, c.sir_count
        s.stale_count, s.pending_count = c.stale_count, c.pending_count

    # ------------------------------------------------------------------ work

    def request_index(self, paths: list[str] | None = None) -> None:
        """Queue a pass: the whole workspace (None) or just these workspace-relative paths."""
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

    async def _loop(self) -> None:
        assert self.engine is not None
        while not self._stopping:
            await self._wake.wait()
            self._wake.clear()
            if self._stopping:
                break
            full, paths = self._full, sorted(self._paths)
            self._full, self._paths = False, set()
            if not full and not paths:
                self._idle.set()
                continue
            self._set_state("indexing")
            try:
                await self.engine.index(self._on_files, self._on_sirs,
                                        paths=None if full else paths)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.exception("index pass failed")
                await self._refresh_counts()
                self._set_state("error", f"indexing failed: {type(exc).__name__}: {exc}")
                continue
            await self._refresh_counts()
            self._check_circuit()
            if not self._wake.is_set():
                self._set_state("idle")
                self._idle.set()

    async def refresh(self, symbol_ids: list[str], wait_s: float = 20.0) -> list[SymbolRecord]:
        """Ask for new SIRs now; waits at most `wait_s`, then returns the state as it is while
        the attempt carries on in the background."""
        assert self.engine is not None
        engine = self.engine
        task = asyncio.create_task(engine.refresh(symbol_ids))
        self._background.add(task)
        task.add_done_callback(self._background.discard)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(task), wait_s)
        if task.done():
            await self._refresh_counts()
            self._check_circuit()
            self._emit("status")
        out = []
        for sid in symbol_ids:
            rec = await engine.store.symbol(sid)
            if rec is not None:
                out.append(rec)
        return out
