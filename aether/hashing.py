"""One hash function for content, ids and SIRs, so they can never drift apart."""

from __future__ import annotations

import xxhash


def content_hash(data: bytes) -> str:
    return xxhash.xxh3_128_hexdigest(data)


def text_hash(text: str) -> str:
    return xxhash.xxh3_128_hexdigest(text.encode("utf-8"))
