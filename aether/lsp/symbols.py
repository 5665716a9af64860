"""`workspace/symbol`: the ranked search of `aether search`, as LSP symbol information."""

from __future__ import annotations

from typing import TYPE_CHECKING

from lsprotocol import types
from pygls.exceptions import JsonRpcInvalidParams

from aether.engine.engine import QueryTooLong
from aether.engine.search import QueryError
from aether.lsp.locations import KINDS

if TYPE_CHECKING:
    from aether.lsp.server import AetherServer

WORKSPACE_SYMBOL_LIMIT = 100



async def workspace_symbols(ls: AetherServer, query: str) -> list[types.SymbolInformation]:
    daemon = await ls.live()
    if daemon is None or daemon.engine is None or not query.strip():
        return []
    try:
        # The editor asks as the user types: a short query is a name prefix; a longer one
        # gets the full ranking (lexical words and names, fused with semantic when ready).
        outcome = await daemon.engine.search(query, WORKSPACE_SYMBOL_LIMIT)
    except QueryTooLong as exc:
        raise JsonRpcInvalidParams(str(exc)) from None
    except QueryError:
        return []  # nothing searchable typed yet (punctuation, "the"): an empty list
    root = daemon.engine.settings.workspace
    out = []
    for r in outcome.records:
        start = types.Position(line=max(0, r.start_line - 1), character=max(0, r.start_col - 1))
        end = types.Position(line=max(0, r.end_line - 1), character=max(0, r.end_col))
        parent = r.qualified_name.rpartition(".")[0]
        out.append(types.SymbolInformation(
            name=r.name, kind=KINDS.get(r.kind, types.SymbolKind.Variable),
            location=types.Location(uri=(root / r.file_path).as_uri(),
                                    range=types.Range(start=start, end=end)),
            container_name=parent or r.file_path))
    return out
