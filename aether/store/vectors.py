"""How a search vector is stored: 4 bits a dimension (schema v16), 128 bytes for WordLlama's
256 dimensions instead of 256 (9 MB less on the standard library).

Each vector is scaled by 2.5 times its own root mean square to the range -7..7 (the few
larger components are clipped), then two dimensions share a byte (low nibble first). Search
compares by cosine: a row's length is taken once, when the matrix is loaded. On the search
benchmark (`python bench/search.py --no-stdlib`) this kept MRR@10 where int8 had it: hybrid
0.686 against 0.687, semantic 0.619 against 0.614; truncating to 128 dimensions instead
(WordLlama is Matryoshka-trained) lost 0.034.

Stores from before v16 hold int8 vectors (a unit vector times 127): they are converted on
first open (`convert_vectors`), so vectors that cost a provider request are kept; so are
their hashes, 8 bytes each (v20: `pack_vector_hash`) instead of 32 hex characters.
"""

from __future__ import annotations

import sqlite3

import numpy as np

from aether.store import queries as q
from aether.store.records import hash_text, pack_hash
from aether.store.schema import convert_once

_SPREAD = 2.5  # root mean squares mapped to the largest code
_LEVELS = 7.0
META_KEY = "vector_format"
FORMAT = "int4"


def pack_vector(vec: np.ndarray) -> bytes:
    """One float vector as stored."""
    v = np.asarray(vec, dtype=np.float32)
    spread = float(np.sqrt(np.mean(v * v))) * _SPREAD  # the root mean square, not the std:
    # a vector whose components are all alike still has a direction
    codes = np.clip(np.rint(v / spread * _LEVELS) if spread > 0 else np.zeros_like(v),
                    -_LEVELS, _LEVELS).astype(np.int8)
    if len(codes) % 2:
        codes = np.append(codes, np.int8(0))
    return bytes(((codes[0::2] & 0xF) | ((codes[1::2] & 0xF) << 4)).astype(np.uint8).tobytes())


def pack_vectors(vecs: np.ndarray) -> list[bytes]:
    """`[pack_vector(v) for v in vecs]`, byte for byte, in a few array operations: one
    vector at a time was ~45 us of numpy calls, 3.5 s of a cold index's writer process on
    the standard library."""
    v = np.asarray(vecs, dtype=np.float32)
    if v.ndim != 2 or not len(v):
        return [pack_vector(row) for row in v]
    # the same float32 arithmetic per row as pack_vector: mean over the contiguous last axis
    spread = np.sqrt(np.mean(v * v, axis=1)) * np.float32(_SPREAD)
    live = spread > 0
    scaled = np.zeros_like(v)
    np.divide(v, spread[:, np.newaxis], out=scaled, where=live[:, np.newaxis])
    codes = np.clip(np.rint(scaled * np.float32(_LEVELS)), -_LEVELS, _LEVELS).astype(np.int8)
    if codes.shape[1] % 2:
        codes = np.concatenate([codes, np.zeros((len(codes), 1), np.int8)], axis=1)
    packed = ((codes[:, 0::2] & 0xF) | ((codes[:, 1::2] & 0xF) << 4)).astype(np.uint8)
    return [row.tobytes() for row in packed]


def unpack_vectors(blobs: list[bytes] | bytes | bytearray, rows: int | None = None
                   ) -> tuple[np.ndarray, np.ndarray]:
    """(int8 codes (n, even dim), float32 1/length of each row) of stored vectors of one
    model, given as a list or as `rows` vectors joined; a dot product with a unit query (an
    odd one padded with a 0), times the second, is the cosine."""
    n = len(blobs) if isinstance(blobs, list) else (rows or 0)
    if not n:
        return np.zeros((0, 0), dtype=np.int8), np.zeros(0, dtype=np.float32)
    joined = b"".join(blobs) if isinstance(blobs, list) else blobs
    packed = np.frombuffer(joined, dtype=np.uint8).reshape(n, -1)
    codes = np.empty((n, packed.shape[1] * 2), dtype=np.int8)
    codes[:, 0::2] = ((packed & 0xF).astype(np.int8) ^ 8) - 8  # sign-extend a nibble
    codes[:, 1::2] = ((packed >> 4).astype(np.int8) ^ 8) - 8
    lengths = np.sqrt(np.einsum("ij,ij->i", codes, codes, dtype=np.float32))
    lengths[lengths == 0] = 1.0
    return codes, (1.0 / lengths).astype(np.float32)


HASH_BYTES = 8  # of a hash in a vector row (v20): it only has to show that a text or SIR
# changed (one row per symbol, never looked up by it), and 2 x 8 bytes was 1.2 MB on the
# standard library


def pack_vector_hash(value: str | None) -> bytes | str | None:
    """A text or SIR hash as a vector row keeps it: the first `HASH_BYTES` of aether's 16
    (`records.pack_hash`); anything else as it is."""
    packed = pack_hash(value)
    return packed[:HASH_BYTES] if isinstance(packed, bytes) else packed


def same_text(digest: str, stored: str | None) -> bool:
    """Whether a text hash (aether.hashing) is the one a vector row keeps, as `vector_sources`
    reads it back (the hex of its first bytes)."""
    return bool(stored) and digest.startswith(stored or "")


def convert_vectors(conn: sqlite3.Connection) -> bool:
    """Vector rows copied by the v16 migration (int8 vectors, a unit vector times 127, and
    hex hashes) in the current form, in place, once. True if this call converted them."""
    return convert_once(conn, META_KEY, FORMAT, _convert)


def _convert(conn: sqlite3.Connection) -> None:
    rows = conn.execute(q.ALL_VECTOR_ROWS).fetchall()
    conn.executemany(q.SET_VECTOR_ROW, [
        (pack_vector(np.frombuffer(vec, dtype=np.int8).astype(np.float32) / 127.0),
         pack_vector_hash(hash_text(text)), pack_vector_hash(hash_text(sir)), seq)
        for seq, vec, text, sir in rows])
