"""What the MCP tools share: the running daemon (`App`), argument types, and the helpers
that turn engine failures into tool errors and report indexing progress."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated

from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import ToolAnnotations
from pydantic import Field

from aether.engine.daemon import Daemon, DaemonStatus
from aether.engine.engine import AmbiguousTarget, Engine, QueryTooLong, UnknownTarget
from aether.engine.search import QueryError
from aether.store.db import StoreError
from aether.store.records import SymbolRecord
from aether.workspace import PathOutsideWorkspace, resolve_in_workspace

log = logging.getLogger("aether.mcp")

STOP_GRACE_S = 2.0  # Daemon.stop: the current write finishes this long, then rolls back
MAX_WAIT_S = 60.0
DEFAULT_REFRESH_WAIT_S = 15.0
POLL_S = 0.5  # progress cadence while a tool waits
MAX_LIMIT = 200

# Argument types: the constraints become the tools' input schemas.
# How to name a symbol (symbol_id, qualified_name, or file + line) is explained once, in the
# server's instructions (`instructions.py`): each schema keeps only an example.
SymbolId = Annotated[str | None, Field(default=None, max_length=64)]
QualifiedName = Annotated[str | None, Field(default=None, max_length=1024,
                                            description="e.g. `Session.send`")]
FilePath = Annotated[str | None, Field(default=None, max_length=4096,
                                       description="e.g. `pkg/api.py`")]
MAX_LINE = 2**31 - 1  # SQLite integers stop at 2^63; no source file comes near either
Line = Annotated[int | None, Field(default=None, ge=1, le=MAX_LINE, description="1-based")]
WaitS = Annotated[float, Field(
    ge=0, le=MAX_WAIT_S, description="Seconds to wait for indexing to finish")]


@dataclass
class App:
    """What the tools share: the running daemon, or why there is none (`startup_error`)."""

    daemon: Daemon | None = None
    startup_error: str | None = None
    _stopping: asyncio.Future[None] | None = None

    async def close(self) -> None:
        """Stop the daemon once (in-flight writes complete or roll back); every caller waits
        for that one stop, and cancelling a caller does not interrupt it."""
        if self._stopping is None and self.daemon is not None:
            self._stopping = asyncio.ensure_future(self._stop(self.daemon))
        if self._stopping is not None:
            await asyncio.shield(self._stopping)

    @staticmethod
    async def _stop(daemon: Daemon) -> None:
        try:
            await daemon.stop(STOP_GRACE_S)
        except Exception:
            log.exception("the daemon did not stop cleanly")

    def live(self) -> tuple[Daemon, Engine]:
        daemon = self.daemon
        if daemon is None or daemon.engine is None:
            raise ToolError(self.startup_error or "AETHER is not running")
        return daemon, daemon.engine


# ---------------------------------------------------------------------------- helpers


@contextlib.contextmanager
def tool_errors() -> Iterator[None]:
    """Turn the engine's anticipated failures into plain tool errors."""
    try:
        yield
    except AmbiguousTarget as exc:
        raise ToolError(ambiguous_message(str(exc), exc.candidates)) from None
    except (UnknownTarget, PathOutsideWorkspace, QueryTooLong, QueryError) as exc:
        raise ToolError(str(exc)) from None
    except StoreError as exc:
        raise ToolError(f"the AETHER database cannot be read: {exc}") from None


def ambiguous_message(lead: str, candidates: list[SymbolRecord]) -> str:
    listed = "\n".join(f"- {c.qualified_name} ({c.kind}) at {c.file_path}:{c.start_line}, "
                       f"symbol_id {c.id}" for c in candidates[:20])
    more = f"\n… and {len(candidates) - 20} more" if len(candidates) > 20 else ""
    # overloads (Java's `grow(int)` and `grow()`) and namesakes in other files share their
    # qualified name: asking by it again would answer the same
    shared = len({c.qualified_name for c in candidates}) == 1
    how = "symbol_id, or file and line" if shared else "symbol_id or qualified_name"
    return f"{lead}\nPass one of these as {how}:\n{listed}{more}"


def indexing_hint(status: DaemonStatus) -> str:
    if status.state == "indexing" or status.state == "starting":
        # a pass counts its files only once it has walked the workspace: until then
        # "0/0 files" would read as an empty workspace
        done = (f"{status.files_done}/{status.files_total} files" if status.files_total
                else "scanning the workspace")
        return (f" (indexing is still running: {done}; try again shortly or call "
                "aether_status with wait_s)")
    return ""


def progress_of(status: DaemonStatus) -> tuple[float, str]:
    """Percent done of the current pass: files are the first half, summaries the second."""
    if status.sirs_total:
        return (50 + 50 * status.sirs_done / max(1, status.sirs_total),
                f"indexing: {status.sirs_done}/{status.sirs_total} summaries")
    if status.files_total:
        return (50 * status.files_done / status.files_total,
                f"indexing: {status.files_done}/{status.files_total} files")
    return 0.0, "indexing: scanning the workspace"


async def report_indexing(ctx: Context, status: DaemonStatus, floor: list[float]) -> None:
    """A progress notification about indexing, if the client asked for progress (MCP
    requires progress to increase, so never report less than before for this call)."""
    if status.state not in ("indexing", "starting"):
        return
    pct, message = progress_of(status)
    pct = max(pct, floor[0])
    floor[0] = pct
    await ctx.report_progress(pct, 100.0, message)


def workspace_path(engine: Engine, path: str) -> str:
    """A safe workspace-relative path; anything outside the workspace is refused unread."""
    return resolve_in_workspace(engine.settings.workspace, path)


def innermost(records: list[SymbolRecord], line: int,
              column: int | None) -> tuple[SymbolRecord | None, list[SymbolRecord]]:
    """The innermost symbol enclosing (line, column) and those around it, outermost first."""

    def encloses(r: SymbolRecord) -> bool:
        if not r.start_line <= line <= r.end_line:
            return False
        if column is None:
            return True
        if line == r.start_line and column < r.start_col:
            return False
        return not (line == r.end_line and column > r.end_col)

    hits = sorted((r for r in records if encloses(r)),
                  key=lambda r: (r.end_byte - r.start_byte, -r.start_byte))
    if not hits:
        return None, []
    return hits[0], list(reversed(hits[1:]))


async def resolve_one(engine: Engine, daemon: Daemon, symbol_id: str | None,
                      qualified_name: str | None, file: str | None,
                      line: int | None) -> SymbolRecord:
    """Exactly one of: symbol_id, qualified_name, or file + line."""
    given = [symbol_id is not None, qualified_name is not None,
             file is not None or line is not None]
    if sum(given) != 1:
        raise ToolError("pass exactly one of: symbol_id, qualified_name, or file + line")
    if symbol_id is not None:
        rec = await engine.store.symbol(symbol_id.strip())
        if rec is None:
            raise ToolError(f"unknown symbol id: {symbol_id}{indexing_hint(daemon.status)}")
        return rec
    if qualified_name is not None:
        if not qualified_name.strip():
            raise ToolError("qualified_name is empty")
        try:
            return await engine.resolve(qualified_name)
        except UnknownTarget as exc:
            raise ToolError(f"{exc}{indexing_hint(daemon.status)}") from None
    if file is None or line is None:
        raise ToolError("file and line go together: pass both")
    try:
        return await engine.symbol_enclosing(workspace_path(engine, file), line)
    except UnknownTarget as exc:
        raise ToolError(f"{exc}{indexing_hint(daemon.status)}") from None


# destructiveHint only means something when readOnlyHint is false (MCP spec), so read-only
# tools leave it out.
READ_ONLY = ToolAnnotations(read_only_hint=True, idempotent_hint=True, open_world_hint=False)
REFRESH = ToolAnnotations(read_only_hint=False, destructive_hint=False, idempotent_hint=True,
                          open_world_hint=True)

Limit = Annotated[int, Field(ge=1, le=MAX_LIMIT)]  # most results in one page
