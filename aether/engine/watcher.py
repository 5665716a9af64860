"""File watching with `watchfiles`: debounced, batched, ignore rules applied.

A `git checkout` touching 500 files arrives as one batch (watchfiles groups events until
`step` ms pass without a new one, up to `debounce` ms), so it costs one index pass.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Callable
from pathlib import Path

import watchfiles

from aether.store.records import one_line
from aether.symbols.languages import language_for_path
from aether.workspace import IgnoreRules

log = logging.getLogger("aether.watcher")

# Changes to these mean the set of indexable files may have changed: reconcile everything.
RULE_FILES = {".gitignore", ".aetherignore"}
MAX_RESTARTS = 5  # within RESTART_WINDOW_S; then the watcher is reported down
RESTART_WINDOW_S = 60.0
BatchFn = Callable[[list[str] | None], None]  # relative paths, or None for "reconcile all"


class Watcher:
    def __init__(self, root: Path, excludes: list[str], on_batch: BatchFn, *,
                 step_ms: int = 50, debounce_ms: int = 1600) -> None:
        self.root = root
        self.excludes = excludes
        self.on_batch = on_batch
        self.step_ms = step_ms
        self.debounce_ms = debounce_ms
        self.running = False
        self.batches = 0
        self.restarts = 0
        self._stop = asyncio.Event()

    def _filter(self, change: watchfiles.Change, path: str) -> bool:
        name = os.path.basename(path)
        if name in RULE_FILES:
            return True
        if f"{os.sep}.aether{os.sep}" in path or f"{os.sep}.git{os.sep}" in path:
            return False
        # Folders have no extension: a deleted one took its files along, and a new one may
        # already hold files created before the OS watch on it existed (inotify's race).
        return (language_for_path(name) is not None or change == watchfiles.Change.deleted
                or (change == watchfiles.Change.added and os.path.isdir(path)))

    def _classify(self, changes: set[tuple[watchfiles.Change, str]]) -> list[str] | None:
        rules = IgnoreRules(self.root, self.excludes)
        rels: set[str] = set()
        for change, path in changes:
            try:
                rel = Path(path).resolve().relative_to(self.root).as_posix()
            except ValueError:
                continue
            name = os.path.basename(rel)
            if name in RULE_FILES:
                return None
            if language_for_path(name) is None:
                if change == watchfiles.Change.deleted or Path(path).is_dir():
                    return None  # a folder came or went: reconcile what is on disk
                continue
            if not rules.ignored(rel):
                rels.add(rel)
            elif change == watchfiles.Change.deleted:
                rels.add(rel)  # harmless: the indexer drops what is gone or ignored
        return sorted(rels)

    async def run(self) -> None:
        """Watch until stopped. watchfiles gives up on an event it cannot decode (a file
        name that is not UTF-8 raises an internal error): the watch is then restarted and
        the whole workspace reconciled, since that batch's events are lost. Restarts are
        bounded, so a watcher that keeps failing is reported down, not spun."""
        failures: list[float] = []
        while not self._stop.is_set():
            try:
                await self._run_once()
                return
            except Exception as exc:
                now = time.monotonic()
                failures = [t for t in failures if now - t < RESTART_WINDOW_S] + [now]
                if len(failures) > MAX_RESTARTS:
                    raise
                self.restarts += 1
                log.warning("file watcher failed (%s); restarting and reconciling",
                            one_line(str(exc)))
                self.on_batch(None)
                await asyncio.sleep(0.2)

    async def _run_once(self) -> None:
        self.running = True
        try:
            async for changes in watchfiles.awatch(
                self.root, watch_filter=self._filter, step=self.step_ms,
                debounce=self.debounce_ms, stop_event=self._stop, recursive=True,
                ignore_permission_denied=True,
            ):
                batch = self._classify(changes)
                if batch is None or batch:
                    self.batches += 1
                    log.info("watch batch: %s", "reconcile all" if batch is None
                             else f"{len(batch)} file(s)")
                    self.on_batch(batch)
        finally:
            self.running = False

    def stop(self) -> None:
        self._stop.set()
