// Pure presentation of the server's `aether/status` notification (no `vscode` import, so it is
// unit-tested with node's own test runner).

/** Params of the `aether/status` notification (and the result of the `aether.status` command). */
export interface AetherStatus {
  /** "indexing" | "idle" | "error" (kept open: the server may add states). */
  state: string;
  files_done: number;
  files_total: number;
  symbol_count: number;
  sir_count: number;
  stale_count: number;
  pending_count: number;
  /** "closed" | "open" | "half_open". */
  circuit: string;
  message: string | null;
  /** Only in the `aether.status` command's result. */
  workspace?: string;
  /** Only in the `aether.status` command's result. */
  db_path?: string;
}

/** Theme colour ids a status bar item accepts as background. */
export type StatusBackground = "statusBarItem.warningBackground" | "statusBarItem.errorBackground";

export interface StatusBarView {
  text: string;
  tooltip: string;
  background: StatusBackground | undefined;
}

function num(value: unknown): number {
  return typeof value === "number" && Number.isFinite(value) && value > 0 ? Math.floor(value) : 0;
}

/** Coerce an untrusted JSON value into an AetherStatus; undefined when it is not an object. */
export function parseStatus(value: unknown): AetherStatus | undefined {
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    return undefined;
  }
  const v = value as Record<string, unknown>;
  const status: AetherStatus = {
    state: typeof v.state === "string" ? v.state : "idle",
    files_done: num(v.files_done),
    files_total: num(v.files_total),
    symbol_count: num(v.symbol_count),
    sir_count: num(v.sir_count),
    stale_count: num(v.stale_count),
    pending_count: num(v.pending_count),
    circuit: typeof v.circuit === "string" ? v.circuit : "closed",
    message: typeof v.message === "string" && v.message !== "" ? v.message : null,
  };
  if (typeof v.workspace === "string") {
    status.workspace = v.workspace;
  }
  if (typeof v.db_path === "string") {
    status.db_path = v.db_path;
  }
  return status;
}

function plural(n: number, one: string, many: string): string {
  return `${n} ${n === 1 ? one : many}`;
}

function tooltipLines(s: AetherStatus): string[] {
  const lines = [`AETHER: ${s.state}`];
  if (s.state === "indexing") {
    lines.push(`files: ${s.files_done}/${s.files_total}`);
  }
  lines.push(
    `symbols: ${s.symbol_count}, summaries: ${s.sir_count}`,
    `stale: ${s.stale_count}, pending: ${s.pending_count}`,
    `provider circuit: ${s.circuit}`,
  );
  if (s.message) {
    lines.push(s.message);
  }
  lines.push("Click for details");
  return lines;
}

/** What the status bar item shows for a status; `undefined` = server not (yet) reporting. */
export function statusBarView(status: AetherStatus | undefined): StatusBarView {
  if (status === undefined) {
    return {
      text: "$(loading~spin) AETHER",
      tooltip: "AETHER: starting the language server…\nClick for details",
      background: undefined,
    };
  }
  const tooltip = tooltipLines(status).join("\n");
  if (status.state === "error") {
    return { text: "$(error) AETHER", tooltip, background: "statusBarItem.errorBackground" };
  }
  let text: string;
  if (status.state === "indexing") {
    text =
      status.files_total > 0
        ? `$(sync~spin) AETHER ${status.files_done}/${status.files_total}`
        : "$(sync~spin) AETHER indexing";
  } else if (status.pending_count > 0) {
    text = `$(sync~spin) AETHER ${status.pending_count} pending`;
  } else {
    text = "$(check) AETHER";
  }
  let background: StatusBackground | undefined;
  if (status.stale_count > 0) {
    text += ` $(warning) ${status.stale_count} stale`;
    background = "statusBarItem.warningBackground";
  }
  if (status.circuit === "open") {
    text += " $(debug-disconnect)";
    background = "statusBarItem.warningBackground";
  }
  return { text, tooltip, background };
}

/** Status view when the server process is not running (failed to start, crashed, stopped). */
export function stoppedView(reason: string): StatusBarView {
  return {
    text: "$(circle-slash) AETHER",
    tooltip: `AETHER: ${reason}\nClick for details`,
    background: "statusBarItem.errorBackground",
  };
}

/** Label/value rows for the details quick pick (from the `aether.status` command's result). */
export function statusDetails(s: AetherStatus): Array<{ label: string; value: string }> {
  const rows: Array<{ label: string; value: string }> = [
    { label: "State", value: s.state },
  ];
  if (s.state === "indexing" || s.files_total > 0) {
    rows.push({ label: "Files", value: `${s.files_done}/${s.files_total}` });
  }
  rows.push(
    { label: "Symbols", value: String(s.symbol_count) },
    { label: "Summaries (SIR)", value: String(s.sir_count) },
    { label: "Stale", value: plural(s.stale_count, "summary", "summaries") },
    { label: "Pending", value: plural(s.pending_count, "symbol", "symbols") },
    { label: "Provider circuit", value: s.circuit },
  );
  if (s.message) {
    rows.push({ label: "Message", value: s.message });
  }
  if (s.workspace) {
    rows.push({ label: "Workspace", value: s.workspace });
  }
  if (s.db_path) {
    rows.push({ label: "Database", value: s.db_path });
  }
  return rows;
}
