"""Workspaces: cspec.toml, modules over several files, `use` of workspace, path and std
modules, cycles and missing modules, severities and suppressions."""

from __future__ import annotations

from pathlib import Path

import pytest

from contractspec.analysis import analyze_texts, analyze_workspace
from contractspec.workspace.config import ConfigError, load_config
from contractspec.workspace.loader import WorkspaceError, spec_files_under
from tests.conftest import DATA, codes, diagnostics

WS = DATA / "ws"


def test_module_spans_files_and_uses_path_and_std_modules() -> None:
    analysis = analyze_workspace([WS / "multi"])
    assert [d.code for d in analysis.diagnostics] == []
    names = [m.name for m in analysis.program.modules]
    assert names == ["billing", "identity", "shop"]
    shop = analysis.program.module("shop")
    assert shop is not None
    assert shop.version == "2.0.0"
    assert [e.name for e in shop.entities] == ["Order", "Item"]
    assert shop.files == ("spec/shop_a.cspec", "spec/shop_b.cspec")
    identity = analysis.program.module("identity")
    assert identity is not None and identity.std


def test_checking_one_file_loads_its_workspace() -> None:
    analysis = analyze_workspace([WS / "multi" / "spec" / "shop_b.cspec"])
    assert analysis.diagnostics == []
    assert "spec/shop_a.cspec" in analysis.sources


def test_missing_module_is_reported_with_suggestion() -> None:
    [diag] = diagnostics("module shop\n\nuse identty\n")
    assert diag.code == "CS210"
    assert diag.span.start_line == 3 and diag.span.start_col == 5
    assert diag.help is not None and "identity" in diag.help


def test_missing_use_path_is_reported() -> None:
    [diag] = diagnostics('module shop\n\nuse billing from "./nowhere"\n')
    assert diag.code == "CS210"
    assert "no spec files" in diag.message


@pytest.mark.parametrize("path", ["/", "..", "../..", "../../.."])
def test_a_use_path_above_the_workspace_is_refused_without_crawling_it(
        tmp_path: Path, path: str) -> None:
    root = tmp_path / "ws"
    (root / "spec").mkdir(parents=True)
    (root / "cspec.toml").write_text('[workspace]\nspecs = ["spec"]\n', encoding="utf-8")
    (root / "spec" / "shop.cspec").write_text(f'module shop\n\nuse billing from "{path}"\n',
                                              encoding="utf-8")
    analysis = analyze_workspace([root])
    [diag] = analysis.diagnostics
    assert diag.code == "CS210" and "holds this whole workspace" in diag.message
    assert list(analysis.sources) == ["spec/shop.cspec"]  # nothing else was loaded


def test_spec_files_under_skips_hidden_folders(tmp_path: Path) -> None:
    for name in ("a.cspec", "sub/b.cspec", ".venv/lib/c.cspec", "sub/.git/d.cspec",
                 "sub/notes.txt"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("module m\n", encoding="utf-8")
    assert spec_files_under(tmp_path) == [tmp_path / "a.cspec", tmp_path / "sub" / "b.cspec"]


def test_import_cycle_is_reported_not_hung_on() -> None:
    files = {
        "a.cspec": "module a\n\nuse b\n",
        "b.cspec": "module b\n\nuse c\n",
        "c.cspec": "module c\n\nuse a\n",
    }
    found = diagnostics(files)
    assert [d.code for d in found] == ["CS211"]
    assert "a → b → c → a" in found[0].message


def test_self_use_is_a_cycle() -> None:
    assert codes("module a\n\nuse a\n") == ["CS211"]


def test_unqualified_names_resolve_through_use() -> None:
    assert codes(
        "module shop\n\nuse identity\n\nentity Note {\n  id: uuid @id\n"
        "  org: ref Org @tenant\n  author: ref User\n}\n"
    ) == []


def test_missing_path_and_empty_folder_are_usage_errors(tmp_path: Path) -> None:
    with pytest.raises(WorkspaceError, match="no such file"):
        analyze_workspace([tmp_path / "missing"])
    with pytest.raises(WorkspaceError, match=r"no \.cspec files"):
        analyze_workspace([tmp_path])


def test_bad_config_is_a_config_error(tmp_path: Path) -> None:
    (tmp_path / "cspec.toml").write_text("[workspace\nname=1")
    with pytest.raises(ConfigError):
        load_config(tmp_path)
    (tmp_path / "cspec.toml").write_text('[rules]\nCS201 = "loud"\n')
    with pytest.raises(ConfigError, match="CS201"):
        load_config(tmp_path)


def test_rule_severity_can_be_changed_or_turned_off(tmp_path: Path) -> None:
    spec = "enum Color {\n  red\n}\n"  # CS115: no module header
    (tmp_path / "a.cspec").write_text(spec)
    assert [d.severity.value for d in analyze_workspace([tmp_path]).diagnostics] == ["error"]
    (tmp_path / "cspec.toml").write_text('[rules]\nCS115 = "warning"\n')
    assert [d.severity.value for d in analyze_workspace([tmp_path]).diagnostics] == ["warning"]
    (tmp_path / "cspec.toml").write_text('[rules]\ncs115 = "off"\n')
    assert analyze_workspace([tmp_path]).diagnostics == []


def test_suppression_on_the_line_above_and_trailing() -> None:
    bad = "module shop\n\nentity Order {\n  id: uuid @id\n  total: mony\n}\n"
    assert codes(bad) == ["CS201"]
    above = bad.replace("  total", "  // cspec-ignore CS201: testing\n  total")
    assert codes(above) == []
    trailing = bad.replace("mony\n", "mony // cspec-ignore CS201: testing\n")
    assert codes(trailing) == []


def test_suppression_needs_a_reason_and_must_be_used() -> None:
    bad = "module shop\n\nentity Order {\n  id: uuid @id\n  total: mony // cspec-ignore CS201\n}\n"
    assert sorted(codes(bad)) == ["CS120", "CS201"]
    unused = "module shop\n\n// cspec-ignore CS202: nothing here\nenum E {\n  a\n}\n"
    assert codes(unused) == ["CS121"]


def test_in_memory_analysis_matches_disk() -> None:
    path = WS / "other" / "billing.cspec"
    on_disk = analyze_workspace([path])
    in_memory = analyze_texts({"billing.cspec": path.read_text()})
    assert [d.code for d in on_disk.diagnostics] == [d.code for d in in_memory.diagnostics]
    assert in_memory.program.module("billing") is not None
