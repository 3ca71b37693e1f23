"""Definition, references, highlight and rename."""

from __future__ import annotations

import pytest

from contractspec.analysis import analyze_texts
from contractspec.ide.navigation import (
    RenameError,
    definition,
    highlights,
    prepare_rename,
    references,
    rename,
)
from contractspec.ide.world import World

SHOP = """module shop

use identity

/// A customer order.
entity Order {
  id: uuid @id
  org: ref identity.Org @tenant
  status: Status = draft
  placedBy: ref identity.User
}

enum Status {
  draft
  placed
}

permission place_orders

grant admin: place_orders

policy Order {
  read: place_orders
  update: place_orders or self.placedBy == actor
}

command placeOrder v1 {
  input {
    order: ref Order
  }
  output Order
  policy place_orders
  emits order.placed
}

event order.placed v1 {
  payload {
    order: ref Order
  }
  retention 30d
}
"""
BILLING = """module billing

use identity
use shop

entity Invoice {
  id: uuid @id
  org: ref identity.Org @tenant
  order: ref shop.Order
}
"""


@pytest.fixture(scope="module")
def world() -> World:
    return World(analyze_texts({"shop.cspec": SHOP, "billing.cspec": BILLING}))


def offset(text: str, needle: str, shift: int = 0) -> int:
    return text.index(needle) + shift


def test_definition_in_the_same_file_another_file_and_the_std_library(world: World) -> None:
    target = definition(world, "shop.cspec", offset(SHOP, "output Order", 8))
    assert target is not None and (target.kind, target.span.file, target.span.start_line) == (
        "entity", "shop.cspec", 6)
    target = definition(world, "billing.cspec", offset(BILLING, "shop.Order", 6))
    assert target is not None and target.span.file == "shop.cspec"
    target = definition(world, "shop.cspec", offset(SHOP, "identity.User", 10))
    assert target is not None and target.span.file == "<std>/identity.cspec"


def test_references_across_files(world: World) -> None:
    spans = references(world, "shop.cspec", offset(SHOP, "entity Order", 8))
    files = sorted({s.file for s in spans})
    assert files == ["billing.cspec", "shop.cspec"]
    assert len(spans) == 6  # declaration, policy, input, output, payload, billing ref
    without = references(world, "shop.cspec", offset(SHOP, "entity Order", 8),
                         include_declaration=False)
    assert len(without) == len(spans) - 1


def test_highlight_marks_the_declaration(world: World) -> None:
    found = highlights(world, "shop.cspec", offset(SHOP, "permission place_orders", 12))
    assert found[0][1] is True
    assert [w for _, w in found].count(False) == 4


def test_rename_across_files(world: World) -> None:
    edits = rename(world, "billing.cspec", offset(BILLING, "shop.Order", 7), "Purchase")
    assert sorted(edits) == ["billing.cspec", "shop.cspec"]
    shop_text = _apply(SHOP, edits["shop.cspec"])
    billing_text = _apply(BILLING, edits["billing.cspec"])
    assert "entity Purchase {" in shop_text and "ref Order" not in shop_text
    assert "output Purchase" in shop_text and "policy Purchase {" in shop_text
    assert "ref shop.Purchase" in billing_text
    renamed = World(analyze_texts({"shop.cspec": shop_text, "billing.cspec": billing_text}))
    assert [d.code for d in renamed.analysis.errors] == []


def test_rename_an_event_and_an_enum_value(world: World) -> None:
    edits = rename(world, "shop.cspec", offset(SHOP, "emits order.placed", 8), "order.submitted")
    assert "emits order.submitted" in _apply(SHOP, edits["shop.cspec"])
    edits = rename(world, "shop.cspec", offset(SHOP, "= draft", 3), "open")
    text = _apply(SHOP, edits["shop.cspec"])
    assert "status: Status = open" in text and "  open\n  placed" in text


def test_prepare_rename_refuses_keywords_std_items_and_unknown_names(world: World) -> None:
    _span, text = prepare_rename(world, "shop.cspec", offset(SHOP, "entity Order", 9))
    assert text == "Order"
    with pytest.raises(RenameError, match="nothing to rename"):
        prepare_rename(world, "shop.cspec", offset(SHOP, "entity Order", 2))
    with pytest.raises(RenameError, match="standard library"):
        prepare_rename(world, "shop.cspec", offset(SHOP, "identity.User", 10))
    with pytest.raises(RenameError, match="standard library"):
        prepare_rename(world, "shop.cspec", offset(SHOP, "grant admin", 7))


def test_rename_refuses_bad_names_and_clashes(world: World) -> None:
    at = offset(SHOP, "entity Order", 8)
    with pytest.raises(RenameError, match="not a valid name"):
        rename(world, "shop.cspec", at, "9lives")
    with pytest.raises(RenameError, match="keyword"):
        rename(world, "shop.cspec", at, "entity")
    with pytest.raises(RenameError, match="already declared"):
        rename(world, "shop.cspec", at, "Status")


def _apply(text: str, edits: list) -> str:  # type: ignore[type-arg]
    for edit in sorted(edits, key=lambda e: e.span.start_offset, reverse=True):
        text = text[:edit.span.start_offset] + edit.new_text + text[edit.span.end_offset:]
    return text
