"""`aether_status`: counts, health, guard counters and the daemon's live state."""

from __future__ import annotations

import asyncio

from mcp.server import MCPServer
from mcp.server.mcpserver import Context

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


async def status(app: App, ctx: Context, wait_s: float = 0.0) -> LiveStatusView:
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
    return LiveStatusView.model_validate(
        {**view.model_dump(), "daemon": daemon_view(daemon.status)})


def register(server: MCPServer[App], app: App) -> None:
    @server.tool(name="aether_status", annotations=READ_ONLY)
    async def aether_status(ctx: Context, wait_s: WaitS = 0.0) -> LiveStatusView:
        """Index counts (files, symbols, SIRs ok/stale/pending), provider and model, guard
        counters (requests, retries, throttling, circuit state), health with reasons, and the
        daemon's live state (`daemon.state` indexing/idle, files_done/files_total,
        sirs_done/sirs_total), today's provider spend with what is left of each cap
        (`spend`; `spend.cap_reached` names a cap holding requests back and when it resets),
        and how many model SIRs make claims not found in the code (`unverified_count`).
        `wait_s` > 0 waits up to that many seconds for indexing to finish (progress
        notifications meanwhile if you pass a progressToken)."""
        return await status(app, ctx, wait_s)
