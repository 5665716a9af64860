"""Tools that read symbols: `aether_symbol_lookup`, `aether_get_sir`, `aether_explain`."""

from __future__ import annotations

from typing import Annotated

from mcp.server import MCPServer
from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import CallToolResult
from pydantic import Field

from aether.mcp.answers import Cursor, Detail, Paged, Sized, answer, decode_cursor, page
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
from aether.symbols.spellings import canonical_spelling
from aether.symbols.terms import dotted


class LookupAnswer(LookupView, Paged):
    pass


class SirAnswer(SirView, Sized):
    pass


class ExplainAnswer(ExplainView, Sized):
    pass


# A single symbol's brief answer keeps its SIR and status and drops the bookkeeping.
SIR_BRIEF = frozenset({"signature", "sir_hash", "provider", "model", "last_attempt_at",
                       "updated_at", "language", "hover_markdown", "prompt_version",
                       "verification"})


async def symbol_lookup(app: App, ctx: Context, name: str | None, path: str | None,
                        kind: str | None, limit: int, *, detail: str = "brief",
                        cursor: str | None = None) -> LookupAnswer:
    daemon, engine = app.live()
    await report_indexing(ctx, daemon.status, [0.0])
    if name is None and path is None:
        raise ToolError("pass a name, a path, or both")
    if name is not None and not name.strip():
        raise ToolError("name is empty")
    bound = {"tool": "lookup", "name": name, "path": path, "kind": kind}
    offset = decode_cursor(cursor, bound)
    fetch = max(MAX_LIMIT, offset + limit) + 1  # one past the page: enough to know more exist
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
                want = dotted(canonical_spelling(q))
                found = [r for r in in_file if dotted(r.qualified_name) == want]
                how = "qualified_name"
                if not found:
                    found, how = [r for r in in_file if r.name == q], "name"
                if not found:
                    low = q.lower()
                    found = [r for r in in_file if low in r.qualified_name.lower()]
                    how = "substring"
        else:
            assert name is not None
            q = name.strip()
            found, how = await engine.symbols_by_qualified_name(q), "qualified_name"
            if not found:
                found, how = await engine.store.symbols_by_name(canonical_spelling(q),
                                                                fetch), "name"
            if not found:
                found, how = await engine.store.search_like(q, fetch), "substring"
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
    window, next_cursor = page(found, offset, limit, bound)
    return LookupAnswer(name=name, path=rel, kind=kind, match=how,  # type: ignore[arg-type]
                        result_count=len(window), truncated=next_cursor is not None,
                        matches=[search_match(r, full=detail == "full") for r in window],
                        note=note, next_cursor=next_cursor)


async def get_sir(app: App, ctx: Context, symbol_id: str | None,
                  qualified_name: str | None, file: str | None,
                  line: int | None) -> SirAnswer:
    daemon, engine = app.live()
    await report_indexing(ctx, daemon.status, [0.0])
    with tool_errors():
        rec = await resolve_one(engine, daemon, symbol_id, qualified_name, file, line)
    return SirAnswer.model_validate(sir_view(rec).model_dump())


async def explain(app: App, ctx: Context, file: str, line: int,
                  column: int | None) -> ExplainAnswer:
    daemon, engine = app.live()
    await report_indexing(ctx, daemon.status, [0.0])
    with tool_errors():
        rel = workspace_path(engine, file)
        records = await engine.store.symbols_in_file(rel)
        why = None if records else await engine.not_indexed_reason(rel)
    rec, around = innermost(records, line, column)
    if rec is None:
        where = f"{rel}:{line}" + (f":{column}" if column is not None else "")
        reason = ((why or "the file has no symbols") if not records
                  else "module-level code, a comment or a blank line")
        raise ToolError(f"no symbol encloses {where} ({reason}){indexing_hint(daemon.status)}")
    return ExplainAnswer(file=rel, line=line, column=column, symbol=sir_view(rec),
                       enclosing=[search_match(r) for r in around],
                       hover_markdown=hover_markdown(rec))


def register(server: MCPServer[App], app: App) -> None:
    @server.tool(name="aether_symbol_lookup", annotations=READ_ONLY)
    async def aether_symbol_lookup(
        ctx: Context,
        name: Annotated[str | None, Field(
            default=None, max_length=1024,
            description="Bare or qualified name, e.g. `send` or `Session.send`")] = None,
        path: FilePath = None,
        kind: Annotated[str | None, Field(
            default=None, max_length=64,
            description="Only this kind, e.g. function, method, class")] = None,
        limit: Limit = 20,
        detail: Detail = "brief",
        cursor: Cursor = None,
    ) -> Annotated[CallToolResult, LookupAnswer]:
        """Use when you know a name or a file: exact qualified name, then exact name, then
        substring; `path` alone lists a file's symbols in line order. Returns matches
        (symbol_id, location, sir_status, one-line summary)."""
        return answer(await symbol_lookup(app, ctx, name, path, kind, limit, detail=detail,
                                          cursor=cursor), detail=detail)

    @server.tool(name="aether_get_sir", annotations=READ_ONLY)
    async def aether_get_sir(ctx: Context, symbol_id: SymbolId = None,
                             qualified_name: QualifiedName = None, file: FilePath = None,
                             line: Line = None,
                             detail: Detail = "full") -> Annotated[CallToolResult, SirAnswer]:
        """Use to understand one symbol before opening its file. Returns its SIR (intent,
        inputs, outputs, side effects, errors), sir_status, a `warning` if stale, and for a
        model's SIR its `verification` against the code."""
        view = await get_sir(app, ctx, symbol_id, qualified_name, file, line)
        return answer(view, detail=detail, brief_exclude=SIR_BRIEF)

    @server.tool(name="aether_explain", annotations=READ_ONLY)
    async def aether_explain(
        ctx: Context,
        file: Annotated[str, Field(min_length=1, max_length=4096,
                                   description="Workspace-relative path, e.g. `pkg/api.py`")],
        line: Annotated[int, Field(ge=1, le=MAX_LINE, description="1-based line")],
        column: Annotated[int | None, Field(default=None, ge=1, le=MAX_LINE,
                                            description="1-based")] = None,
        detail: Detail = "full",
    ) -> Annotated[CallToolResult, ExplainAnswer]:
        """Use when you have a file position: the innermost symbol there with its SIR and
        status, the symbols around it, and the editor hover Markdown."""
        view = await explain(app, ctx, file, line, column)
        return answer(view, detail=detail, brief_exclude=SIR_BRIEF)
