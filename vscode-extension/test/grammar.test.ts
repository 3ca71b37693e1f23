/** The TextMate grammar, tokenized as VS Code does: hand-picked cases, then every spec of the
 * repository checked against a lexer built from the language's own grammar. */

import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, it } from "node:test";

import { declarationKeywords, keywords, lex, type Kind } from "./oracle";
import { EXTENSION, hasScope, repositorySpecs, scopesAt, tokenize, type Token } from "./textmate";

/** The scopes of the first occurrence of `word` (the n-th with `nth`) in `text`. */
async function scopesOf(text: string, word: string, nth = 0): Promise<readonly string[]> {
  const lines = await tokenize(text);
  let seen = 0;
  for (const [number, line] of text.split("\n").entries()) {
    for (let at = line.indexOf(word); at >= 0; at = line.indexOf(word, at + 1)) {
      if (seen++ === nth) return scopesAt(lines, number, at);
    }
  }
  throw new Error(`${word} not in ${text}`);
}

const CASES: readonly [text: string, word: string, scope: string, nth?: number][] = [
  ["module crm version 1.4.0", "module", "storage.type.module"],
  ["module crm version 1.4.0", "crm", "entity.name.namespace"],
  ["module crm version 1.4.0", "version", "keyword.other"],
  ["module crm version 1.4.0", "1.4.0", "constant.numeric.version"],
  ['use billing from "../billing"', "use", "keyword.control.import"],
  ['use billing from "../billing"', "from", "keyword.control.import"],
  ['use billing from "../billing"', '"../billing"', "string.quoted.double"],
  ["entity Deal {", "entity", "storage.type.entity"],
  ["entity Deal {", "Deal", "entity.name.type.entity"],
  ["enum DealStatus {", "DealStatus", "entity.name.type.enum"],
  ["type Address {", "Address", "entity.name.type.type"],
  ["command createDeal v1 {", "createDeal", "entity.name.function.command"],
  ["command createDeal v1 {", "v1", "constant.numeric.version"],
  ["query listDeals v2 {", "listDeals", "entity.name.function.query"],
  ["event deal.created v1 {", "deal.created", "entity.name.type.event"],
  ["workflow DealFlow on Deal.status {", "DealFlow", "entity.name.type.workflow"],
  ["workflow DealFlow on Deal.status {", "on", "keyword.other"],
  ["policy Deal {\n  read: view_deals\n}", "policy", "storage.type.policy"],
  ["policy Deal {\n  read: view_deals\n}", "read", "variable.other.property.rule"],
  ["policy Deal {\n  read: view_deals\n}", "view_deals", "meta.block.policy"],
  ["grant owner, admin: manage_deals", "grant", "storage.type.grant"],
  ["on task.due run sendReminder", "on", "storage.type.on"],
  ["on task.due run sendReminder", "run", "keyword.other"],
  ['schedule nightly cron "0 3 * * *" run cleanup', "cron", "keyword.other"],
  ["schedule hourly every 1h run cleanup", "1h", "constant.numeric.duration"],
  ["attachments on Deal {\n  max 10MB\n  upload: manage_deals\n}", "10MB", "constant.numeric.size"],
  ["attachments on Deal {\n  max 10MB\n  upload: manage_deals\n}", "upload", "variable.other.property.rule"],
  ["flag beta {\n  rollout 12.5% by org\n}", "12.5%", "constant.numeric.percent"],
  ["experiment e {\n  variants control 50%, fast 50%\n  metric deal.won\n}", "metric", "keyword.other"],
  ["metric api_calls \"API calls\" {\n  unit call\n}", "api_calls", "entity.name.type.metric"],
  ["metric api_calls \"API calls\" {\n  unit call\n}", "unit", "keyword.other"],
  ["view board_deals board of Deal by stage {", "board", "keyword.other.view-kind", 1],
  ["event e.x v1 {\n  retention 365d\n  audit\n}", "365d", "constant.numeric.duration"],
  ["event e.x v1 {\n  retention 365d\n  audit\n}", "audit", "keyword.other"],
  // Fields: keywords stay field names before a colon; types after it.
  ["entity A {\n  status: DealStatus = open\n}", "status", "variable.other.property"],
  ["entity A {\n  status: DealStatus = open\n}", "DealStatus", "entity.name.type"],
  ["entity A {\n  input: string\n  view: text\n}", "input", "variable.other.property"],
  ["entity A {\n  input: string\n  view: text\n}", "view", "variable.other.property"],
  ["entity A {\n  input: string\n}", "string", "support.type.builtin"],
  ["entity A {\n  owner: ref identity.User\n}", "ref", "storage.modifier.ref"],
  ["entity A {\n  owner: ref identity.User\n}", "identity.User", "entity.name.type"],
  ["entity A {\n  tags: string[]?\n}", "[]", "storage.modifier.list"],
  ["entity A {\n  position: int(0..)\n}", "..", "keyword.operator.range"],
  ["entity A {\n  n: decimal = 2.50\n}", "2.50", "constant.numeric.decimal"],
  ["entity A {\n  id: uuid @id\n}", "id", "entity.other.attribute-name", 2],
  ["entity A {\n  @@index(org, stage)\n}", "index", "entity.other.attribute-name.model"],
  ["query q v1 {\n  output page<Deal>\n}", "page", "support.type.builtin"],
  ["query q v1 {\n  output page<Deal>\n}", "Deal", "entity.name.type"],
  ["command c v1 {\n  policy manage_deals or self.owner == actor\n}", "or", "keyword.operator.logical"],
  ["command c v1 {\n  policy manage_deals or self.owner == actor\n}", "actor", "variable.language"],
  ["command c v1 {\n  policy manage_deals or self.owner == actor\n}", "policy", "keyword.other"],
  ["command c v1 {\n  policy manage_deals or self.owner == actor\n}", "owner", "variable.other.property", -1],
  ["entity A {\n  done: bool = false\n}", "false", "constant.language"],
  ["workflow W on A.s {\n  transition win: open -> won by manage_deals\n}", "win", "entity.name.function.transition"],
  ["workflow W on A.s {\n  transition win: open -> won by manage_deals\n}", "->", "keyword.operator.arrow"],
  // Comments, doc comments, strings.
  ["/// A deal.\nentity Deal {", "A deal.", "comment.line.documentation"],
  ["// plain\n//// also plain", "also plain", "comment.line.double-slash"],
  ["// cspec-ignore CS301: because", "cspec-ignore", "keyword.other.directive"],
  ["// cspec-ignore CS301: because", "CS301", "constant.other.diagnostic-code"],
  ['role admin "Admin \\"all\\""', "\\\"", "constant.character.escape"],
  ['agent a {\n  instructions """\n  Be brief: { not a block }\n  """\n}', "Be brief", "string.quoted.triple"],
  ['agent a {\n  instructions """\n  entity X {\n  """\n}', "entity", "string.quoted.triple"],
  ['agent a {\n  instructions """\n  x\n  """\n  model "m"\n}', "model", "keyword.other"],
  ['role broken "no end\nentity Next {', "entity", "storage.type.entity"],
];

describe("hand-picked cases", () => {
  for (const [text, word, scope, nth] of CASES) {
    it(`${JSON.stringify(word)} in ${JSON.stringify(text.split("\n").find((l) => l.includes(word)))} is ${scope}`, async () => {
      const index = nth === -1 ? text.split(word).length - 2 : (nth ?? 0);
      const scopes = await scopesOf(text, word, index);
      assert.ok(hasScope(scopes, `${scope}.cspec`) || scopes.some((s) => s.startsWith(scope)), `got ${scopes.join(" ")}`);
    });
  }
});

const EXPECTED: Partial<Record<Kind, string>> = {
  TRIPLE_STRING: "string.quoted.triple",
  DOC: "comment.line.documentation",
  COMMENT: "comment.line.double-slash",
  STRING: "string.quoted.double",
  SEMVER: "constant.numeric.version",
  VNUM: "constant.numeric.version",
  DURATION: "constant.numeric.duration",
  SIZE: "constant.numeric.size",
  PERCENT: "constant.numeric.percent",
  DECIMAL: "constant.numeric.decimal",
  INT: "constant.numeric",
};
const NOT_A_NAME = ["string.", "comment.", "constant.numeric."];

interface Checked {
  readonly failures: string[];
  readonly keywordScoped: Set<string>;
}

/** Checks one file's tokens against the reference lexer. */
async function check(file: string, text: string, checked: Checked): Promise<void> {
  const lines = await tokenize(text);
  const starts = [0];
  for (const [i, ch] of [...text].entries()) if (ch === "\n") starts.push(i + 1);
  const where = (offset: number): [number, number] => {
    let line = starts.length - 1;
    while ((starts[line] as number) > offset) line -= 1;
    return [line, offset - (starts[line] as number)];
  };
  const scopes = (offset: number): readonly string[] => scopesAt(lines, ...where(offset));
  const fail = (offset: number, message: string): void => {
    const [line, column] = where(offset);
    checked.failures.push(`${path.relative(EXTENSION, file)}:${line + 1}:${column + 1}: ${message}`);
  };
  const { all: declarations, named } = declarationKeywords();
  const words = keywords();
  const lexemes = lex(text).filter((l) => l.kind !== "WS");
  let depth = 0;
  let previousLine = -1;
  let declared: string | undefined; // the declaration keyword just seen
  for (const lexeme of lexemes) {
    const [line] = where(lexeme.offset);
    const first = line !== previousLine;
    previousLine = line;
    const expected = EXPECTED[lexeme.kind];
    if (expected) {
      for (let i = 0; i < lexeme.text.length; i++) {
        if (lexeme.text[i] === "\n") continue;
        const got = scopes(lexeme.offset + i);
        if (!hasScope(got, `${expected}.cspec`) && !got.some((s) => s.startsWith(`${expected}.`))) {
          fail(lexeme.offset + i, `${lexeme.kind} ${JSON.stringify(lexeme.text)}: expected ${expected}, got ${got.join(" ")}`);
          break;
        }
      }
    } else if (lexeme.kind === "NAME") {
      const got = scopes(lexeme.offset);
      if (got.some((s) => NOT_A_NAME.some((p) => s.startsWith(p)))) {
        fail(lexeme.offset, `name ${lexeme.text} scoped ${got.join(" ")}`);
      }
      if (words.has(lexeme.text) && got.some((s) => /^(keyword|storage|constant\.language)\./.test(s))) {
        checked.keywordScoped.add(lexeme.text);
      }
      if (declared) {
        if (!got.some((s) => s.startsWith("entity.name."))) {
          fail(lexeme.offset, `the name declared by ${declared}, ${lexeme.text}: expected entity.name, got ${got.join(" ")}`);
        }
        declared = undefined;
      }
      if (first && depth === 0 && declarations.has(lexeme.text)) {
        if (!got.some((s) => /^(storage\.type|keyword\.control\.import)\./.test(s))) {
          fail(lexeme.offset, `declaration keyword ${lexeme.text}: got ${got.join(" ")}`);
        }
        if (named.has(lexeme.text)) declared = lexeme.text;
      }
    } else {
      declared = undefined;
    }
    if (lexeme.text === "{") depth += 1;
    if (lexeme.text === "}") depth = Math.max(0, depth - 1);
  }
}

/** Snippet bodies with each placeholder at its default, as inserted. */
function snippetTexts(): string[] {
  const snippets = JSON.parse(fs.readFileSync(path.join(EXTENSION, "snippets", "cspec.json"), "utf8")) as Record<string, { body: string[] }>;
  return Object.values(snippets).map((s) =>
    s.body.join("\n").replace(/\$\{\d+:([^}]*)\}|\$\{\d+\|([^,|]*)[^}]*\|\}|\$\d+/g, (_m, a?: string, b?: string) => a ?? b ?? ""),
  );
}

describe("the repository's specs", () => {
  const specs = repositorySpecs();

  it("finds the specs", () => {
    assert.ok(specs.length >= 10, `only ${specs.length} specs`);
    assert.ok(specs.some((s) => s.endsWith(path.join("std", "identity.cspec"))));
  });

  it("scopes every string, comment, literal, declaration and name as the language's lexer reads them", async () => {
    const checked: Checked = { failures: [], keywordScoped: new Set() };
    for (const file of specs) {
      await check(file, fs.readFileSync(file, "utf8"), checked);
    }
    assert.deepEqual(checked.failures, []);
  });

  it("highlights every keyword of the language where the specs and snippets use it", async () => {
    const checked: Checked = { failures: [], keywordScoped: new Set() };
    for (const file of specs) await check(file, fs.readFileSync(file, "utf8"), checked);
    for (const [i, text] of snippetTexts().entries()) await check(`snippet ${i}`, text, checked);
    assert.deepEqual(checked.failures, []);
    const missing = [...keywords()].filter((k) => !checked.keywordScoped.has(k)).sort();
    assert.deepEqual(missing, []);
  });
});

describe("the reference lexer", () => {
  it("reads the literals as the grammar defines them", () => {
    const kinds = lex('x 1.4.0 v2 30d 10MB 12.5% 2.5 7 "s" """t\n""" /// d\n// c').filter((l) => l.kind !== "WS").map((l) => l.kind);
    assert.deepEqual(kinds, ["NAME", "SEMVER", "VNUM", "DURATION", "SIZE", "PERCENT", "DECIMAL", "INT", "STRING", "TRIPLE_STRING", "DOC", "COMMENT"]);
  });

  it("finds the declaration keywords in cspec.lark", () => {
    const { all, named } = declarationKeywords();
    for (const word of ["module", "entity", "command", "query", "on", "grant", "attachments", "agent"]) assert.ok(all.has(word), word);
    assert.ok(named.has("entity") && named.has("command") && !named.has("grant") && !named.has("on"));
  });
});

export type { Token };
