"""Document and workspace symbols, folding ranges, semantic tokens."""

from __future__ import annotations

from pathlib import Path

import pytest

from contractspec.analysis import analyze_texts, analyze_workspace
from contractspec.ide.outline import document_symbols, folding_ranges, workspace_symbols
from contractspec.ide.tokens import semantic_tokens
from contractspec.ide.world import World

FULL = Path(__file__).resolve().parent / "data" / "full"
CRM = "spec/crm.cspec"


@pytest.fixture(scope="module")
def world() -> World:
    return World(analyze_workspace([FULL]))


def test_document_symbols_nest_members(world: World) -> None:
    items = document_symbols(world, CRM)
    names = [(i.name, i.kind) for i in items]
    assert names[0] == ("crm", "module")
    assert ("Deal", "entity") in names and ("createDeal", "command") in names
    assert ("policy Deal", "policy") in names and ("use identity", "use") in names
    assert ("on task.due run sendReminder", "trigger") in names
    deal = next(i for i in items if i.name == "Deal")
    assert [c.name for c in deal.children][:3] == ["id", "org", "title"]
    assert deal.children[1].detail == "ref identity.Org"
    flow = next(i for i in items if i.name == "DealFlow")
    assert [c.name for c in flow.children] == ["win", "lose", "reopen"]
    track = next(i for i in items if i.name == "crmBasics")
    assert [s.name for s in track.children[0].children] == ["createDeal", "winDeal"]
    assert all(i.span.start_offset <= i.selection.start_offset for i in items)


def test_workspace_symbols(world: World) -> None:
    found = workspace_symbols(world, "deal")
    assert found[0].name.lower() == "deal"
    assert {"Deal", "createDeal", "deal.created"} <= {d.name for d in found}
    members = workspace_symbols(world, "Deal.own")
    assert [d.path for d in members][:1] == ["Deal.owner"]
    assert any(d.std for d in workspace_symbols(world, "OrgMembership"))


def test_folding_ranges(world: World) -> None:
    folds = folding_ranges(world, CRM)
    regions = {(f.start_line, f.end_line) for f in folds if f.kind == "region"}
    source = world.source(CRM)
    assert source is not None
    deal = source.text[:source.text.index("entity Deal")].count("\n") + 1
    assert any(start == deal for start, _ in regions)
    assert any(f.kind == "imports" for f in folds)
    broken = World(analyze_texts({"a.cspec": "module a\n\n/// one\n/// two\nentity A {\n"
                                             "  id: uuid @id\n"}))
    folds = folding_ranges(broken, "a.cspec")
    assert [(f.start_line, f.end_line, f.kind) for f in folds] == [(3, 4, "comment")]


def test_semantic_tokens(world: World) -> None:
    tokens = semantic_tokens(world, CRM)
    source = world.source(CRM)
    assert source is not None

    def token_at(needle: str, shift: int = 0) -> tuple[str, frozenset[str]]:
        line, col = source.position(source.text.index(needle) + shift)
        hit = next(t for t in tokens if t.line == line and t.col == col)
        return hit.type, hit.modifiers

    assert token_at("entity Deal") == ("keyword", frozenset())
    assert token_at("entity Deal", 7) == ("class", frozenset({"declaration"}))
    assert token_at("self.owner", 5)[0] == "property"
    assert token_at("identity.Org", 9) == ("class", frozenset({"defaultLibrary"}))
    assert token_at("@pii") == ("decorator", frozenset())
    assert token_at('"Create, edit')[0] == "string"
    assert token_at("365d") == ("number", frozenset())
    assert token_at("/// A sales") == ("comment", frozenset({"documentation"}))
    assert token_at("emits deal.created", 6)[0] == "event"
    assert token_at("policy manage_deals", 7) == ("variable", frozenset({"readonly"}))


def test_tokens_never_span_lines() -> None:
    text = 'module a\n\nagent x {\n  instructions """\n    line one\n    two\n  """\n}\n'
    world = World(analyze_texts({"a.cspec": text}))
    tokens = [t for t in semantic_tokens(world, "a.cspec") if t.type == "string"]
    assert [t.line for t in tokens] == [4, 5, 6, 7]
