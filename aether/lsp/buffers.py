"""Editor buffers as the LSP server sees them: which ones AETHER may look at, and one parse
per document version (unsaved edits included), cached so repeated hovers never re-parse.

Positions: LSP speaks 0-based lines and columns in the negotiated encoding (UTF-16 unless the
client chose otherwise); symbols carry 1-based lines and 1-based byte columns. Conversions
touch one line of the buffer, never the whole text.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

from lsprotocol import types
from pygls.workspace import PositionCodec, TextDocument

from aether.config import Settings
from aether.hashing import content_hash
from aether.symbols.extract import analyze_source, innermost_symbol
from aether.symbols.languages import language_for_path, language_for_source
from aether.symbols.model import FileAnalysis, Symbol
from aether.workspace import IgnoreRules, PathOutsideWorkspace, is_secret, resolve_in_workspace

log = logging.getLogger("aether.lsp")

CACHE_DOCUMENTS = 64  # parsed buffers kept (LRU); open editors rarely hold more


@dataclass(frozen=True, slots=True)
class Target:
    """A document AETHER may serve: inside the workspace, not ignored, a known language."""

    uri: str
    rel_path: str
    language: str


@dataclass(slots=True)
class Snapshot:
    """One parse of one version of one buffer."""

    target: Target
    version: int | None  # None: not open in the editor, read from disk
    digest: str
    data: bytes
    line_starts: list[int]
    analysis: FileAnalysis | None  # None: the buffer could not be parsed

    def line_bytes(self, line0: int) -> bytes:
        if line0 < 0 or line0 >= len(self.line_starts):
            return b""
        start = self.line_starts[line0]
        end = (self.line_starts[line0 + 1] if line0 + 1 < len(self.line_starts)
               else len(self.data))
        return self.data[start:end]

    def symbol_at(self, position: types.Position, codec: PositionCodec) -> Symbol | None:
        """The innermost symbol enclosing an LSP position, or None."""
        if self.analysis is None or position.line < 0 or position.character < 0:
            return None
        if position.line >= len(self.line_starts):
            return None
        return innermost_symbol(self.analysis.symbols, position.line + 1,
                                self.byte_column(position, codec))

    def byte_column(self, position: types.Position, codec: PositionCodec) -> int:
        """The 1-based byte column of an LSP position (its character in the codec's units)."""
        text = self.line_bytes(position.line).decode("utf-8", errors="replace")
        units = 0
        chars = 0
        for ch in text:
            if units >= position.character or ch in "\r\n":
                break
            units += codec.impl.code_units_for_char(ch)
            chars += 1
        return len(text[:chars].encode("utf-8")) + 1

    def lsp_position(self, line1: int, col1: int, codec: PositionCodec) -> types.Position:
        prefix = self.line_bytes(line1 - 1)[: max(0, col1 - 1)]
        return types.Position(line=max(0, line1 - 1),
                              character=codec.client_num_units(
                                  prefix.decode("utf-8", errors="replace")))

    def lsp_range(self, symbol: Symbol, codec: PositionCodec) -> types.Range:
        # end_col is the 1-based column of the last byte: one past it is the LSP end
        return types.Range(start=self.lsp_position(symbol.start_line, symbol.start_col, codec),
                           end=self.lsp_position(symbol.end_line, symbol.end_col + 1, codec))


def _line_starts(data: bytes) -> list[int]:
    starts = [0]
    find = data.find
    i = find(b"\n")
    while i != -1:
        starts.append(i + 1)
        i = find(b"\n", i + 1)
    return starts


class Buffers:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.root = settings.workspace
        self._rules = IgnoreRules(self.root, settings.index.exclude)
        self._targets: dict[str, Target | None] = {}
        self._cache: OrderedDict[str, Snapshot] = OrderedDict()
        self._inflight: dict[tuple[str, int | None, str], asyncio.Task[Snapshot]] = {}

    def target(self, uri: str) -> Target | None:
        """None for anything AETHER does not serve: other schemes, files outside the
        workspace, ignored or secret files, unsupported languages."""
        if uri in self._targets:
            return self._targets[uri]
        found: Target | None = None
        if uri.startswith("file:"):
            try:
                rel = resolve_in_workspace(self.root, uri)
            except (PathOutsideWorkspace, OSError, ValueError):
                rel = ""
            language = language_for_path(rel) if rel and rel != "." else None
            if (language is not None and not is_secret(rel)
                    and not self._rules.ignored(rel)):
                found = Target(uri, rel, language)
        if len(self._targets) > 4096:
            self._targets.clear()
        self._targets[uri] = found
        return found

    def forget(self, uri: str) -> None:
        """The document closed or the rules changed: drop what we know about it."""
        self._cache.pop(uri, None)
        self._targets.pop(uri, None)

    def too_large(self, doc: TextDocument) -> str | None:
        """Why an open buffer is not parsed at all, or None. Checked without joining or
        encoding the text when the document keeps its own count (EditedDocument)."""
        limit = self.settings.index.max_file_bytes
        chars = getattr(doc, "char_count", None)
        if doc.version is None or chars is None or chars * 4 < limit:
            return None  # not open, or certainly small enough: decided by the bytes
        size = chars if chars > limit else len(doc.source.encode("utf-8"))
        if size <= limit:
            return None
        return (f"this file is larger than the {limit:,}-byte indexing limit "
                f"(at least {size:,} bytes), so AETHER does not parse or summarise it "
                "(`index.max_file_bytes` raises the limit)")

    def shed(self) -> int:
        """Above the daemon's memory ceiling: drop every parsed buffer (a hover re-parses).
        Returns how many were dropped."""
        dropped = len(self._cache)
        self._cache.clear()
        self._targets.clear()
        return dropped

    async def snapshot(self, doc: TextDocument) -> Snapshot | None:
        target = self.target(doc.uri)
        if target is None:
            return None
        cached = self._cache.get(doc.uri)
        version = doc.version
        if version is not None:  # open in the editor: the version says it all
            if cached is not None and cached.version == version:
                self._cache.move_to_end(doc.uri)
                return cached
            if self.too_large(doc):
                return None
            data = doc.source.encode("utf-8")
        else:  # not open: what is on disk
            try:
                data = await asyncio.to_thread(Path(self.root, target.rel_path).read_bytes)
            except OSError:
                return None
        if len(data) > self.settings.index.max_file_bytes:
            return None
        digest = content_hash(data)
        if cached is not None and cached.version == version and cached.digest == digest:
            self._cache.move_to_end(doc.uri)
            return cached
        key = (doc.uri, version, digest)
        task = self._inflight.get(key)
        if task is None:
            task = asyncio.create_task(self._parse(target, version, digest, data))
            self._inflight[key] = task
            task.add_done_callback(lambda _t: self._inflight.pop(key, None))
        snap = await asyncio.shield(task)
        self._cache[doc.uri] = snap
        self._cache.move_to_end(doc.uri)
        while len(self._cache) > CACHE_DOCUMENTS:
            self._cache.popitem(last=False)
        return snap

    async def _parse(self, target: Target, version: int | None, digest: str,
                     data: bytes) -> Snapshot:
        analysis: FileAnalysis | None = None
        try:
            # a thread: a big file must not stall other requests on the loop
            # `.h`: C or C++ by content, as the indexer decides
            language = language_for_source(target.rel_path, data) or target.language
            analysis = await asyncio.to_thread(
                analyze_source, target.rel_path, language, data,
                timeout_s=self.settings.index.parse_timeout_s)
        except Exception as exc:  # an unparsable buffer gives no hover, never an error
            log.info("cannot parse %s: %s: %s", target.rel_path, type(exc).__name__, exc)
        return Snapshot(target, version, digest, data, _line_starts(data), analysis)
