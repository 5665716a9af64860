"""Stable symbol ids: body edits and line shifts keep the id; renames change it."""

from __future__ import annotations

from aether.hashing import text_hash


def normalise_signature(signature: str) -> str:
    return " ".join(signature.split())


def symbol_id(language: str, file_path: str, kind: str, qualified_name: str, signature: str) -> str:
    key = "\x1f".join((language, file_path, kind, qualified_name, normalise_signature(signature)))
    # 128-bit hash, hex: ids are long but collisions are out of the question.
    return text_hash(key)
