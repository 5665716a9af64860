"""How a search vector is stored: 3 bits a dimension (since schema v22; 4 bits from v16),
96 bytes for WordLlama's 256 dimensions instead of 128 (2.3 MB less on the standard
library).

Each vector is scaled by 2.5 times its own root mean square to the range -3..3 (the few
larger components are clipped), then eight dimensions share three bytes (each code plus 3
in three bits, the first dimension lowest). Search compares by cosine: a row's length is
taken once, when the matrix is loaded, from the same int8 codes as before. On the search
benchmark (`python bench/search.py --no-stdlib`) 3 bits kept MRR@10 where 4 bits had it:
hybrid 0.692 against 0.686, semantic 0.619 against 0.611, recall@10 the same; 4 bits had
matched int8 (hybrid 0.686 against 0.687); truncating to 128 dimensions instead
(WordLlama is Matryoshka-trained) lost 0.034, and three levels (-1, 0, 1) lost recall
(commander's hybrid R@10 0.886 -> 0.818).

Stores from before v16 hold int8 vectors (a unit vector times 127), from v16 to v21 4-bit
ones: they are converted on first open (`convert_vectors`), so vectors that cost a provider
request are kept; so are their hashes, 4 bytes each (v20: 8, v25: 4, `pack_vector_hash`)
instead of 32 hex characters.
"""

from __future__ import annotations

import sqlite3

import numpy as np

from aether.store import queries as q
from aether.store.records import VECTOR_HASH_BYTES, hash_text, pack_hash
from aether.store.schema import convert_once

_SPREAD = 2.5  # root mean squares mapped to the largest code
_LEVELS = 3.0
GROUP = 8  # dimensions in 3 bytes: a vector is padded with zeros to a multiple of this
META_KEY = "vector_format"
FORMAT = "int3"
_SHIFTS = np.arange(GROUP, dtype=np.uint32) * 3


def pack_vector(vec: np.ndarray) -> bytes:
    """One float vector as stored."""
    return pack_vectors(np.asarray(vec, dtype=np.float32)[np.newaxis, :])[0]


def pack_vectors(vecs: np.ndarray) -> list[bytes]:
    """Float vectors (n, dim) as stored, in a few array operations: one vector at a time was
    ~45 us of numpy calls, 3.5 s of a cold index's writer process on the standard library."""
    v = np.asarray(vecs, dtype=np.float32)
    if v.ndim != 2 or not len(v):
        return [pack_vector(row) for row in v]
    # the root mean square, not the std: a vector whose components are all alike still has a
    # direction
    spread = np.sqrt(np.mean(v * v, axis=1)) * np.float32(_SPREAD)
    live = spread > 0
    scaled = np.zeros_like(v)
    np.divide(v, spread[:, np.newaxis], out=scaled, where=live[:, np.newaxis])
    codes = np.clip(np.rint(scaled * np.float32(_LEVELS)), -_LEVELS, _LEVELS).astype(np.int8)
    pad = -codes.shape[1] % GROUP
    if pad:
        codes = np.concatenate([codes, np.zeros((len(codes), pad), np.int8)], axis=1)
    n, groups = len(codes), codes.shape[1] // GROUP
    units = (codes + 3).astype(np.uint32).reshape(n, groups, GROUP)
    words = np.bitwise_or.reduce(units << _SHIFTS, axis=2)
    packed = np.empty((n, groups, 3), dtype=np.uint8)
    for i in range(3):
        packed[:, :, i] = (words >> (8 * i)) & 0xFF
    return [row.tobytes() for row in packed.reshape(n, groups * 3)]


def unpack_vectors(blobs: list[bytes] | bytes | bytearray, rows: int | None = None
                   ) -> tuple[np.ndarray, np.ndarray]:
    """(int8 codes (n, dim padded to GROUP), float32 1/length of each row) of stored vectors
    of one model, given as a list or as `rows` vectors joined; a dot product with a unit
    query (padded with zeros as wide), times the second, is the cosine."""
    n = len(blobs) if isinstance(blobs, list) else (rows or 0)
    if not n:
        return np.zeros((0, 0), dtype=np.int8), np.zeros(0, dtype=np.float32)
    joined = b"".join(blobs) if isinstance(blobs, list) else blobs
    packed = np.frombuffer(joined, dtype=np.uint8).reshape(n, -1, 3)
    words = (packed[:, :, 0].astype(np.uint32) | packed[:, :, 1].astype(np.uint32) << 8
             | packed[:, :, 2].astype(np.uint32) << 16)
    codes = np.empty((n, words.shape[1] * GROUP), dtype=np.int8)
    for i in range(GROUP):  # one dimension of every group at a time: small temporaries
        codes[:, i::GROUP] = ((words >> (3 * i)) & 7).astype(np.int8) - 3
    lengths = np.sqrt(np.einsum("ij,ij->i", codes, codes, dtype=np.float32))
    lengths[lengths == 0] = 1.0
    return codes, (1.0 / lengths).astype(np.float32)


def _int4_codes(vec: bytes) -> np.ndarray:
    """The codes of a vector as v16 to v21 stored it: 4 bits a dimension, low nibble
    first."""
    packed = np.frombuffer(vec, dtype=np.uint8)
    codes = np.empty(len(packed) * 2, dtype=np.int8)
    codes[0::2] = ((packed & 0xF).astype(np.int8) ^ 8) - 8  # sign-extend a nibble
    codes[1::2] = ((packed >> 4).astype(np.int8) ^ 8) - 8
    return codes


HASH_BYTES = VECTOR_HASH_BYTES  # of a hash in a vector row (v20: 8, v25: 4)


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
    """Vector rows in an older form (int8 vectors, a unit vector times 127, and hex hashes,
    copied by the v16 migration; or 4 bits a dimension, v16 to v21) in the current form, in
    place, once. True if this call converted them."""
    return convert_once(conn, META_KEY, FORMAT, _convert)


def _convert(conn: sqlite3.Connection) -> None:
    row = conn.execute(q.GET_META, (META_KEY,)).fetchone()
    int4 = row is not None and row[0] == "int4"
    rows = conn.execute(q.ALL_VECTOR_ROWS).fetchall()
    conn.executemany(q.SET_VECTOR_ROW, [
        (pack_vector(_int4_codes(vec).astype(np.float32) if int4
                     else np.frombuffer(vec, dtype=np.int8).astype(np.float32) / 127.0),
         _hash(text), _hash(sir), seq)
        for seq, vec, text, sir in rows])


def _hash(value: str | bytes | None) -> str | bytes | None:
    """A vector row's hash as it is kept: already in bytes (v20 cut them to 8, v25 to 4), or
    hex text from before v16 made them bytes."""
    return value if isinstance(value, bytes) else pack_vector_hash(hash_text(value))
