"""Wiring of the spend meter: one per HTTP provider and process, seeded from the ledger
(today's spend, the calibration of the token estimate) and fed by the provider's requests."""

from __future__ import annotations

import sys
from datetime import UTC, datetime, timedelta
from typing import Any

from aether.config import Settings
from aether.guard.pricing import PRICES_AS_OF, Price, price_for
from aether.guard.provider import GuardedProvider
from aether.guard.spend import DEFAULT_OUTPUT_TOKENS, Calibration, SpendMeter
from aether.providers.base import Provider
from aether.store.db import Store

MIN_CALIBRATION_TOKENS = 200  # fewer reported tokens than this: keep the default ratio


def configured_price(settings: Settings, model: str) -> Price | None:
    overrides = {name: Price(p.input, p.output) for name, p in settings.pricing.items()}
    return price_for(model, overrides)


async def calibration(store: Store, provider: str, model: str) -> Calibration:
    """The chars-per-token ratio and answer length this model's reported usage shows."""
    chars, tokens, output, samples = await store.usage_calibration(provider, model)
    if samples == 0 or tokens < MIN_CALIBRATION_TOKENS or chars == 0:
        return Calibration()
    return Calibration(chars_per_token=chars / tokens,
                       output_tokens=output or DEFAULT_OUTPUT_TOKENS, samples=samples)


async def attach_meter(settings: Settings, store: Store,
                       provider: Provider) -> SpendMeter | None:
    """A meter for an HTTP provider behind a guard (None for static and the like)."""
    # not imported: no HTTP provider was made (the static one never imports httpx)
    http = sys.modules.get("aether.providers.http")
    if (http is None or not isinstance(provider, GuardedProvider)
            or not isinstance(provider.inner, http.HttpProvider)):
        return None
    meter = SpendMeter(settings.inference, configured_price(settings, provider.model),
                       provider=provider.name, model=provider.model,
                       calibration=await calibration(store, provider.name, provider.model))
    tokens, cost = await store.usage_on_day(meter.day, provider.name, provider.model)
    meter.seed_today(meter.day, tokens, cost)
    provider.guard.meter = meter
    provider.inner.on_usage = meter.record
    return meter


def utc_day() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%d")


def _since_day(days: int) -> str:
    return (datetime.now(UTC) - timedelta(days=max(0, days - 1))).strftime("%Y-%m-%d")


async def usage_report(store: Store, days: int) -> dict[str, Any]:
    """The ledger summed by UTC day and model over the last `days` days (today included)."""
    since = _since_day(days)
    rows = []
    for day, provider, model, requests, ok, tin, tout, cost, priced, reported in (
            await store.usage_by_day_model(since)):
        rows.append({"day": day, "provider": provider, "model": model,
                     "requests": requests, "ok": ok, "input_tokens": tin,
                     "output_tokens": tout, "cost": round(cost, 6), "priced": bool(priced),
                     "all_reported": bool(reported)})
    return {
        "since": since, "days": days, "rows": rows,
        "total": {"requests": sum(r["requests"] for r in rows),
                  "input_tokens": sum(r["input_tokens"] for r in rows),
                  "output_tokens": sum(r["output_tokens"] for r in rows),
                  "cost": round(sum(r["cost"] for r in rows), 6)},
        "prices_as_of": PRICES_AS_OF,
    }


async def spend_status(settings: Settings, store: Store,
                       meter: SpendMeter | None) -> dict[str, Any]:
    """Today's spend (every model, from the ledger) and what is left of each cap."""
    today = await usage_report(store, 1)
    inf = settings.inference
    tokens = today["total"]["input_tokens"] + today["total"]["output_tokens"]
    cost = today["total"]["cost"]

    def left(limit: float | None, used: float) -> float | None:
        return None if limit is None else round(max(0.0, limit - used), 6)

    snap = meter.snapshot() if meter is not None else None
    return {
        "today_requests": today["total"]["requests"], "today_tokens": tokens,
        "today_cost": cost,
        "run_tokens": snap["run_tokens"] if snap else 0,
        "run_cost": snap["run_cost"] if snap else 0.0,
        "caps": {"max_tokens_per_run": inf.max_tokens_per_run,
                 "max_tokens_per_day": inf.max_tokens_per_day,
                 "max_cost_per_run": inf.max_cost_per_run,
                 "max_cost_per_day": inf.max_cost_per_day},
        "left": {"tokens_today": left(inf.max_tokens_per_day, tokens),
                 "cost_today": left(inf.max_cost_per_day, cost),
                 "tokens_this_run": snap["left"]["tokens_this_run"] if snap
                 else left(inf.max_tokens_per_run, 0),
                 "cost_this_run": snap["left"]["cost_this_run"] if snap
                 else left(inf.max_cost_per_run, 0)},
        "cap_reached": snap["cap_reached"] if snap else None,
        "priced": snap["priced"] if snap else None,
        "calibration": snap["calibration"] if snap else None,
    }
