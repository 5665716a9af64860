"""Call hierarchy: `textDocument/prepareCallHierarchy`, `callHierarchy/incomingCalls`,
`callHierarchy/outgoingCalls`, from the call graph (resolved edges; an ambiguous one says so
in its item's `detail`)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from lsprotocol import types

from aether.engine.graph import MAX_EDGES
from aether.lsp.locations import Positions
from aether.store.graph_records import RESOLVED, Edge
from aether.store.records import SymbolRecord

if TYPE_CHECKING:
    from aether.engine.engine import Engine
    from aether.lsp.server import AetherServer


async def record_at(ls: AetherServer, uri: str, position: types.Position
                    ) -> tuple[Engine, SymbolRecord] | None:
    """The stored symbol enclosing a position of a document (as the editor has it)."""
    found = await ls.document(uri)
    if found is None:
        return None
    engine, snap = found
    symbol = snap.symbol_at(position, ls.workspace.position_codec)
    if symbol is None:
        return None
    record = await engine.store.symbol(symbol.id)
    return (engine, record) if record is not None else None


async def prepare(ls: AetherServer, params: types.CallHierarchyPrepareParams
                  ) -> list[types.CallHierarchyItem] | None:
    found = await record_at(ls, params.text_document.uri, params.position)
    if found is None:
        return None
    engine, record = found
    return [Positions(engine.settings.workspace, ls.workspace.position_codec)
            .hierarchy_item(record)]


async def _item_record(ls: AetherServer, item: types.CallHierarchyItem
                       ) -> tuple[Engine, SymbolRecord] | None:
    daemon = await ls.live()
    if daemon is None or daemon.engine is None:
        return None
    data: Any = item.data
    symbol_id = data.get("symbol_id") if isinstance(data, dict) else None
    if not isinstance(symbol_id, str):
        return None
    record = await daemon.engine.store.symbol(symbol_id)
    return (daemon.engine, record) if record is not None else None


def _group(edges: list[Edge], key: str) -> dict[str, list[Edge]]:
    out: dict[str, list[Edge]] = {}
    for e in edges:
        out.setdefault(getattr(e, key) or "", []).append(e)
    return out


async def incoming(ls: AetherServer, params: types.CallHierarchyIncomingCallsParams
                   ) -> list[types.CallHierarchyIncomingCall] | None:
    found = await _item_record(ls, params.item)
    if found is None:
        return None
    engine, record = found
    store, at = engine.store, Positions(engine.settings.workspace, ls.workspace.position_codec)
    # the call hierarchy shows calls; references are textDocument/references' business
    resolved = [e for e in await store.edges_into(record.id, MAX_EDGES) if e.kind == "call"]
    ambiguous = await store.ambiguous_into(record.name, record.id, MAX_EDGES)
    callers = {r.id: r for r in await store.symbols(
        list(dict.fromkeys(e.caller_id for e in resolved + ambiguous)))}
    out = []
    for label, edges in (("", resolved), ("ambiguous", ambiguous)):
        for caller_id, sites in _group(edges, "caller_id").items():
            caller = callers.get(caller_id)
            if caller is None:
                continue
            detail = (f"{caller.file_path} · {sites[0].provenance}" if not label
                      else f"{caller.file_path} · ambiguous: one of several candidates")
            out.append(types.CallHierarchyIncomingCall(
                from_=at.hierarchy_item(caller, detail),
                from_ranges=[at.site_range(e) for e in sites]))
    return out


async def outgoing(ls: AetherServer, params: types.CallHierarchyOutgoingCallsParams
                   ) -> list[types.CallHierarchyOutgoingCall] | None:
    found = await _item_record(ls, params.item)
    if found is None:
        return None
    engine, record = found
    store, at = engine.store, Positions(engine.settings.workspace, ls.workspace.position_codec)
    edges = [e for e in await store.edges_from(record.id) if e.kind == "call"]
    resolved = [e for e in edges if e.provenance in RESOLVED and e.target_id]
    ambiguous = [e for e in edges if e.provenance == "ambiguous"]
    candidates: dict[str, list[str]] = {}
    for e in ambiguous:
        candidates[e.callee] = json.loads(e.detail or "{}").get("candidates", [])
    ids = [e.target_id for e in resolved if e.target_id]
    ids += [c for cands in candidates.values() for c in cands]
    targets = {r.id: r for r in await store.symbols(list(dict.fromkeys(ids)))}
    out = []
    for target_id, sites in _group(resolved, "target_id").items():
        target = targets.get(target_id)
        if target is not None:
            out.append(types.CallHierarchyOutgoingCall(
                to=at.hierarchy_item(target, f"{target.file_path} · {sites[0].provenance}"),
                from_ranges=[at.site_range(e) for e in sites]))
    for callee, sites in _group(ambiguous, "callee").items():
        cands = [targets[c] for c in candidates.get(callee, []) if c in targets]
        for target in cands:
            out.append(types.CallHierarchyOutgoingCall(
                to=at.hierarchy_item(target, f"{target.file_path} · ambiguous: one of "
                                                f"{len(cands)} candidates for {callee}"),
                from_ranges=[at.site_range(e) for e in sites]))
    return out
