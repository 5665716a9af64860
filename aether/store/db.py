"""The store: one SQLite file in WAL mode. All SQL of the project lives in this package.

Writes are batched (one transaction per batch of files, `executemany` per statement) because
each aiosqlite call costs a thread hop (~170 µs); a batch is atomic, so a crash leaves either
the old or the new state of every file in it.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import sqlite3
from array import array
from collections.abc import AsyncIterator, Callable, Collection, Iterable, Mapping, Sequence
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiosqlite

from aether.store import edges, name_facts, search_rows
from aether.store import queries as q
from aether.store.connection import (
    BULK_CACHE_KB,
    BUSY_TIMEOUT_MS,
    CACHE_KB,
    LEAN_CACHE_KB,
    TEMP_STORE,
    TXN_HOLD_S,
    TXN_MARKER,
    connect,
    must_open_read_only,
    prepare_file,
    read_only_uri,
    txn_hook,
)
from aether.store.graph_records import (
    PROVENANCES,
    Edge,
    Resolver,
    is_type_fact,
    read_bindings,
)
from aether.store.integrity import (
    FileIdentity,
    StoreDamaged,
    StoreError,
    StoreGone,
    damage_reason,
    is_damage,
    quick_check,
    reports_damage,
)
from aether.store.packing import json_text, sir_json_of
from aether.store.records import (
    Counts,
    FileChange,
    NewSir,
    PreparedSir,
    SymbolRecord,
    hash_text,
    one_line,
    pack_hash,
    search_row,
    utc_now,
    utc_text,
)
from aether.store.schema import SCHEMA_VERSION
from aether.store.vectors import pack_vector_hash
from aether.symbols.model import Symbol

__all__ = ["Recovery", "Store", "StoreDamaged", "StoreError", "StoreGone"]

VECTOR_SLICE = 4096  # vector rows read at a time (`joined_vectors`)

@dataclass(frozen=True, slots=True)
class Recovery:
    reason: str  # why the database was replaced
    moved_to: str  # where the damaged file now is
    salvaged_sirs: int

WriteCheck = Callable[[], str | None]  # a problem that forbids writing, or None


class Store:
    """Async access to `.aether/aether.db`: a writer connection and a reader connection.

    The reader is separate so hovers and lookups never queue behind a long write batch
    (WAL lets readers proceed while the writer holds its lock).
    """

    def __init__(self, path: Path, writer: aiosqlite.Connection, reader: aiosqlite.Connection,
                 *, read_only: bool = False, problem: str | None = None) -> None:
        self.path = path
        self._w = writer
        self._r = reader
        self._write_lock = asyncio.Lock()
        self.read_only = read_only
        # Why the database cannot be trusted (damaged), or None. Set at open by a bounded
        # quick_check and by any damage error a query meets; cleared by recovery.
        self.problem = problem
        self.identity = FileIdentity.of(path)
        self._write_checks: list[WriteCheck] = []
        # A cold (first) pass keeps its call sites here, by file, and writes them once,
        # already resolved, at its end (`resolve_graph`): no read-back, no UPDATE. None
        # outside such a pass. `_cold_mixed`: a resolved write came in meanwhile, so the
        # end of the pass re-resolves everything (its edges may have gained namesakes).
        self._cold_sites: dict[str, bytes | list[tuple[Any, ...]]] | None = None
        self._cold_mixed = False
        self._lean = False

    @classmethod
    async def open(cls, path: Path, *, check_budget_s: float | None = 1.0,
                   read_only: bool | None = None) -> Store:
        """Open (creating and migrating unless read-only). A damaged file still opens, with
        `problem` set, so status can say what is wrong and recovery can salvage it."""
        ro = must_open_read_only(path) if read_only is None else read_only
        try:
            writer, reader, problem = await cls._connect_all(path, ro, check_budget_s)
        except (sqlite3.Error, OSError) as exc:
            raise StoreError(f"cannot open database {path}: {exc}") from exc
        return cls(path, writer, reader, read_only=ro, problem=problem)

    @staticmethod
    async def _connect_all(path: Path, read_only: bool, check_budget_s: float | None
                           ) -> tuple[aiosqlite.Connection, aiosqlite.Connection, str | None]:
        problem: str | None = None
        if read_only:
            reader = await connect(path, read_only=True)
            try:
                async with reader.execute("PRAGMA user_version") as cur:
                    row = await cur.fetchone()
            except sqlite3.DatabaseError as exc:
                if not is_damage(exc):
                    raise
                return reader, reader, damage_reason(exc)
            if row and row[0] != SCHEMA_VERSION:
                problem = (f"read-only database has schema v{row[0]}, this aether needs "
                           f"v{SCHEMA_VERSION}; use --state-dir to index elsewhere")
            return reader, reader, problem
        path.parent.mkdir(parents=True, exist_ok=True)
        problem = await asyncio.to_thread(prepare_file, path, check_budget_s)
        # a damaged file still gets connections (queries then report the damage), but no
        # pragmas: setting WAL on a file that is not a database fails
        writer = await connect(path, pragmas=problem is None)
        try:
            reader = await connect(path, pragmas=problem is None)
        except BaseException:
            await writer.close()
            raise
        return writer, reader, problem

    async def reopen(self) -> None:
        """Open the file at `path` afresh (re-created if it was deleted): after recovery, or
        when another process replaced it."""
        async with self._write_lock:
            ro = must_open_read_only(self.path)
            try:
                w, r, problem = await self._connect_all(self.path, ro, 1.0)
            except (sqlite3.Error, OSError) as exc:
                raise StoreError(f"cannot open database {self.path}: {exc}") from exc
            # New connections first, then the old ones close behind the queries still on
            # them (a hover mid-read finishes). Closing a connection to a file that was
            # deleted or renamed neither checkpoints nor deletes a WAL by name: SQLite checks
            # that the file has not moved, so the new file's WAL is safe.
            old = (self._w, self._r)
            self._w, self._r, self.problem = w, r, problem
            self.read_only = ro
            self.identity = FileIdentity.of(self.path)
            for conn in {id(c): c for c in old}.values():
                with suppress(sqlite3.Error, ValueError):
                    await conn.close()

    async def close(self) -> None:
        await self._close_connections()

    async def _close_connections(self) -> None:
        for conn in {id(self._r): self._r, id(self._w): self._w}.values():
            with suppress(sqlite3.Error, ValueError):
                await conn.close()

    # ------------------------------------------------------------------ is it still ours?

    def add_write_check(self, check: WriteCheck) -> None:
        """Consulted before every write batch (e.g. "do we still hold the writer lock?")."""
        self._write_checks.append(check)

    def remove_write_check(self, check: WriteCheck) -> None:
        with suppress(ValueError):
            self._write_checks.remove(check)

    def identity_problem(self) -> str | None:
        """Why this process must not trust its open database file, or None: the file at
        `path` is gone or is another file than the one open (deleted under us)."""
        now = FileIdentity.of(self.path)
        if now is None:
            return f"database {self.path} was deleted while open"
        if now != self.identity:
            return f"database {self.path} was replaced while open"
        return None

    def write_problem(self) -> str | None:
        if self.read_only:
            return "the database is read-only"
        problem = self.identity_problem()
        if problem:
            return problem
        for check in self._write_checks:
            problem = check()
            if problem:
                return problem
        return None

    async def integrity_check(self) -> str:
        """"ok", or what a full quick_check found."""
        return await self.quick_check(None) or "ok"

    async def recover(self) -> Recovery:
        """Salvage the readable SIRs, move the damaged file aside, start a fresh database
        holding the salvage (the next index pass adopts what still matches the code). The
        caller holds the writer role and re-indexes afterwards."""
        from aether.store.recovery import move_aside, salvage_sirs

        async with self._write_lock:
            reason = self.problem or self.identity_problem() or "database was not usable"
            await self._close_connections()
            salvaged = await asyncio.to_thread(salvage_sirs, self.path)
            moved = await asyncio.to_thread(move_aside, self.path)
            try:
                self._w, self._r, self.problem = await self._connect_all(self.path, False, None)
                self.read_only = False
                self.identity = FileIdentity.of(self.path)
                if salvaged:
                    await self._w.execute("BEGIN IMMEDIATE")
                    await self._w.executemany(q.INSERT_SALVAGE, salvaged)
                    await self._w.execute("COMMIT")
            except (sqlite3.Error, OSError) as exc:
                raise StoreError(f"cannot re-create database {self.path}: {exc}") from exc
        return Recovery(reason, str(moved), len(salvaged))

    async def adopt_salvaged(self) -> int:
        """Give symbols without a good SIR the salvaged SIR of exactly their code; those rows
        leave the salvage. Returns how many were adopted."""
        async with self._r.execute(q.SALVAGE_MATCHES) as cur:
            rows = await cur.fetchall()
        if not rows:
            return 0
        from aether.sir.model import Sir

        sirs = [NewSir(sid, PreparedSir.of(Sir.model_validate_json(js)), source, prov, model,
                       prompt_version=pv, verification=ver)
                for sid, source, js, prov, model, pv, ver in rows]
        await self.record_sir_success(sirs)
        async with self._transaction() as w:
            await w.executemany(q.DELETE_SALVAGE, [(r[0], r[1]) for r in rows])
        return len(sirs)

    async def clear_salvage(self) -> None:
        """After a full pass: what was not adopted describes code that is gone."""
        async with self._r.execute(q.COUNT_SALVAGE) as cur:
            row = await cur.fetchone()
        if row and row[0]:
            async with self._transaction() as w:
                await w.execute(q.CLEAR_SALVAGE)

    async def quick_check(self, budget_s: float | None = None) -> str | None:
        """Run PRAGMA quick_check now (unbounded unless `budget_s`); updates `problem`."""
        def run() -> str | None:
            # a read-only store may have no -shm to share: open it immutable, as it is served
            uri = read_only_uri(self.path, self.read_only)
            conn = sqlite3.connect(uri, uri=True, isolation_level=None)
            try:
                return quick_check(conn, budget_s)
            finally:
                conn.close()
        try:
            found = await asyncio.to_thread(run)
        except sqlite3.Error as exc:
            found = one_line(f"database cannot be read: {exc}")
        self.problem = found
        return found

    # ------------------------------------------------------------------ memory

    @asynccontextmanager
    async def bulk_writes(self) -> AsyncIterator[None]:
        """A large pass: a big page cache while it runs, given back to the OS when it ends."""
        size = CACHE_KB if self._lean else BULK_CACHE_KB
        await self._w.execute(f"PRAGMA cache_size=-{size}")
        try:
            yield
        finally:
            await self._w.execute(
                f"PRAGMA cache_size=-{LEAN_CACHE_KB if self._lean else CACHE_KB}")
            await self._w.execute("PRAGMA shrink_memory")

    async def shed_memory(self, *, lean: bool = True) -> None:
        """Free both connections' page caches now; while `lean`, keep them small."""
        self._lean = lean
        for conn in {id(self._r): self._r, id(self._w): self._w}.values():
            with suppress(sqlite3.Error, ValueError):  # a damaged or closing store: no matter
                await conn.execute(f"PRAGMA cache_size=-{LEAN_CACHE_KB if lean else CACHE_KB}")
                await conn.execute("PRAGMA shrink_memory")

    # ------------------------------------------------------------------ size

    async def compact(self) -> bool:
        """After a pass that wrote every row (a first index, a heal): merge the search
        index's segments and VACUUM, so the file holds its rows on full pages (a cold index
        fills random-keyed indexes to ~70%: 37.2 -> 36.4 MB on Django, ~0.3 s). The copy
        VACUUM builds goes to a temporary file, not memory (temp_store is MEMORY otherwise),
        so the process grows by no more than its page cache; the WAL it fills is given back
        at once. Skipped, not waited for, while another process writes. True if it ran."""
        if self.read_only:
            return False
        async with self._write_lock:
            if self.write_problem():
                return False
            w = self._w
            await w.execute("PRAGMA busy_timeout=0")
            await w.execute("PRAGMA temp_store=FILE")
            try:
                await w.execute(q.OPTIMIZE_FTS)
                await w.execute("VACUUM")
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc):  # busy: the pages stay as they are
                    raise
                return False
            finally:
                await w.execute(f"PRAGMA temp_store={TEMP_STORE}")
                await w.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
            # a reader still on the old pages: a later checkpoint truncates the WAL
            await w.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return True

    # ------------------------------------------------------------------ transactions

    @asynccontextmanager
    async def _transaction(self, *, data: bool = False) -> AsyncIterator[aiosqlite.Connection]:
        """One write transaction. `data`: it writes files, symbols or SIRs (what the chaos
        test aims its kills at; bookkeeping such as the work queue is not)."""
        async with self._write_lock:
            problem = self.write_problem()
            if problem:
                if self.read_only:
                    raise StoreError(f"{problem}: {self.path}")
                raise StoreGone(problem)
            await self._w.execute("BEGIN IMMEDIATE")
            hook = data and TXN_MARKER is not None
            if hook:
                txn_hook("in")
            try:
                yield self._w
            except BaseException:
                # Shielded: a cancelled caller must still leave no open transaction behind.
                await asyncio.shield(self._w.execute("ROLLBACK"))
                if hook:
                    txn_hook("out")
                raise
            else:
                if data and TXN_HOLD_S:
                    await asyncio.sleep(TXN_HOLD_S)
                await asyncio.shield(self._w.execute("COMMIT"))
                if hook:
                    txn_hook("out")

    # ------------------------------------------------------------------ file state

    async def file_states(self, paths: Sequence[str] | None = None
                          ) -> dict[str, tuple[int, int, str | None, str]]:
        """path -> (size, mtime_ns, content_hash, status) for every known file, or for those
        of `paths` (a save: not every row, 25,000 objects at 100,000 symbols)."""
        if paths is None:
            async with self._r.execute(q.FILE_STATES) as cur:
                rows = await cur.fetchall()
        else:
            rows = []
            for chunk in edges.chunked(paths):
                async with self._r.execute(q.file_states_of(len(chunk)), chunk) as cur:
                    rows += await cur.fetchall()
        return {row[0]: (row[1], row[2], row[3], row[4]) for row in rows}

    async def has_files(self) -> bool:
        """Whether any file was ever indexed into this store."""
        async with self._r.execute(q.ANY_FILE) as cur:
            return await cur.fetchone() is not None

    async def file_status(self, path: str) -> tuple[str, str | None] | None:
        """(status, skip_reason) of a known file ('indexed' | 'skipped'); None if unknown."""
        async with self._r.execute(q.FILE_STATUS, (path,)) as cur:
            row = await cur.fetchone()
        return (row[0], row[1]) if row else None

    async def file_imports(self, path: str) -> list[str]:
        async with self._r.execute(q.FILE_IMPORTS, (path,)) as cur:
            row = await cur.fetchone()
        return json.loads(json_text(row[0])) if row else []

    async def apply_files(self, changes: Sequence[FileChange], *, static_provider: str = "static",
                          static_model: str = "", resolver: Resolver | None = None
                          ) -> tuple[int, list[str]]:
        """Write new states of files atomically. Returns how many symbols are new or changed,
        and the ids of those that still need a SIR.

        Symbols are diffed by stable id: removed ones go (with their SIRs), new ones come in
        as `pending`, those whose content changed keep their last SIR and become `stale`
        (it describes older code) unless a static SIR for the new code is supplied.

        The files' call sites replace their old ones. With a `resolver`, in the same
        transaction, they are resolved, and so is every edge elsewhere that calls a name
        these files added or removed (a removed target's callers become unresolved, a new
        namesake makes a unique match ambiguous). Without one (a bulk pass), edges wait as
        `unresolved` and `graph_dirty` asks for `resolve_graph` at the end of the pass.
        """
        if not changes:
            return 0, []
        paths = [c.record.path for c in changes]
        existing: dict[str, tuple[int, str]] = {}  # id -> (seq, content_hash)
        existing_names: dict[str, str] = {}
        async with self._w.execute(q.symbols_for_files(len(paths)), paths) as cur:
            for seq, sid, chash, name in await cur.fetchall():
                existing[sid] = (seq, hash_text(chash) or "")
                existing_names[sid] = name

        now = utc_now()
        split = {c.record.path: name_facts.split_bindings(c.record.bindings) for c in changes}
        file_rows = [q.file_row(c.record, now, name_facts.stored_bindings(
            split[c.record.path][0])) for c in changes]
        inserts: list[tuple[Symbol, PreparedSir | None]] = []
        updates, meta_rows = [], []
        changed_ids: list[str] = []
        sirs: list[NewSir] = []
        seen: set[str] = set()
        for change in changes:
            for s in change.symbols:
                if s.id in seen:  # duplicate definition (same name+signature): first one wins
                    continue
                seen.add(s.id)
                old = existing.get(s.id)
                if old is not None and old[1] == s.content_hash:
                    updates.append(q.symbol_update_row(s))  # moved at most
                    continue
                changed_ids.append(s.id)
                prepared = change.static_sirs.get(s.id)
                if prepared is not None:
                    sirs.append(NewSir(s.id, prepared, s.content_hash, static_provider,
                                       static_model))
                if old is None:
                    # new: its search row and metadata are written once, final (a symbol
                    # with its SIR is plain 'ok': no sir_meta row, schema v22)
                    inserts.append((s, prepared))
                    if prepared is None:
                        meta_rows.append((s.id, "pending", None, now))
                else:
                    updates.append(q.symbol_update_row(s))
        removed = [(seq,) for sid, (seq, _) in existing.items() if sid not in seen]
        new_ids = {s.id for s, _ in inserts}
        with_sir = {n.symbol_id for n in sirs}
        outdated = [(now, q.key(i)) for i in changed_ids
                    if i not in new_ids and i not in with_sir]
        changed_sirs = [n for n in sirs if n.symbol_id not in new_ids]
        # names whose set of bearers changed: edges calling them anywhere are re-resolved
        touched_names = {existing_names[sid] for sid in existing if sid not in seen}
        touched_names.update(s.name for s, _ in inserts)
        # re-exports through these files: only imports that were added, removed or changed
        old_bindings: dict[str, dict[str, str]] = {}
        async with self._w.execute(edges.bindings_of(len(paths)), paths) as cur:
            for path, text in await cur.fetchall():
                old_bindings[path] = read_bindings(text)
        # and their type facts, by the same keys as the symbol layer's bindings carry them
        for path, facts in (await name_facts.of_files(self._w, paths)).items():
            old_bindings.setdefault(path, {}).update(facts)
        for change in changes:
            before, after = old_bindings.get(change.record.path, {}), change.record.bindings
            touched_names.update(k for k in before.keys() | after.keys()
                                 if before.get(k) != after.get(k))
        # a changed return type, base list or variable type: the calls on what those
        # symbols make, and on those variables
        typed_names = edges.fact_names(touched_names)
        variables = edges.fact_variables(touched_names)
        if typed_names:
            touched_names = {k for k in touched_names if not is_type_fact(k)}
            touched_names |= typed_names
        calls: list[Any] = []
        cold = self._cold_sites
        if cold is not None and resolver is None:
            # held for the end of the cold pass (as the worker packed them), resolved then
            for change in changes:
                cold[change.record.path] = change.packed_calls or list(change.calls)
            touched_names = set()
        else:
            calls = [c for change in changes for c in change.call_sites()]
            if cold is not None:  # a resolved write in the middle of a cold pass: these
                for path in paths:  # rows supersede the held ones
                    cold.pop(path, None)
                self._cold_mixed = True

        async with self._transaction(data=True) as w:
            if existing:  # edges belong to their callers: new files have none to delete
                await w.executemany(edges.DELETE_EDGES_OF_FILE, [(p,) for p in paths])
            if removed:
                await search_rows.delete_by_seqs(w, [seq for (seq,) in removed])
                await w.executemany(q.DELETE_SYMBOL_BY_SEQ, removed)
            await w.executemany(q.UPSERT_FILE, file_rows)
            await name_facts.write_files(w, {path: rows for path, (_, rows) in split.items()})
            if updates:
                await w.executemany(q.UPDATE_SYMBOL, updates)
            seq_of = {sid: seq for sid, (seq, _) in existing.items()}
            if inserts:
                async with w.execute(q.NEXT_SEQ) as cur:
                    row = await cur.fetchone()
                first = (row[0] if row else 0) + 1  # stable: we hold the write lock
                await w.executemany(q.ADD_LABEL, [(t,) for t in dict.fromkeys(
                    t for s, _ in inserts for t in (s.language, s.kind))])
                await w.executemany(q.INSERT_SYMBOL, [q.symbol_row(first + i, s)
                                                      for i, (s, _) in enumerate(inserts)])
                await w.execute(q.SET_META, (q.SEQ_HIGH, str(first + len(inserts) - 1)))
                seq_of.update((s.id, first + i) for i, (s, _) in enumerate(inserts))
                await w.executemany(q.INSERT_FTS, [
                    search_row(first + i, s.name, s.qualified_name, s.file_path,
                               p.terms if p else None)
                    for i, (s, p) in enumerate(inserts)])
                if meta_rows:
                    await w.executemany(q.INSERT_META, [(seq_of[sid], *rest)
                                                        for sid, *rest in meta_rows])
            if outdated:
                await w.executemany(q.MARK_OUTDATED, outdated)
            taken = await search_rows.take_for_new_terms(
                w, [n.symbol_id for n in changed_sirs]) if changed_sirs else {}
            if sirs:
                await self._store_sirs(w, sirs, now, new=new_ids, static=True)
            if changed_sirs:
                await w.executemany(q.MARK_OK_CURRENT,
                                    [(q.key(n.symbol_id),) for n in changed_sirs])
                await w.executemany(q.INSERT_FTS, [
                    search_rows.with_terms(taken[n.symbol_id], n.sir.terms)
                    for n in changed_sirs if n.symbol_id in taken])
            if calls:
                await edges.insert_sites(w, calls, seq_of)
            if resolver is not None:
                await edges.resolve(w, resolver, paths=paths, names=touched_names,
                                    removed_seqs=[seq for (seq,) in removed],
                                    callers_of=typed_names, qualified_by=variables)
            elif calls or touched_names:
                await w.execute(q.SET_META, ("graph_dirty", "1"))
        return len(changed_ids), [i for i in changed_ids if i not in with_sir]

    async def touch_files(self, rows: Sequence[tuple[int, int, str]]) -> None:
        """(size, mtime_ns, path): same content under a new stat; symbols untouched."""
        if rows:
            async with self._transaction() as w:
                await w.executemany(q.TOUCH_FILE, rows)

    async def delete_files(self, paths: Iterable[str], resolver: Resolver | None = None) -> int:
        """Forget files, their symbols and edges; edges elsewhere that called their symbols
        are re-resolved in the same transaction (or left to `resolve_graph`)."""
        rows = [(p,) for p in paths]
        if not rows:
            return 0
        if self._cold_sites is not None:
            for (path,) in rows:
                self._cold_sites.pop(path, None)
            self._cold_mixed = True
        async with self._transaction() as w:
            names: set[str] = set()
            seqs: list[int] = []
            typed_names: set[str] = set()  # what gave a type to calls elsewhere
            variables: set[str] = set()
            for chunk in edges.chunked([p for (p,) in rows]):
                async with w.execute(q.names_in_files(len(chunk)), chunk) as cur:
                    for name, seq in await cur.fetchall():
                        names.add(name)
                        seqs.append(seq)
                for facts in (await name_facts.of_files(w, chunk)).values():
                    typed_names |= edges.fact_names(facts)
                    variables |= edges.fact_variables(facts)
            await search_rows.delete_in_files(w, [p for (p,) in rows])
            await w.executemany(edges.DELETE_EDGES_OF_FILE, rows)
            await w.executemany(q.DELETE_FILE, rows)
            if resolver is not None:
                await edges.resolve(w, resolver, names=names, removed_seqs=seqs,
                                    callers_of=typed_names, qualified_by=variables)
            elif names:
                await w.execute(q.SET_META, ("graph_dirty", "1"))
        return len(rows)

    async def defer_edge_indexes(self) -> bool:
        """Before a first (cold) index: while no edge exists, drop the triggers that keep
        edge_callers and edge_targets and hold the pass's call sites in memory until
        `resolve_graph` writes them, resolved, and rebuilds those tables and triggers
        (aether.store.edges). `graph_cold` stays "1" in between: a pass that dies
        before its end leaves files without their edges, and the next full pass parses
        every file again (`cold_graph_interrupted`). The index of name_facts goes too, made
        again at the end, sorted (aether.store.name_facts)."""
        self._cold_sites = None
        self._cold_mixed = False
        async with self._transaction() as w:
            async with w.execute(edges.ANY_EDGE) as cur:
                if await cur.fetchone() is not None:
                    return False
            for statement in edges.DROP_SIDE_TRIGGERS:
                await w.execute(statement)
            await w.execute(name_facts.DROP_INDEX)
            await w.execute(q.SET_META, (edges.COLD_META, "1"))
        self._cold_sites = {}
        return True

    async def cold_graph_interrupted(self) -> bool:
        """A cold pass started and never wrote its edges (the process died, the pass
        failed): its files look indexed but have no call sites."""
        return self._cold_sites is None and await self.get_meta(edges.COLD_META) == "1"

    async def end_cold_graph(self) -> None:
        """A full pass that parsed every file again has healed an interrupted cold pass."""
        await self.set_meta(edges.COLD_META, "0")

    async def resolve_graph(self, resolver: Resolver, *, force: bool = False) -> int:
        """End a pass's graph work in one transaction: write a cold pass's held call sites
        already resolved; resolve every stored edge when a bulk pass left them waiting (or
        when forced); make sure the edges' lookups (edge_callers, edge_targets) are kept.
        Returns how many answers were written or changed."""
        changed = 0
        cold, mixed = self._cold_sites, self._cold_mixed
        async with self._transaction() as w:
            if cold is not None:
                changed += await edges.insert_resolved(w, resolver, cold)
                await w.execute(q.SET_META, (edges.COLD_META, "0"))
            async with w.execute(q.GET_META, ("graph_dirty",)) as cur:
                row = await cur.fetchone()
            if force or mixed or (row is not None and row[0] == "1"):
                changed += await edges.resolve(w, resolver, everything=True)
            await w.execute(q.SET_META, ("graph_dirty", "0"))
            await edges.ensure_lookups(w)
        self._cold_sites, self._cold_mixed = None, False
        return changed

    # ------------------------------------------------------------------ SIR results

    async def _store_sirs(self, w: aiosqlite.Connection, sirs: Sequence[NewSir], now: str,
                          new: Collection[str] = (), static: bool = False) -> None:
        """The SIR itself; the one it replaces, if different, goes to history (metadata and
        search text are the caller's). `new`: symbols just inserted, with no SIR to archive
        (a cold index looked up 72,000 of them for nothing)."""
        rows = [(q.key(n.symbol_id), n.sir.stored(), pack_hash(n.sir.sir_hash),
                 pack_hash(n.source_hash), n.provider, n.model, now, n.prompt_version)
                for n in sirs]
        await w.executemany(q.ARCHIVE_SIR, [
            (n.symbol_id, pack_hash(n.sir.sir_hash), q.key(n.symbol_id))
            for n in sirs if n.symbol_id not in new])
        await w.executemany(q.ADD_SIR_MAKER, list(dict.fromkeys(
            (n.provider, n.model, n.prompt_version) for n in sirs)))
        # a model SIR keeps its symbol's id too, so a salvage can find it even when the
        # `symbols` table is what got damaged (a static SIR is made again for nothing)
        await w.executemany(q.UPSERT_SIR, [(*r, n.verification, None if static else r[0])
                                           for r, n in zip(rows, sirs, strict=True)])
        found = [(n.symbol_id, n.sir.redactions, now) for n in sirs if n.sir.redactions]
        if found:
            await w.executemany(q.UPSERT_REDACTIONS, found)
        async with w.execute(q.ANY_REDACTIONS) as cur:
            row = await cur.fetchone()
        if row and row[0]:  # a symbol whose code no longer holds a credential
            await w.executemany(q.DELETE_REDACTIONS,
                                [(n.symbol_id,) for n in sirs if not n.sir.redactions])

    async def record_sir_success(self, sirs: Sequence[NewSir]) -> None:
        """SIR, history, metadata and search text in ONE transaction.

        If the symbol's code changed while the SIR was being made, the SIR is still kept (it
        is the best there is) but the status says `stale` until a SIR for the new code lands.
        """
        if not sirs:
            return
        async with self._transaction(data=True) as w:
            live = []
            for n in sirs:
                async with w.execute(q.SYMBOL_HASH, (q.key(n.symbol_id),)) as cur:
                    row = await cur.fetchone()
                if row is not None:  # the symbol was removed meanwhile: nothing to describe
                    live.append(n)
            if live:
                now = utc_now()
                taken = await search_rows.take_for_new_terms(w, [n.symbol_id for n in live])
                await self._store_sirs(w, live, now)
                await w.executemany(q.MARK_OK, [(now, now, q.key(n.symbol_id))
                                                for n in live])
                # the last of several SIRs for one symbol in this batch is the stored one
                terms = {n.symbol_id: n.sir.terms for n in live}
                await w.executemany(q.INSERT_FTS, [
                    search_rows.with_terms(row, terms[sid]) for sid, row in taken.items()])

    async def record_sir_failure(self, symbol_id: str, error_type: str, message: str,
                                 *, path: str | None = None) -> None:
        """Keep the last good SIR; mark stale with a short error; log it in `errors`."""
        now = utc_now()
        msg = one_line(message)
        async with self._transaction() as w:
            await w.execute(q.MARK_FAILED, (msg, now, now, q.key(symbol_id)))
            await w.execute(q.INSERT_ERROR, (now, "generate_sir", error_type, msg, path,
                                             symbol_id))

    async def record_sir_deferred(self, symbol_ids: Sequence[str], error_type: str,
                                  message: str) -> None:
        """Not attempted (a spend cap): status and SIR untouched, `last_error` says why;
        one row in `errors` for the lot."""
        if not symbol_ids:
            return
        now = utc_now()
        msg = one_line(message)
        async with self._transaction() as w:
            await w.executemany(q.MARK_DEFERRED, [(msg, now, q.key(sid))
                                                  for sid in symbol_ids])
            await w.execute(q.INSERT_ERROR, (now, "generate_sir", error_type, msg, None, None))

    async def mark_model_changed(self, provider: str, model: str, prompt_version: str) -> int:
        """SIRs written by another provider, model or prompt version become stale (kept and
        served, labelled with their model); returns how many."""
        async with self._transaction() as w:
            cur = await w.execute(q.MARK_MODEL_CHANGED, (utc_now(), provider, model,
                                                         prompt_version))
            return cur.rowcount

    async def append_usage(self, rows: Sequence[Any]) -> None:
        """Ledger rows (aether.guard.spend.LedgerRow), in one transaction."""
        if not rows:
            return
        async with self._transaction() as w:
            await w.executemany(q.INSERT_USAGE, [
                (r.at, r.day, r.provider, r.model, r.status, r.input_tokens, r.output_tokens,
                 int(r.reported), r.prompt_chars, r.output_chars, r.cost, int(r.priced))
                for r in rows])

    async def usage_on_day(self, day: str, provider: str, model: str) -> tuple[int, float]:
        """(tokens, cost) the ledger holds for this provider/model on a UTC day."""
        async with self._r.execute(q.USAGE_ON_DAY, (day, provider, model)) as cur:
            row = await cur.fetchone()
        return (int(row[0]), float(row[1])) if row else (0, 0.0)

    async def usage_calibration(self, provider: str,
                                model: str) -> tuple[int, int, float, int]:
        """(prompt chars, input tokens, mean output tokens, requests) of reported successes."""
        async with self._r.execute(q.USAGE_CALIBRATION, (provider, model)) as cur:
            row = await cur.fetchone()
        return (int(row[0]), int(row[1]), float(row[2]), int(row[3])) if row else (0, 0, 0.0, 0)

    async def usage_by_day_model(self, since_day: str) -> list[tuple[Any, ...]]:
        """(day, provider, model, requests, ok, input, output, cost, all priced, all
        reported) per UTC day and model since `since_day`."""
        async with self._r.execute(q.USAGE_BY_DAY_MODEL, (since_day,)) as cur:
            return [tuple(r) for r in await cur.fetchall()]

    async def unverified_count(self) -> int:
        """Model SIRs with at least one claim not found in the code."""
        async with self._r.execute(q.UNVERIFIED_COUNT) as cur:
            row = await cur.fetchone()
        return int(row[0]) if row else 0

    async def sir_versions(self, symbol_id: str) -> list[tuple[str, ...]]:
        """(sir_hash, created_at, provider, model, prompt_version, source_hash, sir_json),
        newest first."""
        async with self._r.execute(q.HISTORY_VERSIONS, (symbol_id, q.key(symbol_id))) as cur:
            return [(r[0], _time(r[1]), *r[2:6], sir_json_of(r[6]) or "")
                    for r in await cur.fetchall()]

    async def record_errors(self, errors: Sequence[tuple[str, str, str, str | None]]) -> None:
        """Batch of (operation, error_type, message, path)."""
        if not errors:
            return
        now = utc_now()
        rows = [(now, op, et, one_line(msg), path, None) for op, et, msg, path in errors]
        async with self._transaction() as w:
            await w.executemany(q.INSERT_ERROR, rows)

    async def set_meta(self, key: str, value: str) -> None:
        async with self._transaction() as w:
            await w.execute(q.SET_META, (key, value))

    # ------------------------------------------------------------------ reads

    async def get_meta(self, key: str) -> str | None:
        async with self._r.execute(q.GET_META, (key,)) as cur:
            row = await cur.fetchone()
        return row[0] if row else None

    async def _records(self, sql: str, params: Sequence[Any] = ()) -> list[SymbolRecord]:
        async with self._r.execute(sql, params) as cur:
            rows = await cur.fetchall()
        return [SymbolRecord(*row) for row in rows]

    async def symbol(self, symbol_id: str) -> SymbolRecord | None:
        found = await self._records(q.RECORD_BY_ID, (q.key(symbol_id),))
        return found[0] if found else None

    async def symbols(self, symbol_ids: Sequence[str]) -> list[SymbolRecord]:
        """Records for these ids, in the order asked; ids no longer in the store are left out."""
        if not symbol_ids:
            return []
        found = {r.id: r for r in await self._records(q.records_by_ids(len(symbol_ids)),
                                                      q.keys(symbol_ids))}
        return [found[i] for i in symbol_ids if i in found]

    async def symbols_by_qualified_name(self, qualified_name: str) -> list[SymbolRecord]:
        ends = q.qname_ends(qualified_name)
        return await self._records(q.records_by_qname(len(ends)), (qualified_name, *ends))

    async def symbols_by_name(self, name: str, limit: int = 50) -> list[SymbolRecord]:
        return await self._records(q.RECORDS_BY_NAME, (name, limit))

    async def symbols_in_file(self, path: str) -> list[SymbolRecord]:
        return await self._records(q.RECORDS_IN_FILE, (path,))

    async def symbol_at(self, path: str, line: int) -> SymbolRecord | None:
        """The innermost symbol whose range encloses `line` (1-based)."""
        found = await self._records(q.RECORD_AT_LINE, (path, line, line))
        return found[0] if found else None

    async def search_terms(self, match: str, limit: int) -> list[tuple[Any, ...]]:
        """FTS5 candidates for an already-built query (aether.engine.search builds it, with
        user text quoted): (seq, bm25, name, name_words, qual_words, intent, sir_words,
        path_words), best first (bm25 is negative: lower is better). The table keeps no
        texts: the candidates' rows are made again from their symbols and SIRs."""
        async with self._r.execute(q.SEARCH_FTS, (match, limit)) as cur:
            ranked = [(r[0], r[1]) for r in await cur.fetchall()]
        rows = await search_rows.rows_by_seqs(self._r, [seq for seq, _ in ranked])
        return [(seq, score, *rows[seq][1:]) for seq, score in ranked if seq in rows]

    async def count_named(self, name: str) -> int:
        async with self._r.execute(q.COUNT_NAMED, (name,)) as cur:
            row = await cur.fetchone()
        return int(row[0]) if row else 0

    async def symbol_paths(self, seqs: Sequence[int]) -> dict[int, tuple[str, str, str]]:
        """seq -> (file_path, qualified_name, name): what ranking needs, without the SIRs."""
        if not seqs:
            return {}
        async with self._r.execute(q.paths_by_seqs(len(seqs)), list(seqs)) as cur:
            return {r[0]: (r[1], r[2], r[3]) for r in await cur.fetchall()}

    async def inbound_counts(self, seqs: Sequence[int]) -> dict[int, int]:
        """seq -> how many resolved call sites reach the symbol (absent: none)."""
        if not seqs:
            return {}
        async with self._r.execute(edges.inbound_by_seqs(len(seqs)), list(seqs)) as cur:
            return {r[0]: int(r[1]) for r in await cur.fetchall()}

    async def symbols_by_seqs(self, seqs: Sequence[int]) -> dict[int, SymbolRecord]:
        """seq -> record for these seqs (the FTS rowids)."""
        if not seqs:
            return {}
        out: dict[int, SymbolRecord] = {}
        async with self._r.execute(q.records_by_seqs(len(seqs)), list(seqs)) as cur:
            for row in await cur.fetchall():
                out[row[0]] = SymbolRecord(*row[1:])
        return out

    async def all_names(self) -> list[str]:
        async with self._r.execute(q.ALL_NAMES) as cur:
            return [r[0] for r in await cur.fetchall()]

    async def vector_sources(self, model: str, dirty_through: int | None = None,
                             known: Mapping[str, str] | None = None) -> list[tuple[Any, ...]]:
        """(id, name, qualified_name, intent, sir_hash, text_hash) of the symbols whose
        vector may be out of date (see queries.VECTOR_SOURCES): among all symbols, or with
        `dirty_through` (a `vector_dirty_mark()`) only among those marked dirty up to it.
        `known`: symbol id -> the sir_hash of a SIR whose intent the caller has already;
        a symbol whose SIR is that one comes with intent None (its SIR is not decoded)."""
        sql, args = ((q.VECTOR_SOURCES, [model]) if dirty_through is None
                     else (q.VECTOR_SOURCES_DIRTY, [model, dirty_through]))
        async with self._r.execute(sql, args) as cur:
            rows = await cur.fetchall()
        known = known or {}
        out: list[tuple[Any, ...]] = []
        for sid, name, qname, value, stored_sir, text in rows:
            sir_hash = hash_text(stored_sir)
            intent = (None if sir_hash is not None and known.get(sid) == sir_hash
                      else _intent(value))
            out.append((sid, name, qname, intent, sir_hash, hash_text(text)))
        return out

    async def vector_dirty_mark(self) -> int:
        """The newest dirty mark: read it before the sources it covers."""
        async with self._r.execute(q.VECTOR_DIRTY_MARK) as cur:
            row = await cur.fetchone()
        return int(row[0]) if row else 0

    async def clear_vector_dirty(self, through: int) -> None:
        """Forget the dirty marks up to `through`: their vectors are current. A symbol
        changed since then was marked again, past it."""
        if through:
            async with self._transaction() as w:
                await w.execute(q.CLEAR_VECTOR_DIRTY, (through,))

    async def write_vectors(self, rows: Sequence[tuple[str, str, str | None, str, bytes]],
                            current: Sequence[tuple[str | None, str]] = ()) -> None:
        """rows: (symbol_id, text_hash, sir_hash, model, vec), skipped for a symbol removed
        meanwhile; current: (sir_hash, symbol_id) whose text did not change."""
        if rows or current:
            async with self._transaction() as w:
                if rows:
                    for model in {r[3] for r in rows}:
                        await w.execute(q.ADD_VECTOR_MODEL, (model,))
                    await w.executemany(q.UPSERT_VECTOR_LIVE, [
                        (q.key(sid), pack_vector_hash(text), pack_vector_hash(sir), model, vec)
                        for sid, text, sir, model, vec in rows])
                if current:
                    await w.executemany(q.MARK_VECTOR_CURRENT,
                                        [(pack_vector_hash(sir), q.key(sid))
                                         for sir, sid in current])

    async def all_vectors(self, model: str) -> list[tuple[int, bytes]]:
        async with self._r.execute(q.ALL_VECTORS, (model,)) as cur:
            return [(r[0], r[1]) for r in await cur.fetchall()]

    async def joined_vectors(self, model: str) -> tuple[array[int], bytearray]:
        """(seqs, their vectors joined, in the same order) of one model, read VECTOR_SLICE
        rows at a time: a whole model's rows as Python tuples (113k symbols: ~30 MB of small
        objects, freed at once) would leave the interpreter's small-object arenas
        fragmented for the life of the daemon; a slice's ~1 MB is reused by the next."""
        seqs, joined = array("q"), bytearray()
        async with self._r.execute(q.ALL_VECTORS, (model,)) as cur:
            while rows := await cur.fetchmany(VECTOR_SLICE):
                seqs.extend(r[0] for r in rows)
                joined += b"".join(r[1] for r in rows)
                del rows
        return seqs, joined

    async def vector_counts(self, model: str) -> tuple[int, int]:
        """(symbols, symbols with a vector of this model)."""
        async with self._r.execute(q.VECTOR_COUNTS, (model,)) as cur:
            row = await cur.fetchone()
        return (int(row[0]), int(row[1])) if row else (0, 0)

    async def search_like(self, needle: str, limit: int) -> list[SymbolRecord]:
        pattern = "%" + needle.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        return await self._records(q.SEARCH_LIKE, (pattern, pattern, limit))

    async def symbols_needing_sir(self, *, include_failed: bool = True,
                                  limit: int = 1_000_000) -> list[str]:
        """Pending, outdated and (unless told otherwise) failed symbols: the SIR queue,
        derived from the store so it survives restarts."""
        return [row[0] for row in await self.sir_queue(include_failed=include_failed,
                                                        limit=limit)]

    async def sir_queue(self, *, include_failed: bool = True,
                        limit: int = 1_000_000) -> list[tuple[str, str, str]]:
        """The SIR queue as (symbol id, file path, qualified name), for ranking."""
        async with self._r.execute(q.NEEDING_SIR, (include_failed, limit)) as cur:
            return [(row[0], row[1], row[2]) for row in await cur.fetchall()]

    async def model_changed_queue(self, provider: str, model: str,
                                  prompt_version: str) -> list[tuple[str, str, str]]:
        """SIRs marked ok but written by another provider, model or prompt version."""
        async with self._r.execute(q.MODEL_CHANGED_QUEUE, (provider, model,
                                                           prompt_version)) as cur:
            return [(row[0], row[1], row[2]) for row in await cur.fetchall()]

    async def attempted_since(self, symbol_ids: Sequence[str], since: str) -> int:
        """How many of these symbols had a SIR attempt at or after `since` (one query per
        chunk of ids, never one per symbol)."""
        total = 0
        for i in range(0, len(symbol_ids), 500):
            chunk = list(symbol_ids[i:i + 500])
            async with self._r.execute(q.attempted_since(len(chunk)),
                                       [since, *q.keys(chunk)]) as cur:
                row = await cur.fetchone()
            total += int(row[0]) if row else 0
        return total

    async def add_work(self, kind: str, items: Sequence[str]) -> None:
        async with self._transaction() as w:
            await w.execute(q.ADD_WORK, (kind, json.dumps(list(items)), utc_now()))

    async def take_work(self) -> list[tuple[str, list[str]]]:
        """Claim every queued request (writer only)."""
        async with self._transaction() as w, w.execute(q.TAKE_WORK) as cur:
            rows = await cur.fetchall()
        return [(kind, json.loads(payload)) for kind, payload in rows]

    async def counts(self) -> Counts:
        async with self._r.execute(q.COUNTS) as cur:
            row = await cur.fetchone()
        assert row is not None
        return Counts(*row)

    async def recent_errors(self, since: str, limit: int = 20) -> list[tuple[str, int, str]]:
        """(error_type, count, last_at) since the given time, most frequent first."""
        async with self._r.execute(q.ERRORS_SINCE, (since, limit)) as cur:
            return [(r[0], r[1], r[2]) for r in await cur.fetchall()]

    async def sir_history(self, symbol_id: str) -> list[tuple[str, str, str]]:
        """(sir_hash, created_at, sir_json), newest first."""
        async with self._r.execute(q.HISTORY, (symbol_id, q.key(symbol_id))) as cur:
            return [(r[0], _time(r[1]), sir_json_of(r[2]) or "") for r in await cur.fetchall()]

    # ------------------------------------------------------------------ call graph

    async def edges_from(self, caller_id: str) -> list[Edge]:
        """Every call site inside a symbol, in source order."""
        async with self._r.execute(edges.EDGES_FROM, (q.key(caller_id),)) as cur:
            rows = await cur.fetchall()
        return await edges.edges_of(self._r, rows)

    async def edges_into(self, target_id: str, limit: int) -> list[Edge]:
        """Call sites resolved to a symbol (local, import or unique name)."""
        async with self._r.execute(edges.EDGES_INTO, (q.key(target_id), limit)) as cur:
            rows = await cur.fetchall()
        return await edges.edges_of(self._r, rows)

    async def ambiguous_into(self, name: str, target_id: str, limit: int) -> list[Edge]:
        """Ambiguous call sites that list this symbol among their candidates."""
        async with self._r.execute(edges.AMBIGUOUS_NAMED,
                                   (name, q.key(target_id), limit)) as cur:
            rows = await cur.fetchall()
        return await edges.edges_of(self._r, rows)

    async def count_into(self, target_id: str) -> int:
        async with self._r.execute(edges.COUNT_INTO, (q.key(target_id),)) as cur:
            row = await cur.fetchone()
        return int(row[0]) if row else 0

    async def callers_counts(self, target_ids: Sequence[str]) -> dict[str, int]:
        """Resolved callers (call sites) per symbol, for many symbols at once (code lens)."""
        out: dict[str, int] = {}
        for chunk in edges.chunked(list(target_ids)):
            async with self._r.execute(edges.counts_into(len(chunk)), q.keys(chunk)) as cur:
                out.update({r[0]: r[1] for r in await cur.fetchall()})
        return out

    async def unresolved_named(self, name: str) -> int:
        """Unresolved call sites calling `name`: calls the graph cannot place."""
        async with self._r.execute(edges.UNRESOLVED_NAMED, (name,)) as cur:
            row = await cur.fetchone()
        return int(row[0]) if row else 0

    async def provenance_counts(self) -> dict[str, int]:
        async with self._r.execute(edges.PROVENANCE_COUNTS) as cur:
            return {PROVENANCES[r[0]]: r[1] for r in await cur.fetchall()}

    async def graph_pending(self) -> bool:
        """True while a bulk pass has left edges waiting for resolution."""
        return await self.get_meta("graph_dirty") == "1"

def _time(value: int | str) -> str:
    """A SIR's time as stored (ms since 1970, v19) as the text it was written as."""
    return utc_text(value) if isinstance(value, int) else value


def _intent(value: str | bytes | None) -> str | None:
    """The intent of a stored SIR (packed, aether.store.packing)."""
    text = sir_json_of(value)
    if text is None:
        return None
    intent = json.loads(text).get("intent")
    return intent if isinstance(intent, str) else None


for _name, _fn in list(vars(Store).items()):
    if not _name.startswith("_") and inspect.iscoroutinefunction(_fn) and _name not in (
            "close", "reopen", "quick_check", "recover", "integrity_check"):
        setattr(Store, _name, reports_damage(_fn))
