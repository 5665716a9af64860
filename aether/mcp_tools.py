"""The tools of `aether mcp`: thin functions over the daemon, the engine and `aether.present`.

Each tool reads the store (never waits on indexing or inference, except `aether_refresh` and
`aether_status(wait_s=...)`, whose waits are bounded) and returns a pydantic view from
`aether.present`, so clients get an `outputSchema` and a JSON text rendering.
Anticipated failures (unknown or ambiguous symbol, a path outside the workspace, bad argument
combinations) raise `ToolError`: the client sees `isError` with a plain message and the server
keeps serving.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated

from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError
from pydantic import Field

from aether.engine.daemon import Daemon, DaemonStatus
from aether.engine.engine import AmbiguousTarget, Engine, UnknownTarget
from aether.present import (
    ExplainView,
    LiveStatusView,
    LookupView,
    RefreshView,
    SearchView,
    SirView,
    daemon_view,
    hover_markdown,
    refresh_view,
    search_match,
    sir_view,
)
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
SymbolId = Annotated[str | None, Field(
    default=None, max_length=64, description="A symbol id (32 hex digits, from other results)")]
QualifiedName = Annotated[str | None, Field(
    default=None, max_length=1024,
    description="A qualified name such as `Session.send`, or a bare name if it is unique")]
FilePath = Annotated[str | None, Field(
    default=None, max_length=4096,
    description="A workspace-relative path (absolute paths inside the workspace work too)")]
Line = Annotated[int | None, Field(default=None, ge=1, description="1-based line number")]
WaitS = Annotated[float, Field(
    ge=0, le=MAX_WAIT_S, description="Wait up to this many seconds for indexing to go idle")]


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
    except (UnknownTarget, PathOutsideWorkspace) as exc:
        raise ToolError(str(exc)) from None
    except StoreError as exc:
        raise ToolError(f"the AETHER database cannot be read: {exc}") from None


def ambiguous_message(lead: str, candidates: list[SymbolRecord]) -> str:
    listed = "\n".join(f"- {c.qualified_name} ({c.kind}) at {c.file_path}:{c.start_line}, "
                       f"symbol_id {c.id}" for c in candidates[:20])
    more = f"\n… and {len(candidates) - 20} more" if len(candidates) > 20 else ""
    return f"{lead}\nPass one of these as symbol_id or qualified_name:\n{listed}{more}"


def indexing_hint(status: DaemonStatus) -> str:
    if status.state == "indexing" or status.state == "starting":
        return (f" (indexing is still running: {status.files_done}/{status.files_total} "
                "files; try again shortly or call aether_status with wait_s)")
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
    rel = workspace_path(engine, file)
    rec = await engine.store.symbol_at(rel, line)
    if rec is None:
        raise ToolError(f"no symbol encloses {rel}:{line}{indexing_hint(daemon.status)}")
    return rec


# ---------------------------------------------------------------------------- tools


async def aether_status(app: App, ctx: Context, wait_s: float = 0.0) -> LiveStatusView:
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


async def aether_symbol_lookup(app: App, ctx: Context, name: str | None, path: str | None,
                               kind: str | None, limit: int) -> LookupView:
    daemon, engine = app.live()
    await report_indexing(ctx, daemon.status, [0.0])
    if name is None and path is None:
        raise ToolError("pass a name, a path, or both")
    if name is not None and not name.strip():
        raise ToolError("name is empty")
    with tool_errors():
        rel = workspace_path(engine, path) if path is not None else None
        found: list[SymbolRecord]
        how = "none"
        if rel is not None:
            in_file = await engine.store.symbols_in_file(rel)
            if name is None:
                found, how = in_file, "file"
            else:
                q = name.strip()
                found, how = [r for r in in_file if r.qualified_name == q], "qualified_name"
                if not found:
                    found, how = [r for r in in_file if r.name == q], "name"
                if not found:
                    low = q.lower()
                    found = [r for r in in_file if low in r.qualified_name.lower()]
                    how = "substring"
        else:
            assert name is not None
            q = name.strip()
            found, how = await engine.store.symbols_by_qualified_name(q), "qualified_name"
            if not found:
                found, how = await engine.store.symbols_by_name(q, MAX_LIMIT + 1), "name"
            if not found:
                found, how = await engine.store.search_like(q, MAX_LIMIT + 1), "substring"
    if kind is not None:
        found = [r for r in found if r.kind == kind]
    note = None
    if not found:
        how = "none"
        what = " ".join(p for p in (f"named {name!r}" if name else "",
                                    f"of kind {kind!r}" if kind else "",
                                    f"in {rel}" if rel else "") if p)
        note = f"no symbol {what} is indexed{indexing_hint(daemon.status)}"
    return LookupView(name=name, path=rel, kind=kind, match=how,  # type: ignore[arg-type]
                      result_count=min(len(found), limit), truncated=len(found) > limit,
                      matches=[search_match(r) for r in found[:limit]], note=note)


async def aether_search(app: App, ctx: Context, query: str, limit: int,
                        mode: str) -> SearchView:
    daemon, engine = app.live()
    await report_indexing(ctx, daemon.status, [0.0])
    with tool_errors():
        outcome = await engine.search(query, limit, mode)
    return SearchView(
        query=outcome.query, limit=outcome.limit, mode_requested=outcome.mode_requested,
        mode_used=outcome.mode_used, fallback_reason=outcome.fallback_reason,
        result_count=len(outcome.records), matches=[search_match(r) for r in outcome.records])


async def aether_get_sir(app: App, ctx: Context, symbol_id: str | None,
                         qualified_name: str | None, file: str | None,
                         line: int | None) -> SirView:
    daemon, engine = app.live()
    await report_indexing(ctx, daemon.status, [0.0])
    with tool_errors():
        rec = await resolve_one(engine, daemon, symbol_id, qualified_name, file, line)
    return sir_view(rec)


async def aether_explain(app: App, ctx: Context, file: str, line: int,
                         column: int | None) -> ExplainView:
    daemon, engine = app.live()
    await report_indexing(ctx, daemon.status, [0.0])
    with tool_errors():
        rel = workspace_path(engine, file)
        records = await engine.store.symbols_in_file(rel)
    rec, around = innermost(records, line, column)
    if rec is None:
        where = f"{rel}:{line}" + (f":{column}" if column is not None else "")
        reason = ("the file is not indexed" if not records
                  else "module-level code, a comment or a blank line")
        raise ToolError(f"no symbol encloses {where} ({reason}){indexing_hint(daemon.status)}")
    return ExplainView(file=rel, line=line, column=column, symbol=sir_view(rec),
                       enclosing=[search_match(r) for r in around],
                       hover_markdown=hover_markdown(rec))


async def aether_refresh(app: App, ctx: Context, symbol_id: str | None,
                         qualified_name: str | None, file: str | None, line: int | None,
                         wait_s: float) -> RefreshView:
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
    total = float(len(ids))
    await ctx.report_progress(0.0, total, f"refreshing {len(ids)} summar"
                              + ("y" if len(ids) == 1 else "ies"))
    # Daemon.refresh bounds the wait and shields the attempt: cancelling this call (client
    # gone, shutdown) stops the waiting, not the work.
    task = asyncio.create_task(daemon.refresh(ids, wait_s=wait_s))
    done_before = 0
    try:
        while not task.done():
            await asyncio.wait({task}, timeout=POLL_S)
            if task.done() or len(ids) == 1:
                continue
            with tool_errors():
                now = [await engine.store.symbol(sid) for sid in ids]
            finished = sum(r is not None and r.last_attempt_at != before[r.id] for r in now)
            if finished > done_before:
                done_before = finished
                await ctx.report_progress(float(finished), total,
                                          f"{finished}/{len(ids)} summaries attempted")
        with tool_errors():
            records = task.result()
    finally:
        if not task.done():
            task.cancel()
    completed = all(r.last_attempt_at != before.get(r.id) for r in records)
    finished = sum(r.last_attempt_at != before.get(r.id) for r in records)
    await ctx.report_progress(float(max(finished, done_before)), total,
                              "done" if completed else "still running in the background")
    return refresh_view(records, len(ids), completed)

