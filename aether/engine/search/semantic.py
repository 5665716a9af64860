"""The semantic retriever: one embedding per symbol (its name words, enclosing names
and SIR intent), kept in the store and searched by brute-force cosine over a
cached matrix (70,000 symbols x 256 int8 codes = 18 MB in memory, 96 bytes each on disk; a
matrix-vector product is a few milliseconds, so no approximate index is needed at this size).

Vectors are made after the lexical index is usable (`sync`), and only for symbols whose
embedded text changed: the store keeps the hash of the text each vector was made from.
Until they cover the index, search says so and uses lexical results.

Memory: the model and the matrix are loaded when a search or a sync first needs them, and an
idle daemon drops both (`release_idle`): at 100,000 symbols they are ~45 MB of an otherwise
~70 MB process, and reloading them costs a fraction of a second the next time.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import numpy as np

from aether.engine.search.embedder import Embedder, EmbedderUnavailable
from aether.engine.search.remote import RemoteEmbedder, failure_reason
from aether.engine.vector_text import VectorText, embedded_text
from aether.hashing import text_hash
from aether.providers.errors import ProviderError
from aether.store.db import Store
from aether.store.vectors import GROUP, pack_vectors, same_text, unpack_vectors

log = logging.getLogger("aether.search")

SYNC_BATCH = 2048
QUEUED_WRITES = 8  # slices embedded and waiting for the store's writer
# Vector texts from the parse workers held for the next sync (~300 bytes each): when the
# embedding falls behind the parse (a loaded machine), later ones are not kept and those
# symbols' texts are made from the store, as always.
MAX_HINTS = 8192
# Semantic results are used once vectors cover this share of the symbols (a save in a
# running daemon leaves a few without one for a moment; that must not flip the mode).
READY_SHARE = 0.9
# Vectors packed this many at a time: each row packs alone, and 64 rows' temporaries stay
# under glibc's fixed 128 KiB mmap threshold (aether.engine.memory), where a slice's
# (2 MB each) were new mappings faulted in page by page (~100,000 faults a cold index).
PACK_ROWS = 64


@dataclass(slots=True)
class SyncReport:
    symbols: int = 0  # symbols whose vector was checked (new, or their SIR changed)
    embedded: int = 0  # texts sent to the model (new or changed)
    seconds: float = 0.0
    model: str = ""
    fallback_reason: str | None = None  # why the provider's embeddings were not used


EmbedFn = Callable[[list[str]], Awaitable[np.ndarray]]
FALLBACK_META = "vectors_fallback"
QUERY_CACHE = 256


@dataclass(slots=True)
class Matrix:
    seqs: np.ndarray  # int64, one per row
    vecs: np.ndarray  # int8 codes (n, dim), aether.store.vectors
    scale: np.ndarray  # float32 (n,): 1 / each row's length
    symbols: int  # symbols in the store when loaded
    key: tuple[str | None, str | None]  # store meta that says when to reload
    model: str = ""
    note: str | None = None  # set when local vectors stand in for the provider's

    @property
    def coverage(self) -> float:
        return len(self.seqs) / self.symbols if self.symbols else 1.0

    def nbytes(self) -> int:
        return int(self.seqs.nbytes + self.vecs.nbytes + self.scale.nbytes)


class VectorIndex:
    """`embedder` is the local model; `remote`, when configured, the provider's endpoint,
    tried first. Vectors of one model only are ever searched together."""

    def __init__(self, embedder: Embedder, remote: RemoteEmbedder | None = None) -> None:
        self.embedder = embedder
        self.remote = remote
        self._matrices: dict[str, Matrix] = {}
        self._lock = asyncio.Lock()
        # Query vectors from the provider, by text: an editor's as-you-type queries and an
        # agent's repeated ones cost one request each, not one per keystroke or call.
        self._query_vectors: OrderedDict[str, np.ndarray] = OrderedDict()
        self.last_used = time.monotonic()  # a search, a sync or a matrix read
        self.releases = 0  # times an idle index dropped its model and matrices
        # Models whose vectors this process has brought up to date with a scan of every
        # symbol; after that a sync reads only the symbols marked dirty since (store v14).
        self._scanned: set[str] = set()
        # Vector texts the parse workers made (`hint`), by symbol id: (sir_hash, text).
        # Each is taken by the sync that finds its symbol with that SIR.
        self._hints: dict[str, tuple[str, str]] = {}

    def hint(self, texts: list[VectorText]) -> None:
        """Texts of symbols about to be written with these SIRs (a static pass's)."""
        room = MAX_HINTS - len(self._hints)
        for sid, sir_hash, text in texts[:max(0, room)]:
            self._hints[sid] = (sir_hash, text)

    def drop_hints(self) -> None:
        """Forget the texts no sync took (their symbols were not written, or had a
        current vector)."""
        self._hints = {}

    def release_idle(self, idle_s: float) -> bool:
        """Drop the matrices and the local model when nothing used them for `idle_s`
        seconds (0: now). The next search or sync loads them again. True if anything
        was held."""
        if time.monotonic() - self.last_used < idle_s or self._lock.locked():
            return False
        release = getattr(self.embedder, "release", None)
        held = bool(self._matrices) | bool(self._query_vectors) | bool(
            release() if release is not None else False)
        self._matrices.clear()
        self._query_vectors.clear()
        if held:
            self.releases += 1
        return held

    @property
    def model(self) -> str:
        return self.remote.model if self.remote else self.embedder.model

    async def _local(self, texts: list[str]) -> np.ndarray:
        self.last_used = time.monotonic()
        return await asyncio.to_thread(self.embedder.embed, texts)

    async def sync(self, store: Store) -> SyncReport:
        """Embed every symbol whose embedded text changed (or that has no vector yet) with
        the provider when configured; when it fails, with the local model, saying why."""
        if self.remote is not None:
            try:
                report = await self._sync(store, self.remote.model, self.remote.embed)
                if await store.get_meta(FALLBACK_META):
                    await store.set_meta(FALLBACK_META, "")
                return report
            except ProviderError as exc:
                await self.write_ledger(store)
                reason = failure_reason(exc)
                log.warning("%s", reason)
                await store.set_meta(FALLBACK_META, reason)
                report = await self._sync(store, self.embedder.model, self._local)
                report.fallback_reason = reason
                return report
        return await self._sync(store, self.embedder.model, self._local)

    async def write_ledger(self, store: Store) -> None:
        """The embedding requests' usage rows into the ledger; a store that cannot take
        them (read-only) loses the rows, never the search."""
        if self.remote is None:
            return
        rows = self.remote.drain()
        try:
            await store.append_usage(rows)
        except Exception as exc:  # bookkeeping must not fail a search
            log.warning("embedding usage not recorded (%d rows): %s", len(rows), exc)

    async def _sync(self, store: Store, model: str, embed: EmbedFn) -> SyncReport:
        started = time.perf_counter()
        report = SyncReport(model=model)
        mark = await store.vector_dirty_mark()
        hints = dict(self._hints)  # as the store is told of them (more may come meanwhile)
        sources = await store.vector_sources(model, mark if model in self._scanned else None,
                                             {sid: h[0] for sid, h in hints.items()})
        report.symbols = len(sources)
        # Each slice's rows are written while the next slices are embedded: the store's
        # writer may be busy for seconds (the final resolve of a cold pass holds it), and
        # the model need not wait for it. Writes queue on the store's lock, in order.
        writes: list[asyncio.Task[None]] = []
        try:
            # A slice at a time, each dropped once written: on a cold index `sources` is
            # every symbol, and the texts, hashes and vectors of all of them at once were
            # ~12 MB of its peak at 40,000 symbols.
            while sources:
                chunk = sources[:SYNC_BATCH]
                del sources[:SYNC_BATCH]
                todo: list[tuple[str, str, str | None, str]] = []  # id, text hash, sir hash, text
                current: list[tuple[str | None, str]] = []
                for sid, name, qname, intent, sir_hash, old_hash in chunk:
                    hinted = hints.get(sid)
                    if hinted is not None and hinted[0] == sir_hash:  # intent is None: unread
                        text = hinted[1]
                        if self._hints.get(sid) is hinted:
                            del self._hints[sid]
                    else:
                        text = embedded_text(name, qname, intent)
                    digest = text_hash(text)
                    if same_text(digest, old_hash):
                        current.append((sir_hash, sid))  # a new SIR with the same intent
                    else:
                        todo.append((sid, digest, sir_hash, text))
                vecs = (await embed([t for *_, t in todo]) if todo
                        else np.empty((0, 0), dtype=np.float32))
                rows = [(sid, digest, sir_hash, model, vec) for (sid, digest, sir_hash, _), vec
                        in zip(todo, _packed(vecs) if todo else [], strict=True)]
                if rows or current:
                    if len(writes) >= QUEUED_WRITES:  # ~1 MB of rows each: a few at most
                        await writes[-QUEUED_WRITES]
                    writes.append(asyncio.create_task(self._write(store, rows, current)))
                report.embedded += len(todo)
        finally:
            # every write started is finished (or has failed) before this returns or raises
            done = await asyncio.gather(*writes, return_exceptions=True)
        failed = next((e for e in done if isinstance(e, BaseException)), None)
        if failed is not None:
            raise failed
        await store.clear_vector_dirty(mark)
        # The marks just cleared were another model's news too: it scans everything next.
        self._scanned = {model}
        if report.embedded or await store.get_meta("vectors_at") is None:
            from aether.store.records import utc_now

            await store.set_meta("vectors_at", f"{utc_now()} {report.embedded}")
        report.seconds = time.perf_counter() - started
        return report

    async def _write(self, store: Store, rows: list[tuple[str, str, str | None, str, bytes]],
                     current: list[tuple[str | None, str]]) -> None:
        await store.write_vectors(rows, current)
        if rows:
            await self.write_ledger(store)

    async def matrix(self, store: Store, model: str | None = None) -> Matrix | None:
        """The cached matrix of `model`, reloaded when the store says vectors or the index
        changed."""
        model = model or self.model
        self.last_used = time.monotonic()
        key = (await store.get_meta("vectors_at"), await store.get_meta("last_indexed_at"))
        if key[0] is None:
            return None
        async with self._lock:
            cached = self._matrices.get(model)
            if cached is not None and cached.key == key:
                return cached
            ids, joined = await store.joined_vectors(model)
            symbols, _ = await store.vector_counts(model)
            seqs = np.array(ids, dtype=np.int64)
            del ids
            vecs, scale = unpack_vectors(joined, len(seqs))
            del joined
            self._matrices[model] = Matrix(seqs, vecs, scale, symbols, key, model)
            return self._matrices[model]

    async def readiness(self, store: Store) -> tuple[Matrix | None, str | None]:
        """(matrix, None) when semantic search can run, else (None, the reason why not).
        With a provider configured whose vectors do not cover the index, the local ones
        stand in when they do, and `matrix.note` says why."""
        try:
            m = await self.matrix(store)
            if self.remote is not None and (m is None or m.coverage < READY_SHARE):
                local = await self.matrix(store, self.embedder.model)
                if local is not None and local.coverage >= READY_SHARE and len(local.seqs):
                    local.note = (await store.get_meta(FALLBACK_META) or
                                  "provider vectors are not computed yet; local vectors used")
                    return local, None
        except EmbedderUnavailable as exc:
            return None, str(exc)
        if m is None:
            return None, "semantic vectors are not computed yet (run `aether index`)"
        if m.coverage < READY_SHARE:
            return None, (f"semantic vectors are still being computed "
                          f"({len(m.seqs)} of {m.symbols} symbols)")
        return m, None

    async def nearest(self, store: Store, m: Matrix, query: str,
                      limit: int) -> list[tuple[int, float]]:
        """(seq, cosine) of the `limit` nearest symbols, the query embedded by the model
        that made `m`. One thread hop for the local embedding and the product (numpy
        releases the GIL), so it overlaps the lexical query. A provider failure raises
        ProviderError."""
        self.last_used = time.monotonic()
        if self.remote is not None and m.model == self.remote.model:
            qv = self._query_vectors.get(query)
            if qv is None:
                try:
                    qv = (await self.remote.embed([query]))[0]
                finally:
                    await self.write_ledger(store)
                self._query_vectors[query] = qv
                if len(self._query_vectors) > QUERY_CACHE:
                    self._query_vectors.popitem(last=False)
            else:
                self._query_vectors.move_to_end(query)
            return await asyncio.to_thread(self._product, m, qv, limit)
        return await asyncio.to_thread(self._nearest, m, query, limit)

    def _nearest(self, m: Matrix, query: str, limit: int) -> list[tuple[int, float]]:
        return self._product(m, self.embedder.embed([query])[0], limit)

    @staticmethod
    def _product(m: Matrix, qv: np.ndarray, limit: int) -> list[tuple[int, float]]:
        if len(qv) % GROUP:  # stored in groups of dimensions, the last one padded with 0
            qv = np.append(qv, np.zeros(-len(qv) % GROUP, np.float32))
        if len(m.seqs) == 0 or m.vecs.shape[1] != len(qv):
            return []
        # einsum multiplies int8 by float32 without first copying the matrix to float32
        # (`@` does: ~2.5x slower, and a 4x larger temporary).
        sims = np.einsum("ij,j->i", m.vecs, qv.astype(np.float32)) * m.scale
        k = min(limit, len(sims))
        top = np.argpartition(-sims, k - 1)[:k]
        top = top[np.argsort(-sims[top])]
        return [(int(m.seqs[i]), float(sims[i])) for i in top]


class VectorOverlap:
    """Embeds while a static index is still parsing: after each batch of files is written,
    a sync of what is new runs in the background (one at a time), so the vectors of a cold
    index are mostly made while the parse workers work, not after them. Each sync embeds
    only texts without a current vector, so nothing is embedded twice."""

    def __init__(self, vectors: VectorIndex, store: Store) -> None:
        self.vectors = vectors
        self.store = store
        self.report = SyncReport(model=vectors.model)
        self._task: asyncio.Task[None] | None = None
        self._again = False

    def kick(self) -> None:
        if self._task is not None and not self._task.done():
            self._again = True  # the running sync goes round once more when it ends
            return
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def _run(self) -> None:
        for _ in range(1_000_000):  # bounded; each pass follows a written batch
            self._again = False
            try:
                part = await self.vectors.sync(self.store)
            except EmbedderUnavailable:
                return  # the final sync records it
            self.report.symbols += part.symbols
            self.report.embedded += part.embedded
            self.report.seconds += part.seconds
            if not self._again:
                return

    def cancel(self) -> None:
        if self._task is not None:
            self._task.cancel()

    async def finish(self) -> SyncReport:
        """Waits for the background sync to end."""
        if self._task is not None:
            await self._task
        return self.report


def _packed(vecs: np.ndarray) -> list[bytes]:
    """`pack_vectors(vecs)`, PACK_ROWS rows at a time."""
    return [b for i in range(0, len(vecs), PACK_ROWS) for b in pack_vectors(vecs[i:i + PACK_ROWS])]
