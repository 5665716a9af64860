"""An OpenAI-compatible `/v1/embeddings` client (OpenAI, Ollama, vLLM, LM Studio...).

One HTTP round-trip per `embed` call, no retries (the guard around it is the one retry
layer), every failure mapped onto the provider error taxonomy like the SIR providers."""

from __future__ import annotations

import asyncio
import json
import math
from typing import Any

import httpx

from aether.providers.base import RequestUsage
from aether.providers.errors import InvalidOutput
from aether.providers.http import UsageSink, count_tokens, error_from_response, error_from_transport

NAME = "embeddings"


class EmbeddingsClient:
    def __init__(self, *, endpoint: str, model: str, api_key: str | None = None,
                 timeout_s: float = 30.0, client: httpx.AsyncClient | None = None) -> None:
        self.endpoint = endpoint.rstrip("/")
        self.model = model
        self._api_key = api_key or None
        self._secrets = [api_key] if api_key else []
        self.on_usage: UsageSink | None = None
        self._client = client or httpx.AsyncClient(
            timeout=httpx.Timeout(timeout_s, connect=min(timeout_s, 10.0)),
            transport=httpx.AsyncHTTPTransport(retries=0))

    async def embed(self, texts: list[str]) -> list[list[float]]:
        """One vector per text, in order (not normalised), or a taxonomy error."""
        usage = RequestUsage(NAME, self.model, "transport",
                             prompt_chars=sum(len(t) for t in texts))
        try:
            return await self._round_trip(texts, usage)
        except asyncio.CancelledError:
            usage.status = "timeout"
            raise
        finally:
            if self.on_usage is not None:
                self.on_usage(usage)

    async def _round_trip(self, texts: list[str], usage: RequestUsage) -> list[list[float]]:
        headers = {"content-type": "application/json"}
        if self._api_key:  # Ollama and other local servers need none
            headers["authorization"] = f"Bearer {self._api_key}"
        try:
            response = await self._client.post(f"{self.endpoint}/embeddings", headers=headers,
                                               json={"model": self.model, "input": texts})
        except httpx.TransportError as exc:
            usage.status = "timeout" if isinstance(exc, httpx.TimeoutException) else "transport"
            raise error_from_transport(NAME, exc, self._secrets) from None
        usage.status = str(response.status_code)
        if response.status_code >= 400:
            raise error_from_response(NAME, response, self._secrets)
        try:
            data = json.loads(response.content)
            vectors = parse_embeddings(data, len(texts))
        except (ValueError, UnicodeDecodeError, KeyError, TypeError, AttributeError) as exc:
            usage.status = "invalid"
            raise InvalidOutput(f"{NAME} answered HTTP {response.status_code} with "
                                f"no usable vectors: {str(exc)[:120]}") from None
        usage.status = "ok"
        if tokens := reported_tokens(data):
            usage.input_tokens, usage.reported = tokens, True
        return vectors

    async def aclose(self) -> None:
        await self._client.aclose()


def parse_embeddings(data: Any, count: int) -> list[list[float]]:
    """The `data[].embedding` lists ordered by `index`; ValueError unless there is exactly one
    finite, non-empty vector per text, all of the same dimension."""
    rows = data["data"]
    if not isinstance(rows, list) or len(rows) != count:
        raise ValueError(f"{len(rows) if isinstance(rows, list) else 'no'} vectors "
                         f"for {count} texts")
    ordered = sorted(rows, key=lambda r: int(r.get("index", 0)))
    out: list[list[float]] = []
    for row in ordered:
        vec = [float(x) for x in row["embedding"]]
        if not vec or not all(math.isfinite(x) for x in vec):
            raise ValueError("an empty or non-finite vector")
        out.append(vec)
    if len({len(v) for v in out}) > 1:
        raise ValueError("vectors of different dimensions")
    return out


def reported_tokens(data: Any) -> int:
    usage = data.get("usage") if isinstance(data, dict) else None
    return count_tokens(usage.get("prompt_tokens")) if isinstance(usage, dict) else 0
