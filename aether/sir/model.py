"""The SIR: a validated, canonical, hashable summary of one symbol."""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from aether.redaction import redact_secrets

# Lists are bounded so a runaway model (or a huge class) cannot bloat the store or a hover.
MAX_LIST_ITEMS = 24
MAX_ITEM_CHARS = 200
MAX_INTENT_CHARS = 600


def _clean_text(value: str, limit: int) -> str:
    text = " ".join(str(value).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


LIST_FIELDS = ("inputs", "outputs", "side_effects", "dependencies", "error_modes")


def _canonical_list(value: list[Any]) -> list[str]:
    """Items cleaned to one line, deduplicated, sorted, capped (what `Sir` stores)."""
    seen: dict[str, None] = {}
    for item in value:
        if not isinstance(item, (str, int, float)):
            raise ValueError("list items must be strings")
        text = " ".join(str(item).split())  # _clean_text, inlined: 400,000 calls a cold index
        if len(text) > MAX_ITEM_CHARS:
            text = text[: MAX_ITEM_CHARS - 1] + "…"
        if text:
            seen[text] = None
    return sorted(seen)[:MAX_LIST_ITEMS]


def canonical_dict(data: dict[str, Any]) -> dict[str, Any] | None:
    """The canonical form of a plain SIR dict of our own making (the static analyser's),
    exactly as `Sir.model_validate(data).model_dump()` gives it, without building the model
    (a cold index makes 70,000 of them); None when `data` needs the model: anything but
    well-typed fields (the model validates or rejects it), or a credential to mask."""
    intent, confidence = data.get("intent"), data.get("confidence")
    if (not isinstance(intent, str) or type(confidence) is not float
            or not 0.0 <= confidence <= 1.0):
        return None
    out: dict[str, Any] = {"intent": _clean_text(intent, MAX_INTENT_CHARS)}
    if not out["intent"]:
        return None
    for name in LIST_FIELDS:
        items = data.get(name)
        if not items:
            if items is not None and type(items) is not list:
                return None
            out[name] = []
            continue
        if type(items) is not list or not all(type(i) is str for i in items):
            return None
        out[name] = _canonical_list(items)
    out["confidence"] = confidence
    if redact_secrets("\n".join([out["intent"], *(i for f in LIST_FIELDS
                                                  for i in out[f])]))[1]:
        return None  # masked by `Sir.redacted`, as every SIR
    return out


# json.dumps with options builds a new encoder per call: one, made once
_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def canonical_json(data: dict[str, Any]) -> str:
    """Keys sorted, lists sorted, no whitespace: the form that is hashed and stored."""
    return _CANONICAL.encode(data)


class Sir(BaseModel):
    """Structured Intermediate Representation of a symbol (DESIGN.md)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    intent: str = Field(min_length=1)
    inputs: list[str] = Field(default_factory=list)
    outputs: list[str] = Field(default_factory=list)
    side_effects: list[str] = Field(default_factory=list)
    dependencies: list[str] = Field(default_factory=list)
    error_modes: list[str] = Field(default_factory=list)
    confidence: float = Field(ge=0.0, le=1.0)

    @field_validator("intent", mode="before")
    @classmethod
    def _intent(cls, value: Any) -> Any:
        if isinstance(value, str):
            return _clean_text(value, MAX_INTENT_CHARS)
        return value

    @field_validator(
        "inputs", "outputs", "side_effects", "dependencies", "error_modes", mode="before"
    )
    @classmethod
    def _string_list(cls, value: Any) -> Any:
        if value is None:
            return []
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list):
            return value  # let pydantic reject it with a clear message
        return _canonical_list(value)

    def redacted(self) -> tuple[Sir, int]:
        """This SIR with hard-coded credentials masked (a docstring or a returned literal
        can carry one), and how many were; `self` when there were none."""
        fields = ("intent", *LIST_FIELDS)
        if redact_secrets("\n".join([self.intent, *(i for f in LIST_FIELDS
                                                     for i in getattr(self, f))]))[1] == 0:
            return self, 0
        count = 0
        changes: dict[str, Any] = {}
        for name in fields:
            value = getattr(self, name)
            if isinstance(value, str):
                changes[name], n = redact_secrets(value)
                count += n
            else:
                items = []
                for item in value:
                    clean, n = redact_secrets(item)
                    items.append(clean)
                    count += n
                changes[name] = items
        return self.model_validate({**self.model_dump(), **changes}), count

    def canonical_json(self) -> str:
        """Keys sorted, lists sorted, no whitespace: the form that is hashed and stored."""
        return canonical_json(self.model_dump())

    @classmethod
    def from_json(cls, text: str) -> Sir:
        return cls.model_validate_json(text)
