"""The MCP server: the SDK's `MCPServer` with one module per group of tools registered on it,
and the stdio loop that serves it until stdin EOF or a signal."""

from __future__ import annotations

import asyncio
import contextlib
import difflib
import logging
import signal
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, BinaryIO

import anyio
from mcp.server import MCPServer
from mcp.server.mcpserver.exceptions import ToolError, UnexpectedToolError
from mcp.server.stdio import stdio_server
from mcp.server.subscriptions import InMemorySubscriptionBus
from pydantic import ValidationError

from aether import __version__
from aether.config import ConfigError, Settings, load_settings
from aether.engine.daemon import Daemon
from aether.logs import setup_logging
from aether.mcp import (
    graph_tools,
    prompts,
    refresh_tools,
    resources,
    search_tools,
    status_tools,
    symbol_tools,
)
from aether.mcp.answers import compact_tool_schemas
from aether.mcp.app import App
from aether.mcp.instructions import build_instructions
from aether.mcp.stdio import ProtocolIn, ProtocolOut, claim_stdio

log = logging.getLogger("aether.mcp")

# Each module registers its tools; a new group of tools is a module added here.
TOOL_GROUPS = (status_tools, symbol_tools, search_tools, refresh_tools, graph_tools)


class AetherServer(MCPServer[App]):
    """The SDK's server with errors an agent can act on in one read: a misspelt tool name
    gets the names it was near, and arguments that fail validation get one line per field
    (`depth: Input should be less than or equal to 3 (got 9)`), not pydantic's report with
    its model name, error types and documentation links."""

    async def call_tool(self, name: str, arguments: dict[str, Any],
                        context: Any = None) -> Any:
        if self._tool_manager.get_tool(name) is None:
            names = [tool.name for tool in self._tool_manager.list_tools()]
            near = difflib.get_close_matches(name, names, n=3, cutoff=0.5)
            hint = f"; did you mean {' or '.join(near)}?" if near else ""
            raise ToolError(f"Unknown tool: {name}{hint} (tools: {', '.join(names)})")
        try:
            return await super().call_tool(name, arguments, context)
        except ToolError as exc:
            cause = exc.__cause__
            if isinstance(exc, UnexpectedToolError) or not isinstance(cause, ValidationError):
                raise
            raise ToolError(f"Error executing tool {name}: invalid arguments: "
                            + "; ".join(_field_error(e) for e in cause.errors())) from cause


def _field_error(error: Any) -> str:
    field = ".".join(str(part) for part in error["loc"]) or "arguments"
    value = error.get("input")
    shown = repr(value) if value is not None and len(repr(value)) <= 40 else None
    return f"{field}: {error['msg']}" + (f" (got {shown})" if shown and
                                           error["type"] != "missing" else "")


def build_server(app: App, *, compact: bool = True,
                 close_on_disconnect: bool = True) -> AetherServer:
    """The MCP server over `app` (whose daemon `serve` starts); its lifespan stops the
    daemon when the connection ends (stdio: one client, one connection; over HTTP every
    session has its own, so `close_on_disconnect=False` and the HTTP server stops it).
    `compact=False` keeps the SDK's schemas as generated (the baseline of
    `bench/mcp_tools_size.py`)."""

    @contextlib.asynccontextmanager
    async def lifespan(_: MCPServer[App]) -> AsyncIterator[App]:
        try:
            yield app
        finally:
            if close_on_disconnect:
                with anyio.CancelScope(shield=True):
                    await app.close()

    bus = InMemorySubscriptionBus()  # kept here: resources publish their updates on it
    server = AetherServer(
        "aether", version=__version__, lifespan=lifespan, log_level="WARNING",
        subscriptions=bus)
    for group in TOOL_GROUPS:
        group.register(server, app)
    resources.register(server, app, bus)
    prompts.register(server, app)
    if compact:
        compact_tool_schemas(server)
    # After registration: the instructions name only the tools this server has.
    names = {tool.name for tool in server._tool_manager.list_tools()}
    server._lowlevel_server.instructions = build_instructions(names)
    return server


def open_settings(workspace: str, overrides: dict[str, Any], *, verbose: bool) -> Settings:
    """The workspace's settings, with logging to `.aether/logs/` set up."""
    root = Path(workspace).expanduser().resolve()
    if root == root.parent:
        # Some hosts start servers with cwd "/": never index a whole file system.
        raise ConfigError(f"the workspace is the file system root ({root}); "
                          "pass --workspace with the project folder")
    settings = load_settings(root, overrides)
    key = settings.inference.api_key()
    setup_logging(settings.log_dir, level=logging.INFO if verbose else logging.WARNING,
                  secrets=[key] if key else [])
    for notice in settings.notices:  # aether_status carries the trust notice to the agent
        log.warning("%s", notice)
    return settings


async def start_app(workspace: str, overrides: dict[str, Any], *, verbose: bool) -> App:
    """The daemon started (indexing in the background), or the reason it could not start,
    which every tool then answers with, so the agent can tell the user."""
    app = App()
    daemon: Daemon | None = None
    try:
        settings = open_settings(workspace, overrides, verbose=verbose)
        daemon = Daemon(settings, command="aether mcp")
        await daemon.start()
        app.daemon = daemon
    except Exception as exc:  # every tool reports it; the process keeps serving
        app.startup_error = f"AETHER cannot start: {exc}"
        log.error("%s", app.startup_error, exc_info=not isinstance(exc, ConfigError))
        if daemon is not None:
            with contextlib.suppress(Exception):
                await daemon.stop()
    return app


async def serve(workspace: str, overrides: dict[str, Any], stdin: BinaryIO, stdout: BinaryIO,
                *, verbose: bool = False) -> int:
    """Start the daemon (indexing in the background), serve MCP until stdin EOF, SIGTERM or
    SIGINT, then stop the daemon. A configuration or store problem does not end the process:
    every tool answers with it, so the agent can tell the user."""
    app = await start_app(workspace, overrides, verbose=verbose)
    server = build_server(app)

    async def run_server() -> None:
        out = ProtocolOut(stdout)
        async with stdio_server(ProtocolIn(stdin, out.reply), out) as (read, write):  # type: ignore[arg-type]
            # run_stdio_async() takes no streams; the SDK's own Client reaches the
            # low-level server the same way.
            lowlevel = server._lowlevel_server
            await lowlevel.run(read, write, lowlevel.create_initialization_options())

    loop = asyncio.get_running_loop()
    task = asyncio.create_task(run_server(), name="aether-mcp")
    signalled = False

    def on_signal() -> None:
        nonlocal signalled
        if not signalled:  # a second signal must not interrupt the clean stop
            signalled = True
            log.info("signal received; shutting down")
            task.cancel()

    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, on_signal)
    try:
        await asyncio.wait({task})
        if not task.cancelled() and task.exception() is not None:
            log.error("MCP server failed", exc_info=task.exception())
            return 1
        return 0
    finally:
        await app.close()  # no-op when the lifespan already stopped it


def run(workspace: str, overrides: dict[str, Any], *, verbose: bool = False) -> int:
    """Serve MCP over stdio; stdout carries only the protocol."""
    proto_in, proto_out = claim_stdio()
    setup_logging(None, level=logging.INFO if verbose else logging.WARNING)
    try:
        return asyncio.run(serve(workspace, overrides, proto_in, proto_out, verbose=verbose))
    except KeyboardInterrupt:
        return 130
    finally:
        with contextlib.suppress(OSError, ValueError):
            proto_out.close()
