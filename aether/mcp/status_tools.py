"""`aether_status`: counts, health, guard counters and the daemon's live state."""

from __future__ import annotations

import asyncio
from typing import Annotated

from mcp.server import MCPServer
from mcp.server.mcpserver import Context
from mcp.types import CallToolResult

from aether.mcp.answers import Detail, Sized, answer
from aether.mcp.app import (
    POLL_S,
    READ_ONLY,
    App,
    WaitS,
    report_indexing,
    tool_errors,
)
from aether.present import (
    LiveStatusView,
    daemon_view,
)


class StatusAnswer(LiveStatusView, Sized):
    pass


# Brief status: counts, health and progress; the guard's counters and the writer on request.
STATUS_BRIEF = frozenset({"guard", "recent_errors", "writer"})


async def status(app: App, ctx: Context, wait_s: float = 0.0) -> StatusAnswer:
    daemon, engine = app.live()
    floor = [0.0]
    if wait_s > 0:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + wait_s
        while (left := deadline - loop.time()) > 0:
            if await daemon.wait_idle(min(POLL_S, left)):
                break
            await report_indexing(ctx, daemon.status, floor)
    else:
        await report_indexing(ctx, daemon.status, floor)
    with tool_errors():
        watcher_ok = daemon.status.watching if daemon.watcher is not None else None
        view = await engine.status(watcher_ok=watcher_ok)
    return StatusAnswer.model_validate(
        {**view.model_dump(), "daemon": daemon_view(daemon.status)})


def register(server: MCPServer[App], app: App) -> None:
    @server.tool(name="aether_status", annotations=READ_ONLY)
    async def aether_status(ctx: Context, wait_s: WaitS = 0.0, detail: Detail = "full",
                            ) -> Annotated[CallToolResult, StatusAnswer]:
        """Use when answers look incomplete: is indexing still running (`daemon.state`),
        counts of ok/stale/pending SIRs, provider health, today's spend and caps (`spend`);
        detail="full" adds guard counters, recent errors and the writer."""
        view = await status(app, ctx, wait_s)
        return answer(view, detail=detail, brief_exclude=STATUS_BRIEF)
