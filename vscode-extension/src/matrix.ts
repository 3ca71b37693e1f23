/** The answer of `cspec.whoCanDoWhat` (the operation-by-role matrix) as a web page. */

export type Access = "yes" | "conditional" | "no" | "no policy";

export interface MatrixRow {
  readonly kind: string;
  readonly name: string;
  readonly rule: string | null;
  readonly file: string;
  readonly line: number;
  readonly access: Readonly<Record<string, Access>>;
}

export interface AccessMatrix {
  readonly module: string;
  readonly roles: readonly string[];
  readonly rows: readonly MatrixRow[];
}

const MARKS: Readonly<Record<Access, { mark: string; label: string }>> = {
  yes: { mark: "✓", label: "allowed" },
  conditional: { mark: "◐", label: "depends on the record" },
  no: { mark: "✗", label: "denied" },
  "no policy": { mark: "⚠", label: "no policy" },
};

export function parseMatrix(value: unknown): AccessMatrix {
  if (typeof value !== "object" || value === null) {
    throw new Error("the matrix is not an object");
  }
  const record = value as Record<string, unknown>;
  const roles = record["roles"];
  const rows = record["rows"];
  if (typeof record["module"] !== "string" || !Array.isArray(roles) || !Array.isArray(rows)) {
    throw new Error("the matrix lacks its module, roles or rows");
  }
  return {
    module: record["module"],
    roles: roles.map(String),
    rows: rows.map((row: Record<string, unknown>) => ({
      kind: String(row["kind"]),
      name: String(row["name"]),
      rule: typeof row["rule"] === "string" ? row["rule"] : null,
      file: String(row["file"]),
      line: Number(row["line"]) || 1,
      access: (row["access"] ?? {}) as Record<string, Access>,
    })),
  };
}

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c] ?? c);
}

/** A self-contained page (no scripts; `cspNonce` guards the one style element). */
export function matrixHtml(matrix: AccessMatrix, cspSource: string, cspNonce: string): string {
  const head = matrix.roles.map((r) => `<th><code>${escapeHtml(r)}</code></th>`).join("");
  const body = matrix.rows
    .map((row) => {
      const cells = matrix.roles
        .map((role) => {
          const access = row.access[role] ?? "no";
          const { mark, label } = MARKS[access] ?? MARKS.no;
          return `<td class="${access.replace(" ", "-")}" title="${escapeHtml(`${role}: ${label}`)}">${mark}</td>`;
        })
        .join("");
      const rule = row.rule === null ? "<em>no policy</em>" : `<code>${escapeHtml(row.rule)}</code>`;
      return `<tr><th class="row">${escapeHtml(row.kind)} <code>${escapeHtml(row.name)}</code></th>${cells}<td class="rule">${rule}</td></tr>`;
    })
    .join("\n");
  const table = matrix.rows.length
    ? `<table><thead><tr><th></th>${head}<th>rule</th></tr></thead><tbody>\n${body}\n</tbody></table>
<p class="legend">${Object.values(MARKS).map((m) => `${m.mark} ${m.label}`).join(" · ")}</p>`
    : `<p>Module <code>${escapeHtml(matrix.module)}</code> declares nothing that needs access rules.</p>`;
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src ${cspSource} 'nonce-${cspNonce}';">
<title>Who can do what: ${escapeHtml(matrix.module)}</title>
<style nonce="${cspNonce}">
body { font-family: var(--vscode-font-family); color: var(--vscode-foreground); padding: 0 1em; }
table { border-collapse: collapse; }
th, td { border: 1px solid var(--vscode-panel-border); padding: .25em .6em; }
td { text-align: center; }
th.row, td.rule { text-align: left; font-weight: normal; }
td.yes { color: var(--vscode-testing-iconPassed); }
td.conditional { color: var(--vscode-editorWarning-foreground); }
td.no { color: var(--vscode-errorForeground); }
td.no-policy { color: var(--vscode-editorWarning-foreground); font-weight: bold; }
.legend { opacity: .8; }
</style></head>
<body><h2>Who can do what in <code>${escapeHtml(matrix.module)}</code></h2>
${table}
</body></html>`;
}
