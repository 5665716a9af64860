"""Languages AETHER understands: file extensions, grammars and their compiled queries.

Grammars come from the official `tree-sitter-<lang>` wheels, loaded in-process: nothing is
downloaded at run time. Languages and queries are immutable once built and are shared by all
threads of a process; a `Parser` is not thread-safe, so each thread gets its own.
"""

from __future__ import annotations

import importlib
import re
import threading
from dataclasses import dataclass
from importlib import resources
from pathlib import PurePosixPath
from typing import Any

from tree_sitter import Language, Parser, Query

LANGUAGE_BY_EXT: dict[str, str] = {
    ".py": "python",
    ".js": "javascript",
    ".jsx": "javascript",
    ".mjs": "javascript",
    ".cjs": "javascript",
    ".ts": "typescript",
    ".mts": "typescript",
    ".cts": "typescript",
    ".tsx": "tsx",
    ".rs": "rust",
    ".go": "go",
    ".java": "java",
    ".c": "c",
    ".h": "c",  # or C++: decided by content, see language_for_source
    ".cc": "cpp",
    ".cpp": "cpp",
    ".cxx": "cpp",
    ".c++": "cpp",
    ".hh": "cpp",
    ".hpp": "cpp",
    ".hxx": "cpp",
    ".h++": "cpp",
    ".ipp": "cpp",
    ".inl": "cpp",
    ".cs": "csharp",
    ".rb": "ruby",
    ".rake": "ruby",
    ".gemspec": "ruby",
    ".ru": "ruby",
    ".php": "php",
    ".kt": "kotlin",
    ".kts": "kotlin",
    ".swift": "swift",
}

LANGUAGES: tuple[str, ...] = ("python", "javascript", "typescript", "tsx", "rust", "go", "java",
                              "c", "cpp", "csharp", "ruby", "php", "kotlin", "swift")
# Languages whose grammar wheel is named differently or exposes a differently named function.
_GRAMMAR_MODULES: dict[str, tuple[str, str]] = {
    "python": ("tree_sitter_python", "language"),
    "javascript": ("tree_sitter_javascript", "language"),
    "typescript": ("tree_sitter_typescript", "language_typescript"),
    "tsx": ("tree_sitter_typescript", "language_tsx"),
    "rust": ("tree_sitter_rust", "language"),
    "go": ("tree_sitter_go", "language"),
    "java": ("tree_sitter_java", "language"),
    "c": ("tree_sitter_c", "language"),
    "cpp": ("tree_sitter_cpp", "language"),
    "csharp": ("tree_sitter_c_sharp", "language"),
    "ruby": ("tree_sitter_ruby", "language"),
    "php": ("tree_sitter_php", "language_php"),
    "kotlin": ("tree_sitter_kotlin", "language"),
    "swift": ("tree_sitter_swift", "language"),
}
# A `.h` file is C++ when it says so: these appear in C++ headers and never in C ones.
_CPP_HEADER = re.compile(
    rb"^[ \t]*(?:namespace\s+[\w:]+\s*\{|template\s*<|class\s+\w+[^;(]*\{|using\s+namespace\s|"
    rb"(?:public|private|protected)\s*:|#include\s*<(?:iostream|string|vector|memory|map|"
    rb"algorithm|utility|functional|type_traits|cstdint|cstddef|cstdio|cstdlib|cstring)>)",
    re.MULTILINE)

# Query files (aether/symbols/queries/<part>.scm) that make up each language's queries, in
# order. TypeScript and TSX share one set; the JS-family patterns common to both grammars live
# in "ecma" so they are written once.
_DEFINITION_PARTS: dict[str, tuple[str, ...]] = {
    "python": ("python",),
    "javascript": ("ecma", "javascript"),
    "typescript": ("ecma", "typescript"),
    "tsx": ("ecma", "typescript"),
    "rust": ("rust",),
    "go": ("go",),
    "java": ("java",),
    "c": ("c",),
    "cpp": ("cpp",),
    "csharp": ("csharp",),
    "ruby": ("ruby",),
    "php": ("php",),
    "kotlin": ("kotlin",),
    "swift": ("swift",),
}
_FACT_PARTS: dict[str, tuple[str, ...]] = {
    "python": ("python.facts",),
    "javascript": ("ecma.facts",),
    "typescript": ("ecma.facts", "typescript.facts"),
    "tsx": ("ecma.facts", "typescript.facts"),
    "rust": ("rust.facts",),
    "go": ("go.facts",),
    "java": ("java.facts",),
    "c": ("c.facts",),
    "cpp": ("cpp.facts",),
    "csharp": ("csharp.facts",),
    "ruby": ("ruby.facts",),
    "php": ("php.facts",),
    "kotlin": ("kotlin.facts",),
    "swift": ("swift.facts",),
}


def language_for_path(path: str) -> str | None:
    """The language of a file from its extension, or None when AETHER does not index it."""
    return LANGUAGE_BY_EXT.get(PurePosixPath(path).suffix.lower())


def language_for_source(path: str, source: bytes) -> str | None:
    """The language of a file from its extension and, for `.h`, its content (C or C++)."""
    language = language_for_path(path)
    if language == "c" and path.lower().endswith(".h") and _CPP_HEADER.search(source):
        return "cpp"
    return language


def _grammar(language: str) -> Any:
    # Imported lazily: a process that only handles Go files never loads the other grammars.
    found = _GRAMMAR_MODULES.get(language)
    if found is None:
        raise ValueError(f"unsupported language: {language!r}")
    module, function = found
    return getattr(importlib.import_module(module), function)()


def _query_text(parts: tuple[str, ...]) -> str:
    folder = resources.files("aether.symbols") / "queries"
    return "\n".join((folder / f"{part}.scm").read_text(encoding="utf-8") for part in parts)


@dataclass(frozen=True, slots=True)
class Grammar:
    """One language's compiled, shareable pieces."""

    name: str
    language: Language
    definitions: Query  # definitions, scopes and imports
    # definitions + what the static analyser looks at inside bodies: one query so that a
    # static index walks each tree once (a query walk costs about a third of a parse)
    combined: Query
    combined_text: str


# A call-graph capture in a facts query (call sites, references, typed local variables):
# the convention every language follows.
_CALL_CAPTURE = re.compile(r"@(?:call|new|ref|bind)\b")


def _graph_query(lang: Language, combined_text: str, definition_patterns: int) -> Query:
    """The combined query with every facts pattern switched off except call sites, so any
    language whose facts query captures `@call` gets call-graph edges."""
    query = Query(lang, combined_text)
    raw = combined_text.encode("utf-8")
    for i in range(definition_patterns, query.pattern_count):
        text = raw[query.start_byte_for_pattern(i):query.end_byte_for_pattern(i)].decode()
        code = "\n".join(line.split(";", 1)[0] for line in text.splitlines())
        if not _CALL_CAPTURE.search(code):
            query.disable_pattern(i)
    return query


_grammars: dict[str, Grammar] = {}
_grammars_lock = threading.Lock()
_local = threading.local()


def grammar(language: str) -> Grammar:
    """The compiled grammar and queries for `language` (built once per process)."""
    found = _grammars.get(language)
    if found is not None:
        return found
    with _grammars_lock:
        found = _grammars.get(language)
        if found is None:
            lang = Language(_grammar(language))
            definitions = _DEFINITION_PARTS[language]
            combined_text = _query_text(definitions + _FACT_PARTS[language])
            definitions_query = Query(lang, _query_text(definitions))
            found = Grammar(
                language,
                lang,
                definitions_query,
                Query(lang, combined_text),
                combined_text,
            )
            _grammars[language] = found
    return found


_graph_queries: dict[str, Query] = {}


def graph_query(language: str) -> Query:
    """Definitions + the facts patterns that capture call sites (`@call`, `@new`): what an
    index without static SIRs walks, so every index has call-graph edges. Built on first use
    (a static index never needs it: its combined query captures the calls already)."""
    found = _graph_queries.get(language)
    if found is None:
        g = grammar(language)
        with _grammars_lock:
            found = _graph_queries.get(language)
            if found is None:
                found = _graph_queries[language] = _graph_query(
                    g.language, g.combined_text, g.definitions.pattern_count)
    return found


def parser_for(language: str) -> Parser:
    """This thread's parser for `language`."""
    parsers: dict[str, Parser] | None = getattr(_local, "parsers", None)
    if parsers is None:
        parsers = _local.parsers = {}
    parser = parsers.get(language)
    if parser is None:
        parser = parsers[language] = Parser(grammar(language).language)
    return parser
