"""Embeddings from the inference provider's OpenAI-compatible `/v1/embeddings` endpoint,
configured under `[search]`, every request through a Guard of its own (concurrency, rate
bucket, retries, breaker — the SIR provider's class, its own instance, so a storm on one
does not stop the other).

Its vectors are stored under the model name `provider:<model>`: a model change re-embeds,
and a search only ever compares vectors of one model. When it fails, the local model is
the fallback (see `VectorIndex`)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import numpy as np

from aether.config import Settings, is_loopback_url
from aether.engine.search.embedder import normalize
from aether.engine.spending import configured_price
from aether.guard.core import Guard
from aether.guard.spend import Calibration, LedgerRow, SpendMeter
from aether.providers.errors import PermanentError, ProviderError

if TYPE_CHECKING:
    from aether.providers.embeddings import EmbeddingsClient

log = logging.getLogger("aether.search")

BATCH = 64  # texts per request: OpenAI takes 2,048, Ollama handles a few dozen comfortably


class RemoteEmbedder:
    def __init__(self, client: EmbeddingsClient, guard: Guard, *,
                 missing_key: str | None = None) -> None:
        self.client = client
        self.guard = guard
        # Its own meter: every request goes into the usage ledger (`aether usage`) under
        # provider "embeddings", and the [inference] spend caps bound it too.
        self.meter = SpendMeter(guard.settings, None, provider="embeddings", model=client.model,
                                calibration=Calibration(output_tokens=0.0))
        guard.meter = self.meter
        client.on_usage = self.meter.record
        self.model = f"provider:{client.model}"
        self.missing_key = missing_key
        self.calls = 0  # embed() calls and texts embedded: tests count them
        self.texts = 0

    async def embed(self, texts: list[str]) -> np.ndarray:
        """Unit-length float32 rows, one per text; raises ProviderError when the provider
        cannot answer (after the guard's retries) or answers with unusable vectors."""
        if self.missing_key:
            raise PermanentError(self.missing_key)
        self.calls += 1
        self.texts += len(texts)
        rows: list[list[float]] = []
        deadline = self.guard.new_deadline()
        for start in range(0, len(texts), BATCH):
            batch = texts[start:start + BATCH]
            rows.extend(await self.guard.call(
                lambda b=batch: self.client.embed(b), deadline=deadline,  # type: ignore[misc]
                prompt_chars=sum(len(t) for t in batch)))
        if not rows:
            return np.zeros((0, 1), dtype=np.float32)
        return normalize(np.asarray(rows, dtype=np.float32))

    def drain(self) -> list[LedgerRow]:
        """Ledger rows of the requests sent since the last drain, for the store."""
        return self.meter.drain()

    async def aclose(self) -> None:
        await self.client.aclose()


def make_remote_embedder(settings: Settings) -> RemoteEmbedder | None:
    """None unless `[search] embedding_endpoint` and `embedding_model` are both set."""
    search = settings.search
    if not (search.embedding_endpoint and search.embedding_model):
        return None
    key = search.embedding_api_key()
    missing = None
    if not key and not is_loopback_url(search.embedding_endpoint):
        missing = (f"embeddings: environment variable "
                   f"{search.embedding_api_key_env or '(embedding_api_key_env unset)'} "
                   "must hold the API key")
    inf = settings.inference
    from aether.providers.embeddings import EmbeddingsClient  # httpx: only when configured

    client = EmbeddingsClient(endpoint=search.embedding_endpoint, model=search.embedding_model,
                              api_key=key, timeout_s=inf.timeout_s)
    embedder = RemoteEmbedder(client, Guard("embeddings", inf), missing_key=missing)
    embedder.meter.price = configured_price(settings, search.embedding_model)
    return embedder


def failure_reason(exc: ProviderError) -> str:
    return f"provider embeddings failed ({exc.kind}: {exc}); local vectors used"
