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
import re
import struct
from pathlib import Path
from typing import Any

import numpy as np

WEIGHTS = "weights/l2_supercat_{dim}.safetensors"
TOKENIZER = "tokenizers/l2_supercat_tokenizer_config.json"
TENSOR = "embedding.weight"
BATCH = 64  # texts per gather, as the wheel does: padding is per batch
WORD_CACHE = 16_384  # the words of symbol texts repeat: a few thousand catch most repeats
# The tokenizer's normalizer: a "▁" before the text, "▁" for every space. No BPE merge
# crosses into a "▁" that follows another character (the only vocabulary entries with a "▁"
# past their first character are runs of "▁"), so a text's tokens are those of its pieces,
# each a run of "▁" and what follows up to the next one.
_SPACE = "\u2581"
_PIECE = re.compile(f"{_SPACE}*[^{_SPACE}]+|{_SPACE}+")
# Written in a text, these are the tokenizer's special tokens: such a text takes its path.
_SPECIAL = ("<unk>", "<s>", "</s>")
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
        self._pieces: dict[str, tuple[int, ...]] = {}

    def token_ids(self, text: str) -> list[int]:
        """The tokenizer's ids of `text` (no special tokens), each distinct piece of text
        tokenized once (`_PIECE`): the tokenizer's own pipeline made a Python object per
        text and per token, and was ~70% of embedding a cold index."""
        if not text:
            return []  # the normalizer prepends nothing to an empty text
        if "<" in text and any(s in text for s in _SPECIAL):
            return list(self.tokenizer.encode(text, add_special_tokens=False).ids)
        out: list[int] = []
        cache = self._pieces
        for piece in _PIECE.findall(_SPACE + text.replace(" ", _SPACE)):
            ids = cache.get(piece)
            if ids is None:
                ids = tuple(t.id for t in self.tokenizer.model.tokenize(piece))
                if len(cache) < WORD_CACHE:
                    cache[piece] = ids
            out.extend(ids)
        return out

    def embed(self, texts: list[str]) -> np.ndarray:
        """Mean of the token vectors of each text, unit length, float32 (n, dim)."""
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        last = self.table.shape[0] - 1
        # Texts of similar length share a batch: padding is per batch, and the masked mean
        # is the same whatever the padding (identical floats, measured), so less padding is
        # just less work.
        order = sorted(range(len(texts)), key=lambda k: len(texts[k]))
        tokens_of = [self.token_ids(texts[k]) for k in order]
        # One set of work buffers for the whole call, written in place batch after batch:
        # the engine keeps glibc's mmap threshold at 128 KiB (aether.engine.memory), so
        # every temporary the size of a batch's token rows was a fresh mapping, faulted in
        # page by page and unmapped again (~1 M page faults, 60% of embedding a cold index).
        size = min(BATCH, len(texts)) * max(map(len, tokens_of), default=0) * self.dim
        narrow = np.empty(size, dtype=self.table.dtype)  # distinct tokens' rows, as stored
        wide = np.empty(size, dtype=np.float32)  # the same, widened
        rows = np.empty(size, dtype=np.float32)  # every position's row, then masked
        for i in range(0, len(texts), BATCH):
            batch = order[i:i + BATCH]
            tokens = tokens_of[i:i + BATCH]
            # padded on the right with id 0 and masked out, as the tokenizer pads a batch
            lengths = np.fromiter((len(t) for t in tokens), dtype=np.int64, count=len(tokens))
            width = int(lengths.max()) if len(tokens) else 0
            ids = np.zeros((len(tokens), width), dtype=np.int32)
            for row, t in enumerate(tokens):
                ids[row, :len(t)] = t
            mask = (np.arange(width) < lengths[:, np.newaxis]).astype(np.float32)
            np.clip(ids, 0, last, out=ids)
            # widen each distinct token's row once (float16 -> float32 is exact, and
            # converting every position is most of the time), then gather
            distinct, where = np.unique(ids, return_inverse=True)
            k = len(distinct) * self.dim
            stored = narrow[:k].reshape(len(distinct), self.dim)
            np.take(self.table, distinct, axis=0, out=stored, mode="clip")
            widened = wide[:k].reshape(stored.shape)
            np.copyto(widened, stored)
            gathered = rows[:ids.size * self.dim].reshape(*ids.shape, self.dim)
            # mode "clip": with "raise" (the ids are in range anyway) numpy buffers `out`
            np.take(widened, where.reshape(ids.shape), axis=0, out=gathered, mode="clip")
            np.multiply(gathered, mask[..., np.newaxis], out=gathered)
            counts = np.maximum(mask.sum(axis=1, keepdims=True), 1.0).astype(np.float32)
            pooled = np.sum(gathered, axis=1, dtype=np.float32) / counts
            norms = np.linalg.norm(pooled, axis=1, keepdims=True)
            norms[norms == 0] = 1.0  # an empty text: a zero vector, not NaN
            pooled /= norms
            out[batch] = pooled
        return out
