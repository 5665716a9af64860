"""Kotlin class bodies written on one line, made parseable.

    data class Point(val x: Int, val y: Int) { fun norm() = x + y }
    object Registry { fun register(x: Int) {} }

tree-sitter-kotlin wants a newline or `;` after a class member, even the last one before
the body's `}`; on one line it finds neither, the body becomes an error, and symbols after it
can be lost (a file lost every class after a one-line `companion object { ... }`). A space
before such a `}` becomes `;` (an empty statement or member separator everywhere Kotlin
allows it), byte for byte, so every offset, line and column stays the same; symbols,
signatures and hashes are still read from the original bytes. The parse that uses it is
kept only when less of it is in error (aether.symbols.extract).
"""

from __future__ import annotations

import re

# a `}` after a space on a line that has code before it: `... {} }`, `... = x + y }`
_LAST_MEMBER = re.compile(rb"(?<=[^\s{;])[ \t]+(?=\})")


def separate_members(source: bytes) -> bytes:
    """`source` with the last blank before each such `}` made a `;` (same length), unless
    the `}` closes a string template's `${ ... }`; `source` itself when there is none."""
    if b"}" not in source:
        return source
    out: bytearray | None = None
    for match in _LAST_MEMBER.finditer(source):
        if _closes_template(source, match.end()):
            continue
        if out is None:
            out = bytearray(source)
        out[match.end() - 1] = ord(";")
    return bytes(out) if out is not None else source


def _closes_template(source: bytes, brace: int) -> bool:
    """Whether the `}` at `brace` closes a `${` opened earlier on its line."""
    depth = 0
    i = brace - 1
    line_start = source.rfind(b"\n", 0, brace)
    while i > line_start:
        ch = source[i]
        if ch == ord("}"):
            depth += 1
        elif ch == ord("{"):
            if depth == 0:
                return i > 0 and source[i - 1] == ord("$")
            depth -= 1
        i -= 1
    return False
