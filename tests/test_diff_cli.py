"""`cspec diff`: bases (the lock, a lock file, a git ref), formats and exit codes."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from contractspec.cli.main import main

SHOP = """module shop

use identity

entity Product {
  id: uuid @id
  org: ref identity.Org @tenant
  name: string
  sku: string
}

query getProduct v1 {
  input {
    id: uuid
  }
  output Product
  policy authenticated
}
"""
DROPPED = SHOP.replace("  sku: string\n", "")
EXTENDED = SHOP.replace("  sku: string\n", "  sku: string\n  note: string?\n")


def workspace(root: Path, spec: str) -> Path:
    (root / "spec").mkdir(parents=True, exist_ok=True)
    (root / "cspec.toml").write_text('[workspace]\nspecs = ["spec"]\n', encoding="utf-8")
    (root / "spec" / "shop.cspec").write_text(spec, encoding="utf-8")
    return root


def released(tmp_path: Path, now: str) -> Path:
    root = workspace(tmp_path, SHOP)
    assert main(["release", str(root)]) == 0
    (root / "spec" / "shop.cspec").write_text(now, encoding="utf-8")
    return root


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(["diff", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_text_against_the_lock(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = released(tmp_path, DROPPED)
    code, out, _ = run(capsys, str(root), "--color", "never")
    assert code == 1
    lines = out.splitlines()
    assert lines[0].endswith(": breaking CX112 output-field-removed: operation `getProduct v1` "
                             "returns `Product`, whose field `sku` was removed: clients reading "
                             "it break")
    assert "spec/shop.cspec:5:8: breaking CX204 column-dropped" in lines[1]
    assert lines[-1] == "2 changes: 2 breaking, 0 dangerous, 0 safe"


def test_fail_on_levels(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = released(tmp_path, EXTENDED)
    assert run(capsys, str(root))[0] == 0
    assert run(capsys, str(root), "--fail-on", "dangerous")[0] == 0
    assert run(capsys, str(root), "--fail-on", "safe")[0] == 1
    (root / "spec" / "shop.cspec").write_text(DROPPED, encoding="utf-8")
    assert run(capsys, str(root), "--fail-on", "none")[0] == 0


def test_no_changes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = released(tmp_path, SHOP)
    assert run(capsys, str(root)) == (0, "no changes\n", "")


def test_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = released(tmp_path, EXTENDED)
    code, out, _ = run(capsys, str(root), "--format", "json")
    document = json.loads(out)
    assert code == 0 and document["version"] == 1 and document["base"] == "cspec.lock"
    [change] = document["changes"]
    assert change.pop("file").endswith("spec/shop.cspec")
    assert change == {
        "code": "CX205", "name": "column-added", "surface": "database", "level": "safe",
        "module": "shop", "subject": "column `note` of entity `Product`",
        "message": "column `note` of entity `Product` was added", "approved": None,
        "range": {"start": {"line": 10, "column": 3}, "end": {"line": 10, "column": 7}}}
    assert document["summary"] == {"breaking": 0, "dangerous": 0, "safe": 1, "approved": 0,
                                   "failing": 0}


def test_sarif(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = released(tmp_path, DROPPED)
    code, out, _ = run(capsys, str(root), "--format", "sarif")
    run_ = json.loads(out)["runs"][0]
    assert code == 1 and run_["tool"]["driver"]["name"] == "cspec diff"
    rules = run_["tool"]["driver"]["rules"]
    results = run_["results"]
    assert [r["ruleId"] for r in results] == ["CX112", "CX204"]
    assert all(rules[r["ruleIndex"]]["id"] == r["ruleId"] and r["level"] == "error"
               for r in results)
    location = results[1]["locations"][0]["physicalLocation"]
    assert location["artifactLocation"] == {"uri": "spec/shop.cspec", "uriBaseId": "WORKSPACE"}
    assert location["region"]["startLine"] == 5


def test_markdown(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = released(tmp_path, DROPPED)
    code, out, _ = run(capsys, str(root), "--format", "markdown")
    assert code == 1
    assert out.startswith("### Spec changes against `cspec.lock`\n\n❌ **2 unapproved changes "
                          "at or above `breaking`** — 2 changes: 2 breaking")
    assert "| 🔴 breaking | `CX204` column-dropped | column `sku` of entity `Product` was " \
           "removed: its data is dropped | `" in out
    root = released(tmp_path / "clean", SHOP)
    assert "✅ **Nothing to block** — no changes" in run(capsys, str(root), "--format",
                                                         "markdown")[1]


def test_another_lock_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = released(tmp_path, DROPPED)
    old = tmp_path / "old.lock"
    (root / "cspec.lock").rename(old)
    code, out, _ = run(capsys, str(root), "--base", str(old), "--format", "json")
    assert code == 1 and json.loads(out)["base"].endswith("old.lock")


def git(root: Path, *args: str) -> None:
    subprocess.run(["git", "-c", "user.email=t@example.com", "-c", "user.name=t", *args],
                   cwd=root, check=True, capture_output=True)


def test_base_git_ref(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    repo = tmp_path / "repo"
    root = workspace(repo / "app", SHOP)
    git(repo, "init", "-q")
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "base")
    git(repo, "tag", "v1")
    (root / "spec" / "shop.cspec").write_text(DROPPED, encoding="utf-8")
    code, out, _ = run(capsys, str(root), "--base", "v1", "--format", "json")
    assert code == 1
    assert [c["code"] for c in json.loads(out)["changes"]] == ["CX112", "CX204"]
    git(repo, "commit", "-qam", "drop sku")
    assert run(capsys, str(root), "--base", "HEAD") == (0, "no changes\n", "")
    assert run(capsys, str(root), "--base", "HEAD~1")[0] == 1


def test_usage_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = workspace(tmp_path / "ws", SHOP)
    code, _, err = run(capsys, str(root))
    assert code == 2 and "no cspec.lock" in err and "cspec release" in err
    code, _, err = run(capsys, str(root), "--base", "nope")
    assert code == 2 and "`nope`" in err
    code, _, err = run(capsys, str(root), "--base", "--oops")
    assert code == 2
    (root / "cspec.lock").write_text("{", encoding="utf-8")
    code, _, err = run(capsys, str(root))
    assert code == 2 and "cspec.lock is not valid JSON" in err
    assert run(capsys, str(tmp_path / "missing"))[0] == 2


def test_unknown_ref_in_a_repository(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = workspace(tmp_path, SHOP)
    git(root, "init", "-q")
    git(root, "add", ".")
    git(root, "commit", "-qm", "base")
    code, _, err = run(capsys, str(root), "--base", "no-such-branch")
    assert code == 2 and "neither a file nor a git commit" in err


def test_specs_with_errors_are_not_compared(tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    root = released(tmp_path, SHOP.replace("name: string", "name: strin"))
    code, out, err = run(capsys, str(root))
    assert code == 1 and out == "" and "fix them before comparing" in err
