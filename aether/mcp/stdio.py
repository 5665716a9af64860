"""stdio plumbing for `aether mcp`: the protocol keeps the real stdin/stdout to itself, and
a stdin reader that never holds the process open."""

from __future__ import annotations

import asyncio
import logging
import os
import sys
import threading
from typing import BinaryIO

log = logging.getLogger("aether.mcp")

LINE_LIMIT = 64 * 1024 * 1024  # one JSON-RPC message per line
READ_CHUNK = 64 * 1024


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
