"""The guard around a provider: limiter, retry/backoff, timeouts, circuit breaker."""

from aether.guard.breaker import CircuitBreaker
from aether.guard.core import Guard
from aether.guard.limits import RetryBudget, TokenBucket, backoff_delay
from aether.guard.provider import GuardedProvider, SteppedProvider

__all__ = [
    "CircuitBreaker",
    "Guard",
    "GuardedProvider",
    "RetryBudget",
    "SteppedProvider",
    "TokenBucket",
    "backoff_delay",
]
