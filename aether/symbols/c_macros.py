"""C and C++ macros that tree-sitter cannot see through, blanked before parsing.

tree-sitter does not run the preprocessor, so a line holding only a macro
(`FMT_BEGIN_NAMESPACE`, `Q_OBJECT`) or a macro used as a declaration specifier
(`FMT_API void f();`, `static FMT_INLINE int g()`) often derails the parse of everything after
it. Such macros are overwritten with spaces, byte for byte, so every offset, line and column
stays the same; symbols, signatures and hashes are still read from the original bytes.
"""

from __future__ import annotations

import re

# An ALL_CAPS name (3+ characters) alone on its line, maybe before a comment: a statement-like
# macro, unless the next line starts `name(`: then it is a return type (`HANDLE\nopen(...)`).
_BARE_LINE = re.compile(rb"^[ \t]*([A-Z][A-Z0-9_]{2,})[ \t]*(?://[^\n]*)?$"
                        rb"(?!\n[ \t]*\**[A-Za-z_]\w*[ \t]*\()", re.MULTILINE)
# ALL_CAPS names right before another word on a declaration line: specifier macros
# (`FMT_API`, `FMT_CONSTEXPR20`), blanked so the real specifiers and the name remain.
_SPECIFIERS = re.compile(
    rb"^([ \t]*(?:(?:static|inline|extern|virtual|explicit|friend|constexpr"
    rb"|template[ \t]*<[^>\n]*>)[ \t]+)*)"
    rb"((?:[A-Z][A-Z0-9_]*_[A-Z0-9_]+[ \t]+)+)(?=[A-Za-z_~])", re.MULTILINE)


# A macro call alone on its line, `PYBIND11_NAMESPACE_BEGIN(detail)`, `Q_OBJECT_X(a, b)`: no
# `;` after it and no `{` on the next line (that would be a function-like definition).
_BARE_CALL = re.compile(rb"^[ \t]*[A-Z][A-Z0-9]*_[A-Z0-9_]*\([^()\n]*(?:\([^()\n]*\)[^()\n]*)*\)"
                        rb"[ \t]*(?://[^\n]*)?$(?!\n[ \t]*\{)", re.MULTILINE)
# `class FMT_API format_error`: an export macro between the keyword and the name.
_CLASS_EXPORT = re.compile(rb"\b((?:class|struct|union)[ \t]+)([A-Z][A-Z0-9_]*_[A-Z0-9_]+[ \t]+)"
                           rb"(?=[A-Za-z_])")


def _spaces(match: re.Match[bytes]) -> bytes:
    return b" " * len(match.group(0))


def _keep_prefix(match: re.Match[bytes]) -> bytes:
    return match.group(1) + b" " * len(match.group(2))


def blank_macros(source: bytes) -> bytes:
    """`source` with bare and specifier macros replaced by spaces (same length)."""
    if not re.search(rb"[A-Z][A-Z0-9]*_", source):
        return source  # no ALL_CAPS_WITH_UNDERSCORE names: nothing to do (the common case)
    source = _BARE_CALL.sub(_spaces, source)  # first: a bare name before one is no return type
    source = _BARE_LINE.sub(_spaces, source)
    source = _CLASS_EXPORT.sub(_keep_prefix, source)
    return _SPECIFIERS.sub(_keep_prefix, source)
