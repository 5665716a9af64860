"""The guard's logic on a fake clock: no real waiting, exact times."""

from __future__ import annotations

import asyncio
import heapq
import itertools
import json
import random
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import pytest

from aether.config import InferenceSettings
from aether.guard import CircuitBreaker, Guard, RetryBudget, TokenBucket, backoff_delay
from aether.providers.errors import (
    CircuitOpen,
    InvalidOutput,
    PermanentError,
    RateLimited,
    TransientError,
)

T = TypeVar("T")
T0 = 1000.0


class FakeClock:
    """Virtual time: `sleep` parks the caller; `run` advances time to the next sleeper only
    when every task has settled, so concurrent sleepers wake in time order."""

    def __init__(self, start: float = T0) -> None:
        self.t = start
        self._sleepers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._seq = itertools.count()
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.t

    def wall(self) -> float:
        return 1_700_000_000.0 + self.t

    async def sleep(self, delay: float) -> None:
        self.sleeps.append(delay)
        if delay <= 0:
            await asyncio.sleep(0)
            return
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._sleepers, (self.t + delay, next(self._seq), fut))
        await fut

    async def settle(self) -> None:
        for _ in range(50):
            await asyncio.sleep(0)

    async def advance(self, seconds: float) -> None:
        """Move time forward, waking every sleeper due on the way."""
        target = self.t + seconds
        for _ in range(10_000):
            await self.settle()
            if not self._sleepers or self._sleepers[0][0] > target:
                break
            wake, _, fut = heapq.heappop(self._sleepers)
            self.t = max(self.t, wake)
            if not fut.done():
                fut.set_result(None)
        self.t = target
        await self.settle()

    async def run(self, aw: Awaitable[T]) -> T:
        task = asyncio.ensure_future(aw)
        for _ in range(10_000):
            await self.settle()
            if task.done():
                return task.result()
            if not self._sleepers:
                task.cancel()
                raise AssertionError("deadlock: nothing sleeping and the task is not done")
            wake, _, fut = heapq.heappop(self._sleepers)
            self.t = max(self.t, wake)
            if not fut.done():
                fut.set_result(None)
        raise AssertionError("too many steps")


def settings(**kw: Any) -> InferenceSettings:
    base: dict[str, Any] = dict(max_concurrency=4, requests_per_minute=6000, timeout_s=5,
                                deadline_s=120, max_attempts=4, backoff_base_s=1,
                                backoff_cap_s=30, breaker_threshold=100, breaker_cooldown_s=10)
    base.update(kw)
    return InferenceSettings(**base)


class FixedJitter(random.Random):
    def __init__(self, pick: Callable[[float, float], float]) -> None:
        super().__init__(0)
        self.pick = pick

    def uniform(self, a: float, b: float) -> float:
        return self.pick(a, b)


def make_guard(clock: FakeClock, *, uniform: Callable[[float, float], float] | None = None,
               **kw: Any) -> Guard:
    rng = random.Random(7) if uniform is None else FixedJitter(uniform)
    return Guard("fake", settings(**kw), clock=clock, wall=clock.wall, sleep=clock.sleep, rng=rng)


class Script:
    """A provider call that raises the scripted errors in order, then returns "ok"."""

    def __init__(self, clock: FakeClock, *errors: BaseException) -> None:
        self.clock = clock
        self.errors = list(errors)
        self.sent: list[float] = []

    async def __call__(self) -> str:
        self.sent.append(self.clock.t)
        if self.errors:
            raise self.errors.pop(0)
        return "ok"


def lowest(lo: float, hi: float) -> float:
    return lo


def highest(lo: float, hi: float) -> float:
    return hi


# ------------------------------------------------------------------------------ pieces


def test_bucket_starts_empty_and_spaces_requests() -> None:
    clock = FakeClock()
    bucket = TokenBucket(2.0, clock)  # 120/min
    assert [bucket.reserve() for _ in range(4)] == [T0, T0 + 0.5, T0 + 1.0, T0 + 1.5]
    clock.t += 100  # idle: still no burst beyond one
    assert bucket.reserve() == clock.t
    assert bucket.reserve() == clock.t + 0.5


def test_bucket_release_and_defer() -> None:
    clock = FakeClock()
    bucket = TokenBucket(1.0, clock)
    first = bucket.reserve()
    second = bucket.reserve()
    bucket.release(second)  # last in line: given back
    assert bucket.reserve() == second
    bucket.release(first)  # someone is queued behind: not given back
    bucket.defer_until(T0 + 50)
    assert bucket.reserve() == T0 + 50
    assert bucket.reserve() == T0 + 51


def test_backoff_is_full_jitter_and_capped() -> None:
    assert backoff_delay(0, 0.5, 30, highest) == 0.5
    assert backoff_delay(3, 0.5, 30, highest) == 4.0
    assert backoff_delay(10, 0.5, 30, highest) == 30.0
    assert backoff_delay(500, 0.5, 30, highest) == 30.0  # no overflow
    assert backoff_delay(5, 0.5, 30, lowest) == 0.0
    rng = random.Random(1)
    draws = [backoff_delay(4, 1.0, 30, rng.uniform) for _ in range(400)]
    assert all(0.0 <= d <= 16.0 for d in draws)
    assert min(draws) < 2.0 and max(draws) > 14.0  # spread over the whole range


def test_retry_budget_ratio_floor_and_window() -> None:
    clock = FakeClock()
    budget = RetryBudget(clock, ratio=0.1, min_retries=3, window_s=120)
    for _ in range(10):
        budget.record_attempt()
    assert [budget.try_spend() for _ in range(4)] == [True, True, True, False]
    for _ in range(90):
        budget.record_attempt()
    assert budget.allowed() == pytest.approx(10.0)
    assert sum(budget.try_spend() for _ in range(20)) == 7
    clock.t += 121
    assert budget.allowed() == 3 and budget.try_spend()


def test_breaker_unit_transitions() -> None:
    b = CircuitBreaker(2, 10)
    b.on_failure(0, probe=False)
    assert b.state == "closed"
    b.on_failure(1, probe=False)
    assert (b.state, b.next_probe_at) == ("open", 11)
    assert b.admit(5, claim=True) == "refused"
    assert b.admit(11, claim=False) == "probe" and b.state == "half_open"
    assert b.admit(11, claim=True) == "probe"
    assert b.admit(11, claim=True) == "refused"  # exactly one probe
    b.on_failure(12, probe=True)
    assert (b.state, b.cooldown_s, b.next_probe_at) == ("open", 20, 32)
    assert b.admit(32, claim=True) == "probe"
    b.on_neutral(probe=True)  # a 429 or a cancellation frees the probe slot
    assert b.admit(32, claim=True) == "probe"
    b.on_success(33)
    assert (b.state, b.cooldown_s, b.consecutive_failures) == ("closed", 10, 0)
    assert [t.after for t in b.recent] == ["open", "half_open", "open", "half_open", "closed"]


def test_breaker_cooldown_is_capped() -> None:
    b = CircuitBreaker(1, 100, max_cooldown_s=600)
    b.on_failure(0, probe=False)
    for _ in range(10):
        assert b.admit(b.next_probe_at or 0, claim=True) == "probe"
        b.on_failure(b.next_probe_at or 0, probe=True)
    assert b.cooldown_s == 600


# ------------------------------------------------------------------------------ the guard


async def test_success_counts() -> None:
    clock = FakeClock()
    guard = make_guard(clock)
    assert await clock.run(guard.call(Script(clock))) == "ok"
    snap = guard.snapshot()
    assert (snap["requests"], snap["successes"], snap["retries"]) == (1, 1, 0)
    assert snap["circuit_state"] == "closed" and snap["in_flight"] == 0
    json.dumps(snap)


async def test_rate_bucket_serves_waiters_in_order() -> None:
    clock = FakeClock()
    guard = make_guard(clock, requests_per_minute=60, max_concurrency=10)
    order: list[tuple[int, float]] = []

    def job(i: int) -> Callable[[], Awaitable[str]]:
        async def fn() -> str:
            order.append((i, clock.t))
            return "ok"
        return fn

    await clock.run(asyncio.gather(*(guard.call(job(i)) for i in range(6))))
    assert [i for i, _ in order] == list(range(6))
    assert [t - T0 for _, t in order] == [0, 1, 2, 3, 4, 5]  # no initial burst
    assert guard.snapshot()["throttled_waits"] == 5


async def test_retry_after_is_a_floor() -> None:
    clock = FakeClock()
    guard = make_guard(clock, uniform=lowest)  # jitter alone would retry at once
    script = Script(clock, RateLimited("slow down", retry_after=5.0))
    assert await clock.run(guard.call(script)) == "ok"
    assert script.sent[1] - script.sent[0] >= 5.0
    snap = guard.snapshot()
    assert snap["retries"] == 1 and snap["rate_limited_pauses"] == 1


async def test_transient_backoff_within_jitter_bounds() -> None:
    clock = FakeClock()
    guard = make_guard(clock, uniform=highest, backoff_base_s=1, backoff_cap_s=3)
    script = Script(clock, *(TransientError("boom") for _ in range(3)))
    assert await clock.run(guard.call(script)) == "ok"
    gaps = [b - a for a, b in itertools.pairwise(script.sent)]
    assert gaps == [1.0, 2.0, 3.0]  # base*2**n, capped at 3


async def test_a_429_pauses_every_worker() -> None:
    clock = FakeClock()
    guard = make_guard(clock, requests_per_minute=60, max_concurrency=4, uniform=lowest)
    sent: list[float] = []
    calls = itertools.count()

    async def fn() -> str:
        sent.append(clock.t)
        if next(calls) == 0:
            raise RateLimited("429", retry_after=10.0)
        return "ok"

    await clock.run(asyncio.gather(*(guard.call(fn) for _ in range(3))))
    assert sent[0] == T0
    assert all(t >= T0 + 10 for t in sent[1:])  # nobody went during the pause
    # and no herd after it: spaced by the bucket, whose rate the 429 halved (60 -> 30/min)
    assert sorted(sent[1:]) == [T0 + 10, T0 + 12, T0 + 14]
    snap = guard.snapshot()
    assert snap["rate_limited_pauses"] == 1 and snap["paused_waits"] >= 2
    assert snap["rate_decreases"] == 1
    assert 30 < snap["current_rate_per_minute"] < 60  # two successes: raised, slowly


async def test_retry_after_beyond_deadline_fails_at_once() -> None:
    clock = FakeClock()
    guard = make_guard(clock, deadline_s=60)
    script = Script(clock, RateLimited("429", retry_after=3600.0))
    with pytest.raises(RateLimited) as info:
        await clock.run(guard.call(script))
    assert "may be retried after" in str(info.value) and "deadline" in str(info.value)
    assert info.value.retry_after == pytest.approx(3600.0)
    assert clock.t == T0 and len(script.sent) == 1  # no sleeping, no second request
    # Another symbol arriving during that pause is told the same, without a request.
    with pytest.raises(RateLimited, match="may be retried after"):
        await clock.run(guard.call(Script(clock)))
    assert guard.snapshot()["requests"] == 1


async def test_max_attempts_then_give_up() -> None:
    clock = FakeClock()
    guard = make_guard(clock, max_attempts=3, uniform=lowest)
    script = Script(clock, *(TransientError("503") for _ in range(10)))
    with pytest.raises(TransientError, match="gave up after 3 attempts"):
        await clock.run(guard.call(script))
    assert len(script.sent) == 3 and guard.snapshot()["retries"] == 2


@pytest.mark.parametrize("error", [PermanentError("400 bad request", status=400),
                                   InvalidOutput("not a SIR")])
async def test_permanent_and_invalid_are_not_retried(error: Exception) -> None:
    clock = FakeClock()
    guard = make_guard(clock, breaker_threshold=1)
    for _ in range(5):
        script = Script(clock, error)
        with pytest.raises(type(error)):
            await clock.run(guard.call(script))
        assert len(script.sent) == 1
    snap = guard.snapshot()
    assert snap["retries"] == 0 and snap["circuit_state"] == "closed"


async def test_cancellation_is_never_retried() -> None:
    clock = FakeClock()
    guard = make_guard(clock)
    script = Script(clock, asyncio.CancelledError())
    with pytest.raises(asyncio.CancelledError):
        await guard.call(script)
    assert len(script.sent) == 1
    snap = guard.snapshot()
    assert snap["retries"] == 0 and snap["in_flight"] == 0


async def test_cancelling_a_waiting_call_frees_everything() -> None:
    clock = FakeClock()
    guard = make_guard(clock, breaker_threshold=1, breaker_cooldown_s=5)
    with pytest.raises(TransientError):
        await clock.run(guard.call(Script(clock, TransientError("down")), deadline=T0 + 1))
    await clock.advance(5)
    release = asyncio.Event()

    async def hang() -> str:
        await release.wait()
        return "ok"

    probe = asyncio.ensure_future(guard.call(hang))
    await clock.settle()
    assert guard.breaker.probe_in_flight and guard.in_flight == 1
    probe.cancel()
    await clock.settle()
    assert probe.cancelled()
    assert not guard.breaker.probe_in_flight and guard.in_flight == 0
    assert await clock.run(guard.call(Script(clock))) == "ok"  # the next call may probe


async def test_breaker_opens_fails_fast_probes_and_grows_cooldown() -> None:
    clock = FakeClock()
    guard = make_guard(clock, breaker_threshold=3, breaker_cooldown_s=10, max_attempts=1)
    down = Script(clock, *(TransientError("HTTP 500") for _ in range(100)))
    for _ in range(3):
        with pytest.raises(TransientError):
            await clock.run(guard.call(down))
    assert guard.snapshot()["circuit_state"] == "open"
    with pytest.raises(CircuitOpen) as info:
        await clock.run(guard.call(down))
    message = str(info.value)
    assert "circuit for fake is open" in message and "next probe at" in message
    assert info.value.retry_at == pytest.approx(clock.wall() + 10)
    assert len(down.sent) == 3  # failing fast sends nothing

    await clock.advance(10)
    gate = asyncio.Event()

    async def slow_probe() -> str:
        await gate.wait()
        raise TransientError("still 500")

    probe = asyncio.ensure_future(guard.call(slow_probe))
    await clock.settle()
    assert guard.snapshot()["circuit_state"] == "half_open"
    with pytest.raises(CircuitOpen, match="half-open"):  # exactly one probe at a time
        await guard.call(down)
    gate.set()
    with pytest.raises(TransientError):
        await probe
    snap = guard.snapshot()
    assert snap["circuit_state"] == "open" and snap["circuit_cooldown_s"] == 20
    await clock.advance(19)
    with pytest.raises(CircuitOpen):
        await clock.run(guard.call(down))
    await clock.advance(1)
    assert await clock.run(guard.call(Script(clock))) == "ok"
    snap = guard.snapshot()
    assert snap["circuit_state"] == "closed" and snap["circuit_cooldown_s"] == 10
    recent = [(t["from"], t["to"]) for t in snap["circuit_transitions"]["recent"]]
    assert recent == [("closed", "open"), ("open", "half_open"), ("half_open", "open"),
                      ("open", "half_open"), ("half_open", "closed")]
    assert snap["circuit_transitions"]["count"] == 5
    assert snap["failures_by_type"]["circuit_open"] == 3


async def test_rate_limits_and_auth_errors_do_not_open_the_breaker() -> None:
    clock = FakeClock()
    guard = make_guard(clock, breaker_threshold=2, max_attempts=1)
    for error in [RateLimited("429", retry_after=0.0)] * 5 + [PermanentError("403", status=403)]:
        with pytest.raises(type(error)):
            await clock.run(guard.call(Script(clock, error)))
    assert guard.snapshot()["circuit_state"] == "closed"


async def test_retry_budget_limits_retries_in_an_outage() -> None:
    clock = FakeClock()
    guard = make_guard(clock, uniform=lowest, max_concurrency=20, max_attempts=4)

    async def down() -> str:
        raise TransientError("HTTP 502")

    results = await clock.run(asyncio.gather(*(guard.call(down) for _ in range(20)),
                                             return_exceptions=True))
    assert all(isinstance(r, TransientError) for r in results)
    snap = guard.snapshot()
    assert snap["retries"] <= max(3, 0.1 * snap["requests"]) + 1
    assert snap["retries_denied"] > 0
    assert snap["requests"] < 20 * 4  # without a budget: 80


async def test_attempt_timeout_is_transient() -> None:
    guard = Guard("fake", settings(timeout_s=0.05, max_attempts=1))

    async def never() -> str:
        await asyncio.sleep(30)
        return "late"

    with pytest.raises(TransientError, match="no answer within"):
        await guard.call(never)
    assert guard.snapshot()["failures_by_type"] == {"transient": 1}


async def test_deadline_bounds_the_attempts() -> None:
    clock = FakeClock()
    guard = make_guard(clock, uniform=highest, deadline_s=5, timeout_s=5, backoff_base_s=2,
                       max_attempts=10)
    script = Script(clock, *(TransientError("503") for _ in range(10)))
    with pytest.raises(TransientError, match="past this symbol's deadline"):
        await clock.run(guard.call(script))
    assert [t - T0 for t in script.sent] == [0, 2]  # a third try (at +6) would pass +5


@pytest.mark.parametrize("status", [401, 403])
async def test_auth_failure_is_fatal_for_the_provider(status: int) -> None:
    clock = FakeClock()
    guard = make_guard(clock, api_key_env="MY_KEY_VAR")
    script = Script(clock, PermanentError(f"HTTP {status}", status=status))
    results = await clock.run(asyncio.gather(*(guard.call(script) for _ in range(6)),
                                             return_exceptions=True))
    assert len(script.sent) == 1  # the first request goes alone; the rest are never sent
    assert all(isinstance(r, PermanentError) for r in results)
    assert len({str(r) for r in results}) == 1  # one message for every symbol
    assert "MY_KEY_VAR" in str(results[0]) and "not called again" in str(results[0])
    snap = guard.snapshot()
    assert snap["requests"] == 1 and snap["failures_by_type"]["auth_fatal"] == 5
    assert snap["fatal"] and snap["circuit_state"] == "closed"


async def test_sustained_429s_lower_the_rate_and_successes_raise_it_slowly() -> None:
    clock = FakeClock()
    guard = make_guard(clock, requests_per_minute=600, max_attempts=1)
    for _ in range(10):
        with pytest.raises(RateLimited):
            await clock.run(guard.call(Script(clock, RateLimited("429", retry_after=0.0))))
    snap = guard.snapshot()
    assert snap["current_rate_per_minute"] == pytest.approx(600 / 16)  # halved to the floor
    assert snap["rate_decreases"] == 10
    for _ in range(5):
        assert await clock.run(guard.call(Script(clock))) == "ok"
    assert guard.snapshot()["current_rate_per_minute"] == pytest.approx(600 / 16 * 6)
    for _ in range(20):
        await clock.run(guard.call(Script(clock)))
    assert guard.snapshot()["current_rate_per_minute"] == pytest.approx(600)  # never above


async def test_a_429_storm_spends_the_retry_budget() -> None:
    clock = FakeClock()
    guard = make_guard(clock, uniform=lowest, max_concurrency=2, max_attempts=4)

    async def storm() -> str:
        raise RateLimited("429", retry_after=2.0)

    results = await clock.run(asyncio.gather(*(guard.call(storm) for _ in range(36)),
                                             return_exceptions=True))
    assert all(isinstance(r, RateLimited) for r in results)
    snap = guard.snapshot()
    # 36 first attempts; retries: the floor of 3, then a 4th once 31 attempts are in the
    # window (10%); a 5th would need 41. Unbudgeted, this storm made 129 requests.
    assert (snap["requests"], snap["retries"]) == (40, 4)
