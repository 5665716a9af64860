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
from aether.present.search import RankedSearchView, search_view


async def search(app: App, ctx: Context, query: str, limit: int, mode: str,
                 include_tests: bool = False) -> RankedSearchView:
    daemon, engine = app.live()
    await report_indexing(ctx, daemon.status, [0.0])
    with tool_errors():
        outcome = await engine.search(query, limit, mode, include_tests=include_tests)
    return search_view(outcome)


def register(server: MCPServer[App], app: App) -> None:
    @server.tool(name="aether_search", annotations=READ_ONLY)
    async def aether_search(
        ctx: Context,
        query: Annotated[str, Field(min_length=1, max_length=1024,
                                    description="Words, names or a path fragment")],
        limit: Limit = 20,
        mode: Annotated[Literal["hybrid", "lexical", "semantic"], Field(
            description="hybrid (default): lexical and semantic fused; semantic and hybrid "
                        "fall back to lexical while vectors are not ready (mode_used, "
                        "fallback_reason say so)")] = "hybrid",
        include_tests: Annotated[bool, Field(
            description="Rank tests, examples, vendored and generated code like product "
                        "code (by default they rank below it)")] = False,
    ) -> RankedSearchView:
        """Ranked search that answers questions: ask in plain words ("where are retries
        configured") or by name (`HTTPAdapter.send`, `parse_config`). Any word may match;
        more matching words rank higher; names, summaries (SIR) and paths all count. Each
        match has symbol_id, location, sir_status, the one-line intent, `why` it matched and
        `is_test`. Nothing matched: `suggestions` lists the nearest names."""
        return await search(app, ctx, query, limit, mode, include_tests)
