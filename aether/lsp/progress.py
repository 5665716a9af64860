"""Work-done progress for indexing, following the daemon's state."""

from __future__ import annotations

import asyncio
import itertools
import logging
import os
from typing import TYPE_CHECKING

from lsprotocol import types

from aether.engine.daemon import DaemonStatus

if TYPE_CHECKING:
    from aether.lsp.server import AetherServer

log = logging.getLogger("aether.lsp")


class IndexProgress:
    """Server-initiated work-done progress that follows the daemon's state: begins when a
    pass starts, reports (throttled by the daemon), ends when it is idle again. One task
    works from the latest status only, so a slow `create` round trip cannot reorder it."""

    def __init__(self, server: AetherServer) -> None:
        self.server = server
        self._latest: DaemonStatus | None = None
        self._wake = asyncio.Event()
        self._token: str | None = None
        self._last: tuple[str, int] | None = None
        self._ids = itertools.count(1)

    def update(self, status: DaemonStatus) -> None:
        self._latest = status
        self._wake.set()

    @staticmethod
    def _describe(s: DaemonStatus) -> tuple[str, int]:
        if s.sirs_total:
            return (f"{s.sirs_done}/{s.sirs_total} summaries",
                    50 + int(50 * s.sirs_done / max(1, s.sirs_total)))
        if s.files_total:
            return f"{s.files_done}/{s.files_total} files", int(50 * s.files_done / s.files_total)
        return "scanning", 0

    async def run(self) -> None:
        progress = self.server.work_done_progress
        while True:
            await self._wake.wait()
            self._wake.clear()
            s = self._latest
            if s is None or self.server.closing:
                continue
            busy = s.state == "indexing" and self.server.supports_progress
            if busy and self._token is None:
                token = f"aether-index-{os.getpid()}-{next(self._ids)}"
                try:
                    await asyncio.wait_for(progress.create_async(token), 30)
                except Exception as exc:  # the client refused or never answered
                    log.info("work-done progress unavailable: %s", exc)
                    continue
                self._token = token
                message, pct = self._describe(self._latest or s)
                self._last = (message, pct)
                progress.begin(token, types.WorkDoneProgressBegin(
                    title="AETHER indexing", message=message, percentage=pct,
                    cancellable=False))
                self._wake.set()  # re-check: the pass may have ended meanwhile
            elif busy and self._token is not None:
                described = self._describe(s)
                if described != self._last:
                    self._last = described
                    progress.report(self._token, types.WorkDoneProgressReport(
                        message=described[0], percentage=described[1]))
            elif self._token is not None:
                done = (f"{s.symbol_count} symbols, {s.sir_count} summaries"
                        + (f", {s.stale_count} stale" if s.stale_count else ""))
                progress.end(self._token, types.WorkDoneProgressEnd(message=done))
                self._token, self._last = None, None
