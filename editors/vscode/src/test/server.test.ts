import { strict as assert } from "node:assert";
import { describe, it } from "node:test";

import {
  buildServerArgs,
  expandConfiguredPath,
  needsRestart,
  readSettings,
  resolveExecutable,
  type AetherSettings,
  type ResolveOptions,
} from "../server";

const none: AetherSettings = { path: "", provider: "", model: "", extraArgs: [] };

describe("buildServerArgs", () => {
  it("is just `lsp --workspace W` by default", () => {
    assert.deepEqual(buildServerArgs(none, "/ws"), ["lsp", "--workspace", "/ws"]);
  });

  it("omits --workspace when there is no folder", () => {
    assert.deepEqual(buildServerArgs(none, undefined), ["lsp"]);
  });

  it("passes provider, model and extra args through in order", () => {
    const args = buildServerArgs(
      { path: "", provider: "openai", model: "qwen2.5-coder", extraArgs: ["--verbose", "-x"] },
      "/ws",
    );
    assert.deepEqual(args, [
      "lsp", "--workspace", "/ws", "--provider", "openai", "--model", "qwen2.5-coder", "--verbose", "-x",
    ]);
  });
});

describe("readSettings", () => {
  it("trims strings and drops values of the wrong type", () => {
    const values: Record<string, unknown> = {
      path: "  ~/bin/aether ", provider: 3, model: "m", extraArgs: ["--a", 1, null, "--b"],
    };
    assert.deepEqual(readSettings((k) => values[k]), {
      path: "~/bin/aether", provider: "", model: "m", extraArgs: ["--a", "--b"],
    });
  });

  it("handles missing settings", () => {
    assert.deepEqual(readSettings(() => undefined), none);
  });
});

function opts(files: string[], over: Partial<ResolveOptions> = {}): ResolveOptions {
  const set = new Set(files);
  return {
    configured: "",
    workspace: "/ws",
    envPath: "/usr/local/bin:/usr/bin",
    platform: "linux",
    home: "/home/u",
    isExecutable: (f) => set.has(f),
    ...over,
  };
}

describe("resolveExecutable", () => {
  it("prefers the workspace .venv over PATH", () => {
    const r = resolveExecutable(opts(["/ws/.venv/bin/aether", "/usr/bin/aether"]));
    assert.deepEqual(r, { command: "/ws/.venv/bin/aether", source: "venv", found: true });
  });

  it("finds venv/ when there is no .venv/", () => {
    const r = resolveExecutable(opts(["/ws/venv/bin/aether", "/usr/bin/aether"]));
    assert.equal(r.command, "/ws/venv/bin/aether");
  });

  it("searches PATH in order", () => {
    const r = resolveExecutable(opts(["/usr/bin/aether", "/usr/local/bin/aether"]));
    assert.deepEqual(r, { command: "/usr/local/bin/aether", source: "PATH", found: true });
  });

  it("falls back to the bare name when nothing is found", () => {
    assert.deepEqual(resolveExecutable(opts([])), { command: "aether", source: "fallback", found: false });
  });

  it("uses an absolute setting as is and reports whether it exists", () => {
    const r = resolveExecutable(opts(["/opt/aether"], { configured: "/opt/aether" }));
    assert.deepEqual(r, { command: "/opt/aether", source: "setting", found: true });
    const missing = resolveExecutable(opts(["/ws/.venv/bin/aether"], { configured: "/nope/aether" }));
    assert.deepEqual(missing, { command: "/nope/aether", source: "setting", found: false });
  });

  it("expands ~ and ${workspaceFolder} and anchors relative paths at the workspace", () => {
    assert.equal(resolveExecutable(opts([], { configured: "~/x/aether" })).command, "/home/u/x/aether");
    assert.equal(
      resolveExecutable(opts([], { configured: "${workspaceFolder}/tools/aether" })).command,
      "/ws/tools/aether",
    );
    assert.equal(resolveExecutable(opts([], { configured: "env/bin/aether" })).command, "/ws/env/bin/aether");
  });

  it("looks a bare configured name up on PATH", () => {
    const r = resolveExecutable(opts(["/usr/bin/aether-dev"], { configured: "aether-dev" }));
    assert.deepEqual(r, { command: "/usr/bin/aether-dev", source: "setting", found: true });
  });

  it("uses Scripts\\aether.exe and ; on Windows", () => {
    const win = opts(["C:\\ws\\.venv\\Scripts\\aether.exe"], {
      workspace: "C:\\ws", platform: "win32", envPath: "C:\\a;C:\\b",
    });
    assert.equal(resolveExecutable(win).command, "C:\\ws\\.venv\\Scripts\\aether.exe");
    const onPath = opts(["C:\\b\\aether.exe"], { workspace: "C:\\ws", platform: "win32", envPath: "C:\\a;C:\\b" });
    assert.equal(resolveExecutable(onPath).command, "C:\\b\\aether.exe");
  });

  it("skips the venv lookup without a workspace", () => {
    const r = resolveExecutable(opts(["/ws/.venv/bin/aether"], { workspace: undefined }));
    assert.equal(r.source, "fallback");
  });
});

describe("expandConfiguredPath", () => {
  it("leaves a bare name alone", () => {
    assert.equal(expandConfiguredPath("aether", "/ws", "/home/u", "linux"), "aether");
  });
});

describe("needsRestart", () => {
  it("restarts for the launch settings only", () => {
    assert.equal(needsRestart((s) => s === "aether.model"), true);
    assert.equal(needsRestart((s) => s === "aether.extraArgs"), true);
    assert.equal(needsRestart((s) => s === "aether.trace.server"), false);
    assert.equal(needsRestart(() => false), false);
  });
});
