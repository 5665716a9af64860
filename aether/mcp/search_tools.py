"""`aether_search`: ranked search over names, paths and SIR text."""

from __future__ import annotations

from typing import Annotated, Literal

from mcp.server import MCPServer
from mcp.server.mcpserver import Context
from mcp.types import CallToolResult
from pydantic import Field

from aether.engine.search import MAX_LIMIT as SEARCH_MAX
from aether.mcp.answers import Cursor, Detail, Paged, answer, decode_cursor, page
from aether.mcp.app import (
    READ_ONLY,
    App,
    Limit,
    report_indexing,
    tool_errors,
)
from aether.present.search import RankedSearchView, search_view


class SearchAnswer(RankedSearchView, Paged):
    pass


async def search(app: App, ctx: Context, query: str, limit: int, mode: str,
                 include_tests: bool = False, *, detail: str = "brief",
                 cursor: str | None = None) -> SearchAnswer:
    daemon, engine = app.live()
    await report_indexing(ctx, daemon.status, [0.0])
    bound = {"tool": "search", "query": query, "mode": mode, "include_tests": include_tests}
    offset = decode_cursor(cursor, bound)
    with tool_errors():
        # One past the page: enough to know whether there is a next one.
        outcome = await engine.search(query, offset + limit + 1, mode,
                                      include_tests=include_tests)
    view = search_view(outcome, full=detail == "full")
    window, next_cursor = page(view.matches, offset, limit, bound)
    note = view.note
    if next_cursor is None and len(view.matches) >= SEARCH_MAX:  # said, never silently cut
        note = (f"ranking stops at the best {SEARCH_MAX} matches; narrow the query for "
                "others")
    return SearchAnswer.model_validate({
        **view.model_dump(), "limit": limit, "result_count": len(window), "matches": window,
        "next_cursor": next_cursor, "note": note})


def register(server: MCPServer[App], app: App) -> None:
    @server.tool(name="aether_search", annotations=READ_ONLY)
    async def aether_search(
        ctx: Context,
        query: Annotated[str, Field(min_length=1, max_length=1024,
                                    description="Words, names or a path fragment")],
        limit: Limit = 20,
        mode: Annotated[Literal["hybrid", "lexical", "semantic"], Field(
            description="hybrid fuses lexical and semantic (lexical until vectors are "
                        "ready)")] = "hybrid",
        include_tests: Annotated[bool, Field(
            description="Rank tests, examples and vendored code like product code")] = False,
        detail: Detail = "brief",
        cursor: Cursor = None,
    ) -> Annotated[CallToolResult, SearchAnswer]:
        """Use first to find code, instead of grep: plain words ("where are retries
        configured") or names (`HTTPAdapter.send`). Returns ranked matches (symbol_id,
        location, sir_status, one-line intent, `why`); nothing matched: `suggestions`."""
        return answer(await search(app, ctx, query, limit, mode, include_tests,
                                   detail=detail, cursor=cursor), detail=detail)
