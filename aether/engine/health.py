"""Health: healthy | degraded | unhealthy, always with the reasons."""

from __future__ import annotations

from typing import Any

from aether.present import HealthView
from aether.store.records import Counts


def assess(counts: Counts, recent_errors: dict[str, int], guard: dict[str, Any] | None, *,
           db_writable: bool, watcher_ok: bool | None = None,
           store_problems: list[str] | None = None, read_only: bool = False,
           memory_reason: str | None = None) -> HealthView:
    unhealthy: list[str] = list(store_problems or [])
    degraded: list[str] = []
    if read_only:
        # a read-only store (a mounted checkout, a CI cache) is served as it is, saying so
        degraded.append("read-only database: served as it is, not kept current "
                        "(use --state-dir to index elsewhere)")
    elif not db_writable:
        unhealthy.append("database is not writable")
    if guard and guard.get("circuit_state") in ("open", "half_open"):
        degraded.append(f"provider circuit is {guard['circuit_state']}")
    cap = ((guard or {}).get("spend") or {}).get("cap_reached")
    if cap:
        degraded.append(cap)
    if watcher_ok is False:
        degraded.append("file watcher is down")
    if memory_reason:
        degraded.append(memory_reason)
    if counts.stale_count:
        degraded.append(f"{counts.stale_count} stale symbol(s)")
    provider_errors = {k: v for k, v in recent_errors.items() if k not in _FILE_SKIPS}
    if provider_errors:
        listed = ", ".join(f"{k} ×{v}" for k, v in sorted(provider_errors.items()))
        degraded.append(f"recent errors: {listed}")
    if unhealthy:
        return HealthView(status="unhealthy", reasons=unhealthy + degraded)
    if degraded:
        return HealthView(status="degraded", reasons=degraded)
    return HealthView(status="healthy", reasons=[])


# Skipped files are recorded as errors but are expected in any real repository.
_FILE_SKIPS = {"file_too_large", "binary_file", "invalid_utf8", "file_unreadable",
               "invalid_file_name", "not_regular_file"}
