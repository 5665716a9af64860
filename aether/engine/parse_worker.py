"""Read, check and parse one file. Runs in worker processes on a cold index: no I/O but the
file itself, and plain picklable results."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from aether.hashing import content_hash
from aether.sir.model import Sir
from aether.sir.static import analyze_with_sirs
from aether.store.records import FileRecord, PreparedSir
from aether.symbols.extract import ParseTimeout, analyze_source
from aether.symbols.languages import language_for_source
from aether.symbols.model import FileAnalysis
from aether.workspace import SourceFile, read_regular_file

BINARY_SNIFF_BYTES = 8192


@dataclass(slots=True)
class ParseOutcome:
    record: FileRecord
    analysis: FileAnalysis | None = None
    unchanged: bool = False  # same bytes as stored: only size/mtime need refreshing
    static_sirs: dict[str, PreparedSir] = field(default_factory=dict)
    error: tuple[str, str] | None = None  # (error_type, message) for the errors table


def _skip(src: SourceFile, reason: str, error_type: str, digest: str | None = None) -> ParseOutcome:
    record = FileRecord(src.rel_path, src.size, src.mtime_ns, src.language, digest,
                        status="skipped", skip_reason=reason)
    return ParseOutcome(record, error=(error_type, f"{src.rel_path}: {reason}"))


def parse_file(root: str, src: SourceFile, max_bytes: int, timeout_s: float, static: bool,
               known_hash: str | None = None) -> ParseOutcome:
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
    prepared = {sid: PreparedSir.of(Sir.model_validate(d), doc=docs.get(sid, ""))
                for sid, d in sirs.items()}
    return ParseOutcome(record, analysis, static_sirs=prepared)


def parse_many(root: str, batch: list[tuple[SourceFile, str | None]], max_bytes: int,
               timeout_s: float, static: bool) -> list[ParseOutcome]:
    """A batch per worker task: amortises the inter-process round trip."""
    return [parse_file(root, src, max_bytes, timeout_s, static, known) for src, known in batch]
