"""The error taxonomy every provider maps its failures onto (DESIGN.md)."""

from __future__ import annotations


class ProviderError(Exception):
    """Base class. `kind` is the stable, machine-readable name shown in status and errors."""

    kind = "provider_error"
    retryable = False

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class RateLimited(ProviderError):
    """429 / RESOURCE_EXHAUSTED. `retry_after` (seconds) is a floor when the provider gave one."""

    kind = "rate_limited"
    retryable = True

    def __init__(
        self, message: str, *, status: int | None = 429, retry_after: float | None = None
    ) -> None:
        super().__init__(message, status=status)
        self.retry_after = retry_after


class TransientError(ProviderError):
    """Timeouts, connection errors, 408, 5xx, overloaded: worth another try later."""

    kind = "transient"
    retryable = True

    def __init__(
        self, message: str, *, status: int | None = None, retry_after: float | None = None
    ) -> None:
        super().__init__(message, status=status)
        self.retry_after = retry_after


class PermanentError(ProviderError):
    """Auth, bad request, not found, misconfiguration: retrying cannot help."""

    kind = "permanent"


class InvalidOutput(ProviderError):
    """The provider answered, but not with a valid SIR (after the repair attempt)."""

    kind = "invalid_output"


class CircuitOpen(ProviderError):
    """The guard refused to call a provider whose circuit is open."""

    kind = "circuit_open"

    def __init__(self, message: str, *, retry_at: float | None = None) -> None:
        super().__init__(message)
        self.retry_at = retry_at  # unix time when a probe may go through


class SpendCapReached(ProviderError):
    """A request would cross a spend cap (`[inference] max_*`): it was never sent. The symbol
    keeps its state (pending, or its last good SIR) and says which cap, and when it resets."""

    kind = "spend_cap"

    def __init__(self, message: str, *, cap: str, resets: str) -> None:
        super().__init__(message)
        self.cap = cap
        self.resets = resets
