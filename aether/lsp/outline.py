"""`textDocument/documentSymbol`: the file's outline, nested, as the editor's buffer has it
(symbols of the current text; the SIR intent of those already indexed as their detail)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from lsprotocol import types

from aether.lsp.locations import KINDS

if TYPE_CHECKING:
    from aether.lsp.server import AetherServer


async def document_symbols(ls: AetherServer, params: types.DocumentSymbolParams
                           ) -> list[types.DocumentSymbol] | None:
    found = await ls.document(params.text_document.uri)
    if found is None:
        return None
    engine, snap = found
    if snap.analysis is None:
        return None
    codec = ls.workspace.position_codec
    symbols = sorted(snap.analysis.symbols, key=lambda s: (s.start_byte, -s.end_byte))
    stored = {r.id: r for r in await engine.store.symbols([s.id for s in symbols])}
    roots: list[types.DocumentSymbol] = []
    stack: list[tuple[int, list[types.DocumentSymbol]]] = []  # (end byte, its children)
    for s in symbols:
        full = snap.lsp_range(s, codec)
        record = stored.get(s.id)
        sir = record.sir_dict if record is not None else None
        detail = " ".join(str(sir.get("intent", "")).split())[:120] if sir else s.signature
        name_line = snap.line_bytes(s.start_line - 1)
        offset = name_line.find(s.name.encode("utf-8"), max(0, s.start_col - 1))
        selection = full
        if offset >= 0:
            selection = types.Range(
                start=snap.lsp_position(s.start_line, offset + 1, codec),
                end=snap.lsp_position(s.start_line, offset + 1 + len(s.name.encode()), codec))
        children: list[types.DocumentSymbol] = []
        node = types.DocumentSymbol(name=s.name, kind=KINDS.get(s.kind, types.SymbolKind.Function),
                                    range=full, selection_range=selection, detail=detail,
                                    children=children)
        while stack and stack[-1][0] <= s.start_byte:
            stack.pop()
        (stack[-1][1] if stack else roots).append(node)
        stack.append((s.end_byte, children))
    return roots
