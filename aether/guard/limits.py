"""The small pieces of arithmetic the guard is built from: a FIFO rate bucket, a retry budget
and full-jitter backoff. Pure and clock-injected, so tests drive them with a fake clock."""

from __future__ import annotations

import random
from collections import deque
from collections.abc import Callable


def backoff_delay(retry_index: int, base_s: float, cap_s: float,
                  uniform: Callable[[float, float], float] = random.uniform) -> float:
    """Full jitter: uniform(0, min(cap, base * 2**n)) for the n-th retry (n from 0)."""
    ceiling = min(cap_s, base_s * (2.0 ** min(retry_index, 60)))
    return uniform(0.0, max(0.0, ceiling))


class TokenBucket:
    """A FIFO rate limiter by virtual scheduling (GCRA).

    Written by hand because the usual library (aiolimiter) lets the first `max_rate` requests
    through at once and serves small acquires before older large ones. Here every caller is
    handed the next free send time in the order it asked, so waiters are served first come,
    first served, and the bucket starts empty: the first request goes at once, the next one
    interval later. `burst` lets up to that many go together after an idle spell."""

    def __init__(self, rate_per_s: float, clock: Callable[[], float], burst: float = 1.0) -> None:
        if rate_per_s <= 0:
            raise ValueError("rate_per_s must be > 0")
        self.interval = 1.0 / rate_per_s
        self.burst = max(1.0, burst)
        self._clock = clock
        self._next = clock()

    @property
    def rate_per_s(self) -> float:
        return 1.0 / self.interval

    def set_rate(self, rate_per_s: float) -> None:
        """Change the spacing from now on; slots already handed out keep their times."""
        if rate_per_s <= 0:
            raise ValueError("rate_per_s must be > 0")
        self.interval = 1.0 / rate_per_s

    def reserve(self) -> float:
        """Claim the next send time; returns it (the caller sleeps until then)."""
        now = self._clock()
        slot = max(self._next, now - (self.burst - 1.0) * self.interval)
        self._next = slot + self.interval
        return slot

    def release(self, slot: float) -> None:
        """Give back an unused slot (a cancelled waiter), if no one has queued behind it."""
        if abs(self._next - (slot + self.interval)) < 1e-9:
            self._next = slot

    def defer_until(self, when: float) -> None:
        """No slot before `when` (a provider-wide pause): afterwards, spaced as usual."""
        self._next = max(self._next, when)


class RetryBudget:
    """Retries may be at most `ratio` of attempts over a sliding window, with a floor of
    `min_retries` per window so a lone failing symbol can still retry (Google SRE book:
    client-side retry budgets keep an outage from multiplying the load)."""

    def __init__(self, clock: Callable[[], float], *, ratio: float = 0.1,
                 min_retries: int = 3, window_s: float = 120.0) -> None:
        self.ratio = ratio
        self.min_retries = min_retries
        self.window_s = window_s
        self._clock = clock
        self._attempts: deque[float] = deque()
        self._retries: deque[float] = deque()

    def _prune(self, now: float) -> None:
        horizon = now - self.window_s
        for q in (self._attempts, self._retries):
            while q and q[0] <= horizon:
                q.popleft()

    def allowed(self) -> float:
        self._prune(self._clock())
        return max(float(self.min_retries), self.ratio * len(self._attempts))

    def record_attempt(self) -> None:
        now = self._clock()
        self._prune(now)
        self._attempts.append(now)

    def try_spend(self) -> bool:
        """Take one retry from the budget; False when it is spent."""
        if len(self._retries) >= self.allowed():
            return False
        self._retries.append(self._clock())
        return True

    def snapshot(self) -> dict[str, float]:
        allowed = self.allowed()
        return {"attempts_in_window": len(self._attempts),
                "retries_in_window": len(self._retries),
                "retries_allowed": round(allowed, 2), "window_s": self.window_s}


class AdaptiveRate:
    """AIMD on the bucket's rate: each 429 halves it (down to `floor_share` of the configured
    rate), each success adds back `1/step_share` of the configured rate. Sustained 429s thus
    slow every worker of the provider, not only the symbol that saw one; one success is not
    enough to go back to full speed (TCP congestion control, for the same reason)."""

    def __init__(self, bucket: TokenBucket, configured_per_s: float, *,
                 floor_share: float = 1 / 16, step_share: float = 1 / 16) -> None:
        self.bucket = bucket
        self.configured = configured_per_s
        self.floor = configured_per_s * floor_share
        self.step = configured_per_s * step_share
        self.decreases = 0

    @property
    def rate_per_s(self) -> float:
        return self.bucket.rate_per_s

    def on_rate_limited(self) -> None:
        self.decreases += 1
        self.bucket.set_rate(max(self.floor, self.bucket.rate_per_s / 2))

    def on_success(self) -> None:
        if self.bucket.rate_per_s < self.configured:
            self.bucket.set_rate(min(self.configured, self.bucket.rate_per_s + self.step))
