// AETHER for VS Code: starts `aether lsp` over stdio, shows its status, and adds a few commands.
// Everything that can be tested without VS Code lives in status.ts, server.ts, format.ts, ids.ts.

import * as fs from "node:fs";
import * as os from "node:os";
import * as vscode from "vscode";
import {
  ExecuteCommandRequest,
  LanguageClient,
  State,
  type LanguageClientOptions,
  type ServerOptions,
} from "vscode-languageclient/node";

import { CMD, LANGUAGES } from "./ids";
import { impactRows, refreshMessage, symbolItemText, type ImpactRow, type WireSymbol } from "./format";
import { buildServerArgs, needsRestart, readSettings, resolveExecutable } from "./server";
import {
  parseStatus,
  statusBarView,
  statusDetails,
  stoppedView,
  type AetherStatus,
  type StatusBarView,
} from "./status";

let client: LanguageClient | undefined;
let output: vscode.LogOutputChannel;
let statusItem: vscode.StatusBarItem;
let lastStatus: AetherStatus | undefined;
let workspacePath: string | undefined;
/** Serialises start/stop/restart so configuration bursts do not overlap. */
let lifecycle: Promise<void> = Promise.resolve();

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  output = vscode.window.createOutputChannel("AETHER", { log: true });
  statusItem = vscode.window.createStatusBarItem("aether.status", vscode.StatusBarAlignment.Left, 0);
  statusItem.name = "AETHER";
  statusItem.command = CMD.status;
  showView(statusBarView(undefined));
  statusItem.show();

  context.subscriptions.push(
    output,
    statusItem,
    vscode.commands.registerCommand(CMD.search, searchSymbols),
    vscode.commands.registerCommand(CMD.index, indexWorkspace),
    vscode.commands.registerCommand(CMD.refresh, refreshAtCursor),
    vscode.commands.registerCommand(CMD.restart, () => enqueue(restart)),
    vscode.commands.registerCommand(CMD.output, () => {
      output.show(true);
    }),
    vscode.commands.registerCommand(CMD.status, showStatus),
    vscode.commands.registerCommand(CMD.impact, showImpact),
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (needsRestart((section) => e.affectsConfiguration(section))) {
        output.info("Configuration changed; restarting the AETHER server.");
        void enqueue(restart);
      }
    }),
    vscode.workspace.onDidChangeWorkspaceFolders(() => {
      // Restart only when the served folder went away, or when there was none and now is one.
      const folders = vscode.workspace.workspaceFolders ?? [];
      const stillThere = folders.some((f) => f.uri.fsPath === workspacePath);
      if (workspacePath === undefined ? folders.length > 0 : !stillThere) {
        void enqueue(restart);
      }
    }),
  );

  await enqueue(start);
}

export async function deactivate(): Promise<void> {
  await enqueue(stop);
}

function enqueue(step: () => Promise<void>): Promise<void> {
  lifecycle = lifecycle.then(step, step);
  return lifecycle;
}

function showView(view: StatusBarView): void {
  statusItem.text = view.text;
  statusItem.tooltip = view.tooltip;
  statusItem.backgroundColor = view.background ? new vscode.ThemeColor(view.background) : undefined;
}

function pickWorkspaceFolder(): vscode.WorkspaceFolder | undefined {
  const active = vscode.window.activeTextEditor?.document.uri;
  const folder = active ? vscode.workspace.getWorkspaceFolder(active) : undefined;
  return folder ?? vscode.workspace.workspaceFolders?.find((f) => f.uri.scheme === "file");
}

function isExecutable(file: string): boolean {
  try {
    if (!fs.statSync(file).isFile()) {
      return false;
    }
    fs.accessSync(file, process.platform === "win32" ? fs.constants.F_OK : fs.constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

async function start(): Promise<void> {
  const folder = pickWorkspaceFolder();
  workspacePath = folder?.uri.fsPath;
  const settings = readSettings((key) => vscode.workspace.getConfiguration("aether", folder).get(key));
  const resolved = resolveExecutable({
    configured: settings.path,
    workspace: workspacePath,
    envPath: process.env.PATH,
    platform: process.platform,
    home: os.homedir(),
    isExecutable,
  });
  const args = buildServerArgs(settings, workspacePath);

  if (!resolved.found) {
    const why =
      resolved.source === "setting"
        ? `aether.path "${resolved.command}" is not an executable file`
        : "the `aether` executable was not found in the workspace's .venv/venv or on PATH";
    output.error(why);
    showView(stoppedView(why));
    void vscode.window
      .showErrorMessage(`AETHER: ${why}. Install AETHER (for example into the workspace's .venv) or set aether.path.`,
        "Open Settings", "Show Output")
      .then((choice) => {
        if (choice === "Open Settings") {
          void vscode.commands.executeCommand("workbench.action.openSettings", "aether.path");
        } else if (choice === "Show Output") {
          output.show(true);
        }
      });
    return;
  }
  output.info(`Starting: ${resolved.command} ${args.join(" ")} (executable from ${resolved.source})`);

  const serverOptions: ServerOptions = {
    command: resolved.command,
    args,
    // No `transport`: TransportKind.stdio would append "--stdio" to the arguments; left out,
    // the client still speaks over the process's stdin/stdout.
    options: workspacePath ? { cwd: workspacePath } : {},
  };
  const clientOptions: LanguageClientOptions = {
    documentSelector: LANGUAGES.map((language) => ({ scheme: "file", language })),
    outputChannel: output,
    workspaceFolder: folder,
  };
  const c = new LanguageClient("aether", "AETHER", serverOptions, clientOptions);
  c.onNotification("aether/status", (params: unknown) => {
    const status = parseStatus(params);
    if (status) {
      lastStatus = status;
      showView(statusBarView(status));
    }
  });
  c.onDidChangeState((e) => {
    if (e.newState === State.Stopped && client === c) {
      showView(stoppedView("the language server is not running"));
    } else if (e.newState === State.Running && client === c) {
      showView(statusBarView(lastStatus));
    }
  });
  client = c;
  lastStatus = undefined;
  showView(statusBarView(undefined));
  try {
    await c.start();
  } catch (err) {
    const msg = err instanceof Error ? err.message : String(err);
    output.error(`The AETHER server failed to start: ${msg}`);
    showView(stoppedView(`failed to start: ${msg}`));
    return;
  }
  // The first notification may come later (or may have come before we listened): ask once.
  adoptInitialStatus(parseStatus(await executeServerCommand("aether.status", [], true)));
}

/** Use the answer of `aether.status` unless a notification already brought a newer one. */
function adoptInitialStatus(status: AetherStatus | undefined): void {
  if (status && lastStatus === undefined) {
    lastStatus = status;
    showView(statusBarView(status));
  }
}

async function stop(): Promise<void> {
  const c = client;
  client = undefined;
  if (c) {
    try {
      await c.stop(5000);
    } catch (err) {
      output.warn(`Stopping the server: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
}

async function restart(): Promise<void> {
  await stop();
  await start();
}

function runningClient(): LanguageClient | undefined {
  if (client && client.state === State.Running) {
    return client;
  }
  void vscode.window
    .showWarningMessage("AETHER: the language server is not running.", "Restart Server", "Show Output")
    .then((choice) => {
      if (choice === "Restart Server") {
        void enqueue(restart);
      } else if (choice === "Show Output") {
        output.show(true);
      }
    });
  return undefined;
}

async function executeServerCommand(
  command: string,
  args: unknown[],
  quiet = false,
  token?: vscode.CancellationToken,
): Promise<unknown> {
  const c = quiet ? (client?.state === State.Running ? client : undefined) : runningClient();
  if (!c) {
    return undefined;
  }
  try {
    return await c.sendRequest(ExecuteCommandRequest.type, { command, arguments: args }, token);
  } catch (err) {
    const msg = err instanceof Error ? err.message : String(err);
    output.error(`${command} failed: ${msg}`);
    if (!quiet) {
      void vscode.window.showErrorMessage(`AETHER: ${command} failed: ${msg}`);
    }
    return undefined;
  }
}

async function indexWorkspace(): Promise<void> {
  if (!runningClient()) {
    return;
  }
  vscode.window.setStatusBarMessage("AETHER: indexing the workspace…", 3000);
  await executeServerCommand("aether.indexWorkspace", []);
}

async function refreshAtCursor(): Promise<void> {
  const editor = vscode.window.activeTextEditor;
  if (!editor) {
    void vscode.window.showInformationMessage("AETHER: open a file and put the cursor on a symbol.");
    return;
  }
  const c = runningClient();
  if (!c) {
    return;
  }
  const pos = editor.selection.active;
  const arg = {
    uri: c.code2ProtocolConverter.asUri(editor.document.uri),
    position: { line: pos.line, character: pos.character },
  };
  const result = await vscode.window.withProgress(
    {
      location: vscode.ProgressLocation.Notification,
      title: "AETHER: refreshing the summary…",
      cancellable: true,
    },
    (_progress, token) => executeServerCommand("aether.refreshSymbol", [arg], false, token),
  );
  const msg = refreshMessage(result);
  output.info(msg.text);
  if (msg.level === "info") {
    void vscode.window.showInformationMessage(msg.text);
  } else if (msg.level === "warning") {
    void vscode.window.showWarningMessage(msg.text);
  } else {
    void vscode.window.showErrorMessage(msg.text);
  }
}

/** The symbols uncommitted changes touch and their callers (the server's `aether.impact`). */
async function showImpact(): Promise<void> {
  if (!runningClient()) {
    return;
  }
  const result = await executeServerCommand("aether.impact", [{ ref: "HEAD" }]);
  const rows = impactRows(result);
  if (rows.length === 0) {
    void vscode.window.showInformationMessage("AETHER: no indexed symbol changed since HEAD.");
    return;
  }
  const picked = await vscode.window.showQuickPick<ImpactRow & vscode.QuickPickItem>(rows, {
    title: "AETHER: Impact of Uncommitted Changes",
    matchOnDescription: true,
    matchOnDetail: true,
  });
  if (picked && workspacePath) {
    const doc = await vscode.workspace.openTextDocument(vscode.Uri.file(`${workspacePath}/${picked.file}`));
    const at = new vscode.Position(Math.max(0, picked.line - 1), 0);
    await vscode.window.showTextDocument(doc, { selection: new vscode.Range(at, at) });
  }
}

interface SymbolPickItem extends vscode.QuickPickItem {
  symbol: WireSymbol;
}

function searchSymbols(): void {
  const c = runningClient();
  if (!c) {
    return;
  }
  const pick = vscode.window.createQuickPick<SymbolPickItem>();
  pick.title = "AETHER: Search Symbols";
  pick.placeholder = "Type a name, path or words from a summary";
  pick.matchOnDescription = true;
  pick.matchOnDetail = true;
  let pending: vscode.CancellationTokenSource | undefined;
  let timer: NodeJS.Timeout | undefined;

  const query = (text: string): void => {
    pending?.cancel();
    const source = new vscode.CancellationTokenSource();
    pending = source;
    pick.busy = true;
    c.sendRequest<WireSymbol[] | null>("workspace/symbol", { query: text }, source.token).then(
      (symbols) => {
        if (source.token.isCancellationRequested) {
          return;
        }
        // The server ranks; keep its order and do not let the quick pick filter its answers.
        pick.items = (symbols ?? []).map((symbol) => ({
          ...symbolItemText(symbol, workspacePath),
          alwaysShow: true,
          symbol,
        }));
        pick.busy = false;
      },
      (err: unknown) => {
        if (!source.token.isCancellationRequested) {
          output.warn(`workspace/symbol failed: ${err instanceof Error ? err.message : String(err)}`);
          pick.busy = false;
        }
      },
    );
  };

  pick.onDidChangeValue((text) => {
    if (timer) {
      clearTimeout(timer);
    }
    timer = setTimeout(() => {
      query(text);
    }, 120);
  });
  pick.onDidAccept(() => {
    const item = pick.selectedItems[0];
    pick.hide();
    if (item) {
      void openSymbol(c, item.symbol);
    }
  });
  pick.onDidHide(() => {
    if (timer) {
      clearTimeout(timer);
    }
    pending?.cancel();
    pick.dispose();
  });

  const editor = vscode.window.activeTextEditor;
  const selected = editor && !editor.selection.isEmpty ? editor.document.getText(editor.selection) : "";
  pick.value = selected.includes("\n") ? "" : selected;
  pick.show();
  query(pick.value);
}

async function openSymbol(c: LanguageClient, symbol: WireSymbol): Promise<void> {
  const uri = c.protocol2CodeConverter.asUri(symbol.location.uri);
  const start = symbol.location.range?.start;
  const position = start ? new vscode.Position(start.line, start.character) : new vscode.Position(0, 0);
  const doc = await vscode.workspace.openTextDocument(uri);
  await vscode.window.showTextDocument(doc, { selection: new vscode.Range(position, position) });
}

interface StatusPickItem extends vscode.QuickPickItem {
  run?: () => unknown;
}

async function showStatus(): Promise<void> {
  const status = parseStatus(await executeServerCommand("aether.status", [], true)) ?? lastStatus;
  if (status) {
    lastStatus = status;
    showView(statusBarView(status));
  }
  const items: StatusPickItem[] = status
    ? statusDetails(status).map((row) => ({ label: row.label, description: row.value }))
    : [{ label: "Server", description: "not running (see the output)" }];
  items.push(
    { label: "", kind: vscode.QuickPickItemKind.Separator },
    { label: "$(refresh) Index Workspace", run: indexWorkspace },
    { label: "$(search) Search Symbols", run: searchSymbols },
    {
      label: "$(output) Show Output",
      run: () => {
        output.show(true);
      },
    },
    { label: "$(debug-restart) Restart Server", run: () => enqueue(restart) },
  );
  const choice = await vscode.window.showQuickPick(items, { title: "AETHER status" });
  if (choice?.run) {
    await choice.run();
  }
}
