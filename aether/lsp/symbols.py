"""`workspace/symbol`: the ranked search of `aether search`, as LSP symbol information."""

from __future__ import annotations

from typing import TYPE_CHECKING

from lsprotocol import types
from pygls.exceptions import JsonRpcInvalidParams

from aether.engine.engine import QueryTooLong
from aether.engine.search import QueryError
from aether.lsp.locations import KINDS, Positions

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
    at = Positions(daemon.engine.settings.workspace, ls.workspace.position_codec)
    out = []
    for r in outcome.records:
        parent = r.qualified_name.rpartition(".")[0]
        out.append(types.SymbolInformation(
            name=r.name, kind=KINDS.get(r.kind, types.SymbolKind.Variable),
            location=types.Location(uri=(at.root / r.file_path).as_uri(),
                                    range=at.symbol_range(r)),
            container_name=parent or r.file_path))
    return out
