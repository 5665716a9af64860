"""`textDocument/definition` and `textDocument/references` from the call graph.

Definition: the call under the cursor (a call site of the buffer) -> where its resolved
target is defined; an ambiguous call -> every candidate; external or unresolved -> nothing.
References: the symbol under the cursor -> every call and reference site resolved to it
(a function passed as a value, a type in an annotation, a base class...).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from lsprotocol import types

from aether.engine.graph import MAX_EDGES
from aether.lsp.calls import record_at
from aether.lsp.locations import Positions
from aether.store.graph_records import RESOLVED

if TYPE_CHECKING:
    from aether.lsp.server import AetherServer


async def definition(ls: AetherServer, params: types.DefinitionParams
                     ) -> list[types.Location] | None:
    found = await ls.document(params.text_document.uri)
    if found is None:
        return None
    engine, snap = found
    if snap.analysis is None:
        return None
    line = params.position.line + 1
    column = snap.byte_column(params.position, ls.workspace.position_codec)
    site = next((c for c in snap.analysis.calls
                 if c.line == line and c.column <= column <= c.column + len(c.name)), None)
    if site is None:
        return None
    store = engine.store
    # the stored edge of the same call in the same symbol (lines may have moved since)
    stored = [e for e in await store.edges_from(site.caller_id) if e.callee == site.callee]
    if not stored:
        return None
    edge = min(stored, key=lambda e: abs(e.line - line))
    if edge.provenance in RESOLVED and edge.target_id:
        ids = [edge.target_id]
    elif edge.provenance == "ambiguous":
        ids = json.loads(edge.detail or "{}").get("candidates", [])
    else:
        return None
    at = Positions(engine.settings.workspace, ls.workspace.position_codec)
    return [at.location(r) for r in await store.symbols(ids)]


async def references(ls: AetherServer, params: types.ReferenceParams
                     ) -> list[types.Location] | None:
    found = await record_at(ls, params.text_document.uri, params.position)
    if found is None:
        return None
    engine, record = found
    at = Positions(engine.settings.workspace, ls.workspace.position_codec)
    out = [at.location(record)] if params.context.include_declaration else []
    out += [at.site_location(e) for e in await engine.store.edges_into(record.id, MAX_EDGES)]
    return out
