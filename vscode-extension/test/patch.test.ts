import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, it } from "node:test";

import { applyPatch, PatchError, splitLines } from "../src/patch";

/** Diffs made by the server's own code (contractspec.generators.writer.Change.diff). */
const FIXTURES = JSON.parse(
  fs.readFileSync(path.join(__dirname, "..", "..", "test", "fixtures", "diffs.json"), "utf8"),
) as Record<string, { old: string; new: string; diff: string }>;

describe("applyPatch", () => {
  for (const [name, { old, new: expected, diff }] of Object.entries(FIXTURES)) {
    it(`rebuilds the new text: ${name}`, () => {
      assert.equal(applyPatch(old, diff), expected);
    });
  }

  it("has fixtures", () => {
    assert.ok(Object.keys(FIXTURES).length >= 8);
  });

  it("refuses a diff that does not fit the file", () => {
    const { diff } = FIXTURES["one line changed"] as { diff: string };
    assert.throws(() => applyPatch("something else\n", diff), PatchError);
  });

  it("refuses a truncated diff", () => {
    const { old, diff } = FIXTURES["two hunks"] as { old: string; diff: string };
    assert.throws(() => applyPatch(old, diff.slice(0, diff.length - 20)), PatchError);
  });

  it("leaves the text alone for an empty diff", () => {
    assert.equal(applyPatch("a\nb\n", ""), "a\nb\n");
  });
});

describe("splitLines", () => {
  it("keeps line endings and a last line without one", () => {
    assert.deepEqual(splitLines("a\nb\r\nc"), ["a\n", "b\r\n", "c"]);
    assert.deepEqual(splitLines(""), []);
  });
});
