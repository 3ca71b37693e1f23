/** The ContractSpec extension: starts `cspec lsp`, and adds the regeneration preview, the
 * access matrix, a workspace check and a status bar count of errors and warnings. */

import { execFile, spawn } from "node:child_process";
import * as path from "node:path";
import * as vscode from "vscode";
import {
  ExecuteCommandRequest,
  LanguageClient,
  type LanguageClientOptions,
  type ServerOptions,
} from "vscode-languageclient/node";

import { argsFor, commandLine, launchOf, probeMessage, type Launch, type ProbeFailure } from "./launch";
import { matrixHtml, parseMatrix } from "./matrix";
import { PatchError } from "./patch";
import { describe, parsePreview, sides, title, type FileChange, type RegenerationPreview } from "./preview";
import { countProblems, statusText, statusTooltip } from "./problems";

const PREVIEW = "cspec.previewRegeneration";
const APPLY = "cspec.applyRegeneration";
const WHO = "cspec.whoCanDoWhat";
const SCHEME = "cspec-preview";
const MAX_DIFF_TABS = 10;

let client: LanguageClient | undefined;

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  const output = vscode.window.createOutputChannel("ContractSpec");
  const previews = new PreviewDocuments();
  const status = vscode.window.createStatusBarItem("contractspec.problems", vscode.StatusBarAlignment.Left, 10);
  status.name = "ContractSpec problems";
  const matrixView = new MatrixView();
  const watcher = vscode.workspace.createFileSystemWatcher("**/{*.cspec,cspec.toml,cspec.lock}");
  const ui = { output, previews, matrixView, watcher, status };

  context.subscriptions.push(
    output,
    status,
    matrixView,
    watcher,
    vscode.workspace.registerTextDocumentContentProvider(SCHEME, previews),
    vscode.languages.onDidChangeDiagnostics(() => updateStatus(status)),
    vscode.commands.registerCommand("contractspec.previewRegeneration", () =>
      vscode.commands.executeCommand(PREVIEW, ...specArgument()),
    ),
    vscode.commands.registerCommand("contractspec.generate", () =>
      vscode.commands.executeCommand(APPLY, ...specArgument()),
    ),
    vscode.commands.registerCommand("contractspec.whoCanDoWhat", async () => {
      const uri = await pickSpec();
      if (uri) await vscode.commands.executeCommand(WHO, uri);
    }),
    vscode.commands.registerCommand("contractspec.checkWorkspace", () => checkWorkspace(output)),
    vscode.commands.registerCommand("contractspec.restartServer", () => restart(ui)),
    vscode.commands.registerCommand("contractspec.showOutput", () => output.show()),
    vscode.workspace.onDidChangeConfiguration((event) => {
      if (event.affectsConfiguration("contractspec.server")) void restart(ui);
    }),
  );
  status.show();
  await vscode.commands.executeCommand("setContext", "contractspec.active", true);
  await start(ui);
}

export async function deactivate(): Promise<void> {
  await client?.stop();
  client = undefined;
}

interface Ui {
  readonly output: vscode.OutputChannel;
  readonly previews: PreviewDocuments;
  readonly matrixView: MatrixView;
  readonly watcher: vscode.FileSystemWatcher;
  readonly status: vscode.StatusBarItem;
}

// ---- the language client --------------------------------------------------------------

function root(): string | undefined {
  return vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
}

function currentLaunch(): Launch {
  const settings = vscode.workspace.getConfiguration("contractspec.server");
  return launchOf({ path: settings.get<string>("path", "cspec"), python: settings.get<string>("python", "") }, root());
}

/** Runs `cspec --version`: undefined when it works, else why not. */
function probe(launch: Launch): Promise<ProbeFailure | undefined> {
  return new Promise((resolve) => {
    execFile(launch.command, argsFor(launch, "--version"), { cwd: root(), timeout: 60_000 }, (error, _out, stderr) => {
      if (!error) {
        resolve(undefined);
        return;
      }
      const code = (error as NodeJS.ErrnoException).code;
      resolve({ code: typeof code === "string" ? code : undefined, exitCode: typeof code === "number" ? code : null, stderr });
    });
  });
}

async function start(ui: Ui): Promise<void> {
  const launch = currentLaunch();
  const failure = await probe(launch);
  if (failure) {
    updateStatus(ui.status);
    const message = probeMessage(launch, failure);
    ui.output.appendLine(message);
    void vscode.window.showErrorMessage(message, "Open Settings", "Retry").then((choice) => {
      if (choice === "Open Settings") {
        void vscode.commands.executeCommand("workbench.action.openSettings", "contractspec.server");
      } else if (choice === "Retry") {
        void restart(ui);
      }
    });
    return;
  }
  const serverOptions: ServerOptions = {
    command: launch.command,
    args: argsFor(launch, "lsp"),
    options: root() === undefined ? {} : { cwd: root() as string },
  };
  const clientOptions: LanguageClientOptions = {
    documentSelector: [{ scheme: "file", language: "cspec" }],
    synchronize: { fileEvents: ui.watcher },
    initializationOptions: {
      debounce: vscode.workspace.getConfiguration("contractspec.server").get<number>("debounce", 50),
    },
    middleware: {
      executeCommand: (command, args, next) => {
        switch (command) {
          case PREVIEW:
            return runPreview(args, ui);
          case APPLY:
            return runApply(args);
          case WHO:
            return runWho(args, ui);
          default:
            return next(command, args);
        }
      },
    },
  };
  client = new LanguageClient("contractspec", "ContractSpec Language Server", serverOptions, clientOptions);
  ui.output.appendLine(`Starting ${commandLine(launch, "lsp")}`);
  updateStatus(ui.status);
  await client.start();
}

async function restart(ui: Ui): Promise<void> {
  const old = client;
  client = undefined;
  await old?.stop().catch(() => undefined);
  await start(ui);
}

/** A server command sent as is; its failures (spec errors, hand-edited files) are shown. */
async function serverCommand(command: string, args: unknown[], busy: string): Promise<unknown> {
  if (!client) {
    void vscode.window.showErrorMessage("ContractSpec: the language server is not running.", "Show Output").then(
      (choice) => choice && vscode.commands.executeCommand("contractspec.showOutput"),
    );
    return undefined;
  }
  const running = client;
  try {
    return await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Window, title: busy },
      () => running.sendRequest(ExecuteCommandRequest.type, { command, arguments: args }),
    );
  } catch (error) {
    void vscode.window.showErrorMessage(error instanceof Error ? error.message : String(error));
    return undefined;
  }
}

// ---- commands ---------------------------------------------------------------------------

function activeSpec(): vscode.Uri | undefined {
  const document = vscode.window.activeTextEditor?.document;
  return document?.languageId === "cspec" && document.uri.scheme === "file" ? document.uri : undefined;
}

function specArgument(): string[] {
  const uri = activeSpec();
  return uri ? [uri.toString()] : [];
}

async function pickSpec(): Promise<string | undefined> {
  const active = activeSpec();
  if (active) return active.toString();
  const files = await vscode.workspace.findFiles("**/*.cspec", "**/node_modules/**", 500);
  if (files.length <= 1) {
    if (!files[0]) void vscode.window.showWarningMessage("ContractSpec: there is no .cspec file in the workspace.");
    return files[0]?.toString();
  }
  const picked = await vscode.window.showQuickPick(
    files.map((uri) => ({ label: vscode.workspace.asRelativePath(uri), uri })),
    { placeHolder: "The module of which file?" },
  );
  return picked?.uri.toString();
}

async function runPreview(args: unknown[], ui: Ui): Promise<unknown> {
  const result = await serverCommand(PREVIEW, args, "ContractSpec: computing the regeneration preview");
  if (result === undefined || result === null) return result;
  let preview: RegenerationPreview;
  try {
    preview = parsePreview(result);
  } catch (error) {
    void vscode.window.showErrorMessage(`ContractSpec: unexpected preview from the server: ${String(error)}`);
    return result;
  }
  await showPreview(preview, ui.previews);
  return result;
}

async function showPreview(preview: RegenerationPreview, previews: PreviewDocuments): Promise<void> {
  if (!preview.files.length) {
    void vscode.window.showInformationMessage(`ContractSpec: the generated files are up to date (${preview.summary}).`);
    return;
  }
  previews.nextGeneration();
  const shown = preview.files.slice(0, MAX_DIFF_TABS);
  for (const [i, file] of shown.entries()) {
    await openDiff(preview, file, previews, i > 0);
  }
  const more = preview.files.length > shown.length ? ` (${shown.length} diffs opened)` : "";
  const choice = await vscode.window.showInformationMessage(
    `ContractSpec regeneration: ${preview.summary}${more}.`,
    "Apply",
    "List Files",
  );
  if (choice === "Apply") {
    await vscode.commands.executeCommand(APPLY);
  } else if (choice === "List Files") {
    const picked = await vscode.window.showQuickPick(
      preview.files.map((file) => ({ label: file.path, description: describe(file), file })),
      { placeHolder: preview.summary, matchOnDescription: true },
    );
    if (picked) await openDiff(preview, picked.file, previews, false);
  }
}

async function openDiff(preview: RegenerationPreview, file: FileChange, previews: PreviewDocuments, background: boolean): Promise<void> {
  const target = vscode.Uri.file(path.join(preview.outDir, file.path));
  let current: string | undefined;
  try {
    current = new TextDecoder().decode(await vscode.workspace.fs.readFile(target));
  } catch {
    current = undefined; // not generated yet
  }
  try {
    const { before, after } = sides(file, current);
    const left = previews.put("before", file.path, before);
    const right = previews.put("after", file.path, after);
    await vscode.commands.executeCommand("vscode.diff", left, right, title(file), {
      preview: false,
      preserveFocus: background,
    });
  } catch (error) {
    if (!(error instanceof PatchError)) throw error;
    void vscode.window.showWarningMessage(`ContractSpec: cannot show ${file.path}: ${error.message}. Run the preview again.`);
  }
}

async function runApply(args: unknown[]): Promise<unknown> {
  const result = await serverCommand(APPLY, args, "ContractSpec: regenerating");
  if (result === undefined || result === null) return result;
  const applied = result as { summary?: unknown; outDir?: unknown; files?: { path?: unknown }[]; via?: unknown };
  if (applied.via === "workspaceEdit" && typeof applied.outDir === "string") {
    // The files arrived as edits: save them, as `cspec gen` would have written them.
    const outDir = applied.outDir;
    const targets = new Set((applied.files ?? []).map((f) => path.join(outDir, String(f.path))));
    await Promise.all(
      vscode.workspace.textDocuments.filter((d) => d.isDirty && targets.has(d.uri.fsPath)).map((d) => d.save()),
    );
  }
  const summary = typeof applied.summary === "string" ? applied.summary : "done";
  void vscode.window.showInformationMessage(`ContractSpec: regenerated (${summary}).`);
  return result;
}

async function runWho(args: unknown[], ui: Ui): Promise<unknown> {
  const result = await serverCommand(WHO, [...args, { showMessage: false }], "ContractSpec: who can do what");
  if (result === undefined || result === null) return result;
  try {
    ui.matrixView.show(parseMatrix(result));
  } catch (error) {
    void vscode.window.showErrorMessage(`ContractSpec: unexpected matrix from the server: ${String(error)}`);
  }
  return result;
}

async function checkWorkspace(output: vscode.OutputChannel): Promise<void> {
  const launch = currentLaunch();
  const cwd = root();
  output.show(true);
  output.appendLine(`$ ${commandLine(launch, "check")}`);
  const exit = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: "ContractSpec: checking the workspace" },
    () =>
      new Promise<{ code: number | null; last: string }>((resolve) => {
        const child = spawn(launch.command, argsFor(launch, "check"), cwd === undefined ? {} : { cwd });
        let last = "";
        const take = (chunk: Buffer): void => {
          const text = chunk.toString();
          output.append(text);
          last = text.trim().split(/\r?\n/).pop() || last;
        };
        child.stdout.on("data", take);
        child.stderr.on("data", take);
        child.on("error", (error) => resolve({ code: null, last: probeMessage(launch, { code: (error as NodeJS.ErrnoException).code }) }));
        child.on("close", (code) => resolve({ code, last }));
      }),
  );
  const message = exit.code === 0 || exit.code === 1 ? `ContractSpec: ${exit.last}` : exit.last || "ContractSpec: the check failed";
  const show = exit.code === 0 ? vscode.window.showInformationMessage : vscode.window.showWarningMessage;
  const choice = await show(message, "Show Problems");
  if (choice) await vscode.commands.executeCommand("workbench.actions.view.problems");
}

function updateStatus(status: vscode.StatusBarItem): void {
  if (!client) {
    status.text = "$(warning) cspec: not running";
    status.tooltip = "ContractSpec: the language server is not running (click for the output)";
    status.command = "contractspec.showOutput";
    return;
  }
  status.command = "workbench.actions.view.problems";
  const counts = countProblems(
    vscode.languages.getDiagnostics().flatMap(([, diagnostics]) => diagnostics),
  );
  status.text = statusText(counts);
  status.tooltip = statusTooltip(counts);
}

// ---- views ------------------------------------------------------------------------------

/** The read-only documents on both sides of the regeneration diffs. */
class PreviewDocuments implements vscode.TextDocumentContentProvider {
  private readonly texts = new Map<string, string>();
  private generation = 0;

  nextGeneration(): void {
    this.generation += 1;
    const stale = `/${this.generation - 2}/`;
    for (const key of [...this.texts.keys()]) {
      if (vscode.Uri.parse(key).path.startsWith(stale)) this.texts.delete(key);
    }
  }

  put(side: "before" | "after", file: string, text: string): vscode.Uri {
    const uri = vscode.Uri.from({ scheme: SCHEME, path: `/${this.generation}/${side}/${file}` });
    this.texts.set(uri.toString(), text);
    return uri;
  }

  provideTextDocumentContent(uri: vscode.Uri): string {
    return this.texts.get(uri.toString()) ?? "";
  }
}

class MatrixView implements vscode.Disposable {
  private panel: vscode.WebviewPanel | undefined;

  show(matrix: ReturnType<typeof parseMatrix>): void {
    if (!this.panel) {
      this.panel = vscode.window.createWebviewPanel("contractspec.matrix", "Who can do what", vscode.ViewColumn.Beside, {
        enableScripts: false,
      });
      this.panel.onDidDispose(() => (this.panel = undefined));
    }
    this.panel.title = `Who can do what: ${matrix.module}`;
    const nonce = Array.from({ length: 16 }, () => Math.floor(Math.random() * 36).toString(36)).join("");
    this.panel.webview.html = matrixHtml(matrix, this.panel.webview.cspSource, nonce);
    this.panel.reveal(undefined, true);
  }

  dispose(): void {
    this.panel?.dispose();
  }
}
