"""Prices per model, in US dollars per million input / output tokens.

Shipped defaults are the list prices the vendors published as of PRICES_AS_OF (standard tier,
no batch or cache discounts); `[pricing."<model>"]` in the configuration overrides or adds
any model. A model with no price costs 0 in the ledger and is reported as unpriced; a cost
cap refuses to spend on it (an unknown price cannot be kept under a limit).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

PRICES_AS_OF = "2025-10-01"


@dataclass(frozen=True, slots=True)
class Price:
    input_per_million: float
    output_per_million: float

    def cost(self, input_tokens: int, output_tokens: int) -> float:
        return (input_tokens * self.input_per_million
                + output_tokens * self.output_per_million) / 1_000_000


DEFAULT_PRICES: dict[str, Price] = {
    # OpenAI
    "gpt-4o-mini": Price(0.15, 0.60),
    "gpt-4o": Price(2.50, 10.00),
    "gpt-4.1-nano": Price(0.10, 0.40),
    "gpt-4.1-mini": Price(0.40, 1.60),
    "gpt-4.1": Price(2.00, 8.00),
    "gpt-5-nano": Price(0.05, 0.40),
    "gpt-5-mini": Price(0.25, 2.00),
    "gpt-5": Price(1.25, 10.00),
    # Google
    "gemini-2.0-flash": Price(0.10, 0.40),
    "gemini-2.5-flash-lite": Price(0.10, 0.40),
    "gemini-2.5-flash": Price(0.30, 2.50),
    "gemini-2.5-pro": Price(1.25, 10.00),
    # Anthropic
    "claude-haiku-4-5": Price(1.00, 5.00),
    "claude-3-5-haiku": Price(0.80, 4.00),
    "claude-sonnet-4-5": Price(3.00, 15.00),
    "claude-sonnet-4": Price(3.00, 15.00),
    "claude-opus-4-1": Price(15.00, 75.00),
}


def price_for(model: str, overrides: Mapping[str, Price] | None = None) -> Price | None:
    """The configured price, else the shipped one; a dated variant (`gpt-4o-mini-2024-07-18`,
    `claude-haiku-4-5-20251001`) takes the price of its longest listed prefix."""
    table = {**DEFAULT_PRICES, **(overrides or {})}
    if model in table:
        return table[model]
    best = max((name for name in table if model.startswith(name + "-")), key=len, default=None)
    return table[best] if best is not None else None
