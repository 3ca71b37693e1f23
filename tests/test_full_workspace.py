"""The workspace using every construct checks clean; seeded mistakes are each reported
with their code at their place."""

from __future__ import annotations

from contractspec.analysis import analyze_workspace
from contractspec.ir import nodes as ir
from tests.conftest import DATA

# (code, line, column) of each seeded mistake in tests/data/seeded, and what follows from it.
SEEDED = [
    ("CS201", 39, 11),   # amount: mony
    ("CS301", 50, 8),    # Task refers to tenant data without @tenant
    ("CS101", 53, 8),    # `note:` without a type
    ("CS202", 62, 12),   # permission view_deals declared twice
    ("CS310", 82, 10),   # policy manage_deal (unknown permission)
    ("CS201", 83, 9),    # emits deal.creatd
    ("CS505", 84, 10),   # critical createDeal behind an experiment
    ("CS324", 92, 7),    # listDeals has no policy
    ("CS501", 101, 7),   # follows from the misspelled emits: nothing emits deal.created
    ("CS403", 131, 28),  # transition to `lots`
    ("CS405", 132, 27),  # follows: `lost` is now unreachable
    ("CS514", 150, 10),  # cron hour 25
    ("CS507", 156, 26),  # {{ deal.titel }}
]


def test_full_workspace_is_clean() -> None:
    assert analyze_workspace([DATA / "full"]).diagnostics == []


def test_complete_workspace_uses_every_construct_and_is_clean() -> None:
    analysis = analyze_workspace([DATA / "complete"])
    assert analysis.diagnostics == []
    crm = analysis.program.module("crm")
    assert crm is not None
    for kind in ("enums", "types", "entities", "permissions", "roles", "grants", "policies",
                 "operations", "events", "workflows", "jobs", "triggers", "schedules",
                 "notifications", "flags", "experiments", "criticals", "attachments",
                 "metrics", "plans", "tracks", "views", "agents", "uses"):
        assert getattr(crm, kind), f"the complete workspace declares no {kind}"
    billing = analysis.program.module("billing")
    assert billing is not None and not billing.std
    assert any(u.path for u in crm.uses)  # `use … from "./folder"`
    assert any(op.behind for op in crm.operations)
    assert any(w.migrations for w in crm.workflows)
    assert any(s.every for s in crm.schedules) and any(s.cron for s in crm.schedules)
    assert any(n.subject for n in crm.notifications)
    steps = [s for t in crm.tracks for u in t.units for s in u.steps]
    assert any(s.content for s in steps) and any(s.when for s in steps)
    assert {v.kind for v in crm.views} == {"list", "board", "form", "detail"}
    assert any(v.actions for v in crm.views)
    assert any(a.instructions for a in crm.agents)
    kinds = {type(e).__name__ for p in crm.policies for r in p.rules for e in _walk(r.rule)}
    kinds |= {type(e).__name__ for w in crm.workflows for t in w.transitions if t.when
              for e in _walk(t.when)}
    assert {"UnaryExpr", "BinaryExpr", "ListExpr", "PathExpr", "LiteralExpr"} <= kinds


def _walk(expr: ir.Expr) -> list[ir.Expr]:
    children: list[ir.Expr] = []
    if isinstance(expr, ir.UnaryExpr):
        children = [expr.operand]
    elif isinstance(expr, ir.BinaryExpr):
        children = [expr.left, expr.right]
    elif isinstance(expr, ir.ListExpr | ir.CallExpr):
        children = list(expr.items if isinstance(expr, ir.ListExpr) else expr.args)
    return [expr, *(e for c in children for e in _walk(c))]


def test_seeded_mistakes_are_each_reported_at_their_place() -> None:
    found = [(d.code, d.span.start_line, d.span.start_col)
             for d in analyze_workspace([DATA / "seeded"]).diagnostics]
    assert found == SEEDED
