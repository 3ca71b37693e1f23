"""docs/rules.md is generated from the catalog and kept current."""

from __future__ import annotations

from contractspec.check.docs import DOC_PATH, render
from contractspec.check.registry import all_rules


def test_rules_doc_is_current() -> None:
    assert DOC_PATH.read_text(encoding="utf-8") == render(), (
        "docs/rules.md is stale: run `python -m contractspec.check.docs`"
    )


def test_every_rule_has_a_section() -> None:
    text = render()
    for code in all_rules():
        assert f"### {code}:" in text
