"""The reference index: every kind of reference resolves to its declaration."""

from __future__ import annotations

from pathlib import Path

import pytest

from contractspec.analysis import analyze_workspace
from contractspec.ide.index import Definition, Occurrence
from contractspec.ide.world import World

FULL = Path(__file__).resolve().parent / "data" / "full"
CRM = "spec/crm.cspec"


@pytest.fixture(scope="module")
def world() -> World:
    return World(analyze_workspace([FULL]))


def at(world: World, needle: str, shift: int) -> Definition | Occurrence | None:
    source = world.source(CRM)
    assert source is not None
    return world.index.at(CRM, source.text.index(needle) + shift)


@pytest.mark.parametrize(("needle", "shift", "kind", "path", "file"), [
    ("org: ref identity.Org", 19, "entity", "Org", "<std>/identity.cspec"),
    ("org: ref identity.Org", 10, "module", "identity", "<std>/identity.cspec"),
    ("stage: ref Stage\n  status", 12, "entity", "Stage", CRM),
    ("status: DealStatus = open", 10, "enum", "DealStatus", CRM),
    ("status: DealStatus = open", 22, "enum_value", "DealStatus.open", CRM),
    ("self.owner == actor", 6, "field", "Deal.owner", CRM),
    ("update: manage_deals", 9, "permission", "manage_deals", CRM),
    ("delete: admin\n}", 9, "role", "admin", "<std>/identity.cspec"),
    ("grant member", 7, "role", "member", "<std>/identity.cspec"),
    ("policy Deal", 8, "entity", "Deal", CRM),
    ("emits deal.created", 12, "event", "deal.created", CRM),
    ("on Deal.status", 4, "entity", "Deal", CRM),
    ("on Deal.status", 9, "field", "Deal.status", CRM),
    ("won, lost -> open", 1, "enum_value", "DealStatus.won", CRM),
    ("final won lost", 12, "enum_value", "DealStatus.lost", CRM),
    ("when self.amount", 11, "field", "Deal.amount", CRM),
    ("on task.due run sendReminder", 4, "event", "task.due", CRM),
    ("on task.due run sendReminder", 18, "job", "sendReminder", CRM),
    ("run recalculateMetrics", 5, "job", "recalculateMetrics", CRM),
    ("to deal.owner", 4, "field", "deal.won.deal", CRM),
    ("to deal.owner", 10, "field", "Deal.owner", CRM),
    ("role admin\n", 6, "role", "admin", "<std>/identity.cspec"),
    ("target plan pro", 13, "plan", "pro", CRM),
    ("metric deal.created", 8, "event", "deal.created", CRM),
    ("critical createDeal", 10, "command", "createDeal", CRM),
    ("attachments on Deal", 16, "entity", "Deal", CRM),
    ("limit api_calls", 7, "metric", "api_calls", CRM),
    ("flags newBoard", 7, "flag", "newBoard", CRM),
    ("completes on deal.won", 14, "event", "deal.won", CRM),
    ("columns title", 9, "field", "Deal.title", CRM),
    ("board of Deal by stage", 18, "field", "Deal.stage", CRM),
    ("tools listDeals", 7, "query", "listDeals", CRM),
    ("meters api_calls", 8, "metric", "api_calls", CRM),
    ("@@index(org, stage)", 14, "field", "Deal.stage", CRM),
    ("output page<Deal>", 13, "entity", "Deal", CRM),
    ("use audit", 5, "module", "audit", "<std>/audit.cspec"),
    ("entity Deal {", 8, "entity", "Deal", CRM),
    ("command createDeal", 9, "command", "createDeal", CRM),
])
def test_names_resolve(world: World, needle: str, shift: int, kind: str, path: str,
                       file: str) -> None:
    found = at(world, needle, shift)
    target = found.target if isinstance(found, Occurrence) else found
    assert target is not None, needle
    assert (target.kind, target.path, target.span.file) == (kind, path, file)


def test_reference_spans_are_the_name_alone(world: World) -> None:
    found = at(world, "org: ref identity.Org", 19)
    assert isinstance(found, Occurrence)
    source = world.source(CRM)
    assert source is not None
    assert source.text[found.span.start_offset:found.span.end_offset] == "Org"
    event = at(world, "emits deal.created", 8)
    assert isinstance(event, Occurrence)
    assert source.text[event.span.start_offset:event.span.end_offset] == "deal.created"


def test_every_reference_of_the_full_workspace_resolves(world: World) -> None:
    unresolved = [(o.span.file, o.span.start_line, o.name)
                  for occs in world.index.occurrences.values() for o in occs
                  if o.target is None]
    assert unresolved == []


def test_uses_of_an_entity(world: World) -> None:
    deal = at(world, "entity Deal {", 8)
    assert isinstance(deal, Definition)
    lines = sorted(o.span.start_line for o in world.index.uses(deal))
    assert len(lines) >= 10  # refs, policy, output, workflow, attachments, views


def test_unresolved_names_are_kept_with_what_was_expected() -> None:
    from contractspec.analysis import analyze_texts

    world = World(analyze_texts({"a.cspec": "module a\n\nentity A {\n  id: uuid @id\n"
                                            "  b: ref Bee\n}\n\ncommand c v1 {\n"
                                            "  policy nobody\n  emits a.done\n}\n"}))
    missing = {(o.name, o.expected) for o in world.index.occurrences["a.cspec"]
               if o.target is None}
    assert missing == {("Bee", "entity"), ("nobody", "permission or role"),
                       ("a.done", "event")}
