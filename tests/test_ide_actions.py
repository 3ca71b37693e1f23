"""Code actions: every quick fix applies cleanly and removes its diagnostic."""

from __future__ import annotations

from contractspec.analysis import analyze_texts
from contractspec.ide.actions import CodeAction, code_actions
from contractspec.ide.world import World

HEADER = "module shop\n\nuse identity\n\n"


def actions(text: str, path: str = "shop.cspec") -> tuple[World, list[CodeAction]]:
    world = World(analyze_texts({path: text}))
    return world, code_actions(world, path, 0, len(text))


def apply(text: str, action: CodeAction, path: str = "shop.cspec") -> str:
    for edit in sorted(action.edits[path], key=lambda e: e.span.start_offset, reverse=True):
        text = text[:edit.span.start_offset] + edit.new_text + text[edit.span.end_offset:]
    return text


def fixed(text: str, title: str, code: str) -> str:
    """Apply the action called `title` and check that `code` is gone."""
    world, found = actions(text)
    assert code in [d.code for d in world.analysis.diagnostics]
    action = next((a for a in found if a.title == title), None)
    assert action is not None, [a.title for a in found]
    assert action.diagnostic is not None and action.diagnostic.code == code
    result = apply(text, action)
    after = [d.code for d in analyze_texts({"shop.cspec": result}).diagnostics]
    assert code not in after, (result, after)
    return result


ENTITY = "entity Order {\n  id: uuid @id\n  org: ref identity.Org @tenant\n}\n\n"


def test_fix_carried_by_the_diagnostic_replace_misspelled_name() -> None:
    text = HEADER + "entity Order {\n  id: uuid @id\n  org: ref identity.Org @tenant\n" \
        "  total: mony\n}\n"
    assert "total: money" in fixed(text, "Replace with `money`", "CS201")


def test_fix_carried_by_the_diagnostic_add_policy() -> None:
    text = HEADER + ENTITY + "permission place_orders\n\ngrant admin: place_orders\n\n" \
        "command place v1 {\n  output Order\n}\n\npolicy Order {\n  read: place_orders\n" \
        "  create: place_orders\n  update: place_orders\n  delete: admin\n}\n"
    assert "policy place_orders" in fixed(text, "Add `policy place_orders`", "CS323")


def test_fix_carried_by_the_diagnostic_add_tenant_field() -> None:
    text = HEADER + ENTITY + "entity Note {\n  id: uuid @id\n  order: ref Order\n}\n"
    result = fixed(text, "Add `org: ref identity.Org @tenant`", "CS301")
    assert result.count("@tenant") == 2


def test_declare_a_missing_event() -> None:
    text = HEADER + ENTITY + "permission p\n\ngrant admin: p\n\ncommand place v1 {\n" \
        "  policy p\n  emits order.placed\n}\n"
    assert "event order.placed v1 {}" in fixed(text, "Declare event `order.placed`", "CS201")


def test_declare_a_missing_permission() -> None:
    text = HEADER + ENTITY + "command place v1 {\n  policy place_orders\n}\n"
    assert "permission place_orders" in fixed(text, "Declare permission `place_orders`",
                                              "CS310")


def test_create_a_missing_entity_stub() -> None:
    text = HEADER + "entity Order {\n  id: uuid @id\n  org: ref identity.Org @tenant\n" \
        "  customer: ref Customer\n}\n"
    assert "entity Customer {\n  id: uuid @id\n}" in fixed(
        text, "Declare entity `Customer`", "CS201")


def test_add_a_missing_use() -> None:
    text = "module shop\n\nentity Order {\n  id: uuid @id\n  by: ref User\n}\n"
    result = fixed(text, "Add `use identity`", "CS201")
    assert result.startswith("module shop\n\nuse identity\n\nentity Order")


def test_insert_a_module_header() -> None:
    _world, found = actions("enum Color {\n  red\n}\n", "paint.cspec")
    action = next(a for a in found if a.title == "Insert `module paint`")
    result = apply("enum Color {\n  red\n}\n", action, "paint.cspec")
    assert "CS115" not in [d.code for d in analyze_texts({"paint.cspec": result}).diagnostics]


def test_replace_an_unknown_module() -> None:
    assert "use identity" in fixed("module shop\n\nuse identiti\n", "Replace with `identity`",
                                   "CS210")


def test_remove_an_unused_suppression() -> None:
    text = "module shop\n\n// cspec-ignore CS301: not tenant data\nenum Color {\n  red\n}\n"
    assert "cspec-ignore" not in fixed(text, "Remove the unused suppression", "CS121")


def test_remove_a_repeated_member() -> None:
    text = "module shop\n\nevent order.placed v1 {\n  retention 30d\n  retention 90d\n}\n"
    result = fixed(text, "Remove the repeated member", "CS102")
    assert result.count("retention") == 1


def test_add_retention_to_a_pii_event() -> None:
    text = HEADER + ENTITY + "event order.placed v1 {\n  payload {\n" \
        "    email: email @pii\n  }\n}\n"
    assert "  retention 365d\n}" in fixed(text, "Add `retention 365d`", "CS502")


def test_actions_only_for_the_requested_range() -> None:
    text = HEADER + "entity Order {\n  id: uuid @id\n  org: ref identity.Org @tenant\n" \
        "  total: mony\n}\n"
    world = World(analyze_texts({"shop.cspec": text}))
    assert code_actions(world, "shop.cspec", 0, 5) == []
    assert code_actions(world, "elsewhere.cspec", 0, 5) == []
