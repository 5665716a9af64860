"""Circuit breaker: after N consecutive transient failures, refuse calls for a cooldown,
then let exactly one probe through. Only the guard feeds it, and only transient failures
(connection errors, timeouts, 5xx) count: a 429 pauses the provider instead, and a 401/403
means misconfiguration, which no amount of waiting fixes."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Literal

State = Literal["closed", "open", "half_open"]
Admission = Literal["go", "probe", "refused"]

MAX_COOLDOWN_S = 600.0


@dataclass(frozen=True, slots=True)
class Transition:
    before: State
    after: State
    at: float  # the guard's clock
    reason: str


class CircuitBreaker:
    def __init__(self, threshold: int, cooldown_s: float, *,
                 max_cooldown_s: float = MAX_COOLDOWN_S, history: int = 10) -> None:
        self.threshold = max(1, threshold)
        self.base_cooldown_s = cooldown_s
        self.max_cooldown_s = max(max_cooldown_s, cooldown_s)
        self.state: State = "closed"
        self.consecutive_failures = 0
        self.cooldown_s = cooldown_s
        self.opened_at: float | None = None
        self.next_probe_at: float | None = None
        self.probe_in_flight = False
        self.transition_count = 0
        self.recent: deque[Transition] = deque(maxlen=history)

    def _move(self, after: State, now: float, reason: str) -> None:
        if after != self.state:
            self.recent.append(Transition(self.state, after, now, reason))
            self.transition_count += 1
            self.state = after

    def admit(self, now: float, *, claim: bool) -> Admission:
        """May a call go now? With `claim`, a half-open circuit hands its one probe slot to
        this caller; without, the answer is only a preview (for failing fast early)."""
        if self.state == "open" and self.next_probe_at is not None and now >= self.next_probe_at:
            self._move("half_open", now, "cooldown over")
        if self.state == "closed":
            return "go"
        if self.state == "open" or self.probe_in_flight:
            return "refused"
        if claim:
            self.probe_in_flight = True
        return "probe"

    def on_success(self, now: float) -> None:
        """The provider answered (even with a 4xx or an unusable body): it is reachable."""
        self.consecutive_failures = 0
        self.probe_in_flight = False
        if self.state != "closed":
            self.cooldown_s = self.base_cooldown_s
            self.opened_at = self.next_probe_at = None
            self._move("closed", now, "probe succeeded")

    def on_failure(self, now: float, *, probe: bool) -> None:
        """A transient failure (connection, timeout, 5xx)."""
        self.consecutive_failures += 1
        if probe and self.state == "half_open":
            self.probe_in_flight = False
            self.cooldown_s = min(self.max_cooldown_s, self.cooldown_s * 2)
            self._open(now, "probe failed")
        elif self.state == "closed" and self.consecutive_failures >= self.threshold:
            self._open(now, f"{self.consecutive_failures} consecutive failures")

    def on_neutral(self, *, probe: bool) -> None:
        """Neither proof of life nor of failure (a 429, a cancellation): free the probe."""
        if probe:
            self.probe_in_flight = False

    def _open(self, now: float, reason: str) -> None:
        self.opened_at = now
        self.next_probe_at = now + self.cooldown_s
        self._move("open", now, reason)
