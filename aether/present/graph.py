"""The call graph's JSON envelopes (MCP tools, CLI `--json`). Every answer about edges carries
its `coverage`, so "no callers" and "could not tell" are different answers."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from aether.present.views import SCHEMA_VERSION, warning_for
from aether.store.records import SymbolRecord

Provenance = Literal["local", "import", "unique_name", "ambiguous", "external", "unresolved"]


class SymbolBrief(BaseModel):
    symbol_id: str
    qualified_name: str
    kind: str
    file_path: str
    start_line: int
    end_line: int
    signature: str = ""  # left out of brief MCP answers
    intent: str | None = Field(description="The SIR's intent, one line; null if none yet")
    sir_status: Literal["ok", "stale", "pending"]
    stale_reason: Literal["failed", "outdated", "model_changed"] | None = None


class OutlineNode(SymbolBrief):
    children: list[OutlineNode] = Field(default_factory=list)


class OutlineView(BaseModel):
    schema_version: int = SCHEMA_VERSION
    file_path: str
    language: str | None
    symbol_count: int
    symbols: list[OutlineNode]
    note: str | None = Field(default=None, description="Why there are no symbols: the file "
                             "is not indexed (skipped, with the reason), or has none")


class SourceView(BaseModel):
    schema_version: int = SCHEMA_VERSION
    symbol: SymbolBrief
    file_path: str
    start_line: int = Field(description="First line of `source` (context lines included)")
    end_line: int
    start_byte: int = Field(description="Byte offset of the symbol itself, on disk now")
    end_byte: int
    source: str
    changed_since_sir: bool = Field(
        description="The code on disk differs from what the SIR describes (or there is none)")
    changed_since_index: bool = Field(
        description="The file changed on disk since it was indexed (the slice is re-read)")
    truncated: bool
    max_tokens: int


class Coverage(BaseModel):
    """How much of the graph this answer could see."""

    resolved: int = Field(description="Edges with a target (local, import, unique_name)")
    ambiguous: int = Field(description="Edges with several candidates, none chosen")
    external: int = Field(description="Edges that leave the workspace")
    unresolved: int = Field(description="Edges the graph could not place")
    by_provenance: dict[str, int] = Field(default_factory=dict)
    truncated: bool = False
    graph_complete: bool = Field(
        default=True, description="False while an indexing pass still has edges to resolve")


class EdgeView(BaseModel):
    file_path: str
    line: int
    column: int
    callee: str = Field(description="The call as written, normalised (`self.save`)")
    provenance: Provenance
    kind: Literal["call", "reference"] = Field(
        default="call", description="call, or reference: the name used as a value or a type")
    depth: int
    caller: SymbolBrief | None = Field(default=None, description="Who calls (callers)")
    target: SymbolBrief | None = Field(default=None, description="Who is called (callees)")
    candidate_count: int = 0
    candidates: list[SymbolBrief] = Field(default_factory=list)
    external_target: str | None = None


class CallersView(BaseModel):
    schema_version: int = SCHEMA_VERSION
    target: SymbolBrief
    depth: int
    answer: Literal["has_callers", "no_callers", "unknown"] = Field(
        description="no_callers: the graph saw every call of this name and none reaches it; "
                    "unknown: no resolved caller, but some calls of the name are ambiguous "
                    "or unresolved")
    callers: list[EdgeView] = Field(description="Resolved call sites, by depth")
    ambiguous: list[EdgeView] = Field(
        description="Call sites that may reach the target, among other candidates")
    unresolved_same_name: int = Field(
        description="Unresolved call sites of the target's name (maybe callers)")
    reference_count: int = Field(
        default=0, description="Resolved sites that use the target without calling it "
                               "(passed as a value, a type annotation, a base class)")
    references: list[EdgeView] = Field(
        default_factory=list, description="Those reference sites (with include_references)")
    coverage: Coverage
    note: str | None = None


class CalleesView(BaseModel):
    schema_version: int = SCHEMA_VERSION
    source: SymbolBrief
    depth: int
    answer: Literal["has_callees", "no_callees"]
    callees: list[EdgeView] = Field(description="Resolved calls, by depth")
    ambiguous: list[EdgeView]
    external: list[EdgeView]
    unresolved: list[EdgeView]
    coverage: Coverage


class ImpactedSymbol(BaseModel):
    symbol: SymbolBrief
    depth: int = Field(description="0 for a changed symbol, n for an n-th level caller")
    via: str | None = Field(default=None, description="symbol_id of the symbol it calls")


class ImpactView(BaseModel):
    schema_version: int = SCHEMA_VERSION
    source: Literal["files", "symbols", "git_ref"]
    git_ref: str | None = None
    depth: int
    changed: list[ImpactedSymbol]
    callers: list[ImpactedSymbol]
    needs_attention: list[SymbolBrief] = Field(
        description="Changed symbols and callers whose SIR is stale, outdated or pending")
    coverage: Coverage
    note: str | None = None


class ContextView(BaseModel):
    schema_version: int = SCHEMA_VERSION
    symbol: SymbolBrief
    sir: dict[str, Any] | None
    warning: str | None
    source: str
    source_truncated: bool
    callers: list[SymbolBrief]
    callees: list[SymbolBrief]
    callers_answer: Literal["has_callers", "no_callers", "unknown"]
    max_tokens: int
    tokens_used: int = Field(description="Estimated (4 characters a token)")
    truncated: bool = Field(description="Something was left out to fit max_tokens")
    coverage: Coverage


def symbol_brief(record: SymbolRecord) -> SymbolBrief:
    sir = record.sir_dict
    intent = " ".join(str(sir.get("intent", "")).split()) if sir else None
    return SymbolBrief(
        symbol_id=record.id, qualified_name=record.qualified_name, kind=record.kind,
        file_path=record.file_path, start_line=record.start_line, end_line=record.end_line,
        signature=record.signature, intent=intent or None,
        sir_status=record.sir_status,  # type: ignore[arg-type]
        stale_reason=record.stale_reason,  # type: ignore[arg-type]
    )


def context_warning(record: SymbolRecord) -> str | None:
    return warning_for(record)
