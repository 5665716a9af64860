"""`aether lsp`: the language server editors start over stdio. A thin adapter over the daemon
(engine + background indexing) and `aether.present` (the hover Markdown).

Contract with the editor extensions (VS Code, Neovim):
- `textDocument/hover`: the SIR of the innermost symbol at the position, parsed from the
  buffer as the editor has it; the first line is a banner when the summary is stale, describes
  an earlier version of the code, or does not exist yet. Never waits on indexing or inference.
- `workspace/symbol`: the ranked search of `aether search`.
- `workspace/executeCommand`: `aether.indexWorkspace`, `aether.refreshSymbol`
  (`[{"uri", "position": {"line", "character"}}]` -> `{"sir_status", "last_error", ...}`),
  `aether.status` (the `aether/status` body plus `workspace`, `db_path`).
- notifications: `$/progress` while indexing (server-initiated work-done progress),
  `window/showMessage` once when the provider's circuit opens and once when it recovers,
  `aether/status` (fields of `DaemonStatus`, at least `state, files_done, files_total,
  symbol_count, sir_count, stale_count, pending_count, circuit, message`) on state changes
  and throttled progress.
"""
