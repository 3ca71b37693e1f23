import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { argsFor, commandLine, launchOf, probeMessage } from "../src/launch";

describe("launchOf", () => {
  it("runs cspec by default", () => {
    const launch = launchOf({ path: "cspec", python: "" }, "/w");
    assert.equal(launch.command, "cspec");
    assert.deepEqual(argsFor(launch, "lsp"), ["lsp"]);
  });

  it("falls back to cspec for an empty path", () => {
    assert.equal(launchOf({ path: "  ", python: "" }, undefined).command, "cspec");
  });

  it("takes relative paths and ${workspaceFolder} from the workspace folder", () => {
    assert.equal(launchOf({ path: ".venv/bin/cspec", python: "" }, "/w").command, "/w/.venv/bin/cspec");
    assert.equal(launchOf({ path: "${workspaceFolder}/bin/cspec", python: "" }, "/w").command, "/w/bin/cspec");
    assert.equal(launchOf({ path: "/opt/cspec", python: "" }, "/w").command, "/opt/cspec");
  });

  it("runs the module with a Python interpreter when one is set", () => {
    const launch = launchOf({ path: "cspec", python: ".venv/bin/python" }, "/w");
    assert.equal(launch.command, "/w/.venv/bin/python");
    assert.deepEqual(argsFor(launch, "lsp"), ["-m", "contractspec.cli.main", "lsp"]);
    assert.equal(launch.setting, "contractspec.server.python");
  });

  it("quotes a command line for the output", () => {
    assert.equal(commandLine(launchOf({ path: "/my tools/cspec", python: "" }, undefined), "check"), "'/my tools/cspec' check");
  });
});

describe("probeMessage", () => {
  it("names the setting and the install command when cspec is not on PATH", () => {
    const message = probeMessage(launchOf({ path: "cspec", python: "" }, "/w"), { code: "ENOENT" });
    assert.match(message, /`cspec` was not found on PATH/);
    assert.match(message, /pip install contractspec/);
    assert.match(message, /`contractspec\.server\.path`/);
  });

  it("says that an absolute path does not exist", () => {
    assert.match(probeMessage(launchOf({ path: "/opt/cspec", python: "" }, "/w"), { code: "ENOENT" }), /`\/opt\/cspec` does not exist/);
  });

  it("quotes the last line of the error of a Python without ContractSpec", () => {
    const message = probeMessage(launchOf({ path: "cspec", python: "/usr/bin/python3" }, "/w"), {
      exitCode: 1,
      stderr: "Traceback...\nModuleNotFoundError: No module named 'contractspec'\n",
    });
    assert.match(message, /\(exit code 1\): ModuleNotFoundError: No module named 'contractspec'/);
    assert.match(message, /\/usr\/bin\/python3 -m pip install contractspec/);
  });

  it("tells a missing interpreter apart", () => {
    assert.match(probeMessage(launchOf({ path: "", python: "python9" }, "/w"), { code: "ENOENT" }), /interpreter `python9` was not found/);
  });
});
