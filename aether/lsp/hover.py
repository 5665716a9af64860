"""`textDocument/hover`: the SIR of the innermost symbol at the position, parsed from the
buffer as the editor has it, with a stale banner first when the summary is not fresh. Never
waits on indexing or inference, and never an error for the user."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from lsprotocol import types

from aether.present import hover_markdown
from aether.store.records import SymbolRecord
from aether.symbols.model import Symbol

if TYPE_CHECKING:
    from aether.lsp.server import AetherServer

log = logging.getLogger("aether.lsp")


def _unsaved_record(symbol: Symbol) -> SymbolRecord:
    """A symbol that exists only in the buffer: shown as 'no summary yet'."""
    return SymbolRecord(
        id=symbol.id, language=symbol.language, file_path=symbol.file_path, kind=symbol.kind,
        name=symbol.name, qualified_name=symbol.qualified_name, signature=symbol.signature,
        start_line=symbol.start_line, start_col=symbol.start_col, end_line=symbol.end_line,
        end_col=symbol.end_col, start_byte=symbol.start_byte, end_byte=symbol.end_byte,
        content_hash=symbol.content_hash, sir_status="pending", last_error=None,
        last_attempt_at=None, attempts=0, updated_at=None)


async def hover(ls: AetherServer, params: types.HoverParams) -> types.Hover | None:
    try:
        return await _hover(ls, params.text_document.uri, params.position)
    except Exception:  # a hover is never an error for the user
        log.exception("hover failed at %s:%s", params.text_document.uri,
                      params.position.line)
        return None


async def _hover(ls: AetherServer, uri: str, position: types.Position) -> types.Hover | None:
    daemon = await ls.live()
    if daemon is None or daemon.engine is None or ls.buffers is None:
        return None
    doc = ls.workspace.get_text_document(uri)
    if ls.buffers.target(uri) is not None and (why := ls.buffers.too_large(doc)):
        return types.Hover(contents=types.MarkupContent(kind=types.MarkupKind.Markdown,
                                                        value=f"AETHER: {why}."))
    snap = await ls.buffers.snapshot(doc)
    if snap is None:
        return None
    codec = ls.workspace.position_codec
    symbol = snap.symbol_at(position, codec)
    if symbol is None:
        return None
    record = await daemon.engine.store.symbol(symbol.id)
    if record is None:
        markdown = hover_markdown(_unsaved_record(symbol), unsaved=True)
    else:
        differs = record.source_hash is not None and record.source_hash != symbol.content_hash
        markdown = hover_markdown(record, buffer_differs=differs)
    return types.Hover(
        contents=types.MarkupContent(kind=types.MarkupKind.Markdown, value=markdown),
        range=snap.lsp_range(symbol, codec))
