"""Stored symbols and call sites as LSP locations and call-hierarchy items, their byte
columns converted to the client's position encoding (open buffers go through
`Snapshot.lsp_position` instead)."""

from __future__ import annotations

from pathlib import Path

from lsprotocol import types
from pygls.workspace import PositionCodec

from aether.store.graph_records import Edge
from aether.store.records import SymbolRecord

MAX_READ_BYTES = 8 * 1024 * 1024  # a larger file keeps byte columns rather than be read

KINDS = {
    "function": types.SymbolKind.Function, "method": types.SymbolKind.Method,
    "class": types.SymbolKind.Class, "struct": types.SymbolKind.Struct,
    "enum": types.SymbolKind.Enum, "trait": types.SymbolKind.Interface,
    "interface": types.SymbolKind.Interface, "type_alias": types.SymbolKind.TypeParameter,
    "module": types.SymbolKind.Module, "object": types.SymbolKind.Object,
}


class Positions:
    """Stored symbols and call sites as LSP ranges, for one request.

    Stored columns are 1-based byte columns of the file on disk; LSP wants characters in the
    client's encoding (UTF-16 unless it chose otherwise). A column past the first is checked
    against its line, read from the file (each file at most once per request): ASCII before
    it keeps the byte column, anything else is counted in the client's units."""

    def __init__(self, root: Path, codec: PositionCodec) -> None:
        self.root = root
        self.codec = codec
        self._lines: dict[str, list[bytes] | None] = {}

    def character(self, file_path: str, line1: int, col1: int) -> int:
        if col1 <= 1:
            return 0
        text = self._line(file_path, line1)
        prefix = text[: col1 - 1] if text is not None else b""
        if text is None or len(prefix) < col1 - 1 or prefix.isascii():
            return col1 - 1
        return self.codec.client_num_units(prefix.decode("utf-8", errors="replace"))

    def units(self, text: str) -> int:
        return self.codec.client_num_units(text)

    def _line(self, file_path: str, line1: int) -> bytes | None:
        if file_path not in self._lines:
            try:
                path = self.root / file_path
                small = path.stat().st_size <= MAX_READ_BYTES
                self._lines[file_path] = path.read_bytes().split(b"\n") if small else None
            except OSError:
                self._lines[file_path] = None
        lines = self._lines[file_path]
        return lines[line1 - 1] if lines is not None and 0 < line1 <= len(lines) else None

    def symbol_range(self, r: SymbolRecord) -> types.Range:
        # end_col is the 1-based column of the last byte: one past it is the LSP end
        return types.Range(
            start=types.Position(line=max(0, r.start_line - 1),
                                 character=self.character(r.file_path, r.start_line,
                                                          r.start_col)),
            end=types.Position(line=max(0, r.end_line - 1),
                               character=self.character(r.file_path, r.end_line,
                                                        r.end_col + 1)))

    def name_range(self, r: SymbolRecord) -> types.Range:
        """Where the symbol's name is on its first line (its signature's line, at least)."""
        found = r.signature.find(r.name)
        col1 = r.start_col
        if found >= 0 and (r.start_line == r.end_line or "\n" not in r.signature[:found]):
            col1 += len(r.signature[:found].encode("utf-8"))
        start = self.character(r.file_path, r.start_line, col1)
        line = max(0, r.start_line - 1)
        return types.Range(start=types.Position(line=line, character=start),
                           end=types.Position(line=line, character=start + self.units(r.name)))

    def site_range(self, e: Edge) -> types.Range:
        start = types.Position(line=max(0, e.line - 1),
                               character=self.character(e.file_path, e.line, e.column))
        return types.Range(start=start, end=types.Position(
            line=start.line, character=start.character + self.units(e.name)))

    def location(self, r: SymbolRecord) -> types.Location:
        return types.Location(uri=(self.root / r.file_path).as_uri(), range=self.name_range(r))

    def site_location(self, e: Edge) -> types.Location:
        return types.Location(uri=(self.root / e.file_path).as_uri(), range=self.site_range(e))

    def hierarchy_item(self, r: SymbolRecord, detail: str | None = None
                       ) -> types.CallHierarchyItem:
        return types.CallHierarchyItem(
            name=r.qualified_name, kind=KINDS.get(r.kind, types.SymbolKind.Function),
            uri=(self.root / r.file_path).as_uri(), range=self.symbol_range(r),
            selection_range=self.name_range(r), detail=detail or r.file_path,
            data={"symbol_id": r.id})
