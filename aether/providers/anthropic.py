"""Anthropic's Messages API (`/v1/messages`)."""

from __future__ import annotations

from typing import Any

from aether.providers.http import HttpProvider, count_tokens
from aether.sir.prompt import Message

API_VERSION = "2023-06-01"


class AnthropicProvider(HttpProvider):
    name = "anthropic"
    default_endpoint = "https://api.anthropic.com"
    default_model = "claude-haiku-4-5"
    max_tokens = 1024

    def _build(self, messages: list[Message]) -> tuple[str, dict[str, str], dict[str, Any]]:
        headers = {"content-type": "application/json", "anthropic-version": API_VERSION,
                   "x-api-key": self._api_key or ""}
        system = "\n\n".join(m.content for m in messages if m.role == "system")
        payload: dict[str, Any] = {
            "model": self.model,
            "max_tokens": self.max_tokens,
            "messages": [{"role": m.role, "content": m.content}
                         for m in messages if m.role != "system"],
        }
        if system:
            payload["system"] = system
        base = self.endpoint.removesuffix("/v1")
        return f"{base}/v1/messages", headers, payload

    def _extract(self, data: Any) -> str:
        return "".join(block.get("text", "") for block in data["content"]
                       if isinstance(block, dict) and block.get("type") == "text")

    def _usage(self, data: Any) -> tuple[int, int] | None:
        usage = data.get("usage")
        if not isinstance(usage, dict):
            return None
        # cache writes and reads are input too (billed at other rates; counted as input here)
        return (count_tokens(usage.get("input_tokens"))
                + count_tokens(usage.get("cache_creation_input_tokens"))
                + count_tokens(usage.get("cache_read_input_tokens")),
                count_tokens(usage.get("output_tokens")))
