"""Any OpenAI-compatible chat-completions endpoint: OpenAI, Ollama, vLLM, LM Studio, OpenRouter."""

from __future__ import annotations

from typing import Any

from aether.providers.http import HttpProvider, count_tokens
from aether.sir.prompt import Message


class OpenAIProvider(HttpProvider):
    name = "openai"
    default_endpoint = "https://api.openai.com/v1"
    default_model = "gpt-4o-mini"

    def _build(self, messages: list[Message]) -> tuple[str, dict[str, str], dict[str, Any]]:
        headers = {"content-type": "application/json"}
        if self._api_key:  # Ollama and other local servers need none
            headers["authorization"] = f"Bearer {self._api_key}"
        payload = {
            "model": self.model,
            "messages": [{"role": m.role, "content": m.content} for m in messages],
            "response_format": {"type": "json_object"},
        }
        return f"{self.endpoint}/chat/completions", headers, payload

    def _extract(self, data: Any) -> str:
        content = data["choices"][0]["message"]["content"]
        return content if isinstance(content, str) else ""

    def _usage(self, data: Any) -> tuple[int, int] | None:
        usage = data.get("usage")
        if not isinstance(usage, dict):
            return None
        return (count_tokens(usage.get("prompt_tokens")),
                count_tokens(usage.get("completion_tokens")))
