"""The one interface every SIR provider implements."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from aether.sir.model import Sir


@dataclass(frozen=True, slots=True)
class SirRequest:
    """What a provider is given to describe one symbol."""

    symbol_id: str
    language: str
    file_path: str  # workspace-relative posix
    kind: str
    qualified_name: str
    signature: str
    source: str  # the symbol's own text
    content_hash: str
    # small, bounded context: imports of the file, the enclosing class header, ...
    context: list[str] = field(default_factory=list)


@dataclass(slots=True)
class RequestUsage:
    """One request as the provider answered it (tokens as it reported them, when it did)."""

    provider: str
    model: str
    status: str  # "ok", an HTTP status such as "429", "timeout", "transport", "invalid"
    input_tokens: int = 0
    output_tokens: int = 0
    reported: bool = False  # False: the provider said nothing; tokens are our estimate
    prompt_chars: int = 0
    output_chars: int = 0



@runtime_checkable
class Provider(Protocol):
    """Turns a symbol into a SIR or raises an `aether.providers.errors.ProviderError`."""

    name: str  # "static", "openai", ...
    model: str  # model name, or "" where it does not apply

    async def generate(self, request: SirRequest) -> Sir: ...

    async def aclose(self) -> None: ...
