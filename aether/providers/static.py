"""The embedded, offline provider: the static analyser applied to one symbol's source.

It re-parses the snippet and runs exactly the code a static index runs on whole files
(`parse_source` + `static_sirs`), so a SIR does not depend on which path produced it.
"""

from __future__ import annotations

import dataclasses
import textwrap

from aether.providers.base import SirRequest
from aether.providers.errors import PermanentError
from aether.sir.model import Sir
from aether.sir.static import static_sirs
from aether.sir.static_text import intent_from_name
from aether.symbols.extract import ParsedSource, ParseTimeout, parse_source
from aether.symbols.languages import LANGUAGES

SNIPPET_TIMEOUT_S = 5.0
NAME_ONLY_CONFIDENCE = 0.15
_ECMA = frozenset({"javascript", "typescript", "tsx"})
# Languages whose methods only parse inside a class body.
_CLASS_MEMBER_LANGUAGES = frozenset({"java", "csharp", "kotlin", "swift", "php", "cpp"})
_WRAPPER = "AetherSnippet"


def python_snippet(source: str) -> str:
    """Make a method's text parse on its own. A symbol's text starts at its own column, so
    its first line lost the indentation the following lines still have: give a decorator
    line back the indentation of the line below it, then dedent the whole."""
    lines = source.splitlines(keepends=True)
    if lines and lines[0].startswith("@"):
        for line in lines[1:]:
            if line.strip():
                lines[0] = line[: len(line) - len(line.lstrip())] + lines[0]
                break
    return textwrap.dedent("".join(lines))


def _name_only(request: SirRequest) -> Sir:
    return Sir(intent=intent_from_name(request.kind, request.qualified_name),
               confidence=NAME_ONLY_CONFIDENCE)


def _as_requested(parsed: ParsedSource, outer: int, request: SirRequest) -> None:
    """The snippet's outermost symbol is `send` (a function); the request knows it is the
    method `Session.send`. Rename it and everything under it so intent and class unions read
    as they would from the whole file."""
    old = parsed.definitions[outer].symbol.qualified_name
    new = request.qualified_name or old
    for d in parsed.definitions:
        name = d.symbol.qualified_name
        if d is parsed.definitions[outer]:
            d.symbol = dataclasses.replace(d.symbol, qualified_name=new,
                                           kind=request.kind or d.symbol.kind)
        elif name.startswith(old + "."):
            d.symbol = dataclasses.replace(d.symbol, qualified_name=new + name[len(old):])


def _snippets(request: SirRequest) -> list[str]:
    """The symbol's text as it is, then inside the containers a member needs to parse: a
    method is not a statement on its own in most languages."""
    text = request.source
    if request.language == "python":
        return [python_snippet(text)]
    prefix = "<?php\n" if request.language == "php" else ""  # PHP outside it is HTML
    attempts = [prefix + text]
    if request.kind == "method":
        if request.language in _ECMA:
            attempts += [f"class {_WRAPPER} {{\n{text}\n}}",
                         f"const {_WRAPPER}Object = {{\n{text}\n}};"]
        elif request.language in _CLASS_MEMBER_LANGUAGES:
            attempts.append(f"{prefix}class {_WRAPPER} {{\n{text}\n}}")
    return attempts


class StaticProvider:
    """Provider protocol: deterministic, offline, never rate-limited."""

    name = "static"
    model = "static-v1"

    async def generate(self, request: SirRequest) -> Sir:
        if request.language not in LANGUAGES:
            return _name_only(request)
        found: tuple[ParsedSource, int] | None = None
        for text in _snippets(request):
            try:
                # Symbol texts are small: parsing inline costs less than a thread hop.
                parsed = parse_source(request.file_path, request.language, text.encode("utf-8"),
                                      static=True, timeout_s=SNIPPET_TIMEOUT_S)
            except ParseTimeout:
                return _name_only(request)
            except Exception as exc:  # a grammar failure: the same input will fail again
                raise PermanentError(
                    f"static analysis failed: {type(exc).__name__}: {exc}") from exc
            top = next((i for i, d in enumerate(parsed.definitions)
                        if d.symbol.name == _WRAPPER), -1)
            outer = next((i for i, d in enumerate(parsed.definitions) if d.parent == top
                          and d.symbol.name != _WRAPPER), None)
            if outer is None:
                continue
            if found is None or not parsed.tree.root_node.has_error:
                found = (parsed, outer)
            if not parsed.tree.root_node.has_error:
                break
        if found is None:
            return _name_only(request)
        parsed, outer = found
        _as_requested(parsed, outer, request)
        sirs = static_sirs(parsed)
        return Sir.model_validate(sirs[parsed.definitions[outer].symbol.id])

    async def aclose(self) -> None:
        return None
