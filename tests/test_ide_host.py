"""The host: disk files with unsaved buffers over them, revisions, the parse cache."""

from __future__ import annotations

from pathlib import Path

from contractspec.analysis import analyze_workspace
from contractspec.ide.host import Host

SPEC = "module shop\n\nentity Order {\n  id: uuid @id\n}\n"


def workspace(tmp_path: Path) -> Path:
    (tmp_path / "cspec.toml").write_text('[workspace]\nspecs = ["spec"]\n', encoding="utf-8")
    (tmp_path / "spec").mkdir()
    (tmp_path / "spec" / "shop.cspec").write_text(SPEC, encoding="utf-8")
    (tmp_path / "spec" / "other.cspec").write_text("module other\n", encoding="utf-8")
    return tmp_path


def test_host_finds_the_workspace_root_from_a_subfolder(tmp_path: Path) -> None:
    root = workspace(tmp_path)
    host = Host(root / "spec")
    assert host.root == root.resolve()
    assert {p.name for p in host.files} == {"shop.cspec", "other.cspec"}
    assert host.display(root / "spec" / "shop.cspec") == "spec/shop.cspec"
    assert host.disk_path("spec/shop.cspec") == (root / "spec" / "shop.cspec").resolve()
    assert host.disk_path("<std>/identity.cspec").is_file()


def test_buffers_replace_disk_text_and_match_the_cli(tmp_path: Path) -> None:
    root = workspace(tmp_path)
    host = Host(root)
    world = host.world()
    expected = analyze_workspace([root]).diagnostics
    assert world.analysis.diagnostics == expected
    host.set_text("spec/shop.cspec", SPEC.replace("uuid", "uuuid"))
    assert "CS201" in [d.code for d in host.world().analysis.diagnostics]
    host.close("spec/shop.cspec")
    assert host.world().analysis.diagnostics == expected


def test_only_changed_files_are_parsed_again(tmp_path: Path) -> None:
    host = Host(workspace(tmp_path))
    host.world()
    cached = dict(host.cache)
    host.set_text("spec/shop.cspec", SPEC + "\nenum Color {\n  red\n}\n")
    world = host.world()
    assert host.cache["spec/other.cspec"][2] is cached["spec/other.cspec"][2]
    assert host.cache["spec/shop.cspec"][2] is not cached["spec/shop.cspec"][2]
    assert world.analysis.stats.files == 2


def test_revisions_and_cached_worlds(tmp_path: Path) -> None:
    host = Host(workspace(tmp_path))
    host.set_text("spec/shop.cspec", SPEC)
    first = host.world()
    assert host.world() is first
    host.set_text("spec/shop.cspec", SPEC)  # same text: nothing changes
    assert host.world() is first
    host.set_text("<std>/identity.cspec", "garbage")  # the std library is read-only
    assert host.world() is first
    (tmp_path / "spec" / "new.cspec").write_text("module extra\n", encoding="utf-8")
    host.reload()
    assert "spec/new.cspec" in host.world().analysis.sources


def test_files_outside_the_workspace_and_bad_configuration(tmp_path: Path) -> None:
    (tmp_path / "cspec.toml").write_text("[workspace\n", encoding="utf-8")
    host = Host(tmp_path)
    assert host.problem is not None and "cspec.toml" in host.problem
    host.set_text("/elsewhere/x.cspec", "module x\n\nentity X {\n  id: uuid @id\n}\n")
    assert "/elsewhere/x.cspec" in host.world().analysis.sources


def test_huge_buffer_is_not_parsed(tmp_path: Path) -> None:
    host = Host(workspace(tmp_path))
    host.set_text("spec/shop.cspec", SPEC + "// x\n" * 1_200_000)
    assert [d.code for d in host.world().analysis.diagnostics_for("spec/shop.cspec")] == [
        "CS113"]


def _summary(index: object) -> list[tuple[object, ...]]:
    from contractspec.ide.index import Index

    assert isinstance(index, Index)
    defs = sorted((d.key, d.kind, d.path) for d in index.all_definitions())
    occs = sorted((o.span.file, o.span.start_offset, o.name,
                   o.target.key if o.target else None)
                  for found in index.occurrences.values() for o in found)
    return [*defs, *occs]


def test_incremental_index_matches_a_full_build(tmp_path: Path) -> None:
    from contractspec.ide.index import build_index

    root = workspace(tmp_path)
    (root / "spec" / "other.cspec").write_text(
        "module other\n\nuse shop\n\nentity Line {\n  id: uuid @id\n  order: ref Order\n}\n",
        encoding="utf-8")
    (root / "spec" / "third.cspec").write_text(
        "module third\n\nentity Lone {\n  id: uuid @id\n}\n", encoding="utf-8")
    host = Host(root)
    host.reload()
    before = host.world().index
    host.set_text("spec/shop.cspec", "module shop\n\n\nentity Order {\n  id: uuid @id\n"
                                     "  total: money\n}\n")
    world = host.world()
    after = world.index
    assert _summary(after) == _summary(build_index(world.analysis))
    assert after.parts["third"].definitions is before.parts["third"].definitions
    assert after.parts["third"].occurrences is before.parts["third"].occurrences
    assert after.parts["other"].definitions is before.parts["other"].definitions
    assert after.parts["other"].occurrences is not before.parts["other"].occurrences
    line = next(d for d in after.all_definitions() if d.name == "order")
    assert line.decl.type.name == "Order"
    order = next(d for d in after.all_definitions() if d.name == "Order")
    assert {o.span.file for o in after.uses(order)} == {"spec/other.cspec"}
