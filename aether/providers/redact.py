"""Scrub secrets out of text before it is raised, logged or stored.

Three layers: the secrets we know (the configured API key and every credential variable in
the environment, in any case and in fragments, see `aether.redaction.scrub`), header and query
forms of keys, and anything that looks like a key whatever its origin (a provider echoing a
key back, a key pasted into an endpoint URL).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from aether.redaction import MASK, redact_secrets, scrub

# Ordered: header-style patterns first so "Authorization: Bearer sk-..." masks as a whole.
_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"(?i)\b(bearer)\s+[A-Za-z0-9._~+/=\-]{6,}"), r"\1 " + MASK),
    (re.compile(r"(?i)\b(x-(?:goog-)?api-key|api[_-]?key|authorization)(\"?\s*[:=]\s*\"?)"
                r"(?!\*\*\*)[^\s\"',;&]+"), r"\1\2" + MASK),
    (re.compile(r"(?i)([?&](?:key|api_key|apikey|access_token|token)=)[^&\s\"']+"),
     r"\1" + MASK),
    (re.compile(r"\bsk-[A-Za-z0-9_\-]{8,}"), "sk-" + MASK),
    (re.compile(r"\bAIza[0-9A-Za-z_\-]{20,}"), "AIza" + MASK),
)


def scrub_secrets(text: str, secrets: Sequence[str] = ()) -> str:
    """`text` with every known secret and every key-looking token replaced by `***`."""
    out = scrub(str(text), secrets)
    for pattern, replacement in _PATTERNS:
        out = pattern.sub(replacement, out)
    return redact_secrets(out)[0]


def short_error(text: str, secrets: Sequence[str] = (), limit: int = 300) -> str:
    """One scrubbed line, at most `limit` characters: the form every provider error takes."""
    flat = " ".join(scrub_secrets(text, secrets).split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"
