"""stdio plumbing for `aether mcp`: the protocol keeps the real stdin/stdout to itself, and
a stdin reader that never holds the process open."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import sys
import threading
from collections.abc import Awaitable, Callable
from typing import Any, BinaryIO

log = logging.getLogger("aether.mcp")

LINE_LIMIT = 64 * 1024 * 1024  # one JSON-RPC message per line
READ_CHUNK = 64 * 1024
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")  # json.loads pairs the valid ones

Reply = Callable[[str], Awaitable[None]]


def _has_lone_surrogate(value: Any) -> bool:
    if isinstance(value, str):
        return _LONE_SURROGATE.search(value) is not None
    if isinstance(value, dict):
        return any(_has_lone_surrogate(k) or _has_lone_surrogate(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_lone_surrogate(v) for v in value)
    return False


def _error(msg_id: Any, code: int, message: str) -> str:
    return json.dumps({"jsonrpc": "2.0", "id": msg_id,
                       "error": {"code": code, "message": message}}) + "\n"


def _not_a_message(message: Any) -> str | None:
    """Why valid JSON is not one JSON-RPC 2.0 message, or None when it is one."""
    if isinstance(message, list):
        return ("a JSON array (a batch): MCP 2025-06-18 removed JSON-RPC batching; "
                "send one message per line")
    if not isinstance(message, dict):
        return f"a JSON {type(message).__name__}, not a JSON-RPC message object"
    if message.get("jsonrpc") != "2.0":
        return 'the message lacks "jsonrpc": "2.0"'
    if not isinstance(message.get("method"), str) and not (
            "id" in message and ("result" in message or "error" in message)):
        return 'the message is neither a request (a "method") nor a response'
    return None


def undecodable(line: str) -> str | None:
    """The JSON-RPC error answering a line the SDK would drop without a word (so the client
    would wait forever), or None when the line can go on. Three such cases: text that is not
    JSON, JSON that is not one JSON-RPC message (a batch array, a bare value, no
    `"jsonrpc": "2.0"`), and a lone UTF-16 surrogate (`"\\ud800"`), which JSON allows but
    Unicode text, and so the SDK's parser, does not."""
    if not line.strip():
        return None
    try:
        message = json.loads(line)
    except ValueError as exc:
        return _error(None, -32700, f"Parse error: {exc}")
    if (why := _not_a_message(message)) is not None:
        msg_id = message.get("id") if isinstance(message, dict) else None
        if not isinstance(msg_id, (str, int)) or isinstance(msg_id, bool):
            msg_id = None
        return _error(msg_id, -32600, f"Invalid Request: {why}")
    if not _has_lone_surrogate(message):
        return None
    msg_id = message.get("id") if isinstance(message, dict) else None
    if msg_id is None or _has_lone_surrogate(msg_id):
        log.warning("dropped a notification holding a lone UTF-16 surrogate")
        return ""  # a notification gets no answer, but is not passed on either
    return _error(msg_id, -32602, "Invalid params: the message holds a lone UTF-16 "
                  "surrogate (such as \\ud800), which is not valid Unicode text")


class ProtocolIn:
    """Lines from the client's stdin, read by a daemon thread that is never joined: the SDK's
    own stdin reader is a worker thread that cannot be cancelled, so SIGTERM with the pipe
    still open would hang the process on exit (written by hand for that reason)."""

    def __init__(self, stream: BinaryIO, reply: Reply | None = None) -> None:
        self._stream = stream
        self._reply = reply  # answers what the SDK cannot decode (see `undecodable`)
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
        while True:
            try:
                line = await self._reader.readline()
            except (ValueError, asyncio.LimitOverrunError):
                log.error("a message longer than %d bytes; closing the connection",
                          LINE_LIMIT)
                raise StopAsyncIteration from None
            if not line:
                raise StopAsyncIteration
            text = line.decode("utf-8", errors="replace")
            answer = undecodable(text) if self._reply is not None else None
            if answer is None:
                return text
            if answer and self._reply is not None:
                await self._reply(answer)


class ProtocolOut:
    """The client's stdout. Writes are synchronous: messages are small and a client reads
    its pipe continuously, and a thread hop per message would cost more than it saves."""

    def __init__(self, stream: BinaryIO, reply: Reply | None = None) -> None:
        self._stream = stream
        self._reply = reply  # answers what the SDK cannot decode (see `undecodable`)
        self._gone = False

    async def write(self, text: str) -> None:
        if not self._gone:
            try:
                self._stream.write(text.encode("utf-8"))
            except (BrokenPipeError, ValueError):  # the client went away: stdin EOF follows
                self._gone = True

    async def reply(self, text: str) -> None:
        """One whole message from outside the SDK (an answer to an undecodable line)."""
        await self.write(text)
        await self.flush()

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
