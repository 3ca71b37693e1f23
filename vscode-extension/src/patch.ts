/** Applying the unified diffs of `cspec.previewRegeneration` (Python's difflib format, with
 * `\ No newline at end of file` markers) to the current text of a generated file. */

export class PatchError extends Error {}

interface Line {
  readonly op: " " | "-" | "+";
  text: string; // with its line ending, unless the file ends without one
}

interface Hunk {
  readonly oldStart: number; // 1-based; the line before the hunk when it removes nothing
  readonly oldCount: number;
  readonly lines: Line[];
}

const HEADER = /^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@/;

/** The lines of `text`, each with its line ending. */
export function splitLines(text: string): string[] {
  return text.match(/[^\n]*\n|[^\n]+$/g) ?? [];
}

export function parseHunks(diff: string): Hunk[] {
  const rows = splitLines(diff);
  const hunks: Hunk[] = [];
  let i = 0;
  while (i < rows.length) {
    const header = HEADER.exec(rows[i] ?? "");
    i += 1;
    if (!header) {
      continue; // `---`/`+++` file headers
    }
    const oldCount = header[2] === undefined ? 1 : Number(header[2]);
    const newCount = header[4] === undefined ? 1 : Number(header[4]);
    const hunk: Hunk = { oldStart: Number(header[1]), oldCount, lines: [] };
    let olds = 0;
    let news = 0;
    while (olds < oldCount || news < newCount || rows[i]?.startsWith("\\")) {
      const row = rows[i];
      if (row === undefined) {
        throw new PatchError("the diff ends in the middle of a hunk");
      }
      i += 1;
      if (row.startsWith("\\")) {
        const last = hunk.lines[hunk.lines.length - 1];
        if (last === undefined) {
          throw new PatchError("a `\\ No newline` marker with no line before it");
        }
        last.text = last.text.replace(/\n$/, "");
        continue;
      }
      const op = row[0];
      if (op !== " " && op !== "-" && op !== "+") {
        throw new PatchError(`unexpected line in a hunk: ${JSON.stringify(row)}`);
      }
      hunk.lines.push({ op, text: row.slice(1) });
      if (op !== "+") olds += 1;
      if (op !== "-") news += 1;
    }
    hunks.push(hunk);
  }
  return hunks;
}

/** `old` with the diff applied; throws a PatchError when the diff does not fit `old`. */
export function applyPatch(old: string, diff: string): string {
  const source = splitLines(old);
  const out: string[] = [];
  let at = 0; // index into source
  for (const hunk of parseHunks(diff)) {
    const start = hunk.oldCount === 0 ? hunk.oldStart : hunk.oldStart - 1;
    if (start < at || start > source.length) {
      throw new PatchError(`a hunk starts at line ${hunk.oldStart}, outside the file`);
    }
    out.push(...source.slice(at, start));
    at = start;
    for (const line of hunk.lines) {
      if (line.op === "+") {
        out.push(line.text);
        continue;
      }
      if (source[at] !== line.text) {
        throw new PatchError(`line ${at + 1} is not what the diff expects: the file changed since the preview`);
      }
      if (line.op === " ") out.push(line.text);
      at += 1;
    }
  }
  out.push(...source.slice(at));
  return out.join("");
}
