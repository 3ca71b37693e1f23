"""Completion by context, on complete and on half-typed, broken text."""

from __future__ import annotations

from pathlib import Path

import pytest

from contractspec.analysis import analyze_texts
from contractspec.ide.completion import CompletionItem, complete
from contractspec.ide.world import World

CRM_TEXT = (Path(__file__).resolve().parent / "data" / "full" / "spec" / "crm.cspec"
            ).read_text(encoding="utf-8")
CURSOR = "‸"


def items_at(snippet: str) -> list[CompletionItem]:
    """Completion at the cursor mark of `snippet`, appended to the full CRM spec."""
    text = CRM_TEXT + "\n" + snippet
    offset = text.index(CURSOR)
    text = text.replace(CURSOR, "", 1)
    world = World(analyze_texts({"spec/crm.cspec": text}))
    return complete(world, "spec/crm.cspec", offset)


def labels(snippet: str) -> set[str]:
    return {i.label for i in items_at(snippet)}


def test_top_level_offers_declaration_keywords_and_snippets() -> None:
    found = items_at(CURSOR)
    assert {"entity", "command", "event", "policy", "workflow"} <= {i.label for i in found}
    snippet = next(i for i in found if i.kind == "snippet" and i.label == "entity")
    assert snippet.snippet and snippet.insert_text is not None
    assert snippet.insert_text.startswith("entity ${1:Name} {")


def test_member_keywords_inside_blocks() -> None:
    assert labels(f"command x v1 {{\n  {CURSOR}\n}}") == {
        "input", "output", "policy", "emits", "errors", "meters", "behind"}
    assert {"payload", "severity", "retention", "audit"} <= labels(
        f"event e.x v1 {{\n  {CURSOR}\n}}")
    assert {"initial", "transition", "final", "migrate"} <= labels(
        f"workflow W on Deal.status {{\n  {CURSOR}\n}}")


def test_types_in_field_position() -> None:
    found = labels(f"entity Foo {{\n  id: uuid @id\n  a: {CURSOR}\n}}")
    assert {"string", "money", "ref", "DealStatus", "Address"} <= found
    assert "Deal" not in found  # an entity is stored through `ref`
    assert "page" not in found


def test_entities_after_ref_and_module_members_after_a_prefix() -> None:
    found = labels(f"entity Foo {{\n  a: ref {CURSOR}\n}}")
    assert {"Deal", "Stage", "Task", "User", "Org", "identity"} <= found
    assert "DealStatus" not in found
    assert labels(f"entity Foo {{\n  a: ref identity.{CURSOR}\n}}") == {
        "User", "Org", "OrgMembership", "Invitation", "BillingProfile"}


def test_output_accepts_entities_and_generics() -> None:
    assert {"Deal", "page", "list", "string"} <= labels(f"query q v1 {{\n  output {CURSOR}\n}}")


def test_fields_after_self() -> None:
    assert {"owner", "amount", "stage"} <= labels(f"policy Deal {{\n  update: self.{CURSOR}\n}}")
    assert labels(f"policy Deal {{\n  update: self.stage.{CURSOR}\n}}") == {
        "id", "org", "name", "position"}


def test_events_after_emits_and_on() -> None:
    events = {"deal.created", "deal.won", "task.due"}
    assert events <= labels(f"command x v1 {{\n  emits {CURSOR}\n}}")
    assert events <= labels(f"on {CURSOR}")
    found = items_at(f"command x v1 {{\n  emits deal.{CURSOR}\n}}")
    assert {i.label for i in found} == {"deal.created", "deal.won"}
    assert all(i.replace is not None and i.replace.end_col - i.replace.start_col == 5
               for i in found)  # the whole dotted word is replaced


def test_permissions_and_roles_after_policy_by_and_grant() -> None:
    access = {"manage_deals", "view_deals", "admin", "owner", "member"}
    assert access <= labels(f"command x v1 {{\n  policy {CURSOR}\n}}")
    assert access <= labels(f"command x v1 {{\n  policy view_deals or {CURSOR}\n}}")
    assert access | {"self"} <= labels(
        f"workflow W on Deal.status {{\n  transition t: open -> won by {CURSOR}\n}}")
    assert labels(f"grant {CURSOR}") >= {"admin", "owner", "member"}
    assert "manage_deals" not in labels(f"grant {CURSOR}")
    assert {"manage_deals", "view_deals"} <= labels(f"grant admin: {CURSOR}")
    assert "admin" not in labels(f"grant admin: {CURSOR}")
    assert "self" not in labels(f"command x v1 {{\n  policy {CURSOR}\n}}")


def test_workflow_states_in_transitions() -> None:
    states = {"open", "won", "lost"}
    assert labels(f"workflow W on Deal.status {{\n  transition t: {CURSOR}\n}}") == states
    assert labels(f"workflow W on Deal.status {{\n  transition t: open -> {CURSOR}\n}}") == \
        states
    assert labels(f"workflow W on Deal.status {{\n  initial {CURSOR}\n}}") == states


def test_attributes_after_at() -> None:
    assert {"id", "pii", "tenant", "default", "unique"} <= labels(
        f"entity Foo {{\n  a: string @{CURSOR}\n}}")
    assert labels(f"entity Foo {{\n  a: string\n  @@{CURSOR}\n}}") == {
        "index", "unique", "global", "renamedFrom", "allowBreaking"}


def test_module_names_after_use() -> None:
    assert {"identity", "audit"} <= labels(f"use {CURSOR}")


def test_other_contexts() -> None:
    assert {"sendReminder", "recalculateMetrics"} <= labels(f"on deal.won run {CURSOR}")
    assert {"createDeal", "listDeals"} <= labels(f"agent a {{\n  tools {CURSOR}\n}}")
    assert {"title", "amount"} <= labels(f"view v list of Deal {{\n  columns {CURSOR}\n}}")
    assert {"read", "create", "update", "delete"} == labels(f"policy Task {{\n  {CURSOR}\n}}")
    assert {"role", "deal", "amount"} <= labels(
        f"notification n {{\n  on deal.won\n  to {CURSOR}\n}}")
    assert {"info", "warning", "critical"} == labels(f"event e.x v1 {{\n  severity {CURSOR}\n}}")


def test_half_typed_and_broken_lines() -> None:
    assert "DealStatus" in labels(f"entity Foo {{\n  a: DealSt{CURSOR}")
    assert "Deal" in labels(f"entity Foo {{\n  broken line !!\n  b: ref De{CURSOR}\n}}")
    assert "Deal" in labels(f"entity Foo {{\n  a: string(\n  b: ref {CURSOR}\n}}")
    assert "entity" in labels(f"ent{CURSOR}")


def test_no_completion_in_comments_and_strings() -> None:
    assert items_at(f"// a comment {CURSOR}") == []
    assert items_at(f'permission x "text {CURSOR}') == []


def test_unknown_file_and_out_of_range_offsets() -> None:
    world = World(analyze_texts({"a.cspec": "module a\n"}))
    assert complete(world, "nope.cspec", 0) == []
    assert {"entity"} <= {i.label for i in complete(world, "a.cspec", 10_000)}


@pytest.mark.parametrize("snippet", ["entity {{{{", "}}}}}", "command x v1 { emits ,,,"])
def test_garbage_never_raises(snippet: str) -> None:
    items_at(snippet + CURSOR)


def test_built_in_catalog_matches_the_checker() -> None:
    from contractspec.check.rules.types import ENTITY_ATTRIBUTES, FIELD_ATTRIBUTES
    from contractspec.check.symbols import GENERICS, SCALARS
    from contractspec.ide.catalog import ATTRIBUTE_DOCS, MODEL_ATTRIBUTE_DOCS, SCALAR_DOCS

    assert set(ATTRIBUTE_DOCS) == set(FIELD_ATTRIBUTES)
    assert set(MODEL_ATTRIBUTE_DOCS) == set(ENTITY_ATTRIBUTES)
    assert set(SCALAR_DOCS) == SCALARS | GENERICS
