"""The daemon's memory: how much it holds, what it gives back, and the ceiling it keeps.

A long-running daemon grows for reasons no Python profiler shows: SQLite's page cache fills
as edits touch new pages, and glibc keeps freed memory of every thread's arena instead of
returning it. So after each pass the daemon trims the C heap (`malloc_trim`), and above the
ceiling (`[daemon] max_memory_mb`) it sheds every cache it owns and uses one fewer parse worker
per check for the next large pass; when memory falls well below the ceiling the workers come
back one per check. If shedding cannot bring it under, `MemoryGuard.reason` says so and every
surface reports the daemon as degraded, rather than growing quietly.

The ceiling counts the whole process tree (the daemon and its parse workers), from /proc.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

REGROW_FRACTION = 0.8  # workers come back only below this share of the ceiling (hysteresis)

_libc: Any = None


def _malloc_trim() -> Any:
    global _libc
    if _libc is None:
        name = ctypes.util.find_library("c")
        try:
            lib = ctypes.CDLL(name) if name else None
            _libc = lib if lib is not None and hasattr(lib, "malloc_trim") else False
        except OSError:
            _libc = False
    return _libc or None


def trim_heap() -> bool:
    """Give freed C-heap memory back to the OS (glibc only; elsewhere a no-op). True if done."""
    lib = _malloc_trim()
    if lib is None:
        return False
    lib.malloc_trim(0)
    return True


# glibc's mallopt parameter for the size from which a block gets its own mapping.
M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD = 128 * 1024  # glibc's initial value, kept fixed


def fix_mmap_threshold() -> bool:
    """Keep blocks from 128 KiB up in their own mappings, returned to the OS when freed.

    glibc raises that threshold (up to 32 MiB) each time such a block is freed, and from
    then on big short-lived buffers (a worker's pickled results, SQLite's and numpy's
    temporaries, rows fetched in bulk) are carved from the heap, which they leave
    fragmented: ~50 MB of a cold index's writing process at 100,000 symbols. Setting the
    threshold by hand turns that adjustment off. glibc only; elsewhere a no-op (False)."""
    lib = _malloc_trim()
    if lib is None or not hasattr(lib, "mallopt"):
        return False
    return bool(lib.mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD))


def _rss_kb(pid: int) -> int:
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0
    for line in text.splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def _children(pid: int) -> list[int]:
    out: list[int] = []
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return out
    for tid in tasks:
        try:
            out.extend(int(c) for c in Path(f"/proc/{pid}/task/{tid}/children").read_text().split())
        except (OSError, ValueError):
            continue
    return out


def tree_rss_mb(pid: int | None = None) -> float:
    """Resident memory of a process and all its descendants (parse workers, the forkserver),
    in MB. 0.0 where /proc is not available."""
    root = os.getpid() if pid is None else pid
    total, todo, seen = 0, [root], set()
    while todo:
        p = todo.pop()
        if p in seen:
            continue
        seen.add(p)
        total += _rss_kb(p)
        todo.extend(_children(p))
    return total / 1024


@dataclass(slots=True)
class MemoryState:
    """What status shows about memory; persisted by the writer for `aether status`."""

    rss_mb: float = 0.0
    limit_mb: int = 0
    sheds: int = 0  # times the daemon gave back its caches because it was over the ceiling
    worker_cap: int = 0  # parse workers the next large pass may use
    over: bool = False  # still above the ceiling after shedding
    reason: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class MemoryGuard:
    """The ceiling's decisions, kept apart from /proc and caches so they can be tested alone.

    `observe(rss)` says whether to shed; after shedding, `settle(rss)` records whether it
    helped. Each over-ceiling observation lowers the worker cap by one (down to 1); each
    observation below REGROW_FRACTION of the ceiling raises it by one (up to `max_workers`).
    """

    def __init__(self, limit_mb: int, max_workers: int) -> None:
        self.max_workers = max(1, max_workers)
        self.state = MemoryState(limit_mb=limit_mb, worker_cap=self.max_workers)

    @property
    def limit_mb(self) -> int:
        return self.state.limit_mb

    def observe(self, rss_mb: float) -> bool:
        """Record a reading; True when the daemon must shed now."""
        s = self.state
        s.rss_mb = round(rss_mb, 1)
        if not s.limit_mb:
            return False
        if rss_mb > s.limit_mb:
            s.worker_cap = max(1, s.worker_cap - 1)
            return True
        if rss_mb < s.limit_mb * REGROW_FRACTION:
            s.worker_cap = min(self.max_workers, s.worker_cap + 1)
        s.over, s.reason = False, None
        return False

    def settle(self, rss_mb: float) -> None:
        """The reading after shedding: still over means say so, never grow silently."""
        s = self.state
        s.sheds += 1
        s.rss_mb = round(rss_mb, 1)
        s.over = rss_mb > s.limit_mb
        s.reason = (f"memory {rss_mb:.0f} MB is above the {s.limit_mb} MB ceiling "
                    "([daemon] max_memory_mb) after giving back caches"
                    if s.over else None)


def collect() -> None:
    """Free Python cycles, then hand the freed C heap back to the OS."""
    gc.collect()
    trim_heap()
