"""The JSON envelopes every surface returns (CLI `--json`, MCP tools): pydantic views over
store records. Fields are only ever added; `schema_version` is in every envelope."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from aether.present.memory import MemoryView
from aether.store.records import SymbolRecord, one_line

SCHEMA_VERSION = 1


class SirView(BaseModel):
    schema_version: int = SCHEMA_VERSION
    symbol_id: str
    qualified_name: str
    kind: str
    file_path: str
    language: str
    start_line: int
    end_line: int
    # Fields with defaults may be left out of an MCP answer with detail="brief".
    signature: str = ""
    sir: dict[str, Any] | None = Field(default=None,
                                       description="The SIR object, or null if none yet")
    sir_status: Literal["ok", "stale", "pending"]
    stale_reason: Literal["failed", "outdated", "model_changed"] | None = None
    last_error: str | None = None
    last_attempt_at: str | None = None
    sir_hash: str | None = None
    provider: str | None = None
    model: str | None = None
    updated_at: str | None = None
    warning: str | None = Field(default=None, description="Plain-language warning when stale")
    prompt_version: str | None = Field(
        default=None, description="Version of the prompt that made a model SIR")
    verification: dict[str, Any] | None = Field(
        default=None, description="A model SIR checked against the static facts of its code: "
        "claims supported, claims not found in the code, facts the SIR misses")


class SearchMatch(BaseModel):
    symbol_id: str
    qualified_name: str
    kind: str
    file_path: str
    language: str
    start_line: int
    end_line: int
    sir_status: str
    summary: str | None
    # Only in detail="full" MCP answers: the signature and the whole SIR.
    signature: str | None = None
    sir: dict[str, Any] | None = None


class SearchView(BaseModel):
    schema_version: int = SCHEMA_VERSION
    query: str
    limit: int
    mode_requested: str
    mode_used: str
    fallback_reason: str | None
    result_count: int
    matches: list[SearchMatch]


class HealthView(BaseModel):
    # not_indexed: `aether status` in a folder with no database (nothing is created)
    status: Literal["healthy", "degraded", "unhealthy", "not_indexed"]
    reasons: list[str] = Field(default_factory=list)


class StatusView(BaseModel):
    schema_version: int = SCHEMA_VERSION
    workspace: str
    db_path: str
    file_count: int
    skipped_file_count: int
    symbol_count: int
    sir_count: int
    ok_count: int
    stale_count: int
    pending_count: int
    error_count: int
    last_indexed_at: str | None
    provider: str
    model: str
    health: HealthView
    guard: dict[str, Any] | None = None
    recent_errors: dict[str, int] = Field(default_factory=dict)
    writer: dict[str, Any] | None = Field(
        default=None, description="The process that indexes this workspace: pid, since, command")
    untrusted_config: bool = Field(
        default=False, description="The workspace's .aether/config.toml sets where code and keys "
                                   "go (provider, endpoint) but is not trusted: those are ignored")
    untrusted_reason: str | None = Field(default=None, description="Why, and how to trust it")
    redacted_symbol_count: int = Field(
        default=0, description="Symbols whose code held credentials that were masked")
    redaction_count: int = Field(
        default=0, description="Credentials masked before anything was stored or sent")
    unsupported_files: dict[str, int] = Field(
        default_factory=dict,
        description="Files not indexed because no supported language has their extension, "
                    "counted by extension (as of the last full index)")
    spend: dict[str, Any] | None = Field(
        default=None, description="Today's provider spend (tokens, cost) and what is left of "
        "each cap; `cap_reached` says which cap stopped requests, and when it resets")
    unverified_count: int = Field(
        default=0, description="Model SIRs with claims not found in the code")
    read_only: bool = Field(
        default=False, description="Served from a database this process may not write")
    memory: MemoryView | None = Field(
        default=None, description="The indexing daemon's memory and its ceiling, when one runs")


# ---------------------------------------------------------------------------- views


def warning_for(record: SymbolRecord) -> str | None:
    """The plain-language warning an agent can quote; None when the SIR is fresh."""
    if record.sir_status == "ok":
        return None
    if record.deferred:
        lead = ("This summary is kept as it is" if record.sir_json
                else "There is no summary for this symbol yet")
        return f"{lead}: {record.last_error}"
    if record.stale_reason == "model_changed":
        return (f"This summary was written by {record.provider}/{record.model}, not the "
                "configured model; a new one is queued.")
    if record.last_error:
        lead = ("This summary may be out of date" if record.sir_json
                else "There is no summary for this symbol yet")
        return (f"{lead}: the last attempt at {record.last_attempt_at} failed: "
                f"{one_line(record.last_error)}")
    if record.sir_status == "stale":
        return ("This summary describes an earlier version of this code; "
                "a new one is queued.")
    return "There is no summary for this symbol yet; it is queued."


def sir_view(record: SymbolRecord) -> SirView:
    return SirView(
        symbol_id=record.id, qualified_name=record.qualified_name, kind=record.kind,
        file_path=record.file_path, language=record.language, start_line=record.start_line,
        end_line=record.end_line, signature=record.signature, sir=record.sir_dict,
        sir_status=record.sir_status,  # type: ignore[arg-type]
        stale_reason=record.stale_reason,  # type: ignore[arg-type]
        last_error=one_line(record.last_error) if record.last_error else None,
        last_attempt_at=record.last_attempt_at,
        sir_hash=record.sir_hash, provider=record.provider, model=record.model,
        updated_at=record.sir_created_at or record.updated_at, warning=warning_for(record),
        prompt_version=record.prompt_version or None, verification=record.verification,
    )


def search_match(record: SymbolRecord, *, full: bool = False) -> SearchMatch:
    """One line of a list; `full` adds the signature and the whole SIR."""
    sir = record.sir_dict
    return SearchMatch(
        symbol_id=record.id, qualified_name=record.qualified_name, kind=record.kind,
        file_path=record.file_path, language=record.language, start_line=record.start_line,
        end_line=record.end_line, sir_status=record.sir_status,
        summary=sir.get("intent") if sir else None,
        signature=record.signature if full else None, sir=sir if full else None,
    )


# ---------------------------------------------------------------------------- MCP envelopes
# Views the MCP tools return (and any other surface may reuse). Additive only: new fields get
# defaults, existing ones never change meaning.


class DaemonView(BaseModel):
    """The live state of the process serving this client (the fields of DaemonStatus)."""

    state: Literal["starting", "indexing", "idle", "error", "stopped"]
    role: str = Field(description="writer (this process indexes) or reader (another one does)")
    files_done: int
    files_total: int
    sirs_done: int
    sirs_total: int
    pending_count: int
    circuit: str = Field(description="provider circuit breaker: closed | open | half_open")
    spend_cap: str | None = Field(
        default=None, description="The spend cap holding requests back, and when it resets")
    watching: bool
    message: str | None = None
    memory_mb: float = Field(default=0.0, description="This process and its workers, MB")
    memory_limit_mb: int = Field(default=0, description="[daemon] max_memory_mb; 0 = none")
    memory_over: bool = Field(default=False,
                              description="Above the ceiling even after giving back caches")


class LiveStatusView(StatusView):
    """`status --json` plus the daemon's live state."""

    daemon: DaemonView


def daemon_view(status: Any) -> DaemonView:
    """From an `aether.engine.daemon.DaemonStatus` (duck-typed: present sits below engine)."""
    return DaemonView.model_validate(status.to_dict())


class LookupView(BaseModel):
    schema_version: int = SCHEMA_VERSION
    name: str | None
    path: str | None
    kind: str | None
    match: Literal["qualified_name", "name", "substring", "file", "none"] = Field(
        description="How the matches were found: exact qualified name, exact name, substring "
                    "of qualified name or path, every symbol of `path`, or nothing")
    result_count: int
    truncated: bool
    matches: list[SearchMatch]
    note: str | None = Field(default=None, description="Why nothing matched, when nothing did")


class ExplainView(BaseModel):
    schema_version: int = SCHEMA_VERSION
    file: str
    line: int
    column: int | None
    symbol: SirView = Field(description="The innermost symbol at the position")
    enclosing: list[SearchMatch] = Field(
        default_factory=list, description="Symbols around it, outermost first")
    hover_markdown: str = Field(default="",
                                description="What an editor hover shows for this symbol")


REFRESH_SYMBOLS_SHOWN = 50  # a file of 27,000 symbols must not answer with 25 MB


class RefreshView(BaseModel):
    schema_version: int = SCHEMA_VERSION
    requested: int
    completed: bool = Field(
        description="Every attempt finished within the wait; if not, they carry on in the "
                    "background and aether_get_sir shows the outcome later")
    ok_count: int
    stale_count: int
    pending_count: int
    attempted: int = Field(default=0, description="Attempts finished within the wait")
    message: str
    symbols: list[SirView] = Field(
        description=f"The first {REFRESH_SYMBOLS_SHOWN} symbols (all counts cover every one)")
    truncated: bool = Field(default=False,
                            description="More symbols were refreshed than `symbols` lists")


def refresh_view(records: list[SymbolRecord], requested: int, completed: bool,
                 attempted: int | None = None) -> RefreshView:
    statuses = [r.sir_status for r in records]
    ok, stale = statuses.count("ok"), statuses.count("stale")
    pending = statuses.count("pending")
    failed = [r for r in records if r.sir_status != "ok" and r.last_error]
    done = requested if attempted is None else attempted
    message = f"{ok} of {requested} summaries ok"
    if failed:
        first = failed[0]
        message += f"; {len(failed)} failed, e.g. {first.qualified_name}: {first.last_error}"
    if not completed:
        message += (f"; {done} of {requested} attempted within the wait, the rest continue "
                    "in the background — call aether_get_sir later")
    shown = [sir_view(r) for r in records[:REFRESH_SYMBOLS_SHOWN]]
    return RefreshView(requested=requested, completed=completed, ok_count=ok, stale_count=stale,
                       pending_count=pending, attempted=done, message=message, symbols=shown,
                       truncated=len(records) > len(shown))
