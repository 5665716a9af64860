"""One parse of one file -> its symbols, imports and (optionally) static SIRs."""

from __future__ import annotations

import time
from bisect import bisect_right
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from tree_sitter import Node, QueryCursor, Tree

from aether.store.graph_records import CLASS_OF
from aether.symbols.c_macros import blank_macros
from aether.symbols.calls import (
    BY_POSITION,
    collect_calls,
    collect_references,
    file_bindings,
    star_imports,
)
from aether.symbols.definitions import Definition, collect_definitions
from aether.symbols.imports import Imports, collect_imports, names_bound_by
from aether.symbols.kotlin_members import separate_members
from aether.symbols.languages import grammar, graph_query, parser_for
from aether.symbols.model import FileAnalysis, Symbol
from aether.symbols.read_callback import Returned, kept_per_return
from aether.symbols.ts_signatures import separate_signatures
from aether.symbols.type_facts import type_facts


class ParseTimeout(Exception):
    """Parsing took longer than the allowed time; the file is skipped, never half-indexed."""


@dataclass(slots=True)
class ParsedSource:
    """A parsed file with the nodes behind its symbols, for the static analyser."""

    file_path: str
    language: str
    source: bytes
    tree: Tree
    definitions: list[Definition]
    imports: Imports
    captures: dict[str, list[Node]]  # of the combined query when parsed for static analysis


def parse_tree(language: str, source: bytes, timeout_s: float) -> Tree:
    """Parse with a deadline. Raises ParseTimeout; syntax errors never raise."""
    parser = parser_for(language)
    kept = kept_per_return(parser)
    deadline = time.perf_counter() + timeout_s
    clock = time.perf_counter
    returned = Returned()

    # The read callback is the only way to get a progress callback. It must return bytes (the
    # binding crashes on a memoryview) and the tree keeps calling it for Node.text later.
    # Handing over the whole source at offset 0 makes tree-sitter ask again only rarely.
    # What it returns, the binding never lets go of: `returned` gives that back after.
    def read(offset: int, _point: object) -> bytes:
        return returned.add(source if offset == 0 else source[offset:])

    # tree-sitter calls this every few hundred bytes; returning True cancels the parse.
    def progress(_offset: int, _has_error: bool) -> bool:
        return clock() > deadline

    try:
        return parser.parse(read, progress_callback=progress)
    except ValueError as exc:  # py-tree-sitter reports a cancelled parse as "Parsing failed"
        # A cancelled parser resumes the old parse on its next call unless it is reset.
        parser.reset()
        if clock() > deadline:
            raise ParseTimeout(f"parse took longer than {timeout_s:g}s") from exc
        raise
    finally:
        returned.release(kept)


_REPAIRS: dict[str, Callable[[bytes], bytes]] = {
    "typescript": separate_signatures, "kotlin": separate_members}


def _error_extent(tree: Tree) -> int:
    """How much of the file the parse could not read: the bytes under its outermost ERROR
    nodes, and one for each missing token (descending only into subtrees that have one).
    One error that swallowed the file outweighs a few small ones."""
    extent = 0
    stack: list[Node] = [tree.root_node]
    while stack:
        node = stack.pop()
        if node.is_error:
            extent += max(1, node.end_byte - node.start_byte)
        elif node.is_missing:
            extent += 1
        else:
            stack.extend(c for c in node.children if c.has_error)
    return extent


def parse_source(file_path: str, language: str, source: bytes, *, static: bool = False,
                 timeout_s: float = 5.0) -> ParsedSource:
    """Parse and extract definitions and imports; with `static`, also capture the facts the
    static analyser needs, in the same query walk."""
    # C/C++: macros the grammar cannot see through are blanked, offsets unchanged
    parsed_bytes = blank_macros(source) if language in ("c", "cpp") else source
    tree = parse_tree(language, parsed_bytes, timeout_s)
    repair = _REPAIRS.get(language)
    if repair is not None and tree.root_node.has_error:
        # what the grammar cannot read, written as it can, offsets unchanged: TypeScript's
        # overloaded call signatures (aether.symbols.ts_signatures), Kotlin's one-line
        # class bodies (aether.symbols.kotlin_members); kept when less of it is in error
        repaired = repair(source)
        if repaired != source:
            again = parse_tree(language, repaired, timeout_s)
            if _error_extent(again) < _error_extent(tree):
                tree = again
    g = grammar(language)
    # without static SIRs, the call-site patterns still ride along: every index has edges
    query = g.combined if static else graph_query(language)
    captures = QueryCursor(query).captures(tree.root_node)
    definitions = collect_definitions(language, file_path, source, captures)
    imports = collect_imports(language, source, captures)
    return ParsedSource(file_path, language, source, tree, definitions, imports, captures)


def file_analysis(parsed: ParsedSource) -> FileAnalysis:
    """The plain, picklable summary of a parse: symbols (document order), imports, and
    whether the tree has syntax errors."""
    bindings = file_bindings(parsed.language, parsed.imports)
    # what its functions return and its classes inherit ride with the imports (type_facts)
    facts = type_facts(parsed.source, parsed.definitions, parsed.captures, parsed.language)
    bindings.update(facts)
    # names a caller's own parameter or variable may shadow: imports made inside a function
    # (the file's bindings hold them for every function) and typed module-level variables
    module_names = [*_imported_inside(parsed), *(k[:-len(CLASS_OF)] for k in facts
                                               if k.endswith(CLASS_OF))]
    calls = collect_calls(parsed.source, parsed.definitions, parsed.captures, parsed.language,
                          frozenset(module_names) if module_names else ())
    references = collect_references(parsed.source, parsed.definitions, parsed.captures,
                                    parsed.imports.names)
    if references:
        calls = sorted(calls + references, key=BY_POSITION)
    return FileAnalysis(
        file_path=parsed.file_path,
        language=parsed.language,
        symbols=[d.symbol for d in parsed.definitions],
        imports=parsed.imports.modules,
        has_syntax_errors=parsed.tree.root_node.has_error,
        calls=calls,
        bindings=bindings,
        star_imports=star_imports(parsed.language, parsed.source, parsed.captures),
    )


def _imported_inside(parsed: ParsedSource) -> set[str]:
    """Names bound by import statements inside a definition (Python)."""
    nodes = parsed.captures.get("import")
    definitions = parsed.definitions
    if parsed.language != "python" or not nodes or not definitions:
        return set()
    starts = [d.symbol.start_byte for d in definitions]
    ends = [d.symbol.end_byte for d in definitions]
    inside = []
    for node in nodes:
        i = bisect_right(starts, node.start_byte) - 1
        while i >= 0 and ends[i] < node.end_byte:
            i = definitions[i].parent
        if i >= 0:
            inside.append(node)
    return names_bound_by(parsed.language, parsed.source, inside) if inside else set()


def analyze_source(file_path: str, language: str, source: bytes, *,
                   timeout_s: float = 5.0) -> FileAnalysis:
    """Symbols (document order), imports and syntax-error flag of one file."""
    return file_analysis(parse_source(file_path, language, source, timeout_s=timeout_s))


def innermost_symbol(symbols: Sequence[Symbol], line: int, column: int | None = None
                     ) -> Symbol | None:
    """The smallest symbol whose range encloses (line, column), both 1-based; with no column,
    any symbol whose lines include `line`."""
    best: Symbol | None = None
    for s in symbols:
        if line < s.start_line or line > s.end_line:
            continue
        if column is not None:
            if line == s.start_line and column < s.start_col:
                continue
            if line == s.end_line and column > s.end_col:
                continue
        if best is None or (s.end_byte - s.start_byte) <= (best.end_byte - best.start_byte):
            best = s
    return best
