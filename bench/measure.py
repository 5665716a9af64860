"""What several benchmarks measure the same way: a process tree's peak RSS while something
runs, and whether the store has caught up with an edit."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from aether.engine.memory import tree_rss_mb

SAMPLE_S = 0.05
T = TypeVar("T")


class PeakSampler:
    """Samples the RSS of a process tree every SAMPLE_S in a thread; keeps the peak. Without
    a pid: this process's descendants (servers and their workers), this process excluded."""

    def __init__(self, pid: int | None = None) -> None:
        self.pid = pid
        self.base = tree_rss_mb() if pid is None else 0.0
        self.peak = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, tree_rss_mb(self.pid) - self.base)
            self._stop.wait(SAMPLE_S)

    def __enter__(self) -> PeakSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def stored_mtime(db: Path, rel: str) -> int | None:
    """The mtime the store recorded for a file (None: not yet, or no readable store)."""
    try:
        conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10)
        try:
            row = conn.execute("SELECT mtime_ns FROM files WHERE path = ?", (rel,)).fetchone()
        finally:
            conn.close()
    except sqlite3.Error:
        return None
    return int(row[0]) if row else None


def wait_for(check: Callable[[], T | None], limit: float = 600.0, every: float = 0.02) -> T:
    """The first truthy value of `check`, polled until `limit` seconds have passed."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(every)
    raise TimeoutError("the daemon did not catch up")
