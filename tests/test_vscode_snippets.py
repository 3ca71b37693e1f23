"""The VS Code extension's snippets (vscode-extension/snippets/cspec.json): one for every
declaration kind, and each one, with its placeholders at their defaults, is valid syntax."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from contractspec.grammar.parser import parse_source
from contractspec.ide.catalog import DECLARATION_DOCS
from contractspec.source import SourceFile

SNIPPETS = Path(__file__).parent.parent / "vscode-extension" / "snippets" / "cspec.json"
PLACEHOLDER = re.compile(r"\$\{\d+:([^}]*)\}|\$\{\d+\|([^,|]*)[^}]*\|\}|\$\d+")


def _snippets() -> dict[str, dict[str, object]]:
    loaded: dict[str, dict[str, object]] = json.loads(SNIPPETS.read_text(encoding="utf-8"))
    return loaded


def expand(body: str) -> str:
    """A snippet body as inserted when every placeholder keeps its default."""
    return PLACEHOLDER.sub(lambda m: m.group(1) or m.group(2) or "", body)


def test_expand() -> None:
    assert expand("a ${1:x} ${2|on,off|} $0") == "a x on "


def test_every_declaration_kind_has_a_snippet() -> None:
    prefixes = {str(s["prefix"]) for s in _snippets().values()}
    assert set(DECLARATION_DOCS) <= prefixes


@pytest.mark.parametrize("name", sorted(_snippets()))
def test_snippet_parses(name: str) -> None:
    snippet = _snippets()[name]
    body = snippet["body"]
    assert isinstance(body, list)
    text = "\n".join(body)
    prefix = str(snippet["prefix"])
    assert text.lstrip("/ \n").startswith(prefix) or re.search(rf"^{prefix}\b", text, re.M)
    if prefix != "module":
        text = "module demo\n" + text
    result = parse_source(SourceFile("snippet.cspec", expand(text) + "\n"))
    assert [d.message for d in result.diagnostics] == []
