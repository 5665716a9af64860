"""What the three HTTP providers share: one AsyncClient each, and the mapping of every HTTP
answer and transport failure onto the error taxonomy (with the server's retry-after)."""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import Awaitable, Callable
from email.utils import parsedate_to_datetime
from typing import Any, TypeVar

import httpx

from aether.providers.base import RequestUsage, SirRequest
from aether.providers.errors import (
    InvalidOutput,
    PermanentError,
    ProviderError,
    RateLimited,
    TransientError,
)
from aether.providers.redact import short_error
from aether.sir.model import Sir
from aether.sir.prompt import Message, generate_sir

T = TypeVar("T")
# How a caller (the guard) runs one HTTP round-trip: given a thunk and the size of its prompt
# in characters (for the spend caps), returns its result.
Runner = Callable[[Callable[[], Awaitable[T]], int], Awaitable[T]]
UsageSink = Callable[[RequestUsage], None]

TRANSIENT_STATUSES = {408, 409, 425, 500, 502, 503, 504, 520, 521, 522, 523, 524, 529}
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)s\s*$")
_MAX_RETRY_AFTER = 24 * 3600.0  # a server asking for more than a day is treated as a day


async def _direct(fn: Callable[[], Awaitable[T]], prompt_chars: int) -> T:
    return await fn()


def prompt_chars(messages: list[Message]) -> int:
    return sum(len(m.content) for m in messages)


def count_tokens(value: Any) -> int:
    return value if isinstance(value, int) and value >= 0 else 0


def parse_retry_after(headers: httpx.Headers, body: Any = None,
                      now: Callable[[], float] = time.time) -> float | None:
    """Seconds to wait, from `retry-after-ms`, `Retry-After` (seconds or HTTP-date) or a
    Gemini `RetryInfo.retryDelay` in the JSON body; None when the server said nothing."""
    value: float | None = None
    raw_ms = headers.get("retry-after-ms")
    raw = headers.get("retry-after")
    if raw_ms:
        try:
            value = float(raw_ms) / 1000.0
        except ValueError:
            value = None
    if value is None and raw:
        try:
            value = float(raw)
        except ValueError:
            try:
                value = parsedate_to_datetime(raw).timestamp() - now()
            except (TypeError, ValueError, IndexError):
                value = None
    if value is None:
        value = _retry_delay_from_body(body)
    if value is None or value != value:  # NaN
        return None
    return min(max(0.0, value), _MAX_RETRY_AFTER)


def _retry_delay_from_body(body: Any) -> float | None:
    error = body.get("error") if isinstance(body, dict) else None
    details = error.get("details") if isinstance(error, dict) else None
    for detail in details if isinstance(details, list) else []:
        delay = detail.get("retryDelay") if isinstance(detail, dict) else None
        if isinstance(delay, str) and (m := _DURATION.match(delay)):
            return float(m.group(1))
    return None


def _error_fields(body: Any, text: str) -> tuple[str, str]:
    """(message, machine code/type/status) from the error bodies of OpenAI, Gemini,
    Anthropic and Ollama."""
    if isinstance(body, dict):
        error = body.get("error")
        if isinstance(error, str):  # Ollama: {"error": "server busy, please try again"}
            return error, ""
        if isinstance(error, dict):
            code = error.get("status") or error.get("type") or error.get("code") or ""
            return str(error.get("message") or code or ""), str(code)
    return text[:200], ""


def error_from_response(provider: str, response: httpx.Response,
                        secrets: list[str]) -> ProviderError:
    """The taxonomy error for a non-2xx answer; its message is one short scrubbed line."""
    status = response.status_code
    try:
        body: Any = response.json()
    except (ValueError, UnicodeDecodeError):
        body = None
    message, code = _error_fields(body, response.text if body is None else "")
    retry_after = parse_retry_after(response.headers, body)
    text = short_error(f"{provider} HTTP {status}"
                       + (f" {code}" if code and code not in message else "")
                       + (f": {message}" if message else ""), secrets, limit=240)
    if code == "insufficient_quota":  # OpenAI's 429 for an empty account: waiting won't help
        return PermanentError(text, status=status)
    if status == 429 or code == "RESOURCE_EXHAUSTED":
        return RateLimited(text, status=status, retry_after=retry_after)
    # 503 covers Ollama's "server busy" (its queue is full; no Retry-After), 529 Anthropic's
    # overloaded_error.
    if status in TRANSIENT_STATUSES or status >= 500 or code == "overloaded_error":
        return TransientError(text, status=status, retry_after=retry_after)
    # 401/403 included: the guard turns the first one into a stop that names the key variable.
    return PermanentError(text, status=status)


def error_from_transport(provider: str, exc: httpx.TransportError,
                         secrets: list[str]) -> ProviderError:
    if isinstance(exc, httpx.TimeoutException):
        what = "timed out"
    elif isinstance(exc, httpx.ConnectError):
        what = "cannot connect"
    else:
        what = "connection failed"
    detail = str(exc) or type(exc).__name__
    return TransientError(short_error(f"{provider}: {what}: {detail}", secrets, limit=240))


class HttpProvider:
    """Base of the OpenAI-compatible, Gemini and Anthropic providers.

    Subclasses say how to shape a request (`_build`) and where the text is in an answer
    (`_extract`). No retries here: exactly one retry layer, the guard, sits around
    `complete` (the AsyncClient's own transport retries stay at 0)."""

    name = "http"
    default_endpoint = ""
    default_model = ""

    def __init__(self, *, model: str = "", endpoint: str = "", api_key: str | None = None,
                 timeout_s: float = 30.0, context_budget_chars: int = 6000,
                 client: httpx.AsyncClient | None = None) -> None:
        self.model = model or self.default_model
        self.endpoint = (endpoint or self.default_endpoint).rstrip("/")
        self.context_budget_chars = context_budget_chars
        self._api_key = api_key or None
        self._secrets = [api_key] if api_key else []
        # Told about every request sent, whatever its outcome (the usage ledger).
        self.on_usage: UsageSink | None = None
        # httpx timeouts are per read; the guard bounds the whole attempt with asyncio.timeout.
        self._client = client or httpx.AsyncClient(
            timeout=httpx.Timeout(timeout_s, connect=min(timeout_s, 10.0)),
            limits=httpx.Limits(max_connections=64, max_keepalive_connections=16),
            transport=httpx.AsyncHTTPTransport(retries=0),
        )

    def _build(self, messages: list[Message]) -> tuple[str, dict[str, str], dict[str, Any]]:
        raise NotImplementedError

    def _extract(self, data: Any) -> str:
        raise NotImplementedError

    def _usage(self, data: Any) -> tuple[int, int] | None:
        """(input, output) tokens as the provider reported them in a 2xx body, if it did."""
        return None

    async def complete(self, messages: list[Message]) -> str:
        """One HTTP round-trip: the model's text, or a taxonomy error. Whatever happens,
        `on_usage` hears what the request used."""
        usage = RequestUsage(self.name, self.model, "transport",
                             prompt_chars=prompt_chars(messages))
        try:
            return await self._round_trip(messages, usage)
        except asyncio.CancelledError:
            usage.status = "timeout"  # the guard's per-attempt bound, or a shutdown
            raise
        finally:
            if self.on_usage is not None:
                self.on_usage(usage)

    async def _round_trip(self, messages: list[Message], usage: RequestUsage) -> str:
        url, headers, payload = self._build(messages)
        try:
            response = await self._client.post(url, headers=headers, json=payload)
        except httpx.TransportError as exc:
            usage.status = "timeout" if isinstance(exc, httpx.TimeoutException) else "transport"
            raise error_from_transport(self.name, exc, self._secrets) from None
        usage.status = str(response.status_code)
        if response.status_code >= 400:
            raise error_from_response(self.name, response, self._secrets)
        try:
            data = json.loads(response.content)
        except (ValueError, UnicodeDecodeError):
            usage.status = "invalid"
            raise InvalidOutput(f"{self.name} answered HTTP {response.status_code} "
                                "with a body that is not JSON") from None
        try:
            reported = self._usage(data)
        except (KeyError, IndexError, TypeError, AttributeError):
            reported = None
        if reported is not None:
            usage.input_tokens, usage.output_tokens = reported
            usage.reported = True
        try:
            text = self._extract(data)
        except (KeyError, IndexError, TypeError, AttributeError):
            usage.status = "invalid"
            raise InvalidOutput(f"{self.name} answered in an unexpected shape") from None
        usage.status = "ok"
        usage.output_chars = len(text)
        return text

    async def generate(self, request: SirRequest) -> Sir:
        return await self.generate_via(request, _direct)

    async def generate_via(self, request: SirRequest, run: Runner[str]) -> Sir:
        """Like `generate`, but every HTTP round-trip (the repair included) goes through
        `run` — the guard uses this to give each request its own token, slot and timeout."""
        async def complete(messages: list[Message]) -> str:
            return await run(lambda: self.complete(messages), prompt_chars(messages))

        return await generate_sir(request, complete, self.context_budget_chars,
                                  provider=self.name)

    async def aclose(self) -> None:
        await self._client.aclose()
