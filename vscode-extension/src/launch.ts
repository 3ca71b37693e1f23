/** How to run `cspec`: from the settings to a command line, and what to say when it fails. */

import * as path from "node:path";

export interface ServerSettings {
  /** `contractspec.server.path`: an executable name or path. */
  readonly path: string;
  /** `contractspec.server.python`: an interpreter; when set it wins over `path`. */
  readonly python: string;
}

export interface Launch {
  readonly command: string;
  /** Arguments before the subcommand (`-m contractspec.cli.main` for a Python). */
  readonly prefix: readonly string[];
  /** The setting that chose this launch, for messages. */
  readonly setting: "contractspec.server.path" | "contractspec.server.python";
}

export const PYTHON_MODULE = "contractspec.cli.main";

/** The command line of `cspec`, with `${workspaceFolder}` and relative paths taken from `root`. */
export function launchOf(settings: ServerSettings, root: string | undefined): Launch {
  const python = settings.python.trim();
  if (python) {
    return { command: resolve(python, root), prefix: ["-m", PYTHON_MODULE], setting: "contractspec.server.python" };
  }
  return { command: resolve(settings.path.trim() || "cspec", root), prefix: [], setting: "contractspec.server.path" };
}

export function argsFor(launch: Launch, ...subcommand: string[]): string[] {
  return [...launch.prefix, ...subcommand];
}

export function commandLine(launch: Launch, ...subcommand: string[]): string {
  return [launch.command, ...argsFor(launch, ...subcommand)].map(quote).join(" ");
}

function resolve(command: string, root: string | undefined): string {
  const expanded = root ? command.replace(/\$\{workspaceFolder\}/g, root) : command;
  if (root && !path.isAbsolute(expanded) && /[\\/]/.test(expanded)) {
    return path.join(root, expanded);
  }
  return expanded;
}

function quote(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/** What a failed `cspec --version` probe tells the user, with the fix. */
export interface ProbeFailure {
  /** `ENOENT`, `EACCES`... when the process could not start. */
  readonly code?: string | undefined;
  readonly exitCode?: number | null | undefined;
  readonly stderr?: string | undefined;
}

export function probeMessage(launch: Launch, failure: ProbeFailure): string {
  const setting = `\`${launch.setting}\``;
  if (launch.setting === "contractspec.server.python") {
    if (failure.code === "ENOENT" || failure.code === "EACCES") {
      return `ContractSpec: the Python interpreter \`${launch.command}\` was not found. Set ${setting} to a Python that has ContractSpec installed, or clear it to use \`cspec\`.`;
    }
    return `ContractSpec: \`${commandLine(launch, "--version")}\` failed${detail(failure)}. Install ContractSpec into that interpreter (\`${launch.command} -m pip install contractspec\`) or change ${setting}.`;
  }
  if (failure.code === "ENOENT") {
    const where = path.isAbsolute(launch.command) ? `\`${launch.command}\` does not exist` : `\`${launch.command}\` was not found on PATH`;
    return `ContractSpec: the language server cannot start: ${where}. Install ContractSpec (\`pip install contractspec\`) where VS Code can see it, or set ${setting} to the \`cspec\` executable (e.g. \`.venv/bin/cspec\`), or \`contractspec.server.python\` to a Python that has it.`;
  }
  if (failure.code === "EACCES") {
    return `ContractSpec: \`${launch.command}\` is not executable. Set ${setting} to the \`cspec\` executable.`;
  }
  return `ContractSpec: \`${commandLine(launch, "--version")}\` failed${detail(failure)}. Check ${setting}.`;
}

function detail(failure: ProbeFailure): string {
  const last = (failure.stderr ?? "").trim().split(/\r?\n/).pop()?.trim();
  const code = typeof failure.exitCode === "number" ? ` (exit code ${failure.exitCode})` : "";
  return last ? `${code}: ${last}` : code;
}
