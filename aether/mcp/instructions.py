"""The MCP `instructions` (the initialize result's field, which clients such as Claude Code
put into the model's system prompt): when to call which AETHER tool instead of grepping or
reading files, and what `stale` means. Built from the tools actually registered, so it never
names a tool this server does not have."""

from __future__ import annotations

from collections.abc import Collection


def _tools(names: Collection[str], *wanted: str) -> str:
    return " / ".join(n for n in wanted if n in names)


def build_instructions(names: Collection[str]) -> str:
    """A few lines for the model, naming only tools in `names`."""
    lines = [
        "AETHER indexes this repository: a structured summary (SIR: intent, inputs, outputs, "
        "side effects, dependencies, error modes) of every function, method and class. Use "
        "it before grep or reading whole files:",
    ]
    find = _tools(names, "aether_search", "aether_symbol_lookup")
    if find:
        lines.append(f"- Find code by what it does or by name: {find}.")
    understand = _tools(names, "aether_get_sir", "aether_context", "aether_explain",
                        "aether_file_outline")
    if understand:
        source = (" Read source (aether_get_source) only for what the SIR does not say."
                  if "aether_get_source" in names else "")
        lines.append(f"- Understand a symbol or file: {understand}.{source}")
    change = _tools(names, "aether_callers", "aether_callees", "aether_impact")
    if change:
        lines.append(f"- Before changing a symbol, see what depends on it: {change} "
                     "(`answer` unknown means some calls could not be resolved, not none).")
    lines.append(
        "- Trust: check sir_status. ok = current; stale = the summary describes older code "
        "than is on disk, or its last attempt failed: quote its `warning`"
        + (", or call aether_refresh" if "aether_refresh" in names else "")
        + "; pending = not summarised yet.")
    lines.append(
        "- Name a symbol by symbol_id (from any answer), or qualified_name (a bare name if "
        "unique), or file + line (1-based).")
    lines.append(
        '- Lists are brief and paged: detail="full" gives more, pass next_cursor as cursor '
        "for the next page; size_tokens is each answer's size."
        + (" aether_status says whether indexing is still running." if "aether_status" in names
           else "")
        + " Paths are workspace-relative.")
    return "\n".join(lines)
