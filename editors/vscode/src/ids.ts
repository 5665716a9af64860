// Ids shared by extension.ts and package.json (a unit test keeps the two in step).

/** VS Code language ids the server handles (.py .js .jsx .mjs .cjs .ts .mts .cts .tsx .rs .go). */
export const LANGUAGES = [
  "python",
  "javascript",
  "javascriptreact",
  "typescript",
  "typescriptreact",
  "rust",
  "go",
] as const;

/**
 * Our command ids. They deliberately differ from the server's (`aether.indexWorkspace`,
 * `aether.refreshSymbol`, `aether.status`): vscode-languageclient registers every command the
 * server advertises in `executeCommandProvider` as a VS Code command of the same id, and a
 * clash would make registering them fail.
 */
export const CMD = {
  search: "aether.searchSymbols",
  index: "aether.index",
  refresh: "aether.refreshAtCursor",
  restart: "aether.restartServer",
  output: "aether.showOutput",
  status: "aether.showStatus",
  impact: "aether.showImpact",
} as const;

/** Commands the server executes through workspace/executeCommand. */
export const SERVER_COMMANDS = [
  "aether.indexWorkspace",
  "aether.refreshSymbol",
  "aether.status",
  "aether.impact",
] as const;
