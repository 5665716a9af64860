"""The spend meter: every provider request's usage, and the caps checked before one is sent.

A request is admitted only if what is already spent (as the provider reported it), plus what
requests in flight are estimated to cost, plus this request's estimate stays within every cap
(`[inference] max_tokens_per_run`, `max_tokens_per_day`, `max_cost_per_run`,
`max_cost_per_day`). So a cap is never crossed by a request we chose to send; it can only be
crossed by a provider answering with more tokens than estimated, which the next check sees.

The estimate: prompt characters over a chars-per-token ratio, plus an expected answer length.
Both are calibrated from the usage the provider reported for this model on earlier requests
(the ledger); before any, DEFAULT_CHARS_PER_TOKEN and DEFAULT_OUTPUT_TOKENS. No tokenizer:
the one that installs offline (OpenAI's BPE) would be wrong for Gemini, Claude and local
models, while a ratio calibrated from each model's own reports is right for all of them.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from aether.config import InferenceSettings
from aether.guard.pricing import Price
from aether.providers.base import RequestUsage
from aether.providers.errors import SpendCapReached

DEFAULT_CHARS_PER_TOKEN = 3.5  # source code with a short English preamble, BPE tokenizers
DEFAULT_OUTPUT_TOKENS = 250  # one SIR as JSON
# Statuses a provider may bill for even when it reports no usage.
BILLED_WHEN_UNREPORTED = frozenset({"ok", "timeout", "invalid"})


@dataclass(frozen=True, slots=True)
class LedgerRow:
    at: str
    day: str
    provider: str
    model: str
    status: str
    input_tokens: int
    output_tokens: int
    reported: bool
    prompt_chars: int
    output_chars: int
    cost: float
    priced: bool


@dataclass(frozen=True, slots=True)
class Calibration:
    chars_per_token: float = DEFAULT_CHARS_PER_TOKEN
    output_tokens: float = DEFAULT_OUTPUT_TOKENS
    samples: int = 0  # reported requests it was computed from (0: the defaults)


def estimate_tokens(prompt_chars: int, calibration: Calibration) -> tuple[int, int]:
    """(input, output) tokens expected for a prompt of this many characters."""
    return (math.ceil(prompt_chars / calibration.chars_per_token),
            math.ceil(calibration.output_tokens))


def _day(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d")


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="milliseconds").replace(
        "+00:00", "Z")


def next_midnight(day: str) -> str:
    start = datetime.strptime(day, "%Y-%m-%d").replace(tzinfo=UTC) + timedelta(days=1)
    return start.isoformat().replace("+00:00", "Z")


class SpendMeter:
    """Per provider and process. `reserve` before a request, `release` after it; the provider
    calls `record` with what the request really used. Thread-safe: cheap, one lock."""

    def __init__(self, settings: InferenceSettings, price: Price | None, *, provider: str,
                 model: str, calibration: Calibration | None = None,
                 wall: Callable[[], float] = time.time) -> None:
        self.settings = settings
        self.price = price
        self.provider = provider
        self.model = model
        self.calibration = calibration or Calibration()
        self._wall = wall
        self._lock = threading.Lock()
        self.day = _day(wall())
        self.run_tokens = 0
        self.run_cost = 0.0
        self.day_tokens = 0
        self.day_cost = 0.0
        self.requests = 0
        self._inflight: dict[int, tuple[int, float]] = {}
        self._next_id = 0
        self._pending: list[LedgerRow] = []
        self.cap_reached: SpendCapReached | None = None

    # ------------------------------------------------------------------ state

    def seed_today(self, day: str, tokens: int, cost: float) -> None:
        """What the ledger says was spent on `day` before this process started."""
        with self._lock:
            if day == self.day:
                self.day_tokens += tokens
                self.day_cost += cost

    def _roll(self) -> None:
        today = _day(self._wall())
        if today != self.day:  # a new UTC day: the day caps start again
            self.day, self.day_tokens, self.day_cost = today, 0, 0.0
            self.cap_reached = None

    def cost_of(self, input_tokens: int, output_tokens: int) -> float:
        return self.price.cost(input_tokens, output_tokens) if self.price else 0.0

    # ------------------------------------------------------------------ the check

    def reserve(self, prompt_chars: int) -> int:
        """Admit one request of `prompt_chars` or raise SpendCapReached; returns a handle."""
        est_in, est_out = estimate_tokens(prompt_chars, self.calibration)
        tokens = est_in + est_out
        cost = self.cost_of(est_in, est_out)
        with self._lock:
            self._roll()
            held_tokens = sum(t for t, _ in self._inflight.values())
            held_cost = sum(c for _, c in self._inflight.values())
            self._check(tokens, cost, held_tokens, held_cost)
            self._next_id += 1
            self._inflight[self._next_id] = (tokens, cost)
            return self._next_id

    def _check(self, tokens: int, cost: float, held_tokens: int, held_cost: float) -> None:
        s = self.settings
        run_reset = "when this run ends"
        day_reset = f"at {next_midnight(self.day)} (UTC midnight)"
        token_caps = (("max_tokens_per_run", s.max_tokens_per_run, self.run_tokens, run_reset),
                      ("max_tokens_per_day", s.max_tokens_per_day, self.day_tokens, day_reset))
        for name, limit, used, resets in token_caps:
            if limit is not None and used + held_tokens + tokens > limit:
                self._refuse(name, f"{used:,} of {limit:,} tokens used", resets)
        cost_caps = (("max_cost_per_run", s.max_cost_per_run, self.run_cost, run_reset),
                     ("max_cost_per_day", s.max_cost_per_day, self.day_cost, day_reset))
        for name, climit, spent, resets in cost_caps:
            if climit is None:
                continue
            if self.price is None and climit > 0:
                self._refuse(name, f"model {self.model!r} has no price (add "
                             f"[pricing.\"{self.model}\"] to the configuration)", "never")
            if spent + held_cost + cost > climit:
                self._refuse(name, f"${spent:.4f} of ${climit:.4f} spent", resets)

    def _refuse(self, cap: str, detail: str, resets: str) -> None:
        resets_text = "when the configuration changes" if resets == "never" else resets
        exc = SpendCapReached(f"spend cap {cap} reached for {self.provider}/{self.model}: "
                              f"{detail}; not sent; resets {resets_text}",
                              cap=cap, resets=resets)
        self.cap_reached = exc
        raise exc

    def release(self, handle: int) -> None:
        with self._lock:
            self._inflight.pop(handle, None)

    # ------------------------------------------------------------------ the ledger

    def record(self, usage: RequestUsage) -> None:
        """What a request used; the provider calls this for every request it sent."""
        now = self._wall()
        if not usage.reported and usage.status in BILLED_WHEN_UNREPORTED:
            # The provider said nothing (a local server, a timeout): count our estimate, so a
            # cap errs on the side of spending less.
            est_in, est_out = estimate_tokens(usage.prompt_chars, self.calibration)
            usage.input_tokens = est_in
            usage.output_tokens = est_out if usage.status == "ok" else 0
        cost = self.cost_of(usage.input_tokens, usage.output_tokens)
        tokens = usage.input_tokens + usage.output_tokens
        with self._lock:
            self._roll()
            self.requests += 1
            self.run_tokens += tokens
            self.run_cost += cost
            self.day_tokens += tokens
            self.day_cost += cost
            self._pending.append(LedgerRow(
                _iso(now), _day(now), usage.provider, usage.model, usage.status,
                usage.input_tokens, usage.output_tokens, usage.reported, usage.prompt_chars,
                usage.output_chars, cost, self.price is not None))

    def drain(self) -> list[LedgerRow]:
        """The rows recorded since the last drain, for the store."""
        with self._lock:
            rows, self._pending = self._pending, []
        return rows

    def snapshot(self) -> dict[str, Any]:
        s = self.settings
        with self._lock:
            self._roll()

            def left(limit: float | None, used: float) -> float | None:
                return None if limit is None else round(max(0.0, limit - used), 6)

            return {
                "day": self.day, "requests_this_run": self.requests,
                "run_tokens": self.run_tokens, "run_cost": round(self.run_cost, 6),
                "today_tokens": self.day_tokens, "today_cost": round(self.day_cost, 6),
                "priced": self.price is not None,
                "caps": {
                    "max_tokens_per_run": s.max_tokens_per_run,
                    "max_tokens_per_day": s.max_tokens_per_day,
                    "max_cost_per_run": s.max_cost_per_run,
                    "max_cost_per_day": s.max_cost_per_day,
                },
                "left": {
                    "tokens_this_run": left(s.max_tokens_per_run, self.run_tokens),
                    "tokens_today": left(s.max_tokens_per_day, self.day_tokens),
                    "cost_this_run": left(s.max_cost_per_run, self.run_cost),
                    "cost_today": left(s.max_cost_per_day, self.day_cost),
                },
                "cap_reached": str(self.cap_reached) if self.cap_reached else None,
                "calibration": {"chars_per_token": round(self.calibration.chars_per_token, 3),
                                "output_tokens": round(self.calibration.output_tokens, 1),
                                "samples": self.calibration.samples},
            }
