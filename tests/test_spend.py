"""The spend meter and prices, on a fake wall clock: caps before sending, reservations for
requests in flight, the UTC day rollover, unreported usage counted by estimate."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from aether.config import InferenceSettings
from aether.engine.priority import is_private, is_test_or_generated, rank
from aether.guard.pricing import Price, price_for
from aether.guard.spend import Calibration, SpendMeter, estimate_tokens
from aether.providers.base import RequestUsage
from aether.providers.errors import SpendCapReached

NOON = datetime(2026, 3, 14, 12, 0, tzinfo=UTC).timestamp()


class Wall:
    def __init__(self, t: float = NOON) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


def meter(wall: Wall, price: Price | None = None, **caps: Any) -> SpendMeter:
    # 4 characters a token, 10 output tokens: a 400-char prompt is estimated at 110 tokens
    return SpendMeter(InferenceSettings(**caps), price, provider="openai", model="m",
                      calibration=Calibration(4.0, 10.0, 5), wall=wall)


def used(m: SpendMeter, tin: int, tout: int, status: str = "ok") -> None:
    m.record(RequestUsage("openai", "m", status, tin, tout, True, 400, 40))


def test_estimate_from_calibration() -> None:
    assert estimate_tokens(400, Calibration(4.0, 10.0)) == (100, 10)
    assert estimate_tokens(401, Calibration(4.0, 10.2)) == (101, 11)  # rounded up


def test_run_cap_counts_spent_and_in_flight_before_sending() -> None:
    m = meter(Wall(), max_tokens_per_run=300)
    a = m.reserve(400)
    b = m.reserve(400)  # 220 held
    with pytest.raises(SpendCapReached) as info:
        m.reserve(400)  # 330 > 300: never sent
    assert info.value.cap == "max_tokens_per_run" and "resets when this run ends" in str(info.value)
    used(m, 100, 10)
    m.release(a)
    used(m, 100, 10)
    m.release(b)
    with pytest.raises(SpendCapReached):
        m.reserve(400)  # 220 spent + 110 > 300
    assert m.snapshot()["left"]["tokens_this_run"] == 80
    assert len(m.drain()) == 2 and m.drain() == []


def test_day_cap_resets_at_utc_midnight_and_seed_counts_earlier_runs() -> None:
    wall = Wall()
    m = meter(wall, max_tokens_per_day=1000)
    m.seed_today("2026-03-14", 900, 0.0)  # earlier runs today, from the ledger
    with pytest.raises(SpendCapReached) as info:
        m.reserve(400)
    assert "2026-03-15T00:00:00Z" in str(info.value)
    wall.t += 12 * 3600  # midnight
    m.release(m.reserve(400))
    assert m.snapshot()["day"] == "2026-03-15" and m.snapshot()["cap_reached"] is None


def test_cost_caps_need_a_price_and_count_dollars() -> None:
    with pytest.raises(SpendCapReached, match="has no price"):
        meter(Wall(), None, max_cost_per_day=5.0).reserve(10)
    m = meter(Wall(), Price(1000.0, 1000.0), max_cost_per_run=0.25)  # $0.001 a token
    m.release(m.reserve(400))  # 110 tokens: $0.11
    used(m, 100, 10)
    m.release(m.reserve(400))  # $0.11 + $0.11 <= $0.25
    used(m, 100, 10)
    with pytest.raises(SpendCapReached, match="max_cost_per_run"):
        m.reserve(400)
    assert m.snapshot()["run_cost"] == pytest.approx(0.22)


def test_zero_cap_never_admits() -> None:
    with pytest.raises(SpendCapReached):
        meter(Wall(), max_tokens_per_day=0).reserve(1)


def test_unreported_usage_is_counted_by_estimate() -> None:
    m = meter(Wall())
    m.record(RequestUsage("openai", "m", "ok", prompt_chars=400))  # a server silent on usage
    m.record(RequestUsage("openai", "m", "timeout", prompt_chars=400))
    m.record(RequestUsage("openai", "m", "429", prompt_chars=400))  # not billed
    rows = m.drain()
    assert [(r.input_tokens, r.output_tokens, r.reported) for r in rows] == [
        (100, 10, False), (100, 0, False), (0, 0, False)]


def test_prices_exact_dated_variants_and_overrides() -> None:
    assert price_for("gpt-4o-mini") == Price(0.15, 0.60)
    assert price_for("gpt-4o-mini-2024-07-18") == Price(0.15, 0.60)  # not gpt-4o's
    assert price_for("claude-haiku-4-5-20251001") == Price(1.0, 5.0)
    assert price_for("llama3.1:8b") is None
    assert price_for("gpt-4o", {"gpt-4o": Price(1.0, 2.0)}) == Price(1.0, 2.0)
    assert Price(2.0, 8.0).cost(1_000_000, 500_000) == pytest.approx(6.0)


def test_spending_order_public_product_code_first() -> None:
    queue = [("t", "tests/test_a.py", "test_x"), ("p", "pkg/a.py", "_helper"),
             ("g", "pkg/api_pb2.py", "Msg"), ("i", "pkg/a.py", "Thing.__init__"),
             ("a", "pkg/a.py", "run")]
    assert rank(queue) == ["i", "a", "p", "t", "g"]
    assert is_test_or_generated("src/foo.test.ts") and not is_test_or_generated("src/testify.py")
    assert is_private("Cls._x") and not is_private("Cls.__call__")
