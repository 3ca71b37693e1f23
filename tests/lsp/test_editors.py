"""Real editors as clients: headless Neovim (`vim.lsp`) and Emacs in batch mode (eglot).

Each opens a spec with a mistake and checks diagnostics, hover, completion and go to
definition. A test is skipped only when its editor is not installed here (`.ci/run`
installs both).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from contractspec.workspace.loader import STD_DIR
from tests.lsp.conftest import DATA, position, workspace

EDITORS = Path(__file__).resolve().parents[2] / "editors"
SHOP = (DATA / "lsp" / "spec" / "shop.cspec").read_text(encoding="utf-8")
BILLING = (DATA / "lsp" / "spec" / "billing.cspec").read_text(encoding="utf-8")
SERVER = [sys.executable, "-m", "contractspec.cli.main", "lsp"]
TIMEOUT = "180"  # seconds, for `timeout`: an editor that hangs is killed, never waited on


def _positions() -> dict[str, list[int]]:
    def at(needle: str, shift: int) -> list[int]:
        p = position(SHOP, needle, shift)
        return [p.line, p.character]

    return {"hover": at("command placeOrder", 9),
            "completion": at("org: ref identity.Org", 18),
            "definition": at("output Order", 8)}


def _check(results: dict[str, object], root: Path) -> None:
    assert results["errors"] == [], results["errors"]
    diagnostics = results["diagnostics"]
    assert isinstance(diagnostics, list)
    mony = position(SHOP, "mony")
    assert any(d["code"] == "CS201" and d["line"] == mony.line and d["col"] == mony.character
               and "mony" in d["message"] for d in diagnostics), diagnostics
    hover = results["hover"]
    assert isinstance(hover, str) and "command placeOrder v1 {" in hover
    completion = results["completion"]
    assert isinstance(completion, list) and {"User", "Org", "OrgMembership"} <= set(completion)
    definition = results["definition"]
    assert isinstance(definition, list) and len(definition) == 1
    target = definition[0]
    assert target["uri"] == (root / "spec" / "shop.cspec").resolve().as_uri()
    assert target["line"] == position(SHOP, "entity Order").line


def _run(command: list[str], env: dict[str, str], out: Path) -> dict[str, object]:
    result = subprocess.run(["timeout", TIMEOUT, *command], env={**os.environ, **env},
                            capture_output=True, text=True, check=False,
                            stdin=subprocess.DEVNULL)
    assert out.is_file(), f"exit {result.returncode}\n{result.stdout}\n{result.stderr}"
    found: dict[str, object] = json.loads(out.read_text(encoding="utf-8"))
    return found


@pytest.mark.skipif(shutil.which("nvim") is None, reason="Neovim is not installed")
def test_neovim(tmp_path: Path) -> None:
    root = workspace(tmp_path / "ws", {"shop.cspec": SHOP, "billing.cspec": BILLING})
    out = tmp_path / "nvim.json"
    results = _run(
        ["nvim", "--headless", "--clean", "-u", "NONE", "-c",
         f"luafile {EDITORS / 'nvim' / 'lsp_check.lua'}"],
        {"CSPEC_CMD": json.dumps(SERVER), "CSPEC_ROOT": str(root),
         "CSPEC_FILE": str(root / "spec" / "shop.cspec"), "CSPEC_OUT": str(out),
         "CSPEC_POSITIONS": json.dumps(_positions())}, out)
    _check(results, root)


@pytest.mark.skipif(shutil.which("emacs") is None, reason="Emacs is not installed")
def test_emacs_eglot(tmp_path: Path) -> None:
    root = workspace(tmp_path / "ws", {"shop.cspec": SHOP, "billing.cspec": BILLING})
    out = tmp_path / "emacs.json"
    results = _run(
        ["emacs", "--batch", "-q", "-l", str(EDITORS / "emacs" / "eglot-check.el")],
        {"CSPEC_CMD": json.dumps(SERVER), "CSPEC_ROOT": str(root),
         "CSPEC_FILE": str(root / "spec" / "shop.cspec"), "CSPEC_OUT": str(out),
         "CSPEC_POSITIONS": json.dumps(_positions())}, out)
    _check(results, root)


def test_std_library_is_on_disk_for_go_to_definition() -> None:
    assert (STD_DIR / "identity.cspec").is_file()
