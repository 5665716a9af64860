"""What a symbol's search vector is made from, kept apart from the search package (which
loads numpy and the store) so parse workers can make it too: on a static index they send
each new symbol's text with its SIR, and the writer embeds it without reading the SIR back
from the store (decompressing and parsing 72,000 SIRs on the standard library) or building
the text again."""

from __future__ import annotations

import json
from collections.abc import Iterable

from aether.symbols.names import identifier_words
from aether.symbols.terms import enclosing

# (symbol id, hash of the SIR the text was made from, text)
VectorText = tuple[str, str, str]

_STRING = json.JSONEncoder(ensure_ascii=False)  # a string as canonical SIR JSON writes it


def embedded_text(name: str, qualified_name: str, intent: str | None) -> str:
    """What a symbol's vector is made from: words, not code. The signature is left out
    (parameter lists and keywords blur the meaning; measured in bench/search.py)."""
    parents = enclosing(qualified_name)
    parts = [" ".join(identifier_words(name))]
    if parents:
        parts.append("in " + " ".join(identifier_words(parents)))
    if intent:
        parts.append(intent)
    return ". ".join(parts)


def stored_intent(sir_json: str, made: object) -> str | None:
    """The intent of a canonical SIR JSON, as the store's reader would parse it. `made`:
    the intent the SIR was made with; when the JSON holds it as it is (a top-level key
    and its whole value: quotes inside strings are escaped), the JSON is not parsed."""
    if isinstance(made, str) and f'"intent":{_STRING.encode(made)},' in sir_json:
        return made
    intent = json.loads(sir_json).get("intent")
    return intent if isinstance(intent, str) else None


def vector_texts(symbols: Iterable[tuple[str, str, str]],
                 sirs: dict[str, tuple[str, str, object]]) -> list[VectorText]:
    """The vector text of each (id, name, qualified_name) with a SIR in `sirs` (id ->
    (canonical SIR JSON, its hash, the intent it was made with)), the intent as stored."""
    out: list[VectorText] = []
    for sid, name, qualified_name in symbols:
        sir = sirs.get(sid)
        if sir is None:
            continue
        text = embedded_text(name, qualified_name, stored_intent(sir[0], sir[2]))
        out.append((sid, sir[1], text))
    return out
