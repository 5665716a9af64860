"""Call-graph tools: `aether_file_outline`, `aether_get_source`, `aether_callers`,
`aether_callees`, `aether_impact`, `aether_context`. Thin over `aether.engine.graph`; every
answer about edges carries `coverage` and says whether "none" means none or "cannot tell".
They follow the package's answer conventions (`aether.mcp.answers`): `detail` (brief by
default for the lists: no signatures), `size_tokens`, and `cursor` paging of the main list
(outline's symbols, callers, callees, impact's callers)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Annotated, Any, Literal

from mcp.server import MCPServer
from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import CallToolResult
from pydantic import BaseModel, Field

from aether.engine import graph
from aether.mcp.answers import Cursor, Detail, Paged, Sized, answer, decode_cursor, page
from aether.mcp.app import (
    READ_ONLY,
    App,
    FilePath,
    Limit,
    Line,
    QualifiedName,
    SymbolId,
    report_indexing,
    resolve_one,
    tool_errors,
)
from aether.present.graph import (
    CalleesView,
    CallersView,
    ContextView,
    ImpactView,
    OutlineView,
    SourceView,
)

Depth = Annotated[int, Field(ge=1, le=graph.MAX_DEPTH,
                             description="Levels to follow; 1 = direct")]
MaxTokens = Annotated[int, Field(ge=1, le=graph.MAX_TOKENS,
                                 description="Token budget of the answer")]


# Brief graph answers: every symbol without its signature (the intent says what it does).
GRAPH_BRIEF = frozenset({"signature"})


class OutlineAnswer(OutlineView, Paged):
    pass


class SourceAnswer(SourceView, Sized):
    pass


class CallersAnswer(CallersView, Paged):
    pass


class CalleesAnswer(CalleesView, Paged):
    pass


class ImpactAnswer(ImpactView, Paged):
    pass


class ContextAnswer(ContextView, Sized):
    pass


@contextlib.contextmanager
def graph_errors() -> Iterator[None]:
    with tool_errors():
        try:
            yield
        except graph.BadArgument as exc:
            raise ToolError(str(exc)) from None


def paged(view: BaseModel, field: str, shape: type[BaseModel], cursor: str | None, limit: int,
          bound: dict[str, Any], detail: Literal["brief", "full"]) -> CallToolResult:
    """The answer with one page of `view`'s list `field` and the cursor of the next."""
    window, next_cursor = page(getattr(view, field), decode_cursor(cursor, bound), limit, bound)
    result = shape.model_validate({**view.model_dump(), field: window,
                                   "next_cursor": next_cursor})
    return answer(result, detail=detail, brief_exclude=GRAPH_BRIEF)


def register(server: MCPServer[App], app: App) -> None:
    @server.tool(name="aether_file_outline", annotations=READ_ONLY)
    async def aether_file_outline(
        ctx: Context,
        file: Annotated[str, Field(min_length=1, max_length=4096,
                                   description="Workspace-relative, e.g. `pkg/api.py`")],
        limit: Limit = 100, detail: Detail = "brief", cursor: Cursor = None,
    ) -> Annotated[CallToolResult, OutlineAnswer]:
        """Use instead of reading a whole file: its symbols, nested (methods under their
        class), with kind, lines, one-line intent and sir_status."""
        daemon, engine = app.live()
        await report_indexing(ctx, daemon.status, [0.0])
        with graph_errors():
            view = await graph.outline(engine, file)
        bound = {"tool": "outline", "file": view.file_path}
        return paged(view, "symbols", OutlineAnswer, cursor, limit, bound, detail)

    @server.tool(name="aether_get_source", annotations=READ_ONLY)
    async def aether_get_source(
        ctx: Context, symbol_id: SymbolId = None, qualified_name: QualifiedName = None,
        file: FilePath = None, line: Line = None,
        context_lines: Annotated[int, Field(ge=0, le=200,
                                            description="Whole lines around the symbol")] = 0,
        max_tokens: MaxTokens = 8000, detail: Detail = "full",
    ) -> Annotated[CallToolResult, SourceAnswer]:
        """Use when the SIR is not enough: one symbol's exact source on disk now.
        `changed_since_sir` says the SIR
        describes other code; `truncated` says the source was cut to max_tokens."""
        daemon, engine = app.live()
        with graph_errors():
            record = await resolve_one(engine, daemon, symbol_id, qualified_name, file, line)
            view = await graph.source(engine, record, context_lines=context_lines,
                                      max_tokens=max_tokens)
        return answer(SourceAnswer.model_validate(view.model_dump()), detail=detail,
                      brief_exclude=GRAPH_BRIEF)

    @server.tool(name="aether_callers", annotations=READ_ONLY)
    async def aether_callers(
        ctx: Context, symbol_id: SymbolId = None, qualified_name: QualifiedName = None,
        file: FilePath = None, line: Line = None, depth: Depth = 1,
        include_references: Annotated[bool, Field(
            description="Also list sites that use it without calling it")] = False,
        limit: Limit = 50, detail: Detail = "brief", cursor: Cursor = None,
    ) -> Annotated[CallToolResult, CallersAnswer]:
        """Use before changing a symbol: who calls it, up to `depth` levels, each call site
        with provenance; `answer` is has_callers, no_callers or unknown; ambiguous sites
        listed apart; `reference_count` counts
        uses that are not calls."""
        daemon, engine = app.live()
        await report_indexing(ctx, daemon.status, [0.0])
        with graph_errors():
            graph.check_depth(depth)
            record = await resolve_one(engine, daemon, symbol_id, qualified_name, file, line)
            view = await graph.callers(engine, record, depth,
                                       include_references=include_references)
        bound = {"tool": "callers", "symbol": record.id, "depth": depth,
                 "references": include_references}
        return paged(view, "callers", CallersAnswer, cursor, limit, bound, detail)

    @server.tool(name="aether_callees", annotations=READ_ONLY)
    async def aether_callees(
        ctx: Context, symbol_id: SymbolId = None, qualified_name: QualifiedName = None,
        file: FilePath = None, line: Line = None, depth: Depth = 1, limit: Limit = 50,
        detail: Detail = "brief", cursor: Cursor = None,
    ) -> Annotated[CallToolResult, CalleesAnswer]:
        """Use to see what a symbol relies on: what it calls, up to `depth` levels, with
        provenance; ambiguous, external (`os.path.join`) and unresolved calls listed apart,
        counted in `coverage`."""
        daemon, engine = app.live()
        await report_indexing(ctx, daemon.status, [0.0])
        with graph_errors():
            graph.check_depth(depth)
            record = await resolve_one(engine, daemon, symbol_id, qualified_name, file, line)
            view = await graph.callees(engine, record, depth)
        bound = {"tool": "callees", "symbol": record.id, "depth": depth}
        return paged(view, "callees", CalleesAnswer, cursor, limit, bound, detail)

    @server.tool(name="aether_impact", annotations=READ_ONLY)
    async def aether_impact(
        ctx: Context,
        files: Annotated[list[str] | None, Field(
            default=None, max_length=200, description="Changed files")
        ] = None,
        symbols: Annotated[list[str] | None, Field(
            default=None, max_length=200,
            description="Changed symbols: ids, qualified names or path:line")] = None,
        git_ref: Annotated[str | None, Field(
            default=None, max_length=256,
            description="A git revision, e.g. `HEAD~1`: what changed since")] = None,
        depth: Depth = 2, limit: Limit = 50, detail: Detail = "brief", cursor: Cursor = None,
    ) -> Annotated[CallToolResult, ImpactAnswer]:
        """Use to review a change or a diff: from exactly one of files, symbols or
        git_ref, the changed symbols, their callers up to `depth`, and which have
        stale or pending SIRs (`needs_attention`)."""
        daemon, engine = app.live()
        await report_indexing(ctx, daemon.status, [0.0])
        with graph_errors():
            view = await graph.impact(engine, files=files or (), symbols=symbols or (),
                                      git_ref=git_ref, depth=depth)
        bound = {"tool": "impact", "files": files, "symbols": symbols, "git_ref": git_ref,
                 "depth": depth}
        return paged(view, "callers", ImpactAnswer, cursor, limit, bound, detail)

    @server.tool(name="aether_context", annotations=READ_ONLY)
    async def aether_context(
        ctx: Context, symbol_id: SymbolId = None, qualified_name: QualifiedName = None,
        file: FilePath = None, line: Line = None, max_tokens: MaxTokens = 4000,
        detail: Detail = "full",
    ) -> Annotated[CallToolResult, ContextAnswer]:
        """Use to understand one symbol in one call: its SIR and status (warning when
        stale), its source, and its direct callers and callees with one-line intents, packed
        to max_tokens."""
        daemon, engine = app.live()
        with graph_errors():
            graph.check_tokens(max_tokens)
            record = await resolve_one(engine, daemon, symbol_id, qualified_name, file, line)
            view = await graph.context(engine, record, max_tokens)
        return answer(ContextAnswer.model_validate(view.model_dump()), detail=detail,
                      brief_exclude=GRAPH_BRIEF)
