"""`aether mcp`: the MCP server AI agents start over stdio. A thin adapter (the SDK's
`MCPServer`) over the daemon (engine + background indexing) and `aether.present`.

Contract (tool names and result fields are stable; fields are only ever added). Every result
carries `schema_version`, is structured (each tool publishes an `outputSchema`) and comes as
JSON text too. Paths are workspace-relative; one outside the workspace (`../`, absolute,
through a symlink) is refused unread. Bad arguments, unknown or ambiguous symbols are tool
errors (`isError`), never a crash.

- `aether_status(wait_s=0)` -> LiveStatusView: the `status --json` fields (counts, provider,
  model, guard counters, health, writer) plus `daemon` (state, role, files_done/total,
  sirs_done/total, circuit, ...). With `wait_s` it waits (bounded) for indexing to go idle.
- `aether_symbol_lookup(name?, path?, kind?, limit=20)` -> LookupView: exact qualified name,
  then exact name, then substring; or every symbol of `path`.
- `aether_search(query, limit=20, mode="lexical")` -> SearchView (as `search --json`).
- `aether_get_sir(symbol_id | qualified_name | file+line)` -> SirView (SIR, sir_status,
  last_error, last_attempt_at, provider, model, updated_at, warning when stale).
- `aether_explain(file, line, column?)` -> ExplainView: the innermost symbol there, its
  SirView, the symbols around it and the hover Markdown.
- `aether_refresh(symbol_id | qualified_name | file+line | file, wait_s=15)` -> RefreshView:
  new SIR attempts now; answers within `wait_s` whether they finished or not.

Progress: a call that carries a progressToken gets `notifications/progress` about indexing
while a pass runs, and about the attempts during `aether_refresh`.
Lifecycle: stdout carries only protocol messages (logs: stderr and `.aether/logs/`); stdin
EOF, SIGTERM or SIGINT stop the daemon (in-flight writes complete or roll back) and exit 0.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import sys
import threading
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Annotated, Any, BinaryIO, Literal

import anyio
from mcp.server import MCPServer
from mcp.server.mcpserver import Context
from mcp.server.stdio import stdio_server
from mcp.types import ToolAnnotations
from pydantic import Field

from aether import __version__
from aether import mcp_tools as tools
from aether.config import ConfigError, Settings, load_settings
from aether.engine.daemon import Daemon
from aether.logs import setup_logging
from aether.mcp_tools import App, FilePath, Line, QualifiedName, SymbolId, WaitS
from aether.present import (
    ExplainView,
    LiveStatusView,
    LookupView,
    RefreshView,
    SearchView,
    SirView,
)

log = logging.getLogger("aether.mcp")

LINE_LIMIT = 64 * 1024 * 1024  # one JSON-RPC message per line
READ_CHUNK = 64 * 1024

INSTRUCTIONS = """\
AETHER keeps a structured summary (SIR: intent, inputs, outputs, side effects, dependencies,
error modes, confidence) of every function, method and class in this repository.
Find symbols with aether_search (ranked, words or names) or aether_symbol_lookup (exact names,
or every symbol of a file); read one with aether_get_sir, or ask what is at a file position
with aether_explain. A result whose sir_status is "stale" or "pending" carries a `warning`:
quote it rather than trusting the summary blindly, and call aether_refresh to try again.
aether_status says whether indexing is still running and whether the provider is healthy.
All paths are relative to the workspace root."""

READ_ONLY = ToolAnnotations(read_only_hint=True, destructive_hint=False, idempotent_hint=True,
                            open_world_hint=False)
REFRESH = ToolAnnotations(read_only_hint=False, destructive_hint=False, idempotent_hint=True,
                          open_world_hint=True)

Limit = Annotated[int, Field(ge=1, le=tools.MAX_LIMIT, description="Most results to return")]


def build_server(app: App) -> MCPServer[App]:
    """The MCP server over `app` (whose daemon `serve` starts); its lifespan stops the
    daemon when the connection ends."""

    @contextlib.asynccontextmanager
    async def lifespan(_: MCPServer[App]) -> AsyncIterator[App]:
        try:
            yield app
        finally:
            with anyio.CancelScope(shield=True):
                await app.close()

    server: MCPServer[App] = MCPServer(
        "aether", version=__version__, instructions=INSTRUCTIONS, lifespan=lifespan,
        log_level="WARNING")

    @server.tool(name="aether_status", annotations=READ_ONLY)
    async def aether_status(ctx: Context, wait_s: WaitS = 0.0) -> LiveStatusView:
        """Index counts (files, symbols, SIRs ok/stale/pending), provider and model, guard
        counters (requests, retries, throttling, circuit state), health with reasons, and the
        daemon's live state (`daemon.state` indexing/idle, files_done/files_total,
        sirs_done/sirs_total). `wait_s` > 0 waits up to that many seconds for indexing to
        finish (progress notifications meanwhile if you pass a progressToken)."""
        return await tools.aether_status(app, ctx, wait_s)

    @server.tool(name="aether_symbol_lookup", annotations=READ_ONLY)
    async def aether_symbol_lookup(
        ctx: Context,
        name: Annotated[str | None, Field(
            default=None, max_length=1024,
            description="Bare (`send`) or qualified (`Session.send`) name")] = None,
        path: FilePath = None,
        kind: Annotated[str | None, Field(
            default=None, max_length=64,
            description="Only this kind: function, method, class, struct, enum, trait, "
                        "interface, type_alias")] = None,
        limit: Limit = 20,
    ) -> LookupView:
        """Find symbols by exact qualified name, then exact name, then substring of the
        qualified name or path (lexical, no ranking); with `path` alone, every symbol in that
        file in line order. Each match has its symbol_id, location, sir_status and one-line
        summary."""
        return await tools.aether_symbol_lookup(app, ctx, name, path, kind, limit)

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
        return await tools.aether_search(app, ctx, query, limit, mode)

    @server.tool(name="aether_get_sir", annotations=READ_ONLY)
    async def aether_get_sir(ctx: Context, symbol_id: SymbolId = None,
                             qualified_name: QualifiedName = None, file: FilePath = None,
                             line: Line = None) -> SirView:
        """One symbol's SIR, chosen by exactly one of: symbol_id, qualified_name, or
        file + line (the innermost symbol enclosing that line). Includes sir_status
        (ok | stale | pending), last_error, last_attempt_at, provider, model, updated_at, and
        a plain-language `warning` whenever the summary may be out of date."""
        return await tools.aether_get_sir(app, ctx, symbol_id, qualified_name, file, line)

    @server.tool(name="aether_explain", annotations=READ_ONLY)
    async def aether_explain(
        ctx: Context,
        file: Annotated[str, Field(min_length=1, max_length=4096,
                                   description="Workspace-relative path")],
        line: Annotated[int, Field(ge=1, description="1-based line")],
        column: Annotated[int | None, Field(default=None, ge=1,
                                            description="1-based column")] = None,
    ) -> ExplainView:
        """What is at this position: the innermost symbol, its SIR and status, the symbols
        around it (outermost first), and the Markdown an editor hover would show (with a
        stale banner first when the summary may be out of date)."""
        return await tools.aether_explain(app, ctx, file, line, column)

    @server.tool(name="aether_refresh", annotations=REFRESH)
    async def aether_refresh(
        ctx: Context, symbol_id: SymbolId = None, qualified_name: QualifiedName = None,
        file: FilePath = None, line: Line = None,
        wait_s: Annotated[float, Field(
            ge=0, le=tools.MAX_WAIT_S,
            description="Longest to wait for the attempts")] = tools.DEFAULT_REFRESH_WAIT_S,
    ) -> RefreshView:
        """Ask for a new SIR now for one symbol (symbol_id, qualified_name, or file + line)
        or for every symbol of a file (file alone). Waits at most `wait_s`; returns each
        symbol's resulting status (ok, or stale with last_error) and whether every attempt
        finished (`completed`); unfinished ones carry on in the background."""
        return await tools.aether_refresh(app, ctx, symbol_id, qualified_name, file, line,
                                          wait_s)

    return server


# ---------------------------------------------------------------------------- stdio


class ProtocolIn:
    """Lines from the client's stdin, read by a daemon thread that is never joined: the SDK's
    own stdin reader is a worker thread that cannot be cancelled, so SIGTERM with the pipe
    still open would hang the process on exit (written by hand for that reason)."""

    def __init__(self, stream: BinaryIO) -> None:
        self._stream = stream
        self._reader = asyncio.StreamReader(limit=LINE_LIMIT)
        self._loop = asyncio.get_running_loop()
        threading.Thread(target=self._pump, name="aether-mcp-stdin", daemon=True).start()

    def _pump(self) -> None:
        while True:
            try:
                chunk = os.read(self._stream.fileno(), READ_CHUNK)
            except (OSError, ValueError):
                chunk = b""
            try:
                if not chunk:
                    self._loop.call_soon_threadsafe(self._reader.feed_eof)
                    return
                self._loop.call_soon_threadsafe(self._reader.feed_data, chunk)
            except RuntimeError:  # the loop is closed: the server is gone
                return

    def __aiter__(self) -> ProtocolIn:
        return self

    async def __anext__(self) -> str:
        try:
            line = await self._reader.readline()
        except (ValueError, asyncio.LimitOverrunError):
            log.error("a message longer than %d bytes; closing the connection", LINE_LIMIT)
            raise StopAsyncIteration from None
        if not line:
            raise StopAsyncIteration
        return line.decode("utf-8", errors="replace")


class ProtocolOut:
    """The client's stdout. Writes are synchronous: messages are small and a client reads
    its pipe continuously, and a thread hop per message would cost more than it saves."""

    def __init__(self, stream: BinaryIO) -> None:
        self._stream = stream
        self._gone = False

    async def write(self, text: str) -> None:
        if not self._gone:
            try:
                self._stream.write(text.encode("utf-8"))
            except (BrokenPipeError, ValueError):  # the client went away: stdin EOF follows
                self._gone = True

    async def flush(self) -> None:
        if not self._gone:
            try:
                self._stream.flush()
            except (BrokenPipeError, ValueError):
                self._gone = True


def claim_stdio() -> tuple[BinaryIO, BinaryIO]:
    """Keep the real stdin/stdout for the protocol alone: fd 1 (and `sys.stdout`) then point
    at stderr and fd 0 at the null device, so a stray print or a child process can never
    corrupt the stream or steal its input."""
    sys.stdout.flush()
    proto_in, proto_out = os.dup(0), os.dup(1)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)
    return os.fdopen(proto_in, "rb", buffering=0), os.fdopen(proto_out, "wb")


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
    return settings


async def serve(workspace: str, overrides: dict[str, Any], stdin: BinaryIO, stdout: BinaryIO,
                *, verbose: bool = False) -> int:
    """Start the daemon (indexing in the background), serve MCP until stdin EOF, SIGTERM or
    SIGINT, then stop the daemon. A configuration or store problem does not end the process:
    every tool answers with it, so the agent can tell the user."""
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
    server = build_server(app)

    async def run_server() -> None:
        async with stdio_server(ProtocolIn(stdin), ProtocolOut(stdout)) as (read, write):  # type: ignore[arg-type]
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
