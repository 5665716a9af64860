"""The three HTTP providers behind the guard, against the fault-injecting server on 127.0.0.1.

Assertions are about counts and what the server observed, never wall-clock upper bounds."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import httpx
import pytest

from aether.config import InferenceSettings
from aether.guard import GuardedProvider
from aether.providers.base import Provider, SirRequest
from aether.providers.errors import (
    CircuitOpen,
    InvalidOutput,
    PermanentError,
    ProviderError,
    RateLimited,
    TransientError,
)
from aether.providers.factory import make_provider
from aether.providers.http import error_from_response, parse_retry_after
from aether.providers.redact import scrub_secrets
from aether.sir.prompt import build_messages, parse_sir
from tests.fakeprovider import FakeProvider

KEYS = {"openai": "sk-test-0123456789abcdefSECRET",
        "gemini": "AIzaSyTEST0123456789abcdefSECRET",
        "anthropic": "sk-ant-test-0123456789SECRET"}
KEY_ENV = "AETHER_TEST_PROVIDER_KEY"
FLAVORS = ["openai", "gemini", "anthropic"]

MakeFn = Callable[..., GuardedProvider]


def request(i: int = 0, **kw: Any) -> SirRequest:
    base: dict[str, Any] = dict(
        symbol_id=f"{i:032x}", language="python", file_path="pkg/mod.py", kind="function",
        qualified_name=f"pkg.mod.func_{i}", signature="def func(a, b)",
        source="def func(a, b):\n    return a + b\n", content_hash="h",
        context=["imports: os, json"])
    base.update(kw)
    return SirRequest(**base)


@pytest.fixture
def fake() -> Iterator[FakeProvider]:
    with FakeProvider() as server:
        yield server


@pytest.fixture
async def make(fake: FakeProvider, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[MakeFn]:
    made: list[Provider] = []

    def build(flavor: str = "openai", *, key: bool = True, **kw: Any) -> GuardedProvider:
        if key:
            monkeypatch.setenv(KEY_ENV, KEYS[flavor])
        else:
            monkeypatch.delenv(KEY_ENV, raising=False)
        values: dict[str, Any] = dict(
            provider=flavor, model="test-model", endpoint=fake.endpoint(flavor),
            api_key_env=KEY_ENV, max_concurrency=4, requests_per_minute=60_000,
            timeout_s=5.0, deadline_s=30.0, max_attempts=3, backoff_base_s=0.01,
            backoff_cap_s=0.05, breaker_threshold=3, breaker_cooldown_s=60.0)
        values.update(kw)
        provider = make_provider(InferenceSettings(**values))
        assert isinstance(provider, GuardedProvider)
        made.append(provider)
        return provider

    yield build
    for provider in made:
        await provider.aclose()


# ------------------------------------------------------------------------------ happy path


@pytest.mark.parametrize("flavor", FLAVORS)
async def test_ok_each_flavor(fake: FakeProvider, make: MakeFn, flavor: str) -> None:
    provider = make(flavor)
    sir = await provider.generate(request(7))
    assert "pkg.mod.func_7" in sir.intent
    (seen,) = fake.requests()
    assert seen.flavor == flavor
    if flavor == "openai":
        assert seen.path == "/v1/chat/completions"
        assert seen.headers["authorization"] == f"Bearer {KEYS['openai']}"
        assert seen.body["response_format"] == {"type": "json_object"}
    elif flavor == "gemini":
        assert seen.path == "/v1beta/models/test-model:generateContent"
        assert seen.headers["x-goog-api-key"] == KEYS["gemini"]
        assert seen.body["generationConfig"]["responseMimeType"] == "application/json"
        assert "authorization" not in seen.headers
    else:
        assert seen.path == "/v1/messages"
        assert seen.headers["x-api-key"] == KEYS["anthropic"]
        assert seen.headers["anthropic-version"] == "2023-06-01"
    snap = provider.guard.snapshot()
    assert (snap["requests"], snap["successes"]) == (1, 1)
    json.dumps(snap)


async def test_local_openai_endpoint_needs_no_key(fake: FakeProvider, make: MakeFn) -> None:
    provider = make("openai", key=False)
    await provider.generate(request())
    assert "authorization" not in fake.requests()[0].headers


@pytest.mark.parametrize("flavor", ["gemini", "anthropic"])
async def test_missing_key_fails_every_call(fake: FakeProvider, make: MakeFn,
                                            flavor: str) -> None:
    provider = make(flavor, key=False)
    for i in range(3):
        with pytest.raises(PermanentError, match=f"environment variable {KEY_ENV} is not set"):
            await provider.generate(request(i))
    assert fake.count == 0


# ------------------------------------------------------------------------------ rate limits


@pytest.mark.parametrize(("flavor", "token", "floor"), [
    ("openai", "429:1", 1.0),        # Retry-After: 1
    ("openai", "429ms:400", 0.4),    # retry-after-ms: 400
    ("gemini", "429:0.5", 0.5),      # RetryInfo.retryDelay "0.5s" in the body only
    ("anthropic", "429:0.5", 0.5),
])
async def test_429_waits_at_least_retry_after(fake: FakeProvider, make: MakeFn, flavor: str,
                                              token: str, floor: float) -> None:
    fake.push(token)
    provider = make(flavor)
    sir = await provider.generate(request())
    assert sir.intent
    assert fake.statuses() == [429, 200]
    (gap,) = fake.gaps_after(429)
    assert gap >= floor * 0.9  # generous: the floor, less clock granularity
    snap = provider.guard.snapshot()
    assert snap["rate_limited_pauses"] == 1 and snap["retries"] == 1


async def test_429_pauses_all_workers(fake: FakeProvider, make: MakeFn) -> None:
    fake.push("429:0.5")
    fake.set_default("ok:0.3")  # long enough that no worker finishes before the 429 lands
    provider = make("openai", max_concurrency=4)
    await asyncio.gather(*(provider.generate(request(i)) for i in range(6)))
    seen = fake.requests()
    first_429 = next(o.t for o in seen if o.status == 429)
    later = [o for o in seen if o.t > first_429]
    # Requests already on the wire may land with the 429; none may start inside the pause,
    # except those sent before the 429 arrived back at the client (at most max_concurrency).
    inside = [o for o in later if o.t - first_429 < 0.45]
    assert len(inside) <= 3
    assert fake.count == 7


# ------------------------------------------------------------------------------ failures


async def test_500_storm_opens_the_circuit(fake: FakeProvider, make: MakeFn) -> None:
    fake.set_default("500")
    provider = make("openai", max_concurrency=4, breaker_threshold=3)
    results = await asyncio.gather(*(provider.generate(request(i)) for i in range(50)),
                                   return_exceptions=True)
    assert all(isinstance(r, TransientError | CircuitOpen) for r in results)
    assert sum(isinstance(r, CircuitOpen) for r in results) >= 40
    assert fake.count <= 3 + 4  # threshold + what was already in flight
    snap = provider.guard.snapshot()
    assert snap["circuit_state"] == "open" and snap["next_probe_at"]
    opened = [r for r in results if isinstance(r, CircuitOpen)]
    assert "circuit for openai is open" in str(opened[0]) and "next probe at" in str(opened[0])


async def test_401_is_not_retried_and_key_is_scrubbed(fake: FakeProvider,
                                                      make: MakeFn) -> None:
    fake.push("401")
    provider = make("openai")
    with pytest.raises(PermanentError) as info:
        await provider.generate(request())
    assert fake.count == 1
    assert "401" in str(info.value)
    assert KEYS["openai"] not in str(info.value)  # the server echoed it back
    assert provider.guard.snapshot()["circuit_state"] == "closed"


@pytest.mark.parametrize("token", ["503", "busy", "529"])
async def test_5xx_busy_overloaded_are_transient(fake: FakeProvider, make: MakeFn,
                                                 token: str) -> None:
    fake.push(token)
    provider = make("anthropic" if token == "529" else "openai", max_attempts=1)
    with pytest.raises(TransientError):
        await provider.generate(request())
    assert fake.count == 1


async def test_hang_times_out_as_transient(fake: FakeProvider, make: MakeFn) -> None:
    fake.push("hang")
    provider = make("openai", timeout_s=0.3, max_attempts=1)
    with pytest.raises(TransientError, match="no answer within"):
        await provider.generate(request())
    assert fake.count == 1


async def test_hang_then_ok_is_retried(fake: FakeProvider, make: MakeFn) -> None:
    fake.push("hang")
    provider = make("openai", timeout_s=0.3)
    assert (await provider.generate(request())).intent
    assert fake.count == 2


async def test_reset_is_transient_and_retried(fake: FakeProvider, make: MakeFn) -> None:
    fake.push("reset")
    provider = make("openai", max_attempts=1)
    with pytest.raises(TransientError):
        await provider.generate(request())
    fake.push("reset")
    provider = make("openai")
    assert (await provider.generate(request())).intent
    assert fake.count == 3


async def test_connection_refused_is_transient(make: MakeFn) -> None:
    provider = make("openai", endpoint="http://127.0.0.1:9/v1", max_attempts=1)
    with pytest.raises(TransientError, match="cannot connect"):
        await provider.generate(request())


# ------------------------------------------------------------------------------ repair


@pytest.mark.parametrize("bad", ["garbage", "badschema"])
@pytest.mark.parametrize("flavor", FLAVORS)
async def test_bad_output_is_repaired_once(fake: FakeProvider, make: MakeFn, bad: str,
                                           flavor: str) -> None:
    fake.push(bad)
    provider = make(flavor)
    sir = await provider.generate(request(3))
    assert "pkg.mod.func_3" in sir.intent
    first, repair = fake.requests()
    assert "could not be used" in json.dumps(repair.body)
    assert len(json.dumps(repair.body)) > len(json.dumps(first.body))


@pytest.mark.parametrize("bad", ["garbage", "badschema"])
async def test_bad_output_twice_is_invalid_output(fake: FakeProvider, make: MakeFn,
                                                  bad: str) -> None:
    fake.push(bad, bad)
    provider = make("openai")
    with pytest.raises(InvalidOutput, match="even after one repair") as info:
        await provider.generate(request())
    assert fake.count == 2  # the original and exactly one repair, never retried
    assert "\n" not in str(info.value)


# ------------------------------------------------------------------------------ limits


async def test_concurrency_never_exceeds_the_limit(fake: FakeProvider, make: MakeFn) -> None:
    fake.set_default("ok:0.05")
    provider = make("openai", max_concurrency=3)
    await asyncio.gather(*(provider.generate(request(i)) for i in range(20)))
    assert fake.count == 20
    assert 1 <= fake.max_in_flight <= 3
    assert provider.guard.snapshot()["max_in_flight"] <= 3


@pytest.mark.parametrize("flavor", FLAVORS)
async def test_key_never_in_errors_or_logs(fake: FakeProvider, make: MakeFn, flavor: str,
                                           caplog: pytest.LogCaptureFixture) -> None:
    logger = logging.getLogger("aether")
    logger.addHandler(caplog.handler)  # the app may have switched propagation off
    caplog.set_level(logging.DEBUG)
    try:
        fake.push("401", "403", "400", "500x3", "429none", "garbage", "garbage")
        messages = []
        # a 401/403 stops a provider for the run: each of those gets a provider of its own
        for i, tries in enumerate([1, 1, 4]):
            provider = make(flavor, breaker_threshold=100)
            for j in range(tries):
                try:
                    await provider.generate(request(i * 10 + j))
                except ProviderError as exc:
                    messages.append(str(exc))
    finally:
        logger.removeHandler(caplog.handler)
    assert len(messages) >= 5
    for text in [*messages, caplog.text]:
        assert KEYS[flavor] not in text
        assert "SECRET" not in text


# ------------------------------------------------------------------------------ pure parts


def test_parse_retry_after_forms() -> None:
    h = httpx.Headers
    assert parse_retry_after(h({"retry-after": "7"})) == 7.0
    assert parse_retry_after(h({"retry-after-ms": "250", "retry-after": "9"})) == 0.25
    date = "Wed, 21 Oct 2015 07:28:00 GMT"
    assert parse_retry_after(h({"retry-after": date}), now=lambda: 1445412480.0 - 30) == 30.0
    body = {"error": {"status": "RESOURCE_EXHAUSTED", "details": [
        {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "12.5s"}]}}
    assert parse_retry_after(h({}), body) == 12.5
    assert parse_retry_after(h({"retry-after": "soon"})) is None
    assert parse_retry_after(h({})) is None


def test_error_mapping() -> None:
    def resp(status: int, body: Any, headers: dict[str, str] | None = None) -> httpx.Response:
        return httpx.Response(status, json=body, headers=headers or {})

    quota = resp(429, {"error": {"message": "You exceeded your current quota",
                                 "code": "insufficient_quota"}})
    assert isinstance(error_from_response("openai", quota, []), PermanentError)
    limited = error_from_response("openai", resp(429, {}, {"retry-after": "3"}), [])
    assert isinstance(limited, RateLimited) and limited.retry_after == 3.0
    exhausted = resp(429, {"error": {"code": 429, "status": "RESOURCE_EXHAUSTED",
                                     "message": "quota"}})
    assert isinstance(error_from_response("gemini", exhausted, []), RateLimited)
    overloaded = resp(529, {"type": "error", "error": {"type": "overloaded_error",
                                                       "message": "Overloaded"}})
    assert isinstance(error_from_response("anthropic", overloaded, []), TransientError)
    for status in (408, 500, 502, 503, 504):
        assert isinstance(error_from_response("x", resp(status, {}), []), TransientError)
    for status in (400, 401, 403, 404, 422):
        assert isinstance(error_from_response("x", resp(status, {}), []), PermanentError)
    long = resp(400, {"error": {"message": "bad\n" * 500}})
    text = str(error_from_response("x", long, []))
    assert "\n" not in text and len(text) <= 240


def test_scrub_secrets() -> None:
    text = ("key sk-proj-abcdefghijklmnop, google AIzaSyA1234567890abcdefghijklmnop, "
            "Authorization: Bearer abc.def-123456, x-api-key: myrawkey123, url ?key=zzz999&x=1 "
            "and the literal hunter2hunter2")
    clean = scrub_secrets(text, ["hunter2hunter2"])
    for secret in ("abcdefghijklmnop", "A1234567890", "abc.def-123456", "myrawkey123",
                   "zzz999", "hunter2hunter2"):
        assert secret not in clean
    assert "x=1" in clean and "google" in clean


def test_parse_sir_tolerates_fences_and_prose() -> None:
    obj = {"intent": "Adds {a} and b", "confidence": 0.4, "inputs": ["a", "b"]}
    assert parse_sir("```json\n" + json.dumps(obj) + "\n```").intent == "Adds {a} and b"
    assert parse_sir("Here you go: " + json.dumps(obj) + " done.").inputs == ["a", "b"]
    for bad in ("no json", '{"intent": ""}', '{"intent": "x", "confidence": 5}'):
        with pytest.raises(ValueError):
            parse_sir(bad)


def test_prompt_fits_the_budget_and_says_what_it_cut() -> None:
    big = request(source="x = 1\n" * 5000, context=["imports: " + "m, " * 2000])
    messages = build_messages(big, 3000)
    user = messages[-1].content
    assert "Qualified name: pkg.mod.func_0" in user and "def func(a, b)" in user
    assert "truncated" in user
    assert len(user) <= 3000 + 400  # budget plus fixed framing and markers
    small = build_messages(request(), 3000)[-1].content
    assert "truncated" not in small and "return a + b" in small


def test_make_provider_static() -> None:
    pytest.importorskip("aether.providers.static")
    provider = make_provider(InferenceSettings(provider="static"))
    assert provider.name == "static"


async def test_hosted_openai_without_key_names_the_default_variable(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    provider = make_provider(InferenceSettings(provider="openai"))
    assert (provider.name, provider.model) == ("openai", "gpt-4o-mini")
    with pytest.raises(PermanentError, match="environment variable OPENAI_API_KEY is not set"):
        await provider.generate(request())
    await provider.aclose()


@pytest.mark.parametrize("flavor", FLAVORS)
async def test_usage_as_each_api_reports_it(fake: FakeProvider, make: MakeFn,
                                            flavor: str) -> None:
    from aether.providers.base import RequestUsage
    from aether.providers.http import HttpProvider

    provider = make(flavor)
    assert isinstance(provider.inner, HttpProvider)
    seen: list[RequestUsage] = []
    provider.inner.on_usage = seen.append
    fake.push("429none")  # retried by the guard: both requests are heard
    await provider.generate(request(3))
    limited, ok_usage = seen
    assert (limited.status, limited.reported, limited.input_tokens) == ("429", False, 0)
    (served,) = [o for o in fake.requests() if o.status == 200]
    assert served.usage is not None
    assert (ok_usage.input_tokens, ok_usage.output_tokens) == served.usage
    assert ok_usage.reported and ok_usage.status == "ok" and ok_usage.model == "test-model"
    assert ok_usage.prompt_chars > 0 and ok_usage.output_chars > 0
