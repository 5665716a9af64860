"""`aether_refresh`: new SIR attempts now, answered within `wait_s`."""

from __future__ import annotations

import asyncio
import time
from typing import Annotated

from mcp.server import MCPServer
from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import CallToolResult
from pydantic import Field

from aether.mcp.answers import Detail, Sized, answer
from aether.mcp.app import (
    DEFAULT_REFRESH_WAIT_S,
    MAX_WAIT_S,
    POLL_S,
    REFRESH,
    App,
    FilePath,
    Line,
    QualifiedName,
    SymbolId,
    indexing_hint,
    resolve_one,
    tool_errors,
    workspace_path,
)
from aether.present import (
    RefreshView,
    refresh_view,
)
from aether.store.records import utc_now


class RefreshAnswer(RefreshView, Sized):
    pass


# Brief: each symbol's outcome (status, error, intent) without its bookkeeping.
REFRESH_BRIEF = frozenset({"signature", "sir_hash", "provider", "model", "last_attempt_at",
                           "updated_at", "language"})


async def refresh(app: App, ctx: Context, symbol_id: str | None,
                  qualified_name: str | None, file: str | None, line: int | None,
                  wait_s: float) -> RefreshAnswer:
    daemon, engine = app.live()
    with tool_errors():
        if file is not None and line is None and symbol_id is None and qualified_name is None:
            rel = workspace_path(engine, file)
            targets = await engine.store.symbols_in_file(rel)
            if not targets:
                raise ToolError(f"no symbols are indexed in {rel}{indexing_hint(daemon.status)}")
        else:
            targets = [await resolve_one(engine, daemon, symbol_id, qualified_name, file, line)]
    ids = [r.id for r in targets]
    before = {r.id: r.last_attempt_at for r in targets}
    since = utc_now()
    deadline = time.monotonic() + wait_s
    total = float(len(ids))
    await ctx.report_progress(0.0, total, f"refreshing {len(ids)} summar"
                              + ("y" if len(ids) == 1 else "ies"))
    # Daemon.refresh bounds the wait and shields the attempt: cancelling this call (client
    # gone, shutdown) stops the waiting, not the work.
    task = asyncio.create_task(daemon.refresh(ids, wait_s=wait_s))
    done_before = 0
    try:
        while not task.done():
            await asyncio.wait({task}, timeout=min(POLL_S, max(0.0, deadline - time.monotonic())))
            if task.done() or len(ids) == 1:
                continue
            with tool_errors():
                finished = await engine.store.attempted_since(ids, since)
            if finished > done_before:
                done_before = finished
                await ctx.report_progress(float(finished), total,
                                          f"{finished}/{len(ids)} summaries attempted")
        with tool_errors():
            records = task.result()
    finally:
        if not task.done():
            task.cancel()
    finished = sum(r.last_attempt_at != before.get(r.id) for r in records)
    completed = finished == len(records)
    await ctx.report_progress(float(max(finished, done_before)), total,
                              "done" if completed else "still running in the background")
    return RefreshAnswer.model_validate(
        refresh_view(records, len(ids), completed, finished).model_dump())


def register(server: MCPServer[App], app: App) -> None:
    @server.tool(name="aether_refresh", annotations=REFRESH)
    async def aether_refresh(
        ctx: Context, symbol_id: SymbolId = None, qualified_name: QualifiedName = None,
        file: FilePath = None, line: Line = None,
        wait_s: Annotated[float, Field(
            ge=0, le=MAX_WAIT_S,
            description="Longest to wait for the attempts")] = DEFAULT_REFRESH_WAIT_S,
        detail: Detail = "full",
    ) -> Annotated[CallToolResult, RefreshAnswer]:
        """Use when a SIR is stale or pending and you need it now: new attempts for one
        symbol or a whole file (file alone), waiting at most wait_s. Returns each symbol's
        new status and last_error."""
        view = await refresh(app, ctx, symbol_id, qualified_name, file, line, wait_s)
        return answer(view, detail=detail, brief_exclude=REFRESH_BRIEF)
