"""TypeScript call signatures with type parameters on their own line, made parseable.

An interface of overloaded call signatures is common in typed libraries:

    export interface IActionFactory {
        <T extends Function>(fn: T): T
        <T extends Function>(name: string, fn: T): T
    }

TypeScript reads a line break before `<` as the end of the previous member (its parser
refuses type arguments after a line break); tree-sitter's grammar does not, reads
`T <T extends ...` as a generic type, fails, and can lose every symbol after it (a
whole file came back as one ERROR node). Such a `<` gets a `;` in the last column of its
indentation, byte for byte, so every offset, line and column stays the same; symbols,
signatures and hashes are still read from the original bytes (as aether.symbols.c_macros
does for C macros). The parse that uses it is kept only when less of it is in error.
"""

from __future__ import annotations

import re

# A member line that opens with type parameters and then the parameter list: `<T>(x: T)`,
# `<T extends A<B>>(`, at least one column of indentation to write the `;` into.
_SIGNATURE = re.compile(rb"^([ \t]+)<[A-Za-z_$][^\n]*?>\s*\(", re.MULTILINE)
# The end of a line that ends a member's type: a name, `)`, `]`, `}`, `>` (not `=>`), `?`
# excluded (`a ?\n <b>` is an expression).
_ENDS_A_TYPE = re.compile(rb"(?:[\w$)\]}]|(?<!=)>)[ \t]*(?://[^\n]*)?$")
_COMMENT_OR_BLANK = re.compile(rb"^[ \t]*(?://[^\n]*|/?\*[^\n]*)?$")


def separate_signatures(source: bytes) -> bytes:
    """`source` with a `;` before each call signature that starts a line after a member
    (same length); `source` itself when there is none."""
    if b"<" not in source:
        return source
    out: bytearray | None = None
    for match in _SIGNATURE.finditer(source):
        if not _after_a_member(source, match.start()):
            continue
        if out is None:
            out = bytearray(source)
        out[match.end(1) - 1] = ord(";")
    return bytes(out) if out is not None else source


def _after_a_member(source: bytes, line_start: int) -> bool:
    """The nearest line above that is not blank or a comment ends a type."""
    end = line_start - 1  # the newline before the line
    while end > 0:
        start = source.rfind(b"\n", 0, end) + 1
        line = source[start:end]
        if not _COMMENT_OR_BLANK.match(line):
            return bool(_ENDS_A_TYPE.search(line))
        end = start - 1
    return False
