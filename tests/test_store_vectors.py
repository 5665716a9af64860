"""Search vectors stored at 4 bits a dimension (schema v16) keep their direction: a cosine
computed from the stored codes is close to the float one, for even and odd dimensions."""

from __future__ import annotations

import numpy as np

from aether.store.vectors import pack_vector, unpack_vectors


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
