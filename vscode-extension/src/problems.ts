/** The status bar's count of the workspace's errors and warnings from `cspec`. */

/** vscode.DiagnosticSeverity values (kept here so the logic runs without VS Code). */
export const ERROR = 0;
export const WARNING = 1;

export interface Problem {
  readonly severity: number;
  readonly source?: string | undefined;
}

export interface Counts {
  readonly errors: number;
  readonly warnings: number;
}

export function countProblems(problems: Iterable<Problem>, source = "cspec"): Counts {
  let errors = 0;
  let warnings = 0;
  for (const p of problems) {
    if (p.source !== source) continue;
    if (p.severity === ERROR) errors += 1;
    else if (p.severity === WARNING) warnings += 1;
  }
  return { errors, warnings };
}

export function statusText(counts: Counts): string {
  return `$(error) ${counts.errors} $(warning) ${counts.warnings} cspec`;
}

export function statusTooltip(counts: Counts): string {
  if (!counts.errors && !counts.warnings) {
    return "ContractSpec: no errors or warnings in the workspace";
  }
  return `ContractSpec: ${plural(counts.errors, "error")} and ${plural(counts.warnings, "warning")} in the workspace (click to show them)`;
}

export function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}
