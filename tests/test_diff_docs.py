"""docs/evolution.md is generated from the change catalog and must be current."""

from __future__ import annotations

from contractspec.evolve.catalog import KINDS
from contractspec.evolve.docs import DOC, render


def test_evolution_doc_is_current() -> None:
    assert DOC.read_text(encoding="utf-8") == render(), \
        "run `python -m contractspec.evolve.docs`"


def test_every_code_has_a_section_and_an_index_row() -> None:
    text = render()
    for kind in KINDS.values():
        assert f"\n### {kind.code}: {kind.name}\n" in text
        assert f"| [{kind.code}](#{kind.code.lower()}-{kind.name}) |" in text
