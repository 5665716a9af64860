"""The canonical form of a SIR, without the model: what parse workers need to store a
static SIR. Kept apart from `aether.sir.model` because that one builds a pydantic model at
import (~15 MB of RSS in each parse worker and the forkserver, which never validate one)."""

from __future__ import annotations

import json
from json.encoder import encode_basestring
from typing import Any

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
    every = [out["intent"]]
    for name in LIST_FIELDS:
        items = data.get(name)
        if not items:
            if items is not None and type(items) is not list:
                return None
            out[name] = []
            continue
        if type(items) is not list:
            return None
        canonical = _canonical_strings(items)
        if canonical is None:
            return None
        out[name] = canonical
        every += canonical
    out["confidence"] = confidence
    if redact_secrets("\n".join(every))[1]:
        return None  # masked by `Sir.redacted`, as every SIR
    return out


def _canonical_strings(items: list[Any]) -> list[str] | None:
    """`_canonical_list` of a list that must hold strings only (None if it does not), in one
    pass: a cold index canonicalises ~120,000 lists, most of them of clean, repeated items."""
    seen: set[str] = set()
    for item in items:
        if type(item) is not str:
            return None
        text = " ".join(item.split())
        if len(text) > MAX_ITEM_CHARS:
            text = text[: MAX_ITEM_CHARS - 1] + "…"
        seen.add(text)
    seen.discard("")
    return sorted(seen)[:MAX_LIST_ITEMS]


# json.dumps with options builds a new encoder per call: one, made once
_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def canonical_json(data: dict[str, Any]) -> str:
    """Keys sorted, lists sorted, no whitespace: the form that is hashed and stored."""
    return _CANONICAL.encode(data)


def canonical_dict_json(canon: dict[str, Any]) -> str:
    """`canonical_json(canon)` of a dict `canonical_dict` made (its seven keys, in sorted
    order; a float confidence), written directly: the encoder's sorting and dispatch per
    value cost more than the strings themselves (a cold index writes ~72,000)."""
    return "".join((
        '{"confidence":', float.__repr__(canon["confidence"]),
        ',"dependencies":[', ",".join(map(encode_basestring, canon["dependencies"])),
        '],"error_modes":[', ",".join(map(encode_basestring, canon["error_modes"])),
        '],"inputs":[', ",".join(map(encode_basestring, canon["inputs"])),
        '],"intent":', encode_basestring(canon["intent"]),
        ',"outputs":[', ",".join(map(encode_basestring, canon["outputs"])),
        '],"side_effects":[', ",".join(map(encode_basestring, canon["side_effects"])), "]}"))
