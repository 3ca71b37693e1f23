import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { describe as describeFile, parsePreview, sides, title } from "../src/preview";

const ANSWER = {
  summary: "1 added, 1 changed, 1 removed, 4 unchanged",
  outDir: "/w/generated",
  files: [
    { path: "api/new.py", status: "added", added: 2, removed: 0, diff: "--- a/api/new.py\n+++ b/api/new.py\n@@ -0,0 +1,2 @@\n+a\n+b\n", edited: false },
    { path: "api/app.py", status: "changed", added: 1, removed: 1, diff: "--- a/api/app.py\n+++ b/api/app.py\n@@ -1 +1 @@\n-x\n+y\n", edited: true },
    { path: "old.py", status: "removed", added: 0, removed: 1, diff: "--- a/old.py\n+++ b/old.py\n@@ -1 +0,0 @@\n-z\n", edited: false },
  ],
};

describe("parsePreview", () => {
  it("reads the server's answer", () => {
    const preview = parsePreview(ANSWER);
    assert.equal(preview.summary, ANSWER.summary);
    assert.equal(preview.outDir, "/w/generated");
    assert.deepEqual(preview.files.map((f) => [f.path, f.status, f.edited]), [
      ["api/new.py", "added", false],
      ["api/app.py", "changed", true],
      ["old.py", "removed", false],
    ]);
  });

  it("rejects what is not a preview", () => {
    assert.throws(() => parsePreview(null), /not an object/);
    assert.throws(() => parsePreview({ summary: "s", outDir: "o" }), /no list of files/);
    assert.throws(() => parsePreview({ ...ANSWER, files: [{ ...ANSWER.files[0], status: "moved" }] }), /unknown status/);
    assert.throws(() => parsePreview({ ...ANSWER, files: [{ ...ANSWER.files[0], diff: 3 }] }), /`diff` is not a string/);
  });
});

describe("sides", () => {
  const [added, changed, removed] = parsePreview(ANSWER).files;

  it("an added file: empty before, the diff's lines after", () => {
    assert.deepEqual(sides(added!, undefined), { before: "", after: "a\nb\n" });
  });

  it("a changed file: the file on disk, patched", () => {
    assert.deepEqual(sides(changed!, "x\n"), { before: "x\n", after: "y\n" });
  });

  it("a removed file: the file on disk, then nothing", () => {
    assert.deepEqual(sides(removed!, "z\n"), { before: "z\n", after: "" });
  });
});

describe("labels", () => {
  const [added, changed, removed] = parsePreview(ANSWER).files;

  it("say what happens to each file", () => {
    assert.equal(title(added!), "api/new.py (new file)");
    assert.equal(title(removed!), "old.py (no longer generated)");
    assert.equal(describeFile(changed!), "changed · +1 −1 · edited by hand: applying overwrites it");
  });
});
