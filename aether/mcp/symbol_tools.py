"""Tools that read symbols: `aether_symbol_lookup`, `aether_get_sir`, `aether_explain`."""

from __future__ import annotations

from typing import Annotated

from mcp.server import MCPServer
from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError
from pydantic import Field

from aether.mcp.app import (
    MAX_LIMIT,
    MAX_LINE,
    READ_ONLY,
    App,
    FilePath,
    Limit,
    Line,
    QualifiedName,
    SymbolId,
    indexing_hint,
    innermost,
    report_indexing,
    resolve_one,
    tool_errors,
    workspace_path,
)
from aether.present import (
    ExplainView,
    LookupView,
    SirView,
    hover_markdown,
    search_match,
    sir_view,
)
from aether.store.records import SymbolRecord


async def symbol_lookup(app: App, ctx: Context, name: str | None, path: str | None,
                        kind: str | None, limit: int) -> LookupView:
    daemon, engine = app.live()
    await report_indexing(ctx, daemon.status, [0.0])
    if name is None and path is None:
        raise ToolError("pass a name, a path, or both")
    if name is not None and not name.strip():
        raise ToolError("name is empty")
    with tool_errors():
        rel = workspace_path(engine, path) if path is not None else None
        found: list[SymbolRecord]
        how = "none"
        if rel is not None:
            in_file = await engine.store.symbols_in_file(rel)
            if name is None:
                found, how = in_file, "file"
            else:
                q = name.strip()
                found, how = [r for r in in_file if r.qualified_name == q], "qualified_name"
                if not found:
                    found, how = [r for r in in_file if r.name == q], "name"
                if not found:
                    low = q.lower()
                    found = [r for r in in_file if low in r.qualified_name.lower()]
                    how = "substring"
        else:
            assert name is not None
            q = name.strip()
            found, how = await engine.store.symbols_by_qualified_name(q), "qualified_name"
            if not found:
                found, how = await engine.store.symbols_by_name(q, MAX_LIMIT + 1), "name"
            if not found:
                found, how = await engine.store.search_like(q, MAX_LIMIT + 1), "substring"
        if how in ("name", "substring"):
            found = engine.by_prominence(found)  # as aether_search ranks a shared name
    if kind is not None:
        found = [r for r in found if r.kind == kind]
    note = None
    if not found:
        how = "none"
        what = " ".join(p for p in (f"named {name!r}" if name else "",
                                    f"of kind {kind!r}" if kind else "",
                                    f"in {rel}" if rel else "") if p)
        note = f"no symbol {what} is indexed{indexing_hint(daemon.status)}"
        near = await engine.nearest_names(name) if name else []
        if near:
            note += "; did you mean: " + ", ".join(near)
    return LookupView(name=name, path=rel, kind=kind, match=how,  # type: ignore[arg-type]
                      result_count=min(len(found), limit), truncated=len(found) > limit,
                      matches=[search_match(r) for r in found[:limit]], note=note)


async def get_sir(app: App, ctx: Context, symbol_id: str | None,
                  qualified_name: str | None, file: str | None,
                  line: int | None) -> SirView:
    daemon, engine = app.live()
    await report_indexing(ctx, daemon.status, [0.0])
    with tool_errors():
        rec = await resolve_one(engine, daemon, symbol_id, qualified_name, file, line)
    return sir_view(rec)


async def explain(app: App, ctx: Context, file: str, line: int,
                  column: int | None) -> ExplainView:
    daemon, engine = app.live()
    await report_indexing(ctx, daemon.status, [0.0])
    with tool_errors():
        rel = workspace_path(engine, file)
        records = await engine.store.symbols_in_file(rel)
    rec, around = innermost(records, line, column)
    if rec is None:
        where = f"{rel}:{line}" + (f":{column}" if column is not None else "")
        reason = ("the file is not indexed" if not records
                  else "module-level code, a comment or a blank line")
        raise ToolError(f"no symbol encloses {where} ({reason}){indexing_hint(daemon.status)}")
    return ExplainView(file=rel, line=line, column=column, symbol=sir_view(rec),
                       enclosing=[search_match(r) for r in around],
                       hover_markdown=hover_markdown(rec))


def register(server: MCPServer[App], app: App) -> None:
    @server.tool(name="aether_symbol_lookup", annotations=READ_ONLY)
    async def aether_symbol_lookup(
        ctx: Context,
        name: Annotated[str | None, Field(
            default=None, max_length=1024,
            description="Bare (`send`) or qualified (`Session.send`) name")] = None,
        path: FilePath = None,
        kind: Annotated[str | None, Field(
            default=None, max_length=64,
            description="Only this kind: function, method, class, struct, enum, trait, "
                        "interface, type_alias")] = None,
        limit: Limit = 20,
    ) -> LookupView:
        """Find symbols by exact qualified name, then exact name, then substring of the
        qualified name or path (lexical, no ranking); with `path` alone, every symbol in that
        file in line order. Each match has its symbol_id, location, sir_status and one-line
        summary."""
        return await symbol_lookup(app, ctx, name, path, kind, limit)

    @server.tool(name="aether_get_sir", annotations=READ_ONLY)
    async def aether_get_sir(ctx: Context, symbol_id: SymbolId = None,
                             qualified_name: QualifiedName = None, file: FilePath = None,
                             line: Line = None) -> SirView:
        """One symbol's SIR, chosen by exactly one of: symbol_id, qualified_name, or
        file + line (the innermost symbol enclosing that line). Includes sir_status
        (ok | stale | pending), stale_reason (failed | outdated | model_changed),
        last_error, last_attempt_at, provider, model, prompt_version, updated_at, a
        plain-language `warning` whenever the summary may be out of date, and for a model's
        SIR its `verification` against the code (claims supported, claims not found in the
        code, facts the SIR misses)."""
        return await get_sir(app, ctx, symbol_id, qualified_name, file, line)

    @server.tool(name="aether_explain", annotations=READ_ONLY)
    async def aether_explain(
        ctx: Context,
        file: Annotated[str, Field(min_length=1, max_length=4096,
                                   description="Workspace-relative path")],
        line: Annotated[int, Field(ge=1, le=MAX_LINE, description="1-based line")],
        column: Annotated[int | None, Field(default=None, ge=1, le=MAX_LINE,
                                            description="1-based column")] = None,
    ) -> ExplainView:
        """What is at this position: the innermost symbol, its SIR and status, the symbols
        around it (outermost first), and the Markdown an editor hover would show (with a
        stale banner first when the summary may be out of date)."""
        return await explain(app, ctx, file, line, column)
