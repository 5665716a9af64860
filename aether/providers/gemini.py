"""Google Gemini through its native `models/{model}:generateContent` API."""

from __future__ import annotations

from typing import Any

from aether.providers.errors import InvalidOutput
from aether.providers.http import HttpProvider, count_tokens
from aether.sir.prompt import Message


class GeminiProvider(HttpProvider):
    name = "gemini"
    default_endpoint = "https://generativelanguage.googleapis.com/v1beta"
    default_model = "gemini-2.5-flash"

    def _build(self, messages: list[Message]) -> tuple[str, dict[str, str], dict[str, Any]]:
        # The key goes in a header, never in the URL, so it cannot leak through a logged URL.
        headers = {"content-type": "application/json", "x-goog-api-key": self._api_key or ""}
        system = "\n\n".join(m.content for m in messages if m.role == "system")
        payload: dict[str, Any] = {
            "contents": [
                {"role": "model" if m.role == "assistant" else "user",
                 "parts": [{"text": m.content}]}
                for m in messages if m.role != "system"
            ],
            "generationConfig": {"responseMimeType": "application/json"},
        }
        if system:
            payload["systemInstruction"] = {"parts": [{"text": system}]}
        return f"{self.endpoint}/models/{self.model}:generateContent", headers, payload

    def _extract(self, data: Any) -> str:
        candidates = data.get("candidates") or []
        if not candidates:
            reason = (data.get("promptFeedback") or {}).get("blockReason", "no candidates")
            raise InvalidOutput(f"gemini returned no answer ({reason})")
        parts = (candidates[0].get("content") or {}).get("parts") or []
        return "".join(p.get("text", "") for p in parts if isinstance(p, dict))

    def _usage(self, data: Any) -> tuple[int, int] | None:
        meta = data.get("usageMetadata")
        if not isinstance(meta, dict):
            return None
        # thinking tokens are billed as output
        return (count_tokens(meta.get("promptTokenCount")),
                count_tokens(meta.get("candidatesTokenCount"))
                + count_tokens(meta.get("thoughtsTokenCount")))
