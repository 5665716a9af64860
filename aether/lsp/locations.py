"""Stored symbols and call sites as LSP locations and call-hierarchy items.

Stored columns are 1-based byte columns; they are sent as character offsets, which is exact
for ASCII lines (positions in open buffers go through `Snapshot.lsp_position` instead).
"""

from __future__ import annotations

from pathlib import Path

from lsprotocol import types

from aether.store.graph_records import Edge
from aether.store.records import SymbolRecord

KINDS = {
    "function": types.SymbolKind.Function, "method": types.SymbolKind.Method,
    "class": types.SymbolKind.Class, "struct": types.SymbolKind.Struct,
    "enum": types.SymbolKind.Enum, "trait": types.SymbolKind.Interface,
    "interface": types.SymbolKind.Interface, "type_alias": types.SymbolKind.TypeParameter,
    "module": types.SymbolKind.Module, "object": types.SymbolKind.Object,
}


def symbol_range(r: SymbolRecord) -> types.Range:
    return types.Range(start=types.Position(line=max(0, r.start_line - 1),
                                            character=max(0, r.start_col - 1)),
                       end=types.Position(line=max(0, r.end_line - 1),
                                          character=max(0, r.end_col)))


def name_range(r: SymbolRecord) -> types.Range:
    """Where the symbol's name is on its first line (its signature's line, at least)."""
    line = max(0, r.start_line - 1)
    column = r.signature.find(r.name)
    start = max(0, r.start_col - 1) + (column if column >= 0 else 0)
    if r.start_line != r.end_line and column < 0:
        start = max(0, r.start_col - 1)
    return types.Range(start=types.Position(line=line, character=start),
                       end=types.Position(line=line, character=start + len(r.name)))


def site_range(e: Edge) -> types.Range:
    start = types.Position(line=max(0, e.line - 1), character=max(0, e.column - 1))
    return types.Range(start=start, end=types.Position(line=start.line,
                                                       character=start.character + len(e.name)))


def location(root: Path, r: SymbolRecord) -> types.Location:
    return types.Location(uri=(root / r.file_path).as_uri(), range=name_range(r))


def hierarchy_item(root: Path, r: SymbolRecord, detail: str | None = None
                   ) -> types.CallHierarchyItem:
    return types.CallHierarchyItem(
        name=r.qualified_name, kind=KINDS.get(r.kind, types.SymbolKind.Function),
        uri=(root / r.file_path).as_uri(), range=symbol_range(r),
        selection_range=name_range(r), detail=detail or r.file_path,
        data={"symbol_id": r.id})
