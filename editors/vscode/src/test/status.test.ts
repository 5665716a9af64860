import { strict as assert } from "node:assert";
import { describe, it } from "node:test";

import { parseStatus, statusBarView, statusDetails, stoppedView, type AetherStatus } from "../status";

function status(over: Partial<AetherStatus> = {}): AetherStatus {
  return {
    state: "idle",
    files_done: 0,
    files_total: 0,
    symbol_count: 120,
    sir_count: 118,
    stale_count: 0,
    pending_count: 0,
    circuit: "closed",
    message: null,
    ...over,
  };
}

describe("statusBarView", () => {
  it("says it is starting before any status arrived", () => {
    const v = statusBarView(undefined);
    assert.match(v.text, /AETHER/);
    assert.match(v.tooltip, /starting/);
    assert.equal(v.background, undefined);
  });

  it("shows files done/total while indexing", () => {
    const v = statusBarView(status({ state: "indexing", files_done: 12, files_total: 40 }));
    assert.equal(v.text, "$(sync~spin) AETHER 12/40");
    assert.equal(v.background, undefined);
    assert.match(v.tooltip, /files: 12\/40/);
  });

  it("shows plain indexing when the total is not known yet", () => {
    assert.equal(statusBarView(status({ state: "indexing" })).text, "$(sync~spin) AETHER indexing");
  });

  it("shows a check mark when idle and nothing is stale", () => {
    const v = statusBarView(status());
    assert.equal(v.text, "$(check) AETHER");
    assert.equal(v.background, undefined);
    assert.match(v.tooltip, /symbols: 120, summaries: 118/);
  });

  it("shows the stale count with the warning colour", () => {
    const v = statusBarView(status({ stale_count: 3 }));
    assert.equal(v.text, "$(check) AETHER $(warning) 3 stale");
    assert.equal(v.background, "statusBarItem.warningBackground");
  });

  it("keeps the stale count visible while indexing", () => {
    const v = statusBarView(status({ state: "indexing", files_done: 1, files_total: 2, stale_count: 5 }));
    assert.equal(v.text, "$(sync~spin) AETHER 1/2 $(warning) 5 stale");
    assert.equal(v.background, "statusBarItem.warningBackground");
  });

  it("shows pending summaries when idle but the queue is not empty", () => {
    assert.equal(statusBarView(status({ pending_count: 7 })).text, "$(sync~spin) AETHER 7 pending");
  });

  it("warns when the provider circuit is open, even with nothing stale", () => {
    const v = statusBarView(status({ circuit: "open", message: "provider down" }));
    assert.match(v.text, /debug-disconnect/);
    assert.equal(v.background, "statusBarItem.warningBackground");
    assert.match(v.tooltip, /provider circuit: open/);
    assert.match(v.tooltip, /provider down/);
  });

  it("uses the error colour for the error state", () => {
    const v = statusBarView(status({ state: "error", stale_count: 2, message: "db locked" }));
    assert.equal(v.text, "$(error) AETHER");
    assert.equal(v.background, "statusBarItem.errorBackground");
    assert.match(v.tooltip, /db locked/);
  });

  it("has an error view for a stopped server", () => {
    const v = stoppedView("failed to start: ENOENT");
    assert.equal(v.background, "statusBarItem.errorBackground");
    assert.match(v.tooltip, /ENOENT/);
  });
});

describe("parseStatus", () => {
  it("accepts the notification params as sent", () => {
    const s = parseStatus({
      state: "indexing", files_done: 3, files_total: 9, symbol_count: 10, sir_count: 4,
      stale_count: 1, pending_count: 6, circuit: "half_open", message: "warming up",
      workspace: "/ws", db_path: "/ws/.aether/aether.db",
    });
    assert.deepEqual(s, {
      state: "indexing", files_done: 3, files_total: 9, symbol_count: 10, sir_count: 4,
      stale_count: 1, pending_count: 6, circuit: "half_open", message: "warming up",
      workspace: "/ws", db_path: "/ws/.aether/aether.db",
    });
  });

  it("fills missing or bad fields with safe defaults", () => {
    const s = parseStatus({ state: 5, files_done: "x", stale_count: -2, sir_count: 2.7, message: "" });
    assert.deepEqual(s, status({ symbol_count: 0, sir_count: 2 }));
  });

  it("rejects non-objects", () => {
    assert.equal(parseStatus(null), undefined);
    assert.equal(parseStatus("idle"), undefined);
    assert.equal(parseStatus([1, 2]), undefined);
    assert.equal(parseStatus(undefined), undefined);
  });
});

describe("statusDetails", () => {
  it("lists counts, circuit, workspace and database", () => {
    const rows = statusDetails(status({ stale_count: 1, pending_count: 2, workspace: "/ws", db_path: "/db" }));
    const byLabel = new Map(rows.map((r) => [r.label, r.value]));
    assert.equal(byLabel.get("State"), "idle");
    assert.equal(byLabel.get("Stale"), "1 summary");
    assert.equal(byLabel.get("Pending"), "2 symbols");
    assert.equal(byLabel.get("Provider circuit"), "closed");
    assert.equal(byLabel.get("Workspace"), "/ws");
    assert.equal(byLabel.get("Database"), "/db");
    assert.equal(byLabel.has("Files"), false);
  });

  it("includes file progress while indexing and the message when there is one", () => {
    const rows = statusDetails(status({ state: "indexing", files_done: 2, files_total: 5, message: "m" }));
    const byLabel = new Map(rows.map((r) => [r.label, r.value]));
    assert.equal(byLabel.get("Files"), "2/5");
    assert.equal(byLabel.get("Message"), "m");
  });
});
