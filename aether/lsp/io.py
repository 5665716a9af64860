"""stdio plumbing for `aether lsp`: stdout kept for the protocol alone, a stdin reader that
never holds the process open, and JSON-RPC errors for requests pygls cannot even decode.

pygls' own `start_io` reads stdin in a thread-pool thread and joins that pool on exit, so a
client that sends `exit` but keeps the pipe open would hang the process; and it owns
`asyncio.run`, so the daemon could not be stopped on stdin EOF. We drive
`pygls.io_.run_async` ourselves instead (written by hand for those two reasons).
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
import threading
from collections.abc import Generator
from typing import Any, BinaryIO

from lsprotocol import types
from pygls.exceptions import JsonRpcException, JsonRpcInvalidParams
from pygls.protocol import LanguageServerProtocol
from pygls.protocol.language_server import lsp_method

log = logging.getLogger("aether.lsp")

READ_CHUNK = 64 * 1024
HEADER_LIMIT = 1024 * 1024


def claim_stdout() -> BinaryIO:
    """Keep the real stdout for the protocol and point fd 1 (and `sys.stdout`) at stderr, so
    a stray print — ours, a library's, a child process's — can never corrupt the stream."""
    sys.stdout.flush()
    proto_fd = os.dup(1)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    return os.fdopen(proto_fd, "wb", buffering=0)


class StdinReader:
    """pygls' AsyncReader over a binary stream, fed by a daemon thread (never joined)."""

    def __init__(self, stream: BinaryIO) -> None:
        self._stream = stream
        self._reader = asyncio.StreamReader(limit=HEADER_LIMIT)
        self._loop = asyncio.get_running_loop()
        self._closed = False
        self._thread = threading.Thread(target=self._pump, name="aether-stdin", daemon=True)
        self._thread.start()

    def _pump(self) -> None:
        try:
            fd = self._stream.fileno()
        except (OSError, ValueError):
            fd = -1
        while True:
            try:
                chunk = os.read(fd, READ_CHUNK) if fd >= 0 else self._stream.read(READ_CHUNK)
            except (OSError, ValueError):
                chunk = b""
            try:
                self._loop.call_soon_threadsafe(self._feed, chunk)
            except RuntimeError:  # the loop is closed: the server is gone
                return
            if not chunk:
                return

    def _feed(self, chunk: bytes) -> None:
        if self._reader.at_eof() or self._closed:
            return
        if chunk:
            self._reader.feed_data(chunk)
        else:
            self._reader.feed_eof()

    def close(self) -> None:
        """End the stream as if stdin had closed (e.g. on SIGTERM)."""
        if not self._closed:
            self._closed = True
            self._reader.feed_eof()

    async def readline(self) -> bytes:
        try:
            return await self._reader.readline()
        except (ValueError, asyncio.LimitOverrunError):
            log.error("header line longer than %d bytes; closing the connection", HEADER_LIMIT)
            return b""

    async def readexactly(self, n: int) -> bytes:
        try:
            return await self._reader.readexactly(n)
        except asyncio.IncompleteReadError:
            return b""


class _Rejected:
    """A message that could not be decoded and has already been answered."""

    jsonrpc = "rejected"


class AetherProtocol(LanguageServerProtocol):
    """pygls drops a request whose params fail to decode without answering it, and answers
    nothing at all to a body that is not JSON or not a message; a client would wait forever.
    Answer each the way JSON-RPC 2.0 says (InvalidParams, ParseError, InvalidRequest) and
    carry on."""

    def structure_message(self, data: dict[str, Any]) -> Any:
        try:
            return super().structure_message(data)
        except JsonRpcException as exc:
            msg_id = data.get("id") if isinstance(data, dict) else None
            if msg_id is None or "method" not in data:
                raise
            cause = exc.__cause__ or exc
            method = str(data.get("method"))[:80]
            error = JsonRpcInvalidParams(f"invalid params for {method}: "
                                         f"{type(cause).__name__}").to_response_error()
            self._send_response(msg_id, error=error)
            return _Rejected()

    def _send_response(self, msg_id: Any, result: Any | None = None,
                       error: types.ResponseError | None = None) -> None:
        """Never a traceback to a client: pygls puts one in `error.data` for any unexpected
        exception. The log has it; the client gets the one-line message."""
        if error is not None and isinstance(error.data, dict) and "traceback" in error.data:
            message = " ".join(str(error.message).split())[:300]
            error = types.ResponseError(code=error.code, message=message)
        super()._send_response(msg_id, result, error)

    def reject_undecodable(self, error: ValueError) -> None:
        """A body that is not UTF-8 JSON: its id is unknowable, so the answer's is null."""
        self._send_error_without_id(types.ErrorCodes.ParseError,
                                    f"not a JSON message: {type(error).__name__}")

    def handle_message(self, message: Any) -> None:
        if isinstance(message, _Rejected):
            return
        if not hasattr(message, "jsonrpc"):  # JSON, but an array, a number, a bare string
            self._send_error_without_id(types.ErrorCodes.InvalidRequest,
                                        f"not a JSON-RPC message: a JSON {type(message).__name__}")
            return
        super().handle_message(message)

    def _send_error_without_id(self, code: int, message: str) -> None:
        # A plain dict: pygls' converter would drop the `"id": null` that JSON-RPC requires.
        self._send_data({"jsonrpc": "2.0", "id": None,
                         "error": {"code": code, "message": message}})

    @lsp_method(types.SHUTDOWN)
    def lsp_shutdown(self, *args: Any) -> Generator[Any, Any, None]:
        """pygls' own cancels the other pending requests while iterating the dict that their
        cancellation callbacks remove them from; with any request in flight (a refresh, a
        command) `shutdown` then fails and `exit` ends with code 1. Same steps, on a copy."""
        if (user_handler := self.fm.features.get(types.SHUTDOWN)) is not None:
            yield user_handler, args, None
        current_id = self.msg_id
        for msg_id, future in list(self._request_futures.items()):
            if msg_id != current_id and not future.done():
                future.cancel()
        self._shutdown = True
        return None


def show(protocol: LanguageServerProtocol, kind: types.MessageType, text: str) -> None:
    protocol.notify(types.WINDOW_SHOW_MESSAGE, types.ShowMessageParams(type=kind, message=text))
