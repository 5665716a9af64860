"""One hash function for content, ids and SIRs, so they can never drift apart."""

from __future__ import annotations

import xxhash


def content_hash(data: bytes) -> str:
    return xxhash.xxh3_128_hexdigest(data)


def text_hash(text: str) -> str:
    return xxhash.xxh3_128_hexdigest(text.encode("utf-8"))


def text_key(text: str) -> int:
    """`text_hash` as a number: a memo's key that is one small object, not a 32-char string."""
    return xxhash.xxh3_128_intdigest(text.encode("utf-8"))
