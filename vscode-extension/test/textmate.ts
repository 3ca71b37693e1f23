/** Tokenizing with the extension's TextMate grammar, as VS Code does (vscode-textmate with
 * the Oniguruma regular expressions of vscode-oniguruma). */

import * as fs from "node:fs";
import * as path from "node:path";
import * as oniguruma from "vscode-oniguruma";
import * as textmate from "vscode-textmate";

export const EXTENSION = path.resolve(__dirname, "..", "..");
export const REPOSITORY = path.resolve(EXTENSION, "..");

export interface Token {
  readonly line: number; // 0-based
  readonly start: number;
  readonly end: number;
  readonly text: string;
  readonly scopes: readonly string[];
}

let loaded: Promise<textmate.IGrammar> | undefined;

export function grammar(): Promise<textmate.IGrammar> {
  loaded ??= (async () => {
    const wasm = fs.readFileSync(path.join(EXTENSION, "node_modules", "vscode-oniguruma", "release", "onig.wasm"));
    await oniguruma.loadWASM(wasm.buffer.slice(wasm.byteOffset, wasm.byteOffset + wasm.byteLength));
    const registry = new textmate.Registry({
      onigLib: Promise.resolve({
        createOnigScanner: (sources: string[]) => new oniguruma.OnigScanner(sources),
        createOnigString: (text: string) => new oniguruma.OnigString(text),
      }),
      loadGrammar: async (scopeName: string) => {
        if (scopeName !== "source.cspec") return null;
        const file = path.join(EXTENSION, "syntaxes", "cspec.tmLanguage.json");
        return textmate.parseRawGrammar(fs.readFileSync(file, "utf8"), file);
      },
    });
    const found = await registry.loadGrammar("source.cspec");
    if (!found) throw new Error("the grammar did not load");
    return found;
  })();
  return loaded;
}

/** Every token of every line of `text`. */
export async function tokenize(text: string): Promise<Token[][]> {
  const g = await grammar();
  let state = textmate.INITIAL;
  return text.split("\n").map((line, number) => {
    const result = g.tokenizeLine(line, state);
    state = result.ruleStack;
    return result.tokens.map((t) => ({
      line: number,
      start: t.startIndex,
      end: Math.min(t.endIndex, line.length),
      text: line.slice(t.startIndex, t.endIndex),
      scopes: t.scopes,
    }));
  });
}

/** The scopes of the character at `line`, `column`. */
export function scopesAt(lines: Token[][], line: number, column: number): readonly string[] {
  const token = lines[line]?.find((t) => t.start <= column && column < t.end);
  if (!token) throw new Error(`no token at ${line + 1}:${column + 1}`);
  return token.scopes;
}

export function hasScope(scopes: readonly string[], prefix: string): boolean {
  return scopes.some((s) => s === prefix || s.startsWith(`${prefix}.`));
}

/** The repository's specs: the test workspaces and the standard library. */
export function repositorySpecs(): string[] {
  const found: string[] = [];
  const walk = (dir: string): void => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.name.endsWith(".cspec")) found.push(full);
    }
  };
  walk(path.join(REPOSITORY, "tests", "data"));
  walk(path.join(REPOSITORY, "contractspec", "std"));
  return found.sort();
}
