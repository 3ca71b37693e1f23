import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { escapeHtml, matrixHtml, parseMatrix } from "../src/matrix";

const ANSWER = {
  module: "shop",
  roles: ["owner", "admin", "member"],
  rows: [
    { kind: "command", name: "placeOrder v1", rule: "place_orders", line: 9, file: "spec/shop.cspec", access: { owner: "no", admin: "yes", member: "yes" } },
    { kind: "policy", name: "Order: update", rule: "self.owner == actor", line: 20, file: "spec/shop.cspec", access: { owner: "conditional", admin: "no", member: "no" } },
    { kind: "command", name: "open<script>", rule: null, line: 30, file: "spec/shop.cspec", access: { owner: "no policy", admin: "no policy", member: "no policy" } },
  ],
  markdown: "ignored",
};

describe("the access matrix", () => {
  const matrix = parseMatrix(ANSWER);

  it("is read from the server's answer", () => {
    assert.equal(matrix.module, "shop");
    assert.deepEqual(matrix.roles, ["owner", "admin", "member"]);
    assert.equal(matrix.rows[1]?.access["owner"], "conditional");
    assert.equal(matrix.rows[2]?.rule, null);
  });

  it("rejects what is not a matrix", () => {
    assert.throws(() => parseMatrix({ roles: [] }), /lacks/);
    assert.throws(() => parseMatrix("x"), /not an object/);
  });

  it("is a table with one mark per role and the rule", () => {
    const html = matrixHtml(matrix, "vscode-resource:", "n0nce");
    assert.match(html, /<th><code>owner<\/code><\/th><th><code>admin<\/code><\/th><th><code>member<\/code><\/th>/);
    assert.match(html, /placeOrder v1<\/code><\/th><td class="no"[^>]*>✗<\/td><td class="yes"[^>]*>✓<\/td><td class="yes"[^>]*>✓<\/td><td class="rule"><code>place_orders<\/code>/);
    assert.match(html, /<td class="conditional" title="owner: depends on the record">◐<\/td>/);
    assert.match(html, /<td class="no-policy"[^>]*>⚠<\/td>/);
    assert.match(html, /<em>no policy<\/em>/);
  });

  it("escapes names and allows no script", () => {
    const html = matrixHtml(matrix, "vscode-resource:", "n0nce");
    assert.ok(!html.includes("<script>"));
    assert.match(html, /open&lt;script&gt;/);
    assert.match(html, /default-src 'none'; style-src vscode-resource: 'nonce-n0nce'/);
    assert.equal(escapeHtml(`<a href="x">'&'</a>`), "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;");
  });

  it("says so when a module declares nothing to guard", () => {
    assert.match(matrixHtml(parseMatrix({ module: "m", roles: ["admin"], rows: [] }), "s", "n"), /declares nothing that needs access rules/);
  });
});
