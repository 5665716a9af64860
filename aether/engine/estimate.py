"""What the next pass would cost, before it runs: which symbols need a SIR and why, the
tokens their prompts (built exactly as they would be sent) and answers will take, the requests,
the time at the configured rate, and the cost from [pricing]. No provider is called.

Tokens: prompt characters over the chars-per-token ratio calibrated from the usage this model
reported on earlier requests (aether.guard.spend), and the mean answer length it reported;
before any request, the documented defaults (DEFAULT_CHARS_PER_TOKEN, DEFAULT_OUTPUT_TOKENS).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from aether.config import Settings
from aether.engine.pipeline import SirPipeline, SymbolChanged
from aether.engine.spending import calibration, configured_price
from aether.guard.pricing import PRICES_AS_OF, Price
from aether.guard.spend import estimate_tokens
from aether.sir.prompt import PROMPT_VERSION, build_messages
from aether.store.db import Store
from aether.store.records import SymbolRecord

_CHUNK = 500  # ids per store read


@dataclass(slots=True)
class Estimate:
    provider: str
    model: str
    symbols: int = 0
    reasons: Counter[str] = field(default_factory=Counter)
    requests: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cost: float | None = 0.0
    minutes: float = 0.0
    calibrated_from: int = 0
    chars_per_token: float = 0.0
    within_caps: dict[str, int | None] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "provider": self.provider, "model": self.model, "symbols": self.symbols,
            "reasons": dict(self.reasons), "requests": self.requests,
            "input_tokens": self.input_tokens, "output_tokens": self.output_tokens,
            "total_tokens": self.input_tokens + self.output_tokens,
            "cost": None if self.cost is None else round(self.cost, 6),
            "priced": self.cost is not None, "prices_as_of": PRICES_AS_OF,
            "minutes_at_configured_rate": round(self.minutes, 2),
            "token_estimate": {"chars_per_token": round(self.chars_per_token, 3),
                               "calibrated_from_requests": self.calibrated_from},
            "symbols_within_caps": self.within_caps,
        }


def reason(record: SymbolRecord, provider: str, model: str) -> str:
    """Why this symbol needs a SIR: new | changed | failed | model_changed | stale."""
    if record.sir_json is None:
        return "new"
    if record.is_outdated:
        return "changed"
    if record.last_error and not record.deferred:
        return "failed"
    if (record.provider, record.model, record.prompt_version) != (provider, model,
                                                                  PROMPT_VERSION):
        return "model_changed"
    return "stale"


async def estimate(settings: Settings, store: Store, pipeline: SirPipeline, queue: list[str],
                   provider: str, model: str) -> Estimate:
    """The cost of making SIRs for `queue` (ranked ids) with `provider`/`model`."""
    inf = settings.inference
    cal = await calibration(store, provider, model)
    # the offline analyser costs nothing
    price = Price(0.0, 0.0) if provider == "static" else configured_price(settings, model)
    result = Estimate(provider, model, calibrated_from=cal.samples,
                      chars_per_token=cal.chars_per_token, cost=0.0 if price else None)
    caps = {"max_tokens_per_run": inf.max_tokens_per_run, "max_cost_per_run": inf.max_cost_per_run}
    within: dict[str, int | None] = {k: (None if v is None else 0) for k, v in caps.items()}
    running_tokens, running_cost = 0, 0.0
    for start in range(0, len(queue), _CHUNK):
        for record in await store.symbols(queue[start:start + _CHUNK]):
            try:
                request = await pipeline.request_for(record)
            except (SymbolChanged, OSError):
                continue  # the next pass re-reads it; nothing to price now
            messages = build_messages(request, inf.context_budget_chars)
            tin, tout = estimate_tokens(sum(len(m.content) for m in messages), cal)
            result.symbols += 1
            result.requests += 1
            result.reasons[reason(record, provider, model)] += 1
            result.input_tokens += tin
            result.output_tokens += tout
            cost = price.cost(tin, tout) if price else 0.0
            if result.cost is not None:
                result.cost += cost
            running_tokens += tin + tout
            running_cost += cost
            # how many symbols a single run gets through before each cap stops it
            limit = inf.max_tokens_per_run
            if limit is not None and running_tokens <= limit:
                within["max_tokens_per_run"] = result.symbols
            climit = inf.max_cost_per_run
            if climit is not None and price is not None and running_cost <= climit:
                within["max_cost_per_run"] = result.symbols
    result.within_caps = within
    result.minutes = result.requests / inf.requests_per_minute
    return result
