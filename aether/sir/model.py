"""The SIR: a validated, canonical, hashable summary of one symbol."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from aether.redaction import redact_secrets
from aether.sir.canonical import (  # noqa: F401  (the model's public names)
    LIST_FIELDS,
    MAX_INTENT_CHARS,
    MAX_ITEM_CHARS,
    MAX_LIST_ITEMS,
    _canonical_list,
    _clean_text,
    canonical_dict,
    canonical_json,
)


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
