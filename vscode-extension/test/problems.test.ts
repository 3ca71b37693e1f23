import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { countProblems, ERROR, plural, statusText, statusTooltip, WARNING } from "../src/problems";

describe("the status bar count", () => {
  it("counts the errors and warnings of cspec only", () => {
    const counts = countProblems([
      { severity: ERROR, source: "cspec" },
      { severity: ERROR, source: "cspec" },
      { severity: WARNING, source: "cspec" },
      { severity: 2, source: "cspec" }, // information
      { severity: ERROR, source: "pylance" },
      { severity: ERROR },
    ]);
    assert.deepEqual(counts, { errors: 2, warnings: 1 });
  });

  it("shows both counts with icons", () => {
    assert.equal(statusText({ errors: 2, warnings: 1 }), "$(error) 2 $(warning) 1 cspec");
  });

  it("explains itself", () => {
    assert.equal(statusTooltip({ errors: 0, warnings: 0 }), "ContractSpec: no errors or warnings in the workspace");
    assert.match(statusTooltip({ errors: 1, warnings: 2 }), /1 error and 2 warnings/);
    assert.equal(plural(1, "file"), "1 file");
  });
});
