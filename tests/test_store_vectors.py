"""Search vectors stored compactly (schema v16, v22): at 3 bits a dimension they keep their
direction (a cosine from the stored codes is close to the float one, for even and odd
dimensions); their hashes and model names read back as they were written."""

from __future__ import annotations

import sqlite3
from array import array
from pathlib import Path

import numpy as np
import pytest

from aether.hashing import text_hash
from aether.sir.model import Sir
from aether.store import db
from aether.store.db import Store
from aether.store.records import FileChange, FileRecord, NewSir, PreparedSir
from aether.store.vectors import pack_vector, same_text, unpack_vectors
from aether.symbols.model import Symbol


def test_stored_vectors_keep_their_cosines() -> None:
    rng = np.random.default_rng(7)
    for dim in (256, 7):
        vecs = rng.normal(size=(50, dim)).astype(np.float32)
        vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
        blobs = [pack_vector(v) for v in vecs]
        width = dim + -dim % 8  # eight dimensions in three bytes
        assert all(len(b) == width * 3 // 8 for b in blobs)
        codes, scale = unpack_vectors(blobs)
        assert codes.shape == (50, width) and codes.min() >= -3 and codes.max() <= 3
        query = np.append(vecs[3], np.zeros(width - dim, np.float32))
        cosines = (codes.astype(np.float32) @ query) * scale
        exact = vecs @ vecs[3]
        assert abs(float(cosines[3]) - 1.0) < 0.03  # itself
        # three bits: within 0.12 at the model's 256 dimensions, coarser on a handful
        assert float(np.max(np.abs(cosines - exact))) < (0.12 if dim >= 64 else 0.2)
        assert int(np.argmax(cosines)) == 3


def test_a_flat_or_empty_vector_is_stored_safely() -> None:
    codes, scale = unpack_vectors([pack_vector(np.full(8, 0.35, np.float32)),
                                   pack_vector(np.zeros(8, np.float32))])
    assert codes[0].tolist() == [1] * 8 and codes[1].tolist() == [0] * 8
    assert np.isfinite(scale).all()
    assert unpack_vectors([])[0].shape == (0, 0)


async def test_vector_rows_keep_hashes_in_16_bytes_and_models_by_number(tmp_path: Path) -> None:
    """A vector row holds its hashes as 16 bytes and its model as a number; the store
    answers with the hex hashes and model names it was given, and a SIR that moved on makes
    the vector a source again."""
    store = await Store.open(tmp_path / "aether.db")
    try:
        sid = "f" * 32
        symbol = Symbol(sid, "python", "x.py", "function", "f", "f", "def f()", 1, 0, 2, 0, 0,
                        10, "h1")
        prepared = PreparedSir.of(Sir(intent="Adds.", confidence=0.3))
        await store.apply_files([FileChange(FileRecord("x.py", 10, 1, "python", "f1"),
                                            [symbol], static_sirs={sid: prepared})])
        text = text_hash("f adds")
        vec = pack_vector(np.ones(4, np.float32))
        await store.write_vectors([(sid, text, prepared.sir_hash, "model-a", vec)])
        assert await store.vector_sources("model-a") == []
        assert [r[5] for r in await store.vector_sources("model-b")] == [None]
        assert dict(await store.all_vectors("model-a")) == {1: vec}
        assert await store.vector_counts("model-b") == (1, 0)
        model = PreparedSir.of(Sir(intent="Adds two numbers.", confidence=0.9))
        await store.record_sir_success([NewSir(sid, model, "h1", "openai", "gpt-x")])
        assert [(r[0], r[4], r[5]) for r in await store.vector_sources("model-a")] == [
            (sid, model.sir_hash, text[:8])]  # v25: the first 4 bytes of the text's hash
        assert same_text(text, text[:8]) and not same_text(text_hash("f adds 2"), text[:8])
        await store.write_vectors([], [(model.sir_hash, sid)])
        assert await store.vector_sources("model-a") == []
    finally:
        await store.close()
    conn = sqlite3.connect(tmp_path / "aether.db")
    try:
        assert conn.execute("SELECT length(text_hash), length(sir_hash), typeof(model) "
                            "FROM symbol_vectors").fetchall() == [(4, 4, "integer")]
        assert conn.execute("SELECT name FROM vector_models").fetchall() == [("model-a",)]
    finally:
        conn.close()


async def test_a_model_s_vectors_read_in_slices_join_in_row_order(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The search matrix is read VECTOR_SLICE rows at a time (a whole model's rows as Python
    objects fragment an idle daemon's heap): slices of 3 over 10 rows give every vector once,
    in the order of their seqs, and the same matrix as the rows unpacked one by one."""
    monkeypatch.setattr(db, "VECTOR_SLICE", 3)
    store = await Store.open(tmp_path / "aether.db")
    try:
        symbols = [Symbol(f"{k:032x}", "python", "x.py", "function", f"f{k}", f"f{k}",
                          f"def f{k}()", k + 1, 0, k + 1, 9, k * 10, k * 10 + 9, f"h{k}")
                   for k in range(10)]
        await store.apply_files([FileChange(FileRecord("x.py", 100, 1, "python", "f1"),
                                            symbols)])
        rng = np.random.default_rng(3)
        await store.write_vectors([(s.id, text_hash(s.name), None, "model-a",
                                    pack_vector(rng.normal(size=8).astype(np.float32)))
                                   for s in symbols])
        rows = await store.all_vectors("model-a")
        seqs, joined = await store.joined_vectors("model-a")
        assert len(rows) == 10 and list(seqs) == [seq for seq, _ in rows]
        assert bytes(joined) == b"".join(vec for _, vec in rows)
        codes, scale = unpack_vectors(joined, len(seqs))
        one_by_one = unpack_vectors([vec for _, vec in rows])
        assert np.array_equal(codes, one_by_one[0]) and np.array_equal(scale, one_by_one[1])
        assert await store.joined_vectors("model-b") == (array("q"), bytearray())
    finally:
        await store.close()
