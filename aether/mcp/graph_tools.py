"""Call-graph tools: `aether_file_outline`, `aether_get_source`, `aether_callers`,
`aether_callees`, `aether_impact`, `aether_context`. Thin over `aether.engine.graph`; every
answer about edges carries `coverage` and says whether "none" means none or "cannot tell"."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Annotated

from mcp.server import MCPServer
from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError
from pydantic import Field

from aether.engine import graph
from aether.mcp.app import (
    READ_ONLY,
    App,
    FilePath,
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
                             description="How many levels to follow (1 = direct only)")]
MaxTokens = Annotated[int, Field(ge=1, le=graph.MAX_TOKENS,
                                 description="Budget for the answer, ~4 characters a token")]


@contextlib.contextmanager
def graph_errors() -> Iterator[None]:
    with tool_errors():
        try:
            yield
        except graph.BadArgument as exc:
            raise ToolError(str(exc)) from None


def register(server: MCPServer[App], app: App) -> None:
    @server.tool(name="aether_file_outline", annotations=READ_ONLY)
    async def aether_file_outline(
        ctx: Context,
        file: Annotated[str, Field(min_length=1, max_length=4096,
                                   description="Workspace-relative path")],
    ) -> OutlineView:
        """The symbols of one file, nested (methods under their class), each with kind,
        lines, signature, the SIR's intent in one line and sir_status."""
        daemon, engine = app.live()
        await report_indexing(ctx, daemon.status, [0.0])
        with graph_errors():
            return await graph.outline(engine, file)

    @server.tool(name="aether_get_source", annotations=READ_ONLY)
    async def aether_get_source(
        ctx: Context, symbol_id: SymbolId = None, qualified_name: QualifiedName = None,
        file: FilePath = None, line: Line = None,
        context_lines: Annotated[int, Field(ge=0, le=200,
                                            description="Whole lines around the symbol")] = 0,
        max_tokens: MaxTokens = 8000,
    ) -> SourceView:
        """The exact source of one symbol as it is on disk now (by symbol_id,
        qualified_name, or file + line), with its lines and byte offsets;
        `changed_since_sir` says the SIR describes other code; `truncated` says the source
        was cut to max_tokens."""
        daemon, engine = app.live()
        with graph_errors():
            record = await resolve_one(engine, daemon, symbol_id, qualified_name, file, line)
            return await graph.source(engine, record, context_lines=context_lines,
                                      max_tokens=max_tokens)

    @server.tool(name="aether_callers", annotations=READ_ONLY)
    async def aether_callers(
        ctx: Context, symbol_id: SymbolId = None, qualified_name: QualifiedName = None,
        file: FilePath = None, line: Line = None, depth: Depth = 1,
        include_references: bool = False,
    ) -> CallersView:
        """Who calls a symbol, up to `depth` levels: resolved call sites with file, line
        and provenance (local | import | unique_name), ambiguous sites listed apart, and
        `answer`: has_callers, no_callers (the graph saw every call of the name) or unknown
        (some calls of the name could not be resolved). `reference_count`: resolved sites
        that use it without calling it (passed as a value, an annotation, a base class);
        `include_references` lists them in `references`."""
        daemon, engine = app.live()
        await report_indexing(ctx, daemon.status, [0.0])
        with graph_errors():
            graph.check_depth(depth)
            record = await resolve_one(engine, daemon, symbol_id, qualified_name, file, line)
            return await graph.callers(engine, record, depth,
                                       include_references=include_references)

    @server.tool(name="aether_callees", annotations=READ_ONLY)
    async def aether_callees(
        ctx: Context, symbol_id: SymbolId = None, qualified_name: QualifiedName = None,
        file: FilePath = None, line: Line = None, depth: Depth = 1,
    ) -> CalleesView:
        """What a symbol calls, up to `depth` levels: resolved callees with provenance;
        ambiguous calls (every candidate listed), external calls (`os.path.join`, kept as
        text) and unresolved calls listed apart, with counts of each in `coverage`."""
        daemon, engine = app.live()
        await report_indexing(ctx, daemon.status, [0.0])
        with graph_errors():
            graph.check_depth(depth)
            record = await resolve_one(engine, daemon, symbol_id, qualified_name, file, line)
            return await graph.callees(engine, record, depth)

    @server.tool(name="aether_impact", annotations=READ_ONLY)
    async def aether_impact(
        ctx: Context,
        files: Annotated[list[str] | None, Field(
            default=None, max_length=200, description="Changed files (workspace-relative)")
        ] = None,
        symbols: Annotated[list[str] | None, Field(
            default=None, max_length=200,
            description="Changed symbols: ids, qualified names or path:line")] = None,
        git_ref: Annotated[str | None, Field(
            default=None, max_length=256,
            description="A git revision: the symbols changed between it and the working tree")
        ] = None,
        depth: Depth = 2,
    ) -> ImpactView:
        """What a change touches, from exactly one of: files, symbols, or git_ref (via
        `git diff`): the changed symbols, their callers up to `depth`, and which of them have
        stale, outdated or pending SIRs (`needs_attention`). For an agent about to change
        code or review a diff."""
        daemon, engine = app.live()
        await report_indexing(ctx, daemon.status, [0.0])
        with graph_errors():
            return await graph.impact(engine, files=files or (), symbols=symbols or (),
                                      git_ref=git_ref, depth=depth)

    @server.tool(name="aether_context", annotations=READ_ONLY)
    async def aether_context(
        ctx: Context, symbol_id: SymbolId = None, qualified_name: QualifiedName = None,
        file: FilePath = None, line: Line = None, max_tokens: MaxTokens = 4000,
    ) -> ContextView:
        """Everything an agent needs about one symbol in one call, packed to max_tokens:
        its SIR and status (with a warning when stale), its source, and its direct callers
        and callees with their one-line intents."""
        daemon, engine = app.live()
        with graph_errors():
            graph.check_tokens(max_tokens)
            record = await resolve_one(engine, daemon, symbol_id, qualified_name, file, line)
            return await graph.context(engine, record, max_tokens)
