"""GuardedProvider: any Provider, with every request going through a Guard."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Protocol, TypeVar, runtime_checkable

from aether.config import InferenceSettings
from aether.guard.core import Guard
from aether.providers.base import Provider, SirRequest
from aether.sir.model import Sir

T = TypeVar("T")


@runtime_checkable
class SteppedProvider(Protocol):
    """A provider that can hand each HTTP round-trip (the repair request included) to a
    runner, so each one gets its own rate token, concurrency slot and timeout."""

    async def generate_via(
        self, request: SirRequest,
        run: Callable[[Callable[[], Awaitable[str]], int], Awaitable[str]]
    ) -> Sir: ...


class GuardedProvider:
    """Same interface as the provider it wraps; `.guard` holds the counters."""

    def __init__(self, inner: Provider, settings: InferenceSettings | None = None, *,
                 guard: Guard | None = None) -> None:
        self.inner = inner
        self.name = inner.name
        self.model = inner.model
        self.guard = guard or Guard(inner.name, settings or InferenceSettings())

    async def generate(self, request: SirRequest) -> Sir:
        deadline = self.guard.new_deadline()  # one deadline for all of this symbol's requests
        if isinstance(self.inner, SteppedProvider):
            async def run(fn: Callable[[], Awaitable[str]], prompt_chars: int) -> str:
                return await self.guard.call(fn, deadline=deadline, prompt_chars=prompt_chars)

            return await self.inner.generate_via(request, run)
        return await self.guard.call(lambda: self.inner.generate(request), deadline=deadline)

    async def aclose(self) -> None:
        await self.inner.aclose()
