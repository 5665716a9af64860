"""The local embedding model: WordLlama's 256-d static embeddings, whose weights and
tokenizer ship inside the `wordllama` wheel. Nothing is downloaded: the files are read from
the package folder (`wordvec`: memory-mapped, without importing the wheel's loader).

A static model is a lookup table plus pooling: ~6,500 short texts a second on one core, no
GPU, deterministic. Vectors are unit length, stored at 3 bits a dimension
(aether.store.vectors): 96 bytes a symbol.
"""

from __future__ import annotations

import logging
import threading
from typing import Any, Protocol

import numpy as np

log = logging.getLogger("aether.search")

LOCAL_MODEL = "wordllama-l2-256"
DIM = 256


class EmbedderUnavailable(Exception):
    """The model cannot be loaded here; search falls back to lexical with this reason."""


class Embedder(Protocol):
    model: str
    calls: int
    texts: int

    def embed(self, texts: list[str]) -> np.ndarray: ...


class LocalEmbedder:
    """Loads lazily (the first search or sync pays ~0.1 s), then thread-safe. An idle daemon
    `release()`s it; the next use loads it again."""

    model = LOCAL_MODEL

    def __init__(self) -> None:
        self._wl: Any = None
        self._lock = threading.Lock()
        self.calls = 0  # embed() calls and texts embedded: tests count them
        self.texts = 0
        self.loads = 0  # times the model was loaded (again after a release)

    @property
    def loaded(self) -> bool:
        return self._wl is not None

    def release(self) -> bool:
        """Drop the model (the next embed loads it again). True if it was loaded."""
        with self._lock:
            held, self._wl = self._wl is not None, None
        return held

    def _load(self) -> Any:
        with self._lock:
            if self._wl is None:
                try:
                    from aether.engine.search.wordvec import WordVectors

                    self._wl = WordVectors(DIM)
                    self.loads += 1
                except Exception as exc:  # missing wheel data, broken install
                    raise EmbedderUnavailable(
                        f"the local embedding model cannot be loaded: {type(exc).__name__}: "
                        f"{exc}") from None
            return self._wl

    def embed(self, texts: list[str]) -> np.ndarray:
        """Unit-length float32 vectors, one row per text."""
        wl = self._load()
        self.calls += 1
        self.texts += len(texts)
        if not texts:
            return np.zeros((0, DIM), dtype=np.float32)
        vecs = np.asarray(wl.embed(texts), dtype=np.float32)
        return normalize(vecs)


def normalize(vecs: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vecs, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return (vecs / norms).astype(np.float32)
