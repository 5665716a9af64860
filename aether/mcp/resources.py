"""MCP resources, for clients that attach context rather than call tools:
- `aether://status`: counts, health and the daemon's state (JSON);
- `aether://file/{+path}/outline`: a file's symbols in line order, each with its status and
  one-line intent (JSON);
- `aether://symbol/{symbol_id}`: one symbol's SIR and status (JSON).
Updates: a client that subscribes to one of these URIs (`resources/subscribe` up to MCP
2025-11-25, `subscriptions/listen` from 2026-07-28) hears `notifications/resources/updated`
when it changes: the status on every daemon state change, a symbol when its SIR or status
changes after a pass or a refresh (for symbols read or subscribed through this server, the
only ones a client can be watching)."""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

from mcp.server import MCPServer
from mcp.server.context import ServerRequestContext
from mcp.server.session import ServerSession
from mcp.server.subscriptions import ResourceUpdated, SubscriptionBus
from mcp.types import EmptyResult, SubscribeRequestParams, UnsubscribeRequestParams

from aether.engine.daemon import DaemonEvent
from aether.mcp.app import App, tool_errors, workspace_path
from aether.present import daemon_view, search_match, sir_view
from aether.store.records import SymbolRecord

log = logging.getLogger("aether.mcp")

STATUS_URI = "aether://status"
MAX_WATCHED = 1000  # symbols whose changes are announced; the oldest read drops out first


def _json(data: Any) -> str:
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False)


def symbol_uri(symbol_id: str) -> str:
    return f"aether://symbol/{symbol_id}"


def _fingerprint(rec: SymbolRecord) -> tuple[Any, ...]:
    return (rec.sir_status, rec.last_attempt_at, rec.sir_dict and _json(rec.sir_dict))


class ResourceWatch:
    """Announces resource changes on the subscription bus from the daemon's events."""

    def __init__(self, app: App, bus: SubscriptionBus) -> None:
        self._app, self._bus = app, bus
        self._seen: dict[str, tuple[Any, ...]] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        # resources/subscribe (MCP up to 2025-11-25): uri -> the sessions that asked.
        self._legacy: dict[str, set[ServerSession]] = {}

    async def subscribe(self, ctx: ServerRequestContext[Any, Any],
                        params: SubscribeRequestParams) -> EmptyResult:
        uri = str(params.uri)
        self._legacy.setdefault(uri, set()).add(ctx.session)
        daemon = self._app.daemon
        prefix = "aether://symbol/"
        if uri.startswith(prefix) and daemon is not None and daemon.engine is not None:
            rec = await daemon.engine.store.symbol(uri[len(prefix):])
            if rec is not None:
                self.read(rec)
        return EmptyResult()

    async def unsubscribe(self, ctx: ServerRequestContext[Any, Any],
                          params: UnsubscribeRequestParams) -> EmptyResult:
        self._legacy.get(str(params.uri), set()).discard(ctx.session)
        return EmptyResult()

    async def _publish(self, uri: str) -> None:
        await self._bus.publish(ResourceUpdated(uri=uri))
        for session in list(self._legacy.get(uri, ())):
            try:
                await session.send_resource_updated(uri)
            except Exception:  # that client is gone
                self._legacy[uri].discard(session)

    def read(self, rec: SymbolRecord) -> None:
        self._seen.pop(rec.id, None)
        self._seen[rec.id] = _fingerprint(rec)
        while len(self._seen) > MAX_WATCHED:
            del self._seen[next(iter(self._seen))]

    def on_event(self, event: DaemonEvent) -> None:
        if event.kind == "progress":
            return  # state changes and pass ends only: progress ticks twice a second
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # an event from a worker thread: the next one in the loop will do
            return
        task = loop.create_task(self._announce())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _announce(self) -> None:
        try:
            await self._publish(STATUS_URI)
            daemon = self._app.daemon
            if not self._seen or daemon is None or daemon.engine is None:
                return
            for rec in await daemon.engine.store.symbols(list(self._seen)):
                now = _fingerprint(rec)
                if self._seen.get(rec.id) not in (None, now):
                    self._seen[rec.id] = now
                    await self._publish(symbol_uri(rec.id))
        except Exception:  # a notification must never disturb indexing
            log.exception("could not announce resource updates")


def register(server: MCPServer[App], app: App, bus: SubscriptionBus) -> None:
    watch = ResourceWatch(app, bus)
    if app.daemon is not None:
        app.daemon.subscribe(watch.on_event)
    lowlevel = server._lowlevel_server  # MCPServer has no decorator for these two
    lowlevel.add_request_handler("resources/subscribe", SubscribeRequestParams, watch.subscribe)
    lowlevel.add_request_handler("resources/unsubscribe", UnsubscribeRequestParams,
                                 watch.unsubscribe)

    @server.resource(STATUS_URI, name="status", mime_type="application/json",
                     description="AETHER index counts, health and whether indexing is running")
    async def status() -> str:
        daemon, engine = app.live()
        with tool_errors():
            view = await engine.status()
        return _json({**view.model_dump(mode="json", exclude={"guard", "recent_errors"}),
                      "daemon": daemon_view(daemon.status).model_dump(mode="json")})

    @server.resource("aether://file/{+path}/outline", name="file_outline",
                     mime_type="application/json",
                     description="A file's symbols in line order with status and intent")
    async def outline(path: str) -> str:
        _, engine = app.live()
        with tool_errors():
            rel = workspace_path(engine, path)
            records = await engine.store.symbols_in_file(rel)
        return _json({"file": rel, "symbols": [
            search_match(r).model_dump(mode="json", exclude={"signature", "sir"})
            for r in records]})

    @server.resource("aether://symbol/{symbol_id}", name="symbol",
                     mime_type="application/json",
                     description="One symbol's SIR, sir_status and warning")
    async def symbol(symbol_id: str) -> str:
        _, engine = app.live()
        with tool_errors():
            rec = await engine.store.symbol(symbol_id.strip())
        if rec is None:
            raise ValueError(f"unknown symbol id: {symbol_id}")
        watch.read(rec)
        return _json(sir_view(rec).model_dump(mode="json"))
