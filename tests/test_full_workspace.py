"""The workspace using every construct checks clean; seeded mistakes are each reported
with their code at their place."""

from __future__ import annotations

from contractspec.analysis import analyze_workspace
from tests.conftest import DATA

# (code, line, column) of each seeded mistake in tests/data/seeded, and what follows from it.
SEEDED = [
    ("CS201", 33, 11),   # amount: mony
    ("CS301", 44, 8),    # Task refers to tenant data without @tenant
    ("CS101", 47, 8),    # `note:` without a type
    ("CS202", 56, 12),   # permission view_deals declared twice
    ("CS310", 76, 10),   # policy manage_deal (unknown permission)
    ("CS201", 77, 9),    # emits deal.creatd
    ("CS505", 78, 10),   # critical createDeal behind an experiment
    ("CS324", 86, 7),    # listDeals has no policy
    ("CS501", 95, 7),    # follows from the misspelled emits: nothing emits deal.created
    ("CS403", 125, 28),  # transition to `lots`
    ("CS405", 126, 27),  # follows: `lost` is now unreachable
    ("CS514", 144, 10),  # cron hour 25
    ("CS507", 150, 26),  # {{ deal.titel }}
]


def test_full_workspace_is_clean() -> None:
    analysis = analyze_workspace([DATA / "full"])
    assert analysis.diagnostics == []
    crm = analysis.program.module("crm")
    assert crm is not None
    for kind in ("enums", "types", "entities", "permissions", "grants", "policies",
                 "operations", "events", "workflows", "jobs", "triggers", "schedules",
                 "notifications", "flags", "experiments", "criticals", "attachments",
                 "metrics", "plans", "tracks", "views", "agents", "uses"):
        assert getattr(crm, kind), f"the full workspace declares no {kind}"


def test_seeded_mistakes_are_each_reported_at_their_place() -> None:
    found = [(d.code, d.span.start_line, d.span.start_col)
             for d in analyze_workspace([DATA / "seeded"]).diagnostics]
    assert found == SEEDED
