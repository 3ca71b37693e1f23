"""The benchmark workspace generator stays valid: its output is deterministic and checks clean."""

from __future__ import annotations

from pathlib import Path

from benchmarks.synth import Layout, generate
from contractspec.analysis import analyze_workspace

N = 20


def _files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes()
            for p in sorted(root.rglob("*")) if p.is_file()}


def test_synthetic_workspace_checks_clean(tmp_path: Path) -> None:
    summary = generate(N, tmp_path / "ws")
    analysis = analyze_workspace([tmp_path / "ws"])
    assert [f"{d.code} {d.span.file}:{d.span.start_line} {d.message}"
            for d in analysis.diagnostics] == []
    user = [m for m in analysis.program.modules if not m.std]
    entities = [e for m in user for e in m.entities]
    assert len(entities) == N == summary.entities
    assert sum(len(m.operations) for m in user) == 4 * N
    assert sum(len(m.events) for m in user) == 2 * N
    assert sum(len(m.policies) for m in user) == N
    for entity in entities:
        fields = {f.name: f for f in entity.fields}
        assert len(fields) == 11  # id, the tenant org, 8 fields, one ref
        assert [f.name for f in entity.fields if f.type.is_ref and f.name != "org"] == ["parent"]
        assert any(a.name == "tenant" for a in fields["org"].attributes)


def test_synthetic_workspace_spans_modules_and_files(tmp_path: Path) -> None:
    summary = generate(N, tmp_path / "ws", Layout(per_file=3, files_per_module=3))
    assert (summary.files, summary.modules) == (7, 3)
    analysis = analyze_workspace([tmp_path / "ws"])
    assert analysis.errors == []
    user = {m.name: m for m in analysis.program.modules if not m.std}
    assert sorted(user) == ["m000", "m001", "m002"]
    assert {u.module.name for u in user["m001"].uses} == {"identity", "audit", "m000"}
    assert len(user["m001"].files) == 3
    assert len(user["m002"].files) == 1


def test_generation_is_deterministic(tmp_path: Path) -> None:
    generate(N, tmp_path / "a")
    generate(N, tmp_path / "b")
    assert _files(tmp_path / "a") == _files(tmp_path / "b")
