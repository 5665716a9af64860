"""The semantic retriever: one embedding per symbol (its name words, enclosing names
and SIR intent), kept in the store and searched by brute-force cosine over a
cached int8 matrix (70,000 symbols x 256 bytes = 18 MB; a matrix-vector product is a few
milliseconds, so no approximate index is needed at this size).

Vectors are made after the lexical index is usable (`sync`), and only for symbols whose
embedded text changed: the store keeps the hash of the text each vector was made from.
Until they cover the index, search says so and uses lexical results.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass

import numpy as np

from aether.engine.search.embedder import Embedder, EmbedderUnavailable, from_blobs, to_blob
from aether.hashing import text_hash
from aether.store.db import Store
from aether.symbols.names import identifier_words
from aether.symbols.terms import enclosing

log = logging.getLogger("aether.search")

SYNC_BATCH = 2048
# Semantic results are used once vectors cover this share of the symbols (a save in a
# running daemon leaves a few without one for a moment; that must not flip the mode).
READY_SHARE = 0.9


def embedded_text(name: str, qualified_name: str, intent: str | None) -> str:
    """What a symbol's vector is made from: words, not code. The signature is left out
    (parameter lists and keywords blur the meaning; measured in bench/search.py)."""
    parents = enclosing(qualified_name)
    parts = [" ".join(identifier_words(name))]
    if parents:
        parts.append("in " + " ".join(identifier_words(parents)))
    if intent:
        parts.append(intent)
    return ". ".join(parts)


@dataclass(slots=True)
class SyncReport:
    symbols: int = 0  # symbols whose vector was checked (new, or their SIR changed)
    embedded: int = 0  # texts sent to the model (new or changed)
    seconds: float = 0.0


@dataclass(slots=True)
class Matrix:
    seqs: np.ndarray  # int64, one per row
    vecs: np.ndarray  # int8 (n, dim)
    symbols: int  # symbols in the store when loaded
    key: tuple[str | None, str | None]  # store meta that says when to reload

    @property
    def coverage(self) -> float:
        return len(self.seqs) / self.symbols if self.symbols else 1.0

    def nbytes(self) -> int:
        return int(self.seqs.nbytes + self.vecs.nbytes)


class VectorIndex:
    def __init__(self, embedder: Embedder) -> None:
        self.embedder = embedder
        self._matrix: Matrix | None = None
        self._lock = asyncio.Lock()

    @property
    def model(self) -> str:
        return self.embedder.model

    async def sync(self, store: Store) -> SyncReport:
        """Embed every symbol whose embedded text changed (or that has no vector yet)."""
        started = time.perf_counter()
        report = SyncReport()
        sources = await store.vector_sources(self.model)
        report.symbols = len(sources)
        todo: list[tuple[str, str, str | None, str]] = []  # (id, text_hash, sir_hash, text)
        current: list[tuple[str | None, str]] = []
        for sid, name, qname, intent, sir_hash, old_hash in sources:
            text = embedded_text(name, qname, intent)
            digest = text_hash(text)
            if digest == old_hash:
                current.append((sir_hash, sid))  # a new SIR with the same intent
            else:
                todo.append((sid, digest, sir_hash, text))
        if current:
            await store.write_vectors([], current)
        for start in range(0, len(todo), SYNC_BATCH):
            batch = todo[start:start + SYNC_BATCH]
            vecs = await asyncio.to_thread(self.embedder.embed, [t for *_, t in batch])
            await store.write_vectors([
                (sid, digest, sir_hash, self.model, to_blob(v))
                for (sid, digest, sir_hash, _), v in zip(batch, vecs, strict=True)])
            report.embedded += len(batch)
        if todo or await store.get_meta("vectors_at") is None:
            from aether.store.records import utc_now

            await store.set_meta("vectors_at", f"{utc_now()} {report.embedded}")
        report.seconds = time.perf_counter() - started
        return report

    async def matrix(self, store: Store) -> Matrix | None:
        """The cached matrix, reloaded when the store says vectors or the index changed."""
        key = (await store.get_meta("vectors_at"), await store.get_meta("last_indexed_at"))
        if key[0] is None:
            return None
        async with self._lock:
            if self._matrix is not None and self._matrix.key == key:
                return self._matrix
            rows = await store.all_vectors(self.model)
            symbols, _ = await store.vector_counts(self.model)
            seqs = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
            self._matrix = Matrix(seqs, from_blobs([r[1] for r in rows]), symbols, key)
            return self._matrix

    async def readiness(self, store: Store) -> tuple[Matrix | None, str | None]:
        """(matrix, None) when semantic search can run, else (None, the reason why not)."""
        try:
            m = await self.matrix(store)
        except EmbedderUnavailable as exc:
            return None, str(exc)
        if m is None:
            return None, "semantic vectors are not computed yet (run `aether index`)"
        if m.coverage < READY_SHARE:
            return None, (f"semantic vectors are still being computed "
                          f"({len(m.seqs)} of {m.symbols} symbols)")
        return m, None

    async def nearest(self, m: Matrix, query: str, limit: int) -> list[tuple[int, float]]:
        """(seq, cosine) of the `limit` nearest symbols. One thread hop for the embedding and
        the product (numpy releases the GIL), so it overlaps the lexical query."""
        return await asyncio.to_thread(self._nearest, m, query, limit)

    def _nearest(self, m: Matrix, query: str, limit: int) -> list[tuple[int, float]]:
        qv = self.embedder.embed([query])[0]
        if len(m.seqs) == 0:
            return []
        # einsum multiplies int8 by float32 without first copying the matrix to float32
        # (`@` does: ~2.5x slower, and a 4x larger temporary).
        sims = np.einsum("ij,j->i", m.vecs, qv.astype(np.float32)) / 127.0
        k = min(limit, len(sims))
        top = np.argpartition(-sims, k - 1)[:k]
        top = top[np.argsort(-sims[top])]
        return [(int(m.seqs[i]), float(sims[i])) for i in top]
