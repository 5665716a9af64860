"""Search vectors stored compactly (schema v16): at 4 bits a dimension they keep their
direction (a cosine from the stored codes is close to the float one, for even and odd
dimensions); their hashes and model names read back as they were written."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import numpy as np

from aether.hashing import text_hash
from aether.sir.model import Sir
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
        assert all(len(b) == (dim + 1) // 2 for b in blobs)
        codes, scale = unpack_vectors(blobs)
        assert codes.shape == (50, dim + dim % 2) and codes.min() >= -7 and codes.max() <= 7
        query = vecs[3] if dim % 2 == 0 else np.append(vecs[3], np.float32(0))
        cosines = (codes.astype(np.float32) @ query) * scale
        exact = vecs @ vecs[3]
        assert abs(float(cosines[3]) - 1.0) < 0.03  # itself
        assert float(np.max(np.abs(cosines - exact))) < 0.12
        assert int(np.argmax(cosines)) == 3


def test_a_flat_or_empty_vector_is_stored_safely() -> None:
    codes, scale = unpack_vectors([pack_vector(np.full(8, 0.35, np.float32)),
                                   pack_vector(np.zeros(8, np.float32))])
    assert codes[0].tolist() == [3] * 8 and codes[1].tolist() == [0] * 8
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
            (sid, model.sir_hash, text[:16])]  # v20: the first 8 bytes of the text's hash
        assert same_text(text, text[:16]) and not same_text(text_hash("f adds 2"), text[:16])
        await store.write_vectors([], [(model.sir_hash, sid)])
        assert await store.vector_sources("model-a") == []
    finally:
        await store.close()
    conn = sqlite3.connect(tmp_path / "aether.db")
    try:
        assert conn.execute("SELECT length(text_hash), length(sir_hash), typeof(model) "
                            "FROM symbol_vectors").fetchall() == [(8, 8, "integer")]
        assert conn.execute("SELECT name FROM vector_models").fetchall() == [("model-a",)]
    finally:
        conn.close()
