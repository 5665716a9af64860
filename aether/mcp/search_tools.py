"""`aether_search`: ranked search over names, paths and SIR text."""

from __future__ import annotations

from typing import Annotated, Literal

from mcp.server import MCPServer
from mcp.server.mcpserver import Context
from pydantic import Field

from aether.mcp.app import (
    READ_ONLY,
    App,
    Limit,
    report_indexing,
    tool_errors,
)
from aether.present import (
    SearchView,
    search_match,
)


async def search(app: App, ctx: Context, query: str, limit: int,
                 mode: str) -> SearchView:
    daemon, engine = app.live()
    await report_indexing(ctx, daemon.status, [0.0])
    with tool_errors():
        outcome = await engine.search(query, limit, mode)
    return SearchView(
        query=outcome.query, limit=outcome.limit, mode_requested=outcome.mode_requested,
        mode_used=outcome.mode_used, fallback_reason=outcome.fallback_reason,
        result_count=len(outcome.records), matches=[search_match(r) for r in outcome.records])


def register(server: MCPServer[App], app: App) -> None:
    @server.tool(name="aether_search", annotations=READ_ONLY)
    async def aether_search(
        ctx: Context,
        query: Annotated[str, Field(min_length=1, max_length=1024,
                                    description="Words, names or a path fragment")],
        limit: Limit = 20,
        mode: Annotated[Literal["lexical", "semantic"], Field(
            description="semantic falls back to lexical when unavailable "
                        "(see fallback_reason)")] = "lexical",
    ) -> SearchView:
        """Ranked search over symbol names, paths and SIR text (what the code does). Returns
        matches with symbol_id, location, sir_status and the one-line intent."""
        return await search(app, ctx, query, limit, mode)
