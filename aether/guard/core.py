"""The guard around one provider: concurrency, rate, timeouts, retries, pause, breaker.

Written by hand rather than with tenacity/aiolimiter (DESIGN.md lists their traps): the parts
must share state — a 429 seen by one worker pauses every worker and lowers the bucket's rate
(AIMD), the breaker must see each attempt, the retry budget spans all symbols (429 retries
included: a storm of them must not multiply the load either), a 401/403 stops the provider
for the rest of the run — and cancellation must never be retried. Exactly one retry layer:
the providers under it never retry.
"""

from __future__ import annotations

import asyncio
import copy
import logging
import random
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

from aether.config import InferenceSettings
from aether.guard.breaker import CircuitBreaker
from aether.guard.limits import AdaptiveRate, RetryBudget, TokenBucket, backoff_delay
from aether.guard.spend import SpendMeter
from aether.providers.errors import (
    CircuitOpen,
    PermanentError,
    ProviderError,
    RateLimited,
    SpendCapReached,
    TransientError,
)

T = TypeVar("T")
log = logging.getLogger("aether.guard")

Sleep = Callable[[float], Awaitable[None]]
_MAX_TURN_LOOPS = 10_000  # bounds the wait-for-a-turn loop; each pass sleeps


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _annotated(exc: ProviderError, note: str) -> ProviderError:
    """A copy of `exc` (same type, status, retry_after) whose message ends with `(note)`."""
    new = copy.copy(exc)
    new.args = (f"{exc} ({note})",)
    return new


class Guard:
    """Per-provider, in-process. `call(fn)` runs one provider request under every limit."""

    def __init__(self, name: str, settings: InferenceSettings, *,
                 clock: Callable[[], float] = time.monotonic,
                 wall: Callable[[], float] = time.time,
                 sleep: Sleep = asyncio.sleep,
                 rng: random.Random | None = None,
                 retry_ratio: float = 0.1, min_retries: int = 3,
                 budget_window_s: float = 120.0) -> None:
        self.name = name
        self.settings = settings
        self._clock, self._wall, self._sleep = clock, wall, sleep
        self._rng = rng or random.Random()
        self._sem = asyncio.Semaphore(settings.max_concurrency)
        self.bucket = TokenBucket(settings.requests_per_minute / 60.0, clock)
        self.rate = AdaptiveRate(self.bucket, settings.requests_per_minute / 60.0)
        self.breaker = CircuitBreaker(settings.breaker_threshold, settings.breaker_cooldown_s)
        self.budget = RetryBudget(clock, ratio=retry_ratio, min_retries=min_retries,
                                  window_s=budget_window_s)
        self.paused_until = clock()  # shared by every worker: a 429 moves it forward
        self.counters: Counter[str] = Counter()
        self.failures_by_type: Counter[str] = Counter()
        self.in_flight = 0
        self.max_in_flight = 0
        # Set by the first 401/403: the key is wrong or lacks permission, which no retry and
        # no other symbol can fix, so nothing more is sent until a new guard (a new run, or a
        # provider rebuilt from changed settings).
        self.fatal: PermanentError | None = None
        # The first request of a run goes alone: a wrong key, endpoint or model then costs
        # one request, not one per worker.
        self._first_answered = asyncio.Event()
        self._first_sent = False
        # Usage and spend caps (HTTP providers); checked right before each request is sent.
        self.meter: SpendMeter | None = None

    # ------------------------------------------------------------------ time helpers

    def now(self) -> float:
        return self._clock()

    def new_deadline(self) -> float:
        """The per-symbol deadline, on the guard's clock, for a symbol starting now."""
        return self._clock() + self.settings.deadline_s

    def _wall_at(self, t: float) -> float:
        return self._wall() + (t - self._clock())

    def _when(self, t: float) -> str:
        return f"{_iso(self._wall_at(t))} (in {max(0.0, t - self._clock()):.1f}s)"

    # ------------------------------------------------------------------ the call

    async def call(self, fn: Callable[[], Awaitable[T]], *, deadline: float | None = None,
                   prompt_chars: int | None = None) -> T:
        """Run `fn` (one provider request) with retries; raises a ProviderError when it
        cannot succeed within the attempts, the retry budget, the deadline or the spend caps
        (`prompt_chars`, when given, is what the caps' estimate is made from)."""
        self.counters["calls"] += 1
        if self.fatal is not None:
            self.failures_by_type["auth_fatal"] += 1
            raise copy.copy(self.fatal)
        first = not self._first_sent
        if not first:
            await self._first_answered.wait()
        self._first_sent = True
        try:
            return await self._attempts(fn, deadline, prompt_chars)
        finally:
            if first:  # answered, failed or refused before sending: the others may go
                self._first_answered.set()

    async def _attempts(self, fn: Callable[[], Awaitable[T]], deadline: float | None,
                        prompt_chars: int | None) -> T:
        s = self.settings
        deadline = self.new_deadline() if deadline is None else deadline
        for attempt in range(s.max_attempts):
            self._refuse_if_open(claim=False)
            async with self._sem:
                await self._wait_turn(deadline)
                if self.fatal is not None:  # another worker's request was refused meanwhile
                    self.failures_by_type["auth_fatal"] += 1
                    raise copy.copy(self.fatal)
                probe = self._refuse_if_open(claim=True) == "probe"
                budget = min(s.timeout_s, deadline - self._clock())
                if budget <= 0:
                    self.breaker.on_neutral(probe=probe)
                    raise self._fail(TransientError(
                        f"{self.name}: the {s.deadline_s:g}s deadline passed"), "deadline")
                handle = self._reserve(prompt_chars, probe)
                try:
                    return await self._send(fn, budget, probe)
                except (RateLimited, TransientError) as exc:
                    error: ProviderError = exc
                finally:
                    if handle is not None and self.meter is not None:
                        self.meter.release(handle)
            delay = self._retry_delay(attempt, error)
            if attempt + 1 >= s.max_attempts:
                raise _annotated(error, f"gave up after {s.max_attempts} attempts")
            if self.breaker.state == "open":  # a retry now would only fail fast
                probe_at = self.breaker.next_probe_at or self._clock()
                raise _annotated(error, f"circuit open; next probe at {self._when(probe_at)}")
            if self._clock() + delay > deadline:
                raise self._past_deadline(error, delay)
            # 429 retries spend the budget too: pacing alone let a storm of 429s turn into
            # 72% retries (36 symbols, 129 requests); the budget bounds them to ~10%.
            if not self.budget.try_spend():
                self.counters["retries_denied"] += 1
                raise _annotated(error, "retry budget exhausted")
            self.counters["retries"] += 1
            log.debug("%s: retry %d in %.2fs after %s", self.name, attempt + 1, delay, error)
            if not isinstance(error, RateLimited):  # a 429 waits in _wait_turn, with the rest
                await self._sleep(delay)
        raise AssertionError("unreachable: the loop returns or raises")

    def _reserve(self, prompt_chars: int | None, probe: bool) -> int | None:
        """The spend check, the last thing before a request goes: never after."""
        if self.meter is None or prompt_chars is None:
            return None
        try:
            return self.meter.reserve(prompt_chars)
        except SpendCapReached:
            self.breaker.on_neutral(probe=probe)
            self.failures_by_type["spend_cap"] += 1
            raise

    def _retry_delay(self, attempt: int, error: ProviderError) -> float:
        s = self.settings
        delay = backoff_delay(attempt, s.backoff_base_s, s.backoff_cap_s, self._rng.uniform)
        floor = getattr(error, "retry_after", None)
        if floor is not None:
            delay = max(delay, floor)  # the server's retry-after is a floor, not a hint
        if isinstance(error, RateLimited):
            until = self._clock() + delay
            if until > self.paused_until:
                self.paused_until = until
                self.bucket.defer_until(until)
                self.counters["rate_limited_pauses"] += 1
                log.info("%s: rate limited; every worker pauses until %s",
                         self.name, self._when(until))
        return delay

    def _past_deadline(self, error: ProviderError, delay: float) -> ProviderError:
        """The next try would land after the symbol's deadline: fail now, saying when."""
        self.failures_by_type["deadline"] += 1
        when = self._when(self._clock() + delay)
        new = _annotated(error, f"may be retried after {when}, past this symbol's deadline")
        if isinstance(new, (RateLimited, TransientError)):
            new.retry_after = delay
        return new

    async def _wait_turn(self, deadline: float) -> None:
        """Wait out a provider-wide pause, then for a slot in the rate bucket (FIFO)."""
        for _ in range(_MAX_TURN_LOOPS):
            now = self._clock()
            if self.paused_until > now:
                if self.paused_until > deadline:
                    self.failures_by_type["deadline"] += 1
                    raise RateLimited(
                        f"{self.name} is rate limited; may be retried after "
                        f"{self._when(self.paused_until)}, past this symbol's deadline",
                        retry_after=self.paused_until - now)
                self.bucket.defer_until(self.paused_until)
            slot = self.bucket.reserve()
            now = self._clock()  # after reserve(), so a free slot never looks like a wait
            if slot > deadline:
                self.bucket.release(slot)
                raise self._fail(TransientError(
                    f"{self.name}: the local rate limit ({self.settings.requests_per_minute:g}"
                    "/min) leaves no time before this symbol's deadline"), "deadline")
            if slot > now:
                self.counters["paused_waits" if self.paused_until > now else
                              "throttled_waits"] += 1
                try:
                    await self._sleep(slot - now)
                except asyncio.CancelledError:
                    self.bucket.release(slot)
                    raise
            if self.paused_until <= self._clock():
                return
        raise self._fail(TransientError(f"{self.name}: no turn to send"), "deadline")

    def _refuse_if_open(self, *, claim: bool) -> str:
        now = self._clock()
        before = self.breaker.state
        admission = self.breaker.admit(now, claim=claim)
        if self.breaker.state != before:
            log.warning("%s: circuit %s -> %s", self.name, before, self.breaker.state)
        if admission != "refused":
            return admission
        self.failures_by_type["circuit_open"] += 1
        probe_at = self.breaker.next_probe_at or now
        if self.breaker.state == "half_open":
            message = (f"circuit for {self.name} is half-open: one probe is in flight; "
                       "others fail fast until it answers")
        else:
            message = (f"circuit for {self.name} is open after "
                       f"{self.breaker.consecutive_failures} consecutive failures; "
                       f"next probe at {self._when(probe_at)}")
        raise CircuitOpen(message, retry_at=self._wall_at(max(probe_at, now)))

    async def _send(self, fn: Callable[[], Awaitable[T]], budget: float, probe: bool) -> T:
        """One attempt, bounded by `asyncio.timeout` (httpx timeouts are per read)."""
        self.counters["requests"] += 1
        self.budget.record_attempt()
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        settled = False
        try:
            try:
                async with asyncio.timeout(budget) as scope:
                    result = await fn()
            except TimeoutError:
                if not scope.expired():
                    raise
                raise TransientError(f"{self.name}: no answer within {budget:.2f}s") from None
        except TransientError as exc:
            settled = True
            before = self.breaker.state
            self.breaker.on_failure(self._clock(), probe=probe)
            self.failures_by_type[exc.kind] += 1
            if self.breaker.state != before:
                log.warning("%s: circuit %s -> open after %d consecutive failures; next probe "
                            "at %s (last: %s)", self.name, before,
                            self.breaker.consecutive_failures,
                            self._when(self.breaker.next_probe_at or self._clock()), exc)
            raise
        except RateLimited as exc:
            settled = True
            self.breaker.on_neutral(probe=probe)
            self.failures_by_type[exc.kind] += 1
            self.rate.on_rate_limited()
            self.counters["rate_decreases"] += 1
            raise
        except PermanentError as exc:
            settled = True
            self._note_success()  # the provider is reachable
            self.failures_by_type[exc.kind] += 1
            if exc.status in (401, 403):
                raise self._go_fatal(exc) from None
            raise
        except ProviderError as exc:  # invalid output: the provider is reachable
            settled = True
            self._note_success()
            self.failures_by_type[exc.kind] += 1
            raise
        except Exception:
            settled = True
            self.breaker.on_neutral(probe=probe)
            self.failures_by_type["internal"] += 1
            raise
        else:
            settled = True
            self.counters["successes"] += 1
            self._note_success()
            self.rate.on_success()
            return result
        finally:
            self.in_flight -= 1
            self._first_answered.set()
            if not settled:  # cancelled: never retried, never counted against the provider
                self.breaker.on_neutral(probe=probe)

    def _go_fatal(self, exc: PermanentError) -> PermanentError:
        """The first 401/403: one message, naming the key variable, for every symbol left."""
        if self.fatal is None:
            env = self.settings.key_env()
            what = "authentication failed" if exc.status == 401 else "permission denied"
            message = (f"{exc} — {what}; check {env or 'the API key'}. {self.name} is not "
                       "called again until the configuration or environment changes "
                       "(or the next run)")
            self.fatal = PermanentError(message, status=exc.status)
            log.info("%s", message)  # the pipeline says it once, per run, on stderr
        return copy.copy(self.fatal)

    def _note_success(self) -> None:
        before = self.breaker.state
        self.breaker.on_success(self._clock())
        if self.breaker.state != before:
            log.warning("%s: circuit %s -> closed", self.name, before)

    def _fail(self, exc: ProviderError, kind: str) -> ProviderError:
        self.failures_by_type[kind] += 1
        return exc

    # ------------------------------------------------------------------ reporting

    def snapshot(self) -> dict[str, Any]:
        """Every counter and state, JSON-ready (timestamps are ISO 8601 UTC)."""
        b = self.breaker
        now = self._clock()
        c = self.counters
        return {
            "provider": self.name,
            "calls": c["calls"], "requests": c["requests"], "successes": c["successes"],
            "retries": c["retries"], "retries_denied": c["retries_denied"],
            "throttled_waits": c["throttled_waits"], "paused_waits": c["paused_waits"],
            "rate_limited_pauses": c["rate_limited_pauses"],
            "rate_decreases": c["rate_decreases"],
            "current_rate_per_minute": round(self.rate.rate_per_s * 60.0, 2),
            "fatal": str(self.fatal) if self.fatal is not None else None,
            "failures_by_type": dict(self.failures_by_type),
            "in_flight": self.in_flight, "max_in_flight": self.max_in_flight,
            "paused_until": _iso(self._wall_at(self.paused_until))
            if self.paused_until > now else None,
            "circuit_state": b.state,
            "consecutive_failures": b.consecutive_failures,
            "circuit_cooldown_s": b.cooldown_s,
            "circuit_opened_at": _iso(self._wall_at(b.opened_at))
            if b.opened_at is not None else None,
            "next_probe_at": _iso(self._wall_at(b.next_probe_at))
            if b.next_probe_at is not None else None,
            "circuit_transitions": {
                "count": b.transition_count,
                "recent": [{"from": t.before, "to": t.after, "at": _iso(self._wall_at(t.at)),
                            "reason": t.reason} for t in b.recent],
            },
            "retry_budget": self.budget.snapshot(),
            "spend": self.meter.snapshot() if self.meter is not None else None,
            "limits": {"max_concurrency": self.settings.max_concurrency,
                       "requests_per_minute": self.settings.requests_per_minute,
                       "timeout_s": self.settings.timeout_s,
                       "deadline_s": self.settings.deadline_s,
                       "max_attempts": self.settings.max_attempts},
        }
