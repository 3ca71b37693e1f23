/** A reference lexer for the grammar tests, built from the terminals of the language's own
 * grammar (contractspec/grammar/cspec.lark): strings, comments and literals are found the way
 * the parser finds them, and the TextMate scopes are checked against them. */

import * as fs from "node:fs";
import * as path from "node:path";

import { REPOSITORY } from "./textmate";

export type Kind =
  | "TRIPLE_STRING" | "DOC" | "COMMENT" | "STRING" | "SEMVER" | "DURATION" | "SIZE" | "PERCENT"
  | "VNUM" | "DECIMAL" | "INT" | "NAME" | "WS" | "PUNCT";

export interface Lexeme {
  readonly kind: Kind;
  readonly offset: number;
  readonly text: string;
}

export const LARK = fs.readFileSync(path.join(REPOSITORY, "contractspec", "grammar", "cspec.lark"), "utf8");

/** Lark's order: higher priority first (then as listed). */
const ORDER: readonly Kind[] = [
  "SEMVER", "TRIPLE_STRING", "DOC", "DURATION", "SIZE", "PERCENT", "VNUM", "DECIMAL",
  "COMMENT", "STRING", "INT", "NAME", "WS",
];

function terminal(kind: Kind): RegExp {
  const match = new RegExp(`^${kind}(?:\\.\\d+)?: /(.*)/$`, "m").exec(LARK);
  if (!match?.[1]) throw new Error(`terminal ${kind} not found in cspec.lark`);
  return new RegExp(match[1], "y");
}

const TERMINALS: readonly [Kind, RegExp][] = ORDER.map((kind) => [kind, terminal(kind)]);
const PUNCT = /\.\.|->|==|!=|<=|>=|@@|\[\]|[{}()[\]<>,:.=+\-*/?@%]/y;

export function lex(text: string): Lexeme[] {
  const out: Lexeme[] = [];
  let at = 0;
  while (at < text.length) {
    let found: Lexeme | undefined;
    for (const [kind, pattern] of [...TERMINALS, ["PUNCT", PUNCT] as [Kind, RegExp]]) {
      pattern.lastIndex = at;
      const m = pattern.exec(text);
      if (m && m[0].length > 0) {
        found = { kind, offset: at, text: m[0] };
        break;
      }
    }
    if (!found) throw new Error(`cannot lex ${JSON.stringify(text.slice(at, at + 20))}`);
    out.push(found);
    at += found.text.length;
  }
  return out;
}

/** Every keyword of the language: the quoted words of the grammar and the keyword terminals. */
export function keywords(): Set<string> {
  const words = new Set([...LARK.matchAll(/"([a-z]+)"/g)].map((m) => m[1] as string));
  for (const m of LARK.matchAll(/^[A-Z]+: "([a-z]+)"$/gm)) words.add(m[1] as string);
  return words;
}

/** Declaration keywords, and those directly followed by the declared name. */
export function declarationKeywords(): { all: Set<string>; named: Set<string> } {
  const all = new Set<string>();
  const named = new Set<string>();
  const opKinds = [...(/^!op_kind: (.*)$/m.exec(LARK)?.[1] ?? "").matchAll(/"(\w+)"/g)].map((m) => m[1] as string);
  for (const m of LARK.matchAll(/^\w+_decl: docs\? (?:"(\w+)"|(op_kind)) (\S+)/gm)) {
    const words = m[2] ? opKinds : [m[1] as string];
    for (const word of words) {
      all.add(word);
      if (m[3] === "NAME" || m[3] === "qual_name") named.add(word);
    }
  }
  return { all, named };
}
