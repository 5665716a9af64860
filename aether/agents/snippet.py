"""The optional AGENTS.md / CLAUDE.md paragraph (`aether setup --snippet`): the same advice
as the MCP server's `instructions`, for clients that do not show those to the model. It is
printed, never written into a repository unasked."""

from __future__ import annotations

AGENT_SNIPPET = """\
## Code intelligence: AETHER

This repository is indexed by AETHER (MCP server `aether`), which keeps a structured
summary (SIR: intent, inputs, outputs, side effects, dependencies, error modes) of every
function, method and class. Prefer it to grep and to reading whole files:

- To find code, call `aether_search` (words or names) or `aether_symbol_lookup` (exact names,
  or every symbol of one file) before grepping.
- To understand a symbol, call `aether_get_sir` (or `aether_context`, where available)
  before opening its file; read the source only for what the summary does not say.
- Before changing a symbol, call `aether_callers` / `aether_impact` (where available) to see
  what depends on it.
- Check `sir_status`: `ok` is current; `stale` means the summary describes older code or the
  last attempt failed (quote its `warning`, call `aether_refresh`); `pending` is not written yet.
- List tools answer `detail="brief"` by default; pass `detail="full"` for everything, and
  the returned `next_cursor` as `cursor` for the next page.
"""
