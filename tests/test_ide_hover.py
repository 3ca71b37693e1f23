"""Hover: signatures, doc comments and the extra facts of each kind of declaration."""

from __future__ import annotations

from pathlib import Path

import pytest

from contractspec.analysis import analyze_texts, analyze_workspace
from contractspec.ide.hover import hover
from contractspec.ide.world import World

FULL = Path(__file__).resolve().parent / "data" / "full"
CRM = "spec/crm.cspec"


@pytest.fixture(scope="module")
def world() -> World:
    return World(analyze_workspace([FULL]))


def hover_at(world: World, needle: str, shift: int) -> str:
    source = world.source(CRM)
    assert source is not None
    found = hover(world, CRM, source.text.index(needle) + shift)
    assert found is not None, needle
    return found.markdown


def test_entity_shows_fields_constraints_and_doc(world: World) -> None:
    text = hover_at(world, "entity Deal", 8)
    assert "entity Deal {" in text
    assert "  owner: ref identity.User" in text
    assert "  @@index(org, stage)" in text
    assert "A sales opportunity." in text
    assert "module `crm`" in text


def test_field_shows_its_type_and_owner(world: World) -> None:
    text = hover_at(world, "self.owner", 6)
    assert "// in entity Deal\nowner: ref identity.User" in text
    text = hover_at(world, "contactEmail: email?", 1)
    assert "contactEmail: email? @pii" in text and "Who to write to." in text


def test_operation_shows_input_output_policy_emits_errors_and_roles(world: World) -> None:
    text = hover_at(world, "command createDeal", 9)
    for part in ("command createDeal v1 {", "input {", "title: string(1..200)",
                 "output Deal", "policy manage_deals", "emits deal.created",
                 "StageNotFound 404", 'DuplicateTitle 409 "A deal with this title exists"',
                 "Create a deal in the pipeline's first stage.",
                 "Allowed for `owner`, `admin`"):
        assert part in text, part


def test_event_shows_payload_retention_and_emitters(world: World) -> None:
    text = hover_at(world, "emits deal.created", 8)
    for part in ("event deal.created v1 {", "payload {", "by: ref identity.User",
                 "retention 365d", "audit", "Emitted by `createDeal`"):
        assert part in text, part
    assert "Nothing emits this event." in hover_at(world, "on task.due", 4)


def test_permission_shows_the_roles_that_hold_it(world: World) -> None:
    text = hover_at(world, "permission view_deals", 12)
    assert 'permission view_deals "See deals"' in text
    assert "Held by `owner`, `admin`, `member`" in text


def test_workflow_shows_states_and_transitions(world: World) -> None:
    text = hover_at(world, "workflow DealFlow", 10)
    assert "transition win: open -> won by manage_deals emits deal.won" in text
    assert "transition lose: open -> lost by manage_deals when self.amount > 0" in text
    assert "States: `open` (initial), `won` (final), `lost` (final)" in text


def test_enum_type_and_std_items(world: World) -> None:
    assert "enum DealStatus {\n  open\n  won\n  lost\n}" in hover_at(world, "DealStatus {", 1)
    assert "type Address {" in hover_at(world, "type Address", 6)
    role = hover_at(world, "delete: admin\n}", 9)
    assert 'role admin "Organisation administrator"' in role
    assert "Manages members and settings." in role
    assert "standard library module `identity`" in role
    assert "Holds " in role and "`manage_deals`" in role
    user = hover_at(world, "owner: ref identity.User", 20)
    assert "entity User {" in user and "A person who can sign in." in user


def test_builtins(world: World) -> None:
    assert "An amount of money" in hover_at(world, "amount: money", 9)
    assert "Personal data" in hover_at(world, "@pii", 2)
    assert "The record a rule is about" in hover_at(world, "self.owner", 1)
    assert "stored record" in hover_at(world, "entity Task", 2)


def test_nothing_to_say_on_punctuation_and_unknown_names() -> None:
    world = World(analyze_texts({"a.cspec": "module a\n\nentity A {\n  b: ref Nope\n}\n"}))
    source = world.source("a.cspec")
    assert source is not None
    assert hover(world, "a.cspec", source.text.index("{")) is None
    assert hover(world, "a.cspec", source.text.index("Nope") + 1) is None
    assert hover(world, "missing.cspec", 0) is None
