"""The release lock: building it from the IR, its canonical text, reading it back, and
`cspec release`."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from contractspec.analysis import analyze_texts, analyze_workspace
from contractspec.cli.main import main
from contractspec.evolve.lock import (
    LOCK_NAME,
    build_lock,
    canonical,
    contract_hash,
    expr_text,
    read_lock,
    type_text,
    write_lock,
)
from contractspec.ir import nodes as ir
from tests.conftest import DATA, analyse

HASH = re.compile(r"sha256:[0-9a-f]{64}")


@pytest.fixture
def full_lock(full_workspace: Path) -> dict[str, object]:
    return build_lock(analyze_workspace([full_workspace]).program, "1.4.0")


def test_lock_holds_the_workspace_modules_only(full_lock: dict[str, object]) -> None:
    assert full_lock["lock_version"] == 1 and full_lock["release"] == "1.4.0"
    modules = full_lock["modules"]
    assert isinstance(modules, dict) and list(modules) == ["crm"]
    crm = modules["crm"]
    assert crm["version"] == "1.4.0"
    assert set(crm) == {"version", "operations", "events", "entities", "types", "enums",
                        "workflows", "permissions", "roles", "grants", "policies", "jobs",
                        "flags", "metrics", "dependents", "access", "http"}


def test_derived_sections(full_lock: dict[str, object]) -> None:
    crm = full_lock["modules"]["crm"]  # type: ignore[index]
    assert crm["http"]["createDeal v1"] == {"method": "POST", "path": "/v1/create-deal"}
    assert crm["http"]["listDeals v1"] == {"method": "GET", "path": "/v1/list-deals"}
    assert crm["access"]["operation createDeal v1"] == {
        "identity.admin": "yes", "identity.member": "no", "identity.owner": "yes",
        "identity.operator": "no", "jobs.worker": "no"}
    assert crm["access"]["policy Deal update"]["identity.member"] == "conditional"
    assert crm["access"]["transition DealFlow.reopen"] == {
        "identity.admin": "yes", "identity.member": "no", "identity.owner": "no",
        "identity.operator": "no", "jobs.worker": "no"}
    assert crm["dependents"]["events"]["deal.won"] == {"*": [
        "notification `dealWon`", "metric `deals_won`",
        "learning step `crmBasics.firstSteps.winDeal`"]}
    assert crm["dependents"]["flags"] == {"newBoard": ["plan `pro`"]}
    assert crm["flags"]["newBoard"]["rollout"] == "25% by org"
    assert crm["metrics"]["deals_won"]["source"] == "deal.won"
    assert "http" not in build_lock(analyze_workspace([DATA / "full"]).program,
                                    routes=False)["modules"]["crm"]


def test_an_operation_without_policy_is_open() -> None:
    lock = lock_of("module shop\n\nuse identity\n\nquery q v1 {\n}\n")
    assert set(lock["modules"]["shop"]["access"]["operation q v1"].values()) == {  # type: ignore
        "open"}


def test_operation_contract(full_lock: dict[str, object]) -> None:
    op = full_lock["modules"]["crm"]["operations"]["createDeal"]["v1"]  # type: ignore[index]
    assert op["input"]["title"] == {"type": "string(1..200)", "optional": False,
                                    "default": None, "attributes": []}
    assert op["output"] == "Deal" and op["policy"] == "manage_deals"
    assert op["errors"] == {"StageNotFound": {"status": 404}, "DuplicateTitle": {"status": 409}}
    assert HASH.fullmatch(op["hash"]) and op["hash"] == contract_hash(op)
    listing = full_lock["modules"]["crm"]["operations"]["listDeals"]["v1"]  # type: ignore[index]
    assert listing["output"] == "page<Deal>"
    assert listing["input"]["stage"]["type"] == "ref Stage"
    assert listing["input"]["stage"]["optional"] is True


def test_other_sections(full_lock: dict[str, object]) -> None:
    crm = full_lock["modules"]["crm"]  # type: ignore[index]
    assert crm["events"]["deal.won"]["v1"]["payload"]["deal"]["type"] == "ref Deal"
    flow = crm["workflows"]["DealFlow"]
    assert flow["states"] == ["lost", "open", "won"] and flow["finals"] == ["lost", "won"]
    assert flow["transitions"]["win"] == {"from": ["open"], "to": "won", "by": "manage_deals",
                                          "when": None, "emits": "deal.won"}
    assert flow["transitions"]["lose"]["when"] == "self.amount > 0"
    assert crm["grants"]["owner"]["permissions"] == ["manage_deals", "view_deals"]
    assert crm["policies"]["Deal"]["rules"]["update"] == "manage_deals or self.owner == actor"
    assert crm["jobs"]["sendReminder"]["backoff"] == "exponential(30s, 1h)"
    assert crm["entities"]["Deal"]["constraints"] == ["@@index(org, stage)",
                                                      "@@unique(org, title)"]
    assert crm["enums"]["DealStatus"]["values"] == ["open", "won", "lost"]
    assert all(HASH.fullmatch(item["hash"]) for section in ("entities", "workflows", "jobs")
               for item in crm[section].values())


def lock_of(text: str) -> dict[str, object]:
    return build_lock(analyse(text).program)


OP = "module shop\n\n{doc}command ping v1 {{\n  input {{\n    n: {type}\n  }}\n}}\n"


def op_hash(text: str) -> str:
    return lock_of(text)["modules"]["shop"]["operations"]["ping"]["v1"]["hash"]  # type: ignore


def test_docs_and_annotations_are_not_part_of_a_contract() -> None:
    plain = op_hash(OP.format(doc="", type="int"))
    assert op_hash(OP.format(doc="/// Pings.\n", type="int")) == plain
    assert op_hash(OP.format(doc="", type="int @label(\"N\")")) == plain
    assert op_hash(OP.format(doc="", type="int @allowBreaking(\"why\")")) == plain
    assert op_hash(OP.format(doc="", type="int(0..)")) != plain
    assert op_hash(OP.format(doc="", type="int?")) != plain


def test_unversioned_declarations_and_std_modules() -> None:
    lock = lock_of("module shop\n\nuse identity\n\ncommand ping {\n  policy admin\n}\n")
    assert list(lock["modules"]) == ["shop"]  # type: ignore[call-overload]
    assert list(lock["modules"]["shop"]["operations"]["ping"]) == ["unversioned"]  # type: ignore


@pytest.mark.parametrize(("source", "expected"), [
    ("a or b and c", "a or b and c"),
    ("(a or b) and c", "(a or b) and c"),
    ("not (a and b)", "not (a and b)"),
    ("a - (b - c)", "a - (b - c)"),
    ("(a - b) - c", "a - b - c"),
    ("-x * 2 == f(1, [2, 3])", "-x * 2 == f(1, [2, 3])"),
])
def test_expression_text(source: str, expected: str) -> None:
    spec = f"module shop\n\nquery q v1 {{\n  policy {source}\n}}\n"
    policy = analyse(spec).program.module("shop").operations[0].policy  # type: ignore[union-attr]
    assert policy is not None and expr_text(policy) == expected


def test_type_text() -> None:
    span = analyse("module x\n").program.modules[0].headers[0].span
    decimal = ir.TypeRef(name="decimal", span=span, args=(ir.TypeArg(value="12"),
                                                          ir.TypeArg(value="2")))
    assert type_text(decimal) == "decimal(12, 2)"
    ranged = ir.TypeRef(name="int", span=span, args=(ir.TypeArg(min="0", is_range=True),),
                        is_list=True, optional=True)
    assert type_text(ranged) == "int(0..)[]"


# ---- writing and reading ----------------------------------------------------------------------


def test_write_lock_is_canonical_and_stable(tmp_path: Path, full_workspace: Path) -> None:
    program = analyze_workspace([full_workspace]).program
    path = write_lock(tmp_path, program, "1.4.0")
    text = path.read_text(encoding="utf-8")
    assert text == json.dumps(json.loads(text), sort_keys=True, indent=2,
                              ensure_ascii=False) + "\n"
    assert text == canonical(build_lock(program, "1.4.0"))
    write_lock(tmp_path, program, "1.4.0")
    assert path.read_text(encoding="utf-8") == text
    assert sorted(p.name for p in tmp_path.iterdir()) == [LOCK_NAME]
    assert read_lock(tmp_path) == (json.loads(text), [])


def test_no_lock(tmp_path: Path) -> None:
    assert read_lock(tmp_path) == (None, [])


@pytest.mark.parametrize(("content", "message"), [
    (b'{\n  "lock_version": 1,\n  "modules": [\n', "cspec.lock is not valid JSON: Expecting value"),
    (b"[]", "cspec.lock must hold a JSON object"),
    (b'{"lock_version": 7, "modules": {}}', "cspec.lock has lock_version 7; this cspec reads "
                                            "version 1"),
    (b'{"lock_version": 1}', "cspec.lock has no `modules` object"),
    (b'{"lock_version": 1, "modules": {"a": 1}}', "cspec.lock module `a` is not an object"),
    (b'{"lock_version": 1, "modules": {"a": {"operations": {"x": {"v1": {}}}}}}',
     "cspec.lock module `a`: `operations` must map names to versions to items with a `hash`"),
    (b"\xff\xfe", "cannot read cspec.lock"),
    (b"[" * 100_000, "cspec.lock is nested too deeply"),
])
def test_unusable_lock_is_one_diagnostic(tmp_path: Path, content: bytes, message: str) -> None:
    (tmp_path / LOCK_NAME).write_bytes(content)
    lock, problems = read_lock(tmp_path)
    assert lock is None
    [problem] = problems
    assert problem.code == "CS603" and problem.message.startswith(message)
    assert problem.span.file == LOCK_NAME


def test_json_error_points_at_its_line(tmp_path: Path) -> None:
    (tmp_path / LOCK_NAME).write_text('{\n  "lock_version": 1,\n  oops\n}\n', encoding="utf-8")
    [problem] = read_lock(tmp_path)[1]
    assert (problem.span.start_line, problem.span.start_col) == (3, 3)


def test_analysis_reports_an_unusable_lock(tmp_path: Path) -> None:
    (tmp_path / LOCK_NAME).write_text("nope", encoding="utf-8")
    analysis = analyze_texts({"shop.cspec": "module shop\n"}, root=tmp_path)
    assert [d.code for d in analysis.diagnostics] == ["CS603"]


# ---- cspec release ----------------------------------------------------------------------------


def workspace(tmp_path: Path, spec: str) -> Path:
    (tmp_path / "cspec.toml").write_text('[workspace]\nspecs = ["spec"]\n', encoding="utf-8")
    (tmp_path / "spec").mkdir()
    (tmp_path / "spec" / "shop.cspec").write_text(spec, encoding="utf-8")
    return tmp_path


SHOP = ("module shop version 1.0.0\n\nuse identity\n\n"
        "query ping v1 {\n  input {\n    n: int\n  }\n  policy admin\n}\n")


def test_release_writes_the_lock(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = workspace(tmp_path, SHOP)
    assert main(["release", str(root), "--version", "1.0.0"]) == 0
    lock = json.loads((root / LOCK_NAME).read_text(encoding="utf-8"))
    assert lock["release"] == "1.0.0" and "ping" in lock["modules"]["shop"]["operations"]
    assert "written: 1 module, 1 operation version, 0 event versions" in capsys.readouterr().out
    assert main(["release", str(root), "--version", "1.0.0"]) == 0
    assert "is up to date" in capsys.readouterr().out


def test_release_refuses_specs_with_errors(tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    root = workspace(tmp_path, SHOP.replace("n: int", "n: integr"))
    assert main(["release", str(root)]) == 1
    assert not (root / LOCK_NAME).exists()
    assert "cspec.lock was not written" in capsys.readouterr().err


def test_release_replaces_an_unreadable_lock(tmp_path: Path) -> None:
    root = workspace(tmp_path, SHOP)
    (root / LOCK_NAME).write_text("{", encoding="utf-8")
    assert main(["release", str(root)]) == 0
    assert read_lock(root)[1] == []


def test_release_then_change_is_reported_by_check(tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    root = workspace(tmp_path, SHOP)
    assert main(["release", str(root)]) == 0
    (root / "spec" / "shop.cspec").write_text(SHOP.replace("n: int", "n: string"),
                                              encoding="utf-8")
    assert main(["check", str(root)]) == 1
    assert "CS601" in capsys.readouterr().out
    assert main(["release", str(root)]) == 1


def test_release_usage_errors(tmp_path: Path) -> None:
    assert main(["release", str(tmp_path / "missing")]) == 2
    assert main(["release", str(workspace(tmp_path, SHOP)), "--version", " "]) == 2
