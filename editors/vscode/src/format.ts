// Pure formatting for command results (no `vscode` import; unit-tested with node's test runner).

import { fileURLToPath } from "node:url";
import * as path from "node:path";

/** LSP SymbolKind (1-based) → a readable name. */
const SYMBOL_KINDS = [
  "file", "module", "namespace", "package", "class", "method", "property", "field",
  "constructor", "enum", "interface", "function", "variable", "constant", "string", "number",
  "boolean", "array", "object", "key", "null", "enum member", "struct", "event", "operator",
  "type parameter",
];

export function symbolKindName(kind: number): string {
  return SYMBOL_KINDS[kind - 1] ?? "symbol";
}

/** LSP SymbolKind → a codicon id for the quick pick label. */
export function symbolKindIcon(kind: number): string {
  const icons: Record<number, string> = {
    2: "symbol-module", 3: "symbol-namespace", 4: "symbol-package", 5: "symbol-class",
    6: "symbol-method", 7: "symbol-property", 8: "symbol-field", 9: "symbol-constructor",
    10: "symbol-enum", 11: "symbol-interface", 12: "symbol-function", 13: "symbol-variable",
    14: "symbol-constant", 22: "symbol-enum-member", 23: "symbol-struct",
    26: "symbol-type-parameter",
  };
  return icons[kind] ?? "symbol-misc";
}

/** Minimal shape of an LSP SymbolInformation / WorkspaceSymbol as received on the wire. */
export interface WireSymbol {
  name: string;
  kind: number;
  containerName?: string;
  location: { uri: string; range?: { start: { line: number; character: number } } };
}

export interface SymbolItemText {
  label: string;
  description: string;
  detail: string;
}

/** `file:///ws/pkg/a.py` → `pkg/a.py` when inside the workspace, else the full path (or URI). */
export function displayPath(uri: string, workspace: string | undefined): string {
  let file: string;
  try {
    file = uri.startsWith("file:") ? fileURLToPath(uri) : uri;
  } catch {
    return uri;
  }
  if (workspace) {
    const rel = path.relative(workspace, file);
    if (rel && !rel.startsWith("..") && !path.isAbsolute(rel)) {
      return rel.split(path.sep).join("/");
    }
  }
  return file;
}

/** Quick pick texts for one workspace/symbol result. */
export function symbolItemText(sym: WireSymbol, workspace: string | undefined): SymbolItemText {
  const where = displayPath(sym.location.uri, workspace);
  const line = sym.location.range ? `:${sym.location.range.start.line + 1}` : "";
  return {
    label: `$(${symbolKindIcon(sym.kind)}) ${sym.name}`,
    description: sym.containerName ? sym.containerName : "",
    detail: `${symbolKindName(sym.kind)} — ${where}${line}`,
  };
}

/** Result of `aether.refreshSymbol`. */
export interface RefreshResult {
  sir_status: string;
  last_error: string | null;
}

/** A message and its severity for the result of `aether.refreshSymbol`. */
export function refreshMessage(result: unknown): { level: "info" | "warning" | "error"; text: string } {
  if (result === null || result === undefined) {
    return { level: "warning", text: "AETHER: no symbol at the cursor." };
  }
  if (typeof result !== "object") {
    return { level: "error", text: `AETHER: unexpected answer from the server: ${JSON.stringify(result)}` };
  }
  const r = result as Record<string, unknown>;
  const status = typeof r.sir_status === "string" ? r.sir_status : "unknown";
  const error = typeof r.last_error === "string" && r.last_error ? r.last_error : null;
  if (status === "ok") {
    return { level: "info", text: "AETHER: summary refreshed (ok)." };
  }
  const text = `AETHER: summary is ${status}` + (error ? `: ${error}` : ".");
  return { level: status === "stale" || status === "pending" ? "warning" : "error", text };
}

/** One symbol of an `aether.impact` answer (the `aether_impact` envelope). */
export interface ImpactSymbol {
  qualified_name: string;
  kind: string;
  file_path: string;
  start_line: number;
  sir_status: string;
  stale_reason?: string | null;
}

/** A quick pick row for one impacted symbol: changed (depth 0) or a caller at some depth. */
export interface ImpactRow {
  label: string;
  description: string;
  detail: string;
  file: string;
  line: number;
}

function impactSymbol(value: unknown): ImpactSymbol | undefined {
  if (typeof value !== "object" || value === null) {
    return undefined;
  }
  const v = value as Record<string, unknown>;
  if (typeof v.qualified_name !== "string" || typeof v.file_path !== "string" || typeof v.start_line !== "number") {
    return undefined;
  }
  return {
    qualified_name: v.qualified_name,
    kind: typeof v.kind === "string" ? v.kind : "",
    file_path: v.file_path,
    start_line: v.start_line,
    sir_status: typeof v.sir_status === "string" ? v.sir_status : "unknown",
    stale_reason: typeof v.stale_reason === "string" ? v.stale_reason : null,
  };
}

/** Rows for the result of `aether.impact`: changed symbols first, then callers by depth. */
export function impactRows(result: unknown): ImpactRow[] {
  if (typeof result !== "object" || result === null) {
    return [];
  }
  const r = result as Record<string, unknown>;
  const rows: ImpactRow[] = [];
  for (const [key, what] of [["changed", "changed"], ["callers", "caller"]] as const) {
    const list = Array.isArray(r[key]) ? (r[key] as unknown[]) : [];
    for (const entry of list) {
      const e = (typeof entry === "object" && entry !== null ? entry : {}) as Record<string, unknown>;
      const sym = impactSymbol(e.symbol);
      if (!sym) {
        continue;
      }
      const depth = typeof e.depth === "number" ? e.depth : 0;
      const state = sym.sir_status === "ok" ? "" : ` · SIR ${sym.stale_reason ?? sym.sir_status}`;
      rows.push({
        label: `${what === "changed" ? "$(diff)" : "$(call-incoming)"} ${sym.qualified_name}`,
        description: what === "changed" ? "changed" : `caller, depth ${depth}`,
        detail: `${sym.kind} — ${sym.file_path}:${sym.start_line}${state}`,
        file: sym.file_path,
        line: sym.start_line,
      });
    }
  }
  return rows;
}
