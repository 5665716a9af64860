"""Settings -> the provider to use, HTTP ones wrapped in the guard."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aether.config import InferenceSettings, is_loopback_url
from aether.providers.base import Provider, SirRequest
from aether.providers.errors import PermanentError
from aether.sir.model import Sir

if TYPE_CHECKING:  # httpx is imported only when an HTTP provider is made
    from aether.providers.http import HttpProvider


class UnavailableProvider:
    """Stands in for a provider that cannot work as configured: every call fails with the
    same PermanentError, which the engine records as a stale symbol with that message."""

    def __init__(self, name: str, model: str, message: str) -> None:
        self.name = name
        self.model = model
        self.message = message

    async def generate(self, request: SirRequest) -> Sir:
        raise PermanentError(self.message)

    async def aclose(self) -> None:
        return None


def _provider_class(name: str) -> type[HttpProvider]:
    if name == "openai":
        from aether.providers.openai import OpenAIProvider

        return OpenAIProvider
    if name == "gemini":
        from aether.providers.gemini import GeminiProvider

        return GeminiProvider
    if name == "anthropic":
        from aether.providers.anthropic import AnthropicProvider

        return AnthropicProvider
    raise ValueError(f"unknown provider: {name}")


def make_provider(settings: InferenceSettings) -> Provider:
    """"static" -> the offline StaticProvider; "openai" | "gemini" | "anthropic" -> the HTTP
    provider inside a GuardedProvider (a missing key gives an UnavailableProvider)."""
    if settings.provider == "static":
        from aether.providers.static import StaticProvider  # written alongside; import late

        return StaticProvider()
    from aether.guard import GuardedProvider

    cls = _provider_class(settings.provider)
    key = settings.api_key()
    endpoint = settings.endpoint or cls.default_endpoint
    needs_key = cls.name != "openai" or not is_loopback_url(endpoint)
    if needs_key and not key:
        message = (f"{cls.name}: environment variable {settings.key_env()} is not set "
                   "(it must hold the API key)")
        return GuardedProvider(
            UnavailableProvider(cls.name, settings.model or cls.default_model, message), settings)
    provider = cls(model=settings.model, endpoint=endpoint, api_key=key,
                   timeout_s=settings.timeout_s,
                   context_budget_chars=settings.context_budget_chars)
    return GuardedProvider(provider, settings)
