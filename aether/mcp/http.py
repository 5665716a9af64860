"""`aether mcp --http HOST:PORT`: the same tools and daemon over MCP Streamable HTTP, for
clients that cannot start a process. Loopback by default; bound to any other address it
requires a bearer token (`AETHER_MCP_TOKEN`, from the environment only, never logged), since
the answers quote the repository's code. On loopback the token is optional (required when
set), and the SDK's DNS-rebinding protection checks Host and Origin."""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import ipaddress
import logging
import os
import signal
import sys
from collections.abc import Awaitable, Callable, Iterator, MutableMapping
from typing import Any

import uvicorn

from aether.config import ConfigError
from aether.logs import setup_logging
from aether.mcp.server import build_server, start_app

log = logging.getLogger("aether.mcp")

TOKEN_ENV = "AETHER_MCP_TOKEN"
PATH = "/mcp"
STARTUP_POLLS = 200  # x 50 ms: how long uvicorn may take to bind before we give up

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


def parse_bind(text: str) -> tuple[str, int]:
    """`127.0.0.1:8765`, `localhost:0`, `[::1]:8765` -> (host, port)."""
    host, sep, port_text = text.strip().rpartition(":")
    host = host.strip("[]")
    if not sep or not host or not port_text.isdigit() or int(port_text) > 65535:
        raise ConfigError(f"--http wants HOST:PORT such as 127.0.0.1:8765, not {text!r}")
    return host, int(port_text)


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:  # a host name: it may resolve anywhere
        return False


class BearerAuth:
    """Every HTTP request must carry `Authorization: Bearer <token>` (compared in constant
    time); lifespan events pass through."""

    def __init__(self, app: ASGIApp, token: str) -> None:
        self._app = app
        self._token = token.encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            headers = dict(scope.get("headers") or [])
            given = headers.get(b"authorization", b"")
            scheme, _, value = given.partition(b" ")
            if scheme.lower() != b"bearer" or not hmac.compare_digest(value.strip(),
                                                                       self._token):
                await send({"type": "http.response.start", "status": 401, "headers": [
                    (b"content-type", b"application/json"),
                    (b"www-authenticate", b'Bearer realm="aether"')]})
                await send({"type": "http.response.body",
                            "body": b'{"error":"missing or wrong bearer token"}'})
                return
        await self._app(scope, receive, send)


class _Web(uvicorn.Server):
    """uvicorn without its own signal handling: it re-raises SIGTERM after shutting down,
    which would kill the process before the daemon stops; `serve_http` owns the signals."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


async def serve_http(workspace: str, overrides: dict[str, Any], host: str, port: int,
                     token: str | None, *, verbose: bool = False) -> int:
    """Serve until SIGINT/SIGTERM, then stop the daemon (in-flight writes complete or roll
    back) and exit 0."""
    app = await start_app(workspace, overrides, verbose=verbose)
    try:
        server = build_server(app, close_on_disconnect=False)
        asgi: ASGIApp = server.streamable_http_app(streamable_http_path=PATH, host=host)
        if token:
            asgi = BearerAuth(asgi, token)
        config = uvicorn.Config(asgi, host=host, port=port, log_level="warning",
                                access_log=False, lifespan="on")
        web = _Web(config)
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(sig, lambda: setattr(web, "should_exit", True))
        task = asyncio.create_task(web.serve(), name="aether-mcp-http")
        for _ in range(STARTUP_POLLS):
            if web.started or task.done():
                break
            await asyncio.sleep(0.05)
        if web.started:
            bound = web.servers[0].sockets[0].getsockname()[1] if web.servers else port
            # The one line a user (or a test) needs: where to point the client.
            sys.stderr.write(f"aether mcp: serving MCP at http://{_url_host(host)}:{bound}"
                             f"{PATH}{' (bearer token required)' if token else ''}\n")
            sys.stderr.flush()
        await task
        return 0 if web.started else 1
    finally:
        await app.close()


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def run_http(workspace: str, overrides: dict[str, Any], bind: str, *,
             verbose: bool = False) -> int:
    host, port = parse_bind(bind)
    token = os.environ.get(TOKEN_ENV) or None
    if not is_loopback(host) and not token:
        raise ConfigError(f"{host} is reachable from other machines: set {TOKEN_ENV} to a "
                          "secret that clients send as 'Authorization: Bearer <token>', or "
                          "bind 127.0.0.1")
    setup_logging(None, level=logging.INFO if verbose else logging.WARNING,
                  secrets=[token] if token else [])
    with contextlib.suppress(KeyboardInterrupt):
        return asyncio.run(serve_http(workspace, overrides, host, port, token,
                                      verbose=verbose))
    return 130
