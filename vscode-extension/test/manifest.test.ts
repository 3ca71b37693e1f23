/** The extension manifest (package.json) against the code and files it names. */

import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, it } from "node:test";

import { EXTENSION } from "./textmate";

const read = (file: string): string => fs.readFileSync(path.join(EXTENSION, file), "utf8");
const manifest = JSON.parse(read("package.json"));
const lock = JSON.parse(read("package-lock.json"));

describe("package.json", () => {
  it("keeps engines.vscode and @types/vscode in step", () => {
    const engine = /^\^(\d+\.\d+)\.\d+$/.exec(manifest.engines.vscode)?.[1];
    const types = lock.packages["node_modules/@types/vscode"].version as string;
    assert.equal(manifest.devDependencies["@types/vscode"], types, "pin @types/vscode exactly");
    assert.equal(types.split(".").slice(0, 2).join("."), engine);
  });

  it("registers every contributed command", () => {
    const source = read("src/extension.ts");
    for (const { command } of manifest.contributes.commands) {
      assert.ok(source.includes(`registerCommand("${command}"`), command);
    }
  });

  it("names files that exist", () => {
    const files = [
      manifest.contributes.languages[0].configuration,
      ...manifest.contributes.grammars.map((g: { path: string }) => g.path),
      ...manifest.contributes.snippets.map((s: { path: string }) => s.path),
    ];
    for (const file of files) assert.ok(fs.existsSync(path.join(EXTENSION, file)), file);
    assert.equal(manifest.main, "./dist/extension.js");
  });

  it("has a language configuration whose patterns compile", () => {
    const config = JSON.parse(read("language-configuration.json"));
    const patterns = [
      config.indentationRules.increaseIndentPattern,
      config.indentationRules.decreaseIndentPattern,
      config.wordPattern,
      ...config.onEnterRules.map((r: { beforeText: string }) => r.beforeText),
    ];
    for (const pattern of patterns) assert.doesNotThrow(() => new RegExp(pattern), pattern);
    assert.ok(new RegExp(config.indentationRules.increaseIndentPattern).test("entity Deal {"));
    assert.ok(!new RegExp(config.indentationRules.increaseIndentPattern).test('role r "{"'));
    assert.ok(new RegExp(config.onEnterRules[0].beforeText).test("/// A deal."));
    assert.ok(!new RegExp(config.onEnterRules[0].beforeText).test("//// not a doc"));
  });

  it("declares the settings the code reads", () => {
    const properties = Object.keys(manifest.contributes.configuration.properties);
    assert.deepEqual(properties.sort(), [
      "contractspec.server.debounce",
      "contractspec.server.path",
      "contractspec.server.python",
      "contractspec.trace.server",
    ]);
  });
});
