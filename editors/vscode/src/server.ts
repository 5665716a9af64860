// Pure logic for launching `aether lsp`: arguments from settings, and where the executable is.
// No `vscode` import: unit-tested with node's own test runner.

import * as path from "node:path";

export interface AetherSettings {
  /** `aether.path`; empty = search the workspace's virtualenv, then PATH. */
  path: string;
  /** `aether.provider`; empty = the server's own configuration. */
  provider: string;
  /** `aether.model`; empty = the server's own configuration. */
  model: string;
  /** `aether.extraArgs`. */
  extraArgs: string[];
}

/** Read settings from an untyped getter (the vscode configuration), tolerating bad values. */
export function readSettings(get: (key: string) => unknown): AetherSettings {
  const str = (key: string): string => {
    const v = get(key);
    return typeof v === "string" ? v.trim() : "";
  };
  const extra = get("extraArgs");
  return {
    path: str("path"),
    provider: str("provider"),
    model: str("model"),
    extraArgs: Array.isArray(extra) ? extra.filter((a): a is string => typeof a === "string") : [],
  };
}

/** Arguments for the server process: `lsp [--workspace W] [--provider P] [--model M] ...extra`. */
export function buildServerArgs(settings: AetherSettings, workspace: string | undefined): string[] {
  const args = ["lsp"];
  if (workspace) {
    args.push("--workspace", workspace);
  }
  if (settings.provider) {
    args.push("--provider", settings.provider);
  }
  if (settings.model) {
    args.push("--model", settings.model);
  }
  args.push(...settings.extraArgs);
  return args;
}

export interface ResolveOptions {
  /** `aether.path` as configured (may be empty). */
  configured: string;
  /** Workspace folder's file-system path, if any. */
  workspace: string | undefined;
  /** Value of the PATH environment variable. */
  envPath: string | undefined;
  /** `process.platform`. */
  platform: string;
  /** The user's home directory, for `~` expansion. */
  home: string | undefined;
  /** True when `file` exists and is an executable file. */
  isExecutable: (file: string) => boolean;
}

export interface Resolved {
  /** The command to spawn. */
  command: string;
  /** Where it came from, for the output channel. */
  source: "setting" | "venv" | "PATH" | "fallback";
  /** True when the file was seen to exist (false for a bare "aether" fallback or a missing setting). */
  found: boolean;
}

function pathApi(platform: string): typeof path.posix {
  return platform === "win32" ? path.win32 : path.posix;
}

/** Expand `~` and `${workspaceFolder}`, and anchor a relative path at the workspace folder. */
export function expandConfiguredPath(
  value: string,
  workspace: string | undefined,
  home: string | undefined,
  platform: string,
): string {
  const p = pathApi(platform);
  let v = value;
  if (workspace) {
    v = v.split("${workspaceFolder}").join(workspace);
  }
  if (home && (v === "~" || v.startsWith("~/") || v.startsWith("~\\"))) {
    v = p.join(home, v.slice(1));
  }
  // A bare command name ("aether") is looked up on PATH; only paths with a separator are anchored.
  const hasSeparator = v.includes("/") || (platform === "win32" && v.includes("\\"));
  if (hasSeparator && !p.isAbsolute(v) && workspace) {
    v = p.join(workspace, v);
  }
  return v;
}

function executableNames(platform: string): string[] {
  return platform === "win32" ? ["aether.exe", "aether.cmd", "aether.bat", "aether"] : ["aether"];
}

function searchPath(
  names: string[],
  envPath: string | undefined,
  platform: string,
  isExecutable: (file: string) => boolean,
): string | undefined {
  const p = pathApi(platform);
  const sep = platform === "win32" ? ";" : ":";
  for (const dir of (envPath ?? "").split(sep)) {
    if (!dir) {
      continue;
    }
    for (const name of names) {
      const candidate = p.join(dir, name);
      if (isExecutable(candidate)) {
        return candidate;
      }
    }
  }
  return undefined;
}

/**
 * Find the `aether` executable: the setting if given (a bare name is searched on PATH), else the
 * workspace's `.venv` / `venv`, else PATH, else the bare name (spawn then reports the error).
 */
export function resolveExecutable(opts: ResolveOptions): Resolved {
  const p = pathApi(opts.platform);
  const names = executableNames(opts.platform);
  if (opts.configured) {
    const expanded = expandConfiguredPath(opts.configured, opts.workspace, opts.home, opts.platform);
    const bare = !expanded.includes("/") && !(opts.platform === "win32" && expanded.includes("\\"));
    if (bare) {
      const onPath = searchPath([expanded], opts.envPath, opts.platform, opts.isExecutable);
      return { command: onPath ?? expanded, source: "setting", found: onPath !== undefined };
    }
    return { command: expanded, source: "setting", found: opts.isExecutable(expanded) };
  }
  if (opts.workspace) {
    const binDir = opts.platform === "win32" ? "Scripts" : "bin";
    for (const venv of [".venv", "venv"]) {
      for (const name of names) {
        const candidate = p.join(opts.workspace, venv, binDir, name);
        if (opts.isExecutable(candidate)) {
          return { command: candidate, source: "venv", found: true };
        }
      }
    }
  }
  const onPath = searchPath(names, opts.envPath, opts.platform, opts.isExecutable);
  if (onPath) {
    return { command: onPath, source: "PATH", found: true };
  }
  return { command: "aether", source: "fallback", found: false };
}

/** True when a configuration change (given its `affectsConfiguration`) needs a server restart. */
export function needsRestart(affects: (section: string) => boolean): boolean {
  return ["aether.path", "aether.provider", "aether.model", "aether.extraArgs"].some(affects);
}
