"""Read, check and parse one file. Runs in worker processes on a cold index: no I/O but the
file itself, and plain picklable results."""

from __future__ import annotations

import gc
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aether.engine import memory
from aether.engine.parent_watch import exit_with_parent
from aether.engine.vector_text import VectorText, vector_texts
from aether.hashing import content_hash
from aether.sir.static import analyze_with_sirs
from aether.store.records import FileRecord, PreparedSir, pack_sites
from aether.symbols.extract import ParseTimeout, analyze_source
from aether.symbols.languages import language_for_source
from aether.symbols.model import FileAnalysis, Symbol
from aether.workspace import SourceFile, read_regular_file

BINARY_SNIFF_BYTES = 8192
WORKER_GC_THRESHOLD = 50_000  # allocations between collections (CPython's default: 700)
_in_pool = False  # this process is a pool worker (set by init_worker)


@dataclass(slots=True)
class ParseOutcome:
    record: FileRecord
    analysis: FileAnalysis | None = None
    unchanged: bool = False  # same bytes as stored: only size/mtime need refreshing
    static_sirs: dict[str, PreparedSir] = field(default_factory=dict)
    error: tuple[str, str] | None = None  # (error_type, message) for the errors table
    # the file's call sites as sent back from a worker (analysis.calls is then empty)
    packed_calls: bytes | None = None
    # each static SIR's vector text (aether.engine.vector_text), when asked for
    vector_texts: list[VectorText] = field(default_factory=list)

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        # Sent back from the workers as plain tuples: pickle rebuilds a NamedTuple or a
        # slots dataclass through Python code per object (CallSite.__new__, dataclasses'
        # __setstate__), which cost the writer process ~2 s of a cold index of the
        # standard library; plain tuples load in C, and are rebuilt here in one pass.
        a = self.analysis
        packed = None if a is None else (
            a.file_path, a.language, [s.__reduce__()[1] for s in a.symbols], a.imports,
            a.has_syntax_errors, self.packed_calls or pack_sites(a.calls), a.bindings,
            a.star_imports)
        sirs = [(sid, p.sir_json, p.sir_hash, p.intent_terms, p.other_terms, p.redactions,
                 p.packed) for sid, p in self.static_sirs.items()]
        return _unpack, (self.record, packed, self.unchanged, sirs, self.error,
                         self.vector_texts)


def _unpack(record: FileRecord, packed: tuple[Any, ...] | None, unchanged: bool,
            sirs: list[tuple[Any, ...]], error: tuple[str, str] | None,
            texts: list[VectorText]) -> ParseOutcome:
    analysis = None
    if packed is not None:
        path, language, symbols, imports, has_errors, calls, bindings, stars = packed
        # call sites stay packed: the writer holds them as they are until a cold pass's
        # final resolve (or unpacks them at once, in any other pass)
        analysis = FileAnalysis(path, language, [Symbol(*s) for s in symbols], imports,
                                has_errors, [], bindings, stars)
    return ParseOutcome(record, analysis, unchanged,
                        {s[0]: PreparedSir(*s[1:]) for s in sirs}, error,
                        calls if packed is not None else None, texts)


def _skip(src: SourceFile, reason: str, error_type: str, digest: str | None = None) -> ParseOutcome:
    record = FileRecord(src.rel_path, src.size, src.mtime_ns, src.language, digest,
                        status="skipped", skip_reason=reason)
    return ParseOutcome(record, error=(error_type, f"{src.rel_path}: {reason}"))


def parse_file(root: str, src: SourceFile, max_bytes: int, timeout_s: float, static: bool,
               known_hash: str | None = None, texts: bool = False) -> ParseOutcome:
    if src.size > max_bytes:
        return _skip(src, f"larger than the {max_bytes}-byte limit ({src.size} bytes)",
                     "file_too_large")
    try:
        data = read_regular_file(Path(root) / src.rel_path, max_bytes)
    except OSError as exc:
        return _skip(src, f"unreadable: {exc.strerror or exc}", "file_unreadable")
    if len(data) > max_bytes:  # grew since it was listed
        return _skip(src, f"larger than the {max_bytes}-byte limit ({len(data)} bytes)",
                     "file_too_large")
    digest = content_hash(data)
    record = FileRecord(src.rel_path, len(data), src.mtime_ns, src.language, digest)
    if known_hash is not None and digest == known_hash:
        return ParseOutcome(record, unchanged=True)
    if b"\x00" in data[:BINARY_SNIFF_BYTES]:
        return _skip(src, "binary content", "binary_file", digest)
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        return _skip(src, f"not valid UTF-8 (byte {exc.start})", "invalid_utf8", digest)
    language = language_for_source(src.rel_path, data) or src.language  # `.h`: C or C++
    record.language = language
    docs: dict[str, str] = {}  # whole doc comments: searched, not part of the SIR
    try:
        if static:
            analysis, sirs = analyze_with_sirs(src.rel_path, language, data,
                                               timeout_s=timeout_s, docs=docs)
        else:
            analysis, sirs = analyze_source(src.rel_path, language, data,
                                            timeout_s=timeout_s), {}
    except ParseTimeout:
        return _skip(src, f"parse took longer than {timeout_s:g}s", "parse_timeout", digest)
    except Exception as exc:  # a grammar bug must cost one file, never the run
        return _skip(src, f"parse failed: {type(exc).__name__}: {exc}", "parse_error", digest)
    record.has_syntax_errors = analysis.has_syntax_errors
    record.imports = analysis.imports[:64]
    record.bindings, record.star_imports = analysis.bindings, analysis.star_imports
    # Validate and canonicalise here, in the worker: the writer process only writes.
    prepared = {sid: PreparedSir.of_static(d, doc=docs.get(sid, "")) for sid, d in sirs.items()}
    made = vector_texts(((s.id, s.name, s.qualified_name) for s in analysis.symbols),
                        {sid: (p.sir_json, p.sir_hash, sirs[sid].get("intent"))
                         for sid, p in prepared.items()}
                        ) if texts and prepared else []
    return ParseOutcome(record, analysis, static_sirs=prepared, vector_texts=made)


def init_worker(owner_pid: int) -> None:
    """ProcessPoolExecutor initializer. A parse allocates hundreds of thousands of
    short-lived objects, freed by reference counting (trees, nodes and results make no
    cycles that matter), and each collection of the cyclic GC walked every object alive:
    the imported modules are frozen out of its sight and young objects are collected ~70
    times less often (together a tenth of a worker's time on the standard library)."""
    global _in_pool
    gc.freeze()
    gc.set_threshold(WORKER_GC_THRESHOLD, *gc.get_threshold()[1:])
    # A worker's memory counts in a cold index's peak (the whole process tree): big
    # buffers (its pickled results) get mappings of their own, given back when freed, and
    # each batch gives back what it freed (parse_many); together ~10 MB a worker at
    # 100,000 symbols.
    memory.fix_mmap_threshold()
    _in_pool = True
    exit_with_parent(owner_pid)


def parse_many(root: str, batch: list[tuple[SourceFile, str | None]], max_bytes: int,
               timeout_s: float, static: bool, texts: bool = False) -> list[ParseOutcome]:
    """A batch per worker task: amortises the inter-process round trip. `texts`: with
    each static SIR's vector text."""
    out = [parse_file(root, src, max_bytes, timeout_s, static, known, texts)
           for src, known in batch]
    if _in_pool:
        # the batch's trees and intermediate objects are gone: their pages go back to the
        # OS (biggest files come first: the first batches' heap was held to the end). Not
        # in the writer's own thread (a save): the daemon trims after a pass.
        memory.trim_heap()
    return out
