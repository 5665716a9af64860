"""`workspace/executeCommand`: `aether.indexWorkspace`, `aether.refreshSymbol`, `aether.status`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from lsprotocol import types
from pygls.exceptions import JsonRpcInvalidParams

from aether.engine.daemon import DaemonStatus
from aether.lsp.graph_commands import refresh_code_lenses

if TYPE_CHECKING:
    from aether.lsp.server import AetherServer

CMD_INDEX = "aether.indexWorkspace"
CMD_REFRESH = "aether.refreshSymbol"
CMD_STATUS = "aether.status"
REFRESH_WAIT_S = 15.0  # aether.refreshSymbol answers within this, attempt finished or not


def status_body(status: DaemonStatus) -> dict[str, Any]:
    """The `aether/status` notification body (every DaemonStatus field)."""
    return status.to_dict()


def index_workspace(ls: AetherServer) -> dict[str, Any]:
    if ls.daemon is None:
        raise JsonRpcInvalidParams(ls.startup_error or "AETHER is not running")
    ls.daemon.request_index()
    return {"queued": True}


async def refresh_symbol(ls: AetherServer, args: list[Any]) -> dict[str, Any]:
    uri, position = _refresh_args(args)
    daemon = await ls.live()
    if daemon is None or daemon.engine is None or ls.buffers is None:
        raise JsonRpcInvalidParams(ls.startup_error or "AETHER is not running")
    snap = await ls.buffers.snapshot(ls.workspace.get_text_document(uri))
    if snap is None:
        raise JsonRpcInvalidParams(f"AETHER does not index {uri}")
    symbol = snap.symbol_at(position, ls.workspace.position_codec)
    if symbol is None:
        raise JsonRpcInvalidParams("no symbol at this position")
    if await daemon.engine.store.symbol(symbol.id) is None:
        raise JsonRpcInvalidParams(
            f"{symbol.qualified_name} is not indexed yet: save the file first")
    found = await daemon.refresh([symbol.id], wait_s=REFRESH_WAIT_S)
    if not found:
        raise JsonRpcInvalidParams(f"{symbol.qualified_name} was removed meanwhile")
    rec = found[0]
    refresh_code_lenses(ls)  # the lens above it shows the new SIR state
    return {"symbol_id": rec.id, "qualified_name": rec.qualified_name,
            "sir_status": rec.sir_status, "stale_reason": rec.stale_reason,
            "last_error": rec.last_error, "last_attempt_at": rec.last_attempt_at}


async def status(ls: AetherServer) -> dict[str, Any]:
    await ls.live()
    daemon = ls.daemon
    status = daemon.status if daemon is not None else DaemonStatus(
        state="error", message=ls.startup_error)
    body = status_body(status)
    body["workspace"] = str(ls.settings.workspace) if ls.settings else None
    body["db_path"] = str(ls.settings.db_path) if ls.settings else None
    if daemon is not None and daemon.engine is not None:
        # health with its reasons (a damaged, deleted or read-only store says so here too)
        view = await daemon.engine.status(watcher_ok=daemon.status.watching or None)
        body["health"] = view.health.model_dump()
        body["read_only"] = view.read_only
    return body


def _refresh_args(args: list[Any]) -> tuple[str, types.Position]:
    """`[{"uri": str, "position": {"line": int, "character": int}}]`, strictly."""
    try:
        (arg,) = args
        uri = arg["uri"]
        line, character = arg["position"]["line"], arg["position"]["character"]
        if not isinstance(uri, str) or not all(
                isinstance(v, int) and not isinstance(v, bool) and v >= 0
                for v in (line, character)):
            raise TypeError
    except (TypeError, KeyError, ValueError):
        raise JsonRpcInvalidParams(
            f'{CMD_REFRESH} takes [{{"uri": str, "position": {{"line": int, '
            f'"character": int}}}}]') from None
    return uri, types.Position(line=line, character=character)
