"""`textDocument/codeLens`: above each symbol, "N callers · SIR ok|stale|outdated|pending";
its command (`aether.refreshSymbol`) makes a new SIR for that symbol now."""

from __future__ import annotations

from typing import TYPE_CHECKING

from lsprotocol import types

from aether.lsp.commands import CMD_REFRESH

if TYPE_CHECKING:
    from aether.lsp.server import AetherServer


def lens_title(callers: int, sir_status: str, stale_reason: str | None) -> str:
    word = "caller" if callers == 1 else "callers"
    state = stale_reason if stale_reason == "outdated" else sir_status
    return f"{callers} {word} · SIR {state}"


async def code_lenses(ls: AetherServer, params: types.CodeLensParams
                      ) -> list[types.CodeLens] | None:
    uri = params.text_document.uri
    found = await ls.document(uri)
    if found is None:
        return None
    engine, snap = found
    if snap.analysis is None:
        return None
    store = engine.store
    symbols = snap.analysis.symbols
    records = {r.id: r for r in await store.symbols([s.id for s in symbols])}
    counts = await store.callers_counts(list(records))
    codec = ls.workspace.position_codec
    out = []
    for s in symbols:
        record = records.get(s.id)
        if record is None:  # not indexed yet (an unsaved new symbol)
            continue
        start = snap.lsp_position(s.start_line, s.start_col, codec)
        title = lens_title(counts.get(s.id, 0), record.sir_status, record.stale_reason)
        out.append(types.CodeLens(
            range=types.Range(start=start, end=start),
            command=types.Command(title=title, command=CMD_REFRESH,
                                  arguments=[{"uri": uri, "position": {
                                      "line": start.line, "character": start.character}}])))
    return out
