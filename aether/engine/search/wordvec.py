"""WordLlama's static embeddings, read straight from the files its wheel ships.

The wheel's own loader imports an HTTP client and a model hub (~40 MB of a daemon's memory
before a single vector) and copies the float16 weight table into a float32 one (33 MB). A
static model needs neither: the table is memory-mapped from the safetensors file as it is
(read-only pages the OS may drop and re-read), only the rows of a batch's tokens are widened
to float32, and the pooling is the wheel's own arithmetic (tests compare the vectors), so
stored vectors stay valid. The package is located, never imported.
"""

from __future__ import annotations

import importlib.util
import json
import struct
from pathlib import Path
from typing import Any

import numpy as np

WEIGHTS = "weights/l2_supercat_{dim}.safetensors"
TOKENIZER = "tokenizers/l2_supercat_tokenizer_config.json"
TENSOR = "embedding.weight"
BATCH = 64  # texts per gather, as the wheel does: padding is per batch
_DTYPES = {"F16": np.float16, "F32": np.float32}


def package_folder() -> Path:
    """The installed `wordllama` package folder, found without importing it."""
    spec = importlib.util.find_spec("wordllama")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("the wordllama package is not installed")
    return Path(next(iter(spec.submodule_search_locations)))


def map_tensor(path: Path, name: str = TENSOR) -> np.ndarray:
    """One tensor of a safetensors file as a read-only memory map (no copy)."""
    with path.open("rb") as f:
        (size,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(size))
    info = header[name]
    dtype = _DTYPES.get(info["dtype"])
    if dtype is None:
        raise ValueError(f"{path.name}: tensor dtype {info['dtype']} is not supported")
    start, end = info["data_offsets"]
    shape = tuple(int(n) for n in info["shape"])
    table = np.memmap(path, dtype=dtype, mode="r", offset=8 + size + start, shape=shape)
    if table.nbytes != end - start:
        raise ValueError(f"{path.name}: tensor {name} does not match its declared size")
    return table


class WordVectors:
    """Tokenizer plus memory-mapped table; `embed` pools like `WordLlamaInference.embed`."""

    def __init__(self, dim: int, folder: Path | None = None) -> None:
        from tokenizers import Tokenizer

        folder = folder or package_folder()
        self.table = map_tensor(folder / WEIGHTS.format(dim=dim))
        self.dim = int(self.table.shape[1])
        self.tokenizer: Any = Tokenizer.from_file(str(folder / TOKENIZER))
        self.tokenizer.enable_padding()
        self.tokenizer.no_truncation()
        # This tokenizer has no pre-tokenizer: a whole text is one BPE "word", and its cache
        # (10,000 entries) keeps every recent text -- ~60 MB during a cold index, never hit
        # by the unique texts of symbols. Encoding without it is no slower (measured).
        resize = getattr(self.tokenizer.model, "_resize_cache", None)
        if resize is not None:
            resize(0)

    def embed(self, texts: list[str]) -> np.ndarray:
        """Mean of the token vectors of each text, unit length, float32 (n, dim)."""
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        last = self.table.shape[0] - 1
        # Texts of similar length share a batch: padding is per batch, and the masked mean
        # is the same whatever the padding (identical floats, measured), so less padding is
        # just less work. Offsets are never used: the fast encoder skips them.
        order = sorted(range(len(texts)), key=lambda k: len(texts[k]))
        encode = getattr(self.tokenizer, "encode_batch_fast", self.tokenizer.encode_batch)
        for i in range(0, len(texts), BATCH):
            batch = order[i:i + BATCH]
            encoded = encode([texts[k] for k in batch], add_special_tokens=False)
            ids = np.array([e.ids for e in encoded], dtype=np.int32)
            mask = np.array([e.attention_mask for e in encoded], dtype=np.float32)
            np.clip(ids, 0, last, out=ids)
            # widen each distinct token's row once (float16 -> float32 is exact, and
            # converting every position is most of the time), then gather
            distinct, where = np.unique(ids, return_inverse=True)
            rows = np.asarray(self.table[distinct], dtype=np.float32)[where.reshape(ids.shape)]
            counts = np.maximum(mask.sum(axis=1, keepdims=True), 1.0).astype(np.float32)
            pooled = np.sum(rows * mask[..., np.newaxis], axis=1, dtype=np.float32) / counts
            norms = np.linalg.norm(pooled, axis=1, keepdims=True)
            norms[norms == 0] = 1.0  # an empty text: a zero vector, not NaN
            pooled /= norms
            out[batch] = pooled
        return out
