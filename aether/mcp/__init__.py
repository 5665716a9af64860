"""`aether mcp`: the MCP server AI agents start over stdio. A thin adapter (the SDK's
`MCPServer`) over the daemon (engine + background indexing) and `aether.present`.

Contract (tool names and result fields are stable; fields are only ever added). Every result
carries `schema_version` and `size_tokens`, is structured (each tool publishes an
`outputSchema`) and comes as compact JSON text too. Paths are workspace-relative; one outside
the workspace (`../`, absolute, through a symlink) is refused unread. Bad arguments, unknown
or ambiguous symbols are tool errors (`isError`), never a crash.

Conventions every tool follows (helpers in `aether.mcp.answers`; a new tool adopts them in a
few lines, see that module):
- Written for a model: the description says in one sentence when to use the tool, gives
  argument examples, and says what comes back; `instructions` (built in
  `aether.mcp.instructions` from the registered tool names) says which tool to use when.
- Annotations on every tool: `READ_ONLY` (readOnlyHint, idempotentHint, openWorldHint false)
  or, for tools that ask a provider for new summaries, `REFRESH` (`aether.mcp.app`).
- `detail: "brief" | "full"`: lists default to "brief" (name, location, status, one-line
  intent), single answers to "full"; `answer(view, detail=..., brief_exclude=...)` drops the
  brief-excluded fields (they must have defaults in the view).
- `size_tokens`: the answer model mixes in `Sized` (or `Paged`); `answer()` fills it in.
- Long lists are paged, never silently cut: take `cursor: Cursor`, slice with
  `page(items, decode_cursor(cursor, bound), limit, bound)` (fetch one past the page), and
  return `next_cursor` (`Paged`).
- Schemas are compacted once after registration (`compact_tool_schemas`), so `tools/list`
  stays small: measure it with `bench/mcp_tools_size.py` when adding a tool.

- `aether_status(wait_s=0)` -> LiveStatusView: the `status --json` fields (counts, provider,
  model, guard counters, health, writer) plus `daemon` (state, role, files_done/total,
  sirs_done/total, circuit, ...). With `wait_s` it waits (bounded) for indexing to go idle.
- `aether_symbol_lookup(name?, path?, kind?, limit=20, detail="brief", cursor?)` ->
  LookupView + next_cursor: exact qualified name, then exact name, then substring; or every
  symbol of `path`.
- `aether_search(query, limit=20, mode="hybrid", include_tests=false, detail="brief",
  cursor?)` -> RankedSearchView (as `search --json`) + next_cursor.
- `aether_get_sir(symbol_id | qualified_name | file+line)` -> SirView (SIR, sir_status,
  last_error, last_attempt_at, provider, model, updated_at, warning when stale).
- `aether_explain(file, line, column?)` -> ExplainView: the innermost symbol there, its
  SirView, the symbols around it and the hover Markdown.
- `aether_refresh(symbol_id | qualified_name | file+line | file, wait_s=15)` -> RefreshView:
  new SIR attempts now; answers within `wait_s` whether they finished or not.
- Graph (`graph_tools`): `aether_file_outline`, `aether_get_source`, `aether_callers`,
  `aether_callees`, `aether_impact`, `aether_context` (views in `aether.present.graph`);
  outline, callers, callees and impact page their main list.

Resources (`resources`): `aether://status`, `aether://file/{+path}/outline`,
`aether://symbol/{symbol_id}`, with `notifications/resources/updated` through
`resources/subscribe` (MCP 2025) or `subscriptions/listen` (2026-07-28). Prompts (`prompts`):
`explain_symbol(name)`, `review_change(file)`. Transports: stdio (`server.run`) and
Streamable HTTP (`http.run_http`, `aether mcp --http HOST:PORT`, bearer token off loopback).

Progress: a call that carries a progressToken gets `notifications/progress` about indexing
while a pass runs, and about the attempts during `aether_refresh`.
Lifecycle: stdout carries only protocol messages (logs: stderr and `.aether/logs/`); stdin
EOF, SIGTERM or SIGINT stop the daemon (in-flight writes complete or roll back) and exit 0.
"""

