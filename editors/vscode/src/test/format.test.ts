import { strict as assert } from "node:assert";
import { describe, it } from "node:test";

import { displayPath, impactRows, refreshMessage, symbolItemText, symbolKindName } from "../format";

describe("symbolItemText", () => {
  it("shows name, container, kind and a workspace-relative path with a 1-based line", () => {
    const t = symbolItemText(
      {
        name: "send",
        kind: 6,
        containerName: "Session",
        location: { uri: "file:///ws/pkg/session.py", range: { start: { line: 12, character: 4 } } },
      },
      "/ws",
    );
    assert.deepEqual(t, {
      label: "$(symbol-method) send",
      description: "Session",
      detail: "method — pkg/session.py:13",
    });
  });

  it("copes with a location without range and an unknown kind", () => {
    const t = symbolItemText({ name: "x", kind: 99, location: { uri: "file:///elsewhere/a.go" } }, "/ws");
    assert.deepEqual(t, { label: "$(symbol-misc) x", description: "", detail: "symbol — /elsewhere/a.go" });
  });
});

describe("displayPath", () => {
  it("decodes percent-escapes and keeps non-file URIs", () => {
    assert.equal(displayPath("file:///ws/a%20b/c.ts", "/ws"), "a b/c.ts");
    assert.equal(displayPath("untitled:Untitled-1", "/ws"), "untitled:Untitled-1");
  });
});

describe("symbolKindName", () => {
  it("maps LSP kinds", () => {
    assert.equal(symbolKindName(5), "class");
    assert.equal(symbolKindName(12), "function");
    assert.equal(symbolKindName(23), "struct");
    assert.equal(symbolKindName(0), "symbol");
  });
});

describe("refreshMessage", () => {
  it("reports ok as information", () => {
    assert.deepEqual(refreshMessage({ sir_status: "ok", last_error: null }), {
      level: "info", text: "AETHER: summary refreshed (ok).",
    });
  });

  it("reports stale with the error as a warning", () => {
    assert.deepEqual(refreshMessage({ sir_status: "stale", last_error: "429 rate limited" }), {
      level: "warning", text: "AETHER: summary is stale: 429 rate limited",
    });
  });

  it("reports no symbol for a null result", () => {
    assert.equal(refreshMessage(null).level, "warning");
    assert.match(refreshMessage(null).text, /no symbol/);
  });

  it("reports unknown statuses and junk as errors", () => {
    assert.equal(refreshMessage({ sir_status: "failed" }).level, "error");
    assert.equal(refreshMessage({}).text, "AETHER: summary is unknown.");
    assert.equal(refreshMessage(42).level, "error");
  });
});

describe("impactRows", () => {
  const sym = (name: string, status = "ok", reason: string | null = null) => ({
    qualified_name: name,
    kind: "function",
    file_path: "pkg/m.py",
    start_line: 3,
    sir_status: status,
    stale_reason: reason,
  });

  it("lists changed symbols, then callers with their depth and any SIR that needs a look", () => {
    const rows = impactRows({
      changed: [{ symbol: sym("helper"), depth: 0 }],
      callers: [{ symbol: sym("run", "stale", "outdated"), depth: 2, via: "x" }],
    });
    assert.deepEqual(
      rows.map((r) => [r.label, r.description, r.detail, r.file, r.line]),
      [
        ["$(diff) helper", "changed", "function — pkg/m.py:3", "pkg/m.py", 3],
        ["$(call-incoming) run", "caller, depth 2", "function — pkg/m.py:3 · SIR outdated", "pkg/m.py", 3],
      ],
    );
  });

  it("ignores anything that is not an impact answer", () => {
    assert.deepEqual(impactRows(undefined), []);
    assert.deepEqual(impactRows({ changed: [{ symbol: { qualified_name: 1 } }], callers: "x" }), []);
  });
});
