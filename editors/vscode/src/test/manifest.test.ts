import { strict as assert } from "node:assert";
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { describe, it } from "node:test";

import { CMD, LANGUAGES, SERVER_COMMANDS } from "../ids";

interface Manifest {
  main: string;
  activationEvents: string[];
  contributes: {
    commands: Array<{ command: string; title: string; category?: string }>;
    configuration: { properties: Record<string, unknown> };
  };
}

// out/test/manifest.test.js → ../../package.json
const manifest = JSON.parse(
  readFileSync(path.join(__dirname, "..", "..", "package.json"), "utf8"),
) as Manifest;

describe("package.json", () => {
  it("contributes exactly the commands the extension registers, all in the AETHER category", () => {
    const contributed = manifest.contributes.commands.map((c) => c.command).sort();
    assert.deepEqual(contributed, Object.values(CMD).sort());
    for (const c of manifest.contributes.commands) {
      assert.equal(c.category, "AETHER", c.command);
    }
  });

  it("never reuses a server command id (the client registers those itself)", () => {
    for (const id of Object.values(CMD)) {
      assert.equal((SERVER_COMMANDS as readonly string[]).includes(id), false, id);
    }
  });

  it("activates on every served language", () => {
    for (const lang of LANGUAGES) {
      assert.ok(manifest.activationEvents.includes(`onLanguage:${lang}`), lang);
    }
  });

  it("declares the settings the extension reads", () => {
    for (const key of ["aether.path", "aether.provider", "aether.model", "aether.extraArgs"]) {
      assert.ok(key in manifest.contributes.configuration.properties, key);
    }
  });

  it("points main at the compiled extension", () => {
    assert.equal(manifest.main, "./out/extension.js");
  });
});
