"""Identifier helpers shared by search indexing and the static analyser."""

from __future__ import annotations

import re
from functools import lru_cache

# camelCase / PascalCase / HTTPServer / snake_case / kebab-case / digits
_WORD = re.compile(r"[A-Z]+(?=[A-Z][a-z0-9])|[A-Z]?[a-z0-9]+|[A-Z]+")


def identifier_words(name: str) -> list[str]:
    """`parseHTTPConfig_file` -> ['parse', 'http', 'config', 'file']."""
    return [w.lower() for w in _WORD.findall(name)]


@lru_cache(maxsize=65536)  # names repeat a lot (__init__, get, run, ...)
def split_words(name: str) -> str:
    return " ".join(identifier_words(name))
