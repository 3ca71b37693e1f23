"""Workflows: subjects, states, reachability, guards, events, defaults (CS4xx)."""

from __future__ import annotations

from contractspec.diagnostics import Diagnostic, Fix, Severity
from tests.conftest import codes, diagnostics

HEAD = """module crm

use identity

enum DealStatus {
  open
  won
  lost
}

entity Deal {
  id: uuid @id
  org: ref identity.Org @tenant
  status: DealStatus = open
  amount: money
  owner: ref identity.User
}

permission manage_deals "Move deals"

grant admin: manage_deals

policy Deal {
  update: manage_deals
}

event deal.won v1 {
  payload {
    deal: ref Deal
  }
  retention 30d
}

"""
WIN = "transition win: open -> won by manage_deals emits deal.won"
LOSE = "transition lose: open -> lost by manage_deals when self.amount > 0"


def flow(*members: str, subject: str = "Deal.status") -> str:
    body = "".join(f"  {m}\n" for m in members)
    return f"{HEAD}workflow DealFlow on {subject} {{\n{body}}}\n"


GOOD = flow("initial open", WIN, LOSE, "transition reopen: won, lost -> open by admin",
            "final won lost")


def one(text: str, code: str) -> Diagnostic:
    hits = [d for d in diagnostics(text) if d.code == code]
    assert len(hits) == 1, [(d.code, d.message) for d in diagnostics(text)]
    return hits[0]


def spanned(text: str, diag: Diagnostic | Fix) -> str:
    return text[diag.span.start_offset:diag.span.end_offset]


def applied(text: str, fix: Fix) -> str:
    return text[:fix.span.start_offset] + fix.replacement + text[fix.span.end_offset:]


def test_good_workflow_is_clean() -> None:
    assert diagnostics(GOOD) == []


# ---- subject ------------------------------------------------------------------------------


def test_subject_field_is_suggested() -> None:
    text = flow("initial open", WIN, LOSE, "final won lost", subject="Deal.statu")
    diag = one(text, "CS401")
    assert diag.message == "entity `Deal` has no field `statu`"
    assert spanned(text, diag) == "statu"
    assert diagnostics(applied(text, diag.fixes[0])) == []


def test_subject_must_be_entity_dot_field() -> None:
    assert one(flow("initial open", subject="Deal"), "CS401").message == \
        "`Deal` is not `Entity.field`"
    assert one(flow("initial open", subject="DealStatus.open"), "CS401").message == \
        "`DealStatus` is not an entity but an enum"
    diag = one(flow("initial open", subject="Dael.status"), "CS201")
    assert diag.message == "unknown entity `Dael`"


def test_subject_may_be_qualified() -> None:
    text = HEAD + ("workflow Roles on identity.OrgMembership.role {\n  initial member\n"
                   "  transition promote: member -> admin by owner\n"
                   "  transition demote: admin -> member by owner\n"
                   "  transition handOver: admin -> owner by owner\n  final owner\n}\n")
    assert [c for c in codes(text) if c.startswith("CS4")] == []


def test_field_must_be_an_enum() -> None:
    text = flow("initial open", subject="Deal.amount")
    diag = one(text, "CS402")
    assert diag.message == ("`Deal.amount` is `money`, not an enum: a workflow's states are "
                            "the values of an enum field")
    assert one(flow("initial open", subject="Deal.owner"), "CS402").message.startswith(
        "`Deal.owner` is `ref identity.User`")


def test_one_workflow_per_field() -> None:
    text = GOOD + "\nworkflow Other on Deal.status {\n  initial open\n" \
        "  transition win: open -> won by admin\n  final won\n}\n"
    diag = one(text, "CS410")
    assert spanned(text, diag) == "Other"
    assert spanned(text, diag.related[0]) == "DealFlow"


# ---- states -------------------------------------------------------------------------------


def test_unknown_state_everywhere() -> None:
    text = flow("initial opn", "transition win: open, lots -> wn by admin", "final won lots",
                "migrate state gone -> open")
    unknown = [d for d in diagnostics(text) if d.code == "CS403"]
    assert [spanned(text, d) for d in unknown] == ["opn", "lots", "wn", "lots", "gone"]
    assert unknown[0].message == ("`opn` is not a state of `Deal.status` (the values of "
                                  "`DealStatus`: `open`, `won`, `lost`)")
    assert unknown[0].fixes[0].replacement == "open"
    assert unknown[-1].help == "add `gone` to enum `DealStatus`"
    assert unknown[-1].fixes == ()


def test_missing_initial_state_fix_uses_the_default() -> None:
    text = flow(WIN, LOSE, "final won lost")
    diag = one(text, "CS404")
    assert diag.message == "workflow `DealFlow` has no `initial` state"
    assert spanned(text, diag) == "DealFlow"
    fixed = applied(text, diag.fixes[0])
    assert "final won lost\n  initial open\n}" in fixed
    assert diagnostics(fixed) == []


def test_unreachable_state() -> None:
    text = flow("initial open", WIN, "final won lost")
    diag = one(text, "CS405")
    assert diag.severity is Severity.WARNING
    assert diag.message == "state `lost` cannot be reached from `open` in workflow `DealFlow`"
    assert spanned(text, diag) == "lost"  # its mention in `final`
    assert spanned(text, diag.related[0]) == "lost"


def test_unmentioned_state_is_reported_at_the_workflow() -> None:
    text = flow("initial open", WIN, "final won")
    diag = one(text, "CS405")
    assert spanned(text, diag) == "DealFlow"


def test_retired_state_is_exempt() -> None:
    text = flow("initial open", WIN, "final won", "migrate state lost -> open")
    assert not {"CS405", "CS406"} & set(codes(text))


def test_dead_end_state_fix_adds_it_to_final() -> None:
    text = flow("initial open", WIN, LOSE, "final won")
    diag = one(text, "CS406")
    assert diag.message == "state `lost` is not final but no transition leaves it"
    assert spanned(text, diag) == "lost"
    fixed = applied(text, diag.fixes[0])
    assert "  final won lost\n" in fixed
    assert diagnostics(fixed) == []


def test_dead_end_without_final_line() -> None:
    text = flow("initial open", WIN, LOSE)
    dead = [d for d in diagnostics(text) if d.code == "CS406"]
    assert sorted(spanned(text, d) for d in dead) == ["lost", "won"]
    assert dead[0].fixes[0].replacement.startswith("  final ")


def test_initial_state_without_transitions_is_a_dead_end() -> None:
    text = flow("initial open")
    assert spanned(text, one(text, "CS406")) == "open"


def test_final_states_may_be_reopened() -> None:
    assert "CS406" not in codes(GOOD) and "CS405" not in codes(GOOD)


def test_initial_state_differs_from_default() -> None:
    text = flow("initial won", "transition reopen: won -> open by admin",
                "transition close: open -> lost by admin", "final lost")
    diag = one(text, "CS409")
    assert diag.message == ("workflow `DealFlow` starts at `won`, but new records get `open` "
                            "(the default of `Deal.status`)")
    assert spanned(text, diag) == "won"
    assert [f.title for f in diag.fixes] == ["Start the workflow at `open`",
                                             "Make `won` the default of `Deal.status`"]
    for fix in diag.fixes:
        assert "CS409" not in codes(applied(text, fix))


# ---- transitions -------------------------------------------------------------------------


def test_transition_without_guard() -> None:
    text = flow("initial open", "transition win: open -> won", LOSE, "final won lost")
    diag = one(text, "CS407")
    assert diag.severity is Severity.WARNING
    assert spanned(text, diag) == "win"


def test_duplicate_transition() -> None:
    text = flow("initial open", WIN, "transition win: open -> lost by admin", "final won lost")
    diag = one(text, "CS408")
    assert diag.message == "workflow `DealFlow` already has a transition `win`"
    assert diag.related[0].span.start_offset < diag.span.start_offset


def test_when_uses_fields_of_the_entity() -> None:
    text = flow("initial open", WIN, "transition lose: open -> lost by admin when "
                "self.amout > 0", "final won lost")
    diag = one(text, "CS311")
    assert spanned(text, diag) == "amout"
    assert diag.fixes[0].replacement == "amount"


def test_by_is_an_access_expression() -> None:
    text = flow("initial open", "transition win: open -> won by manage_deal", LOSE,
                "final won lost")
    assert one(text, "CS310").fixes[0].replacement == "manage_deals"


def test_emitted_event_must_exist() -> None:
    text = flow("initial open", WIN.replace("deal.won", "deal.wn"), LOSE, "final won lost")
    diag = one(text, "CS201")
    assert diag.message == "unknown event `deal.wn`"
    assert diag.fixes[0].replacement == "deal.won"
    text = flow("initial open", WIN.replace("deal.won", "deal.won v2"), LOSE, "final won lost")
    assert one(text, "CS201").message == "event `deal.won` has no version v2"
