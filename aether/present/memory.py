"""The daemon's memory as status shows it (`aether status`, `aether_status`, `aether/status`)."""

from __future__ import annotations

from pydantic import BaseModel, Field


class MemoryView(BaseModel):
    rss_mb: float = Field(description="Resident memory of the daemon and its parse workers, MB")
    limit_mb: int = Field(description="The ceiling ([daemon] max_memory_mb); 0 = none")
    sheds: int = Field(description="Times the daemon gave back its caches above the ceiling")
    worker_cap: int = Field(description="Parse workers the next large pass may use")
    over: bool = Field(description="Still above the ceiling after giving back caches")
    reason: str | None = None
