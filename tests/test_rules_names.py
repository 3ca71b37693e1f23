"""Names and references (CS201-CS204, CS214-CS216): firing and silent cases, messages, spans."""

from __future__ import annotations

from pathlib import Path

import pytest

from contractspec.analysis import analyze_texts, analyze_workspace
from contractspec.diagnostics import Diagnostic
from tests.conftest import codes, diagnostics

HEAD = "module shop\n\nuse identity\n\n"
DEAL = (
    "enum Status {\n  open\n  won\n}\n\n"
    "entity Deal {\n  id: uuid @id\n  org: ref identity.Org @tenant\n  title: string\n"
    "  amount: money\n  status: Status = open\n}\n\n"
    "permission manage\n\n"
    "command createDeal v1 {\n  input {\n    title: string\n  }\n  output Deal\n"
    "  policy manage\n}\n\n"
    "query listDeals v1 {\n  output page<Deal>\n  policy manage\n}\n\n"
    "event deal.won v1 {\n  payload {\n    deal: ref Deal\n  }\n}\n\n"
    "job sendReminder {\n  retries 1\n}\n\n"
    "flag newBoard {\n  default off\n}\n\n"
    "experiment copy {\n  variants a 50%, b 50%\n}\n\n"
    "metric api_calls {\n  unit call\n  aggregate sum monthly\n}\n\n"
)


def spec(body: str) -> str:
    return HEAD + DEAL + body


def only(found: list[Diagnostic], code: str) -> Diagnostic:
    """The single diagnostic with `code`."""
    hits = [d for d in found if d.code == code]
    assert len(hits) == 1, [(d.code, d.message) for d in found]
    return hits[0]


def text_at(text: str, d: Diagnostic) -> str:
    return text[d.span.start_offset:d.span.end_offset]


def test_shared_spec_is_clean_of_these_codes() -> None:
    mine = {"CS201", "CS202", "CS203", "CS204", "CS214", "CS215", "CS216"}
    assert not mine & set(codes(spec("")))


# ---- CS202 --------------------------------------------------------------------------------


@pytest.mark.parametrize("body, name", [
    ("agent a {\n  limits {\n    steps 3\n    steps 4\n  }\n}\n", "steps"),
    ("command c v1 {\n  policy manage\n  errors {\n    Gone 410\n    Gone 404\n  }\n}\n",
     "Gone"),
    ("enum Color {\n  red\n  red\n}\n", "red"),
])
def test_duplicate_members(body: str, name: str) -> None:
    text = spec(body)
    d = only(diagnostics(text), "CS202")
    assert d.message.startswith(f"`{name}` is already")
    assert text_at(text, d).startswith(name)
    assert d.related and d.related[0].message == "first declared here"


def test_same_name_in_different_blocks_is_fine() -> None:
    text = spec("agent a {\n  limits {\n    steps 3\n  }\n}\n\n"
                "agent b {\n  limits {\n    steps 3\n  }\n}\n")
    assert "CS202" not in codes(text)


# ---- CS204 and type references ------------------------------------------------------------


def test_page_outside_an_output() -> None:
    text = spec("type Report {\n  deals: page<string>\n}\n")
    d = only(diagnostics(text), "CS204")
    assert d.message == "`page<T>` is only an operation's output"
    assert text_at(text, d) == "page<string>"
    assert d.help == "write a list instead: `string[]`"


def test_entity_inside_a_generic_field_is_refused() -> None:
    text = spec("type Report {\n  deals: list<Deal>\n}\n")
    d = only(diagnostics(text), "CS204")
    assert "cannot hold the entity `Deal`" in d.message
    assert text_at(text, d) == "Deal"


def test_generic_outputs_of_entities_are_fine() -> None:
    text = spec("query all v1 {\n  output list<Deal>\n  policy manage\n}\n")
    assert "CS204" not in codes(text)


def test_type_position_naming_a_permission() -> None:
    text = spec("type Report {\n  x: manage\n}\n")
    d = only(diagnostics(text), "CS214")
    assert d.message == "`manage` is a permission, not a type"
    assert text_at(text, d) == "manage"


def test_misspelled_type_is_fixed_by_the_suggestion() -> None:
    text = spec("type Report {\n  x: Stauts\n}\n")
    d = only(diagnostics(text), "CS201")
    assert d.message == "unknown type `Stauts`"
    assert d.fixes[0].replacement == "Status"


def apply(text: str, d: Diagnostic) -> str:
    fix = d.fixes[0]
    return text[:fix.span.start_offset] + fix.replacement + text[fix.span.end_offset:]


@pytest.mark.parametrize("member, span, fixed", [
    ("stage: ref Dael?", "Dael", "stage: ref Deal?"),
    ("stages: ref Dael[]", "Dael", "stages: ref Deal[]"),
    ("state: Stauts[]", "Stauts", "state: Status[]"),
    ("state: Stauts(3)", "Stauts", "state: Status(3)"),
])
def test_unknown_type_name_span_and_fix(member: str, span: str, fixed: str) -> None:
    text = spec(f"type Report {{\n  {member}\n}}\n")
    d = only(diagnostics(text), "CS201")
    assert text_at(text, d) == span
    assert f"  {fixed}\n" in apply(text, d)


def test_ref_to_an_enum_drops_ref() -> None:
    text = spec("type Report {\n  state: ref Status?\n}\n")
    d = only(diagnostics(text), "CS204")
    assert d.message == "`ref Status` must name an entity, but `Status` is an enum"
    assert "  state: Status?\n" in apply(text, d)


def test_entity_field_holding_an_entity_becomes_a_ref() -> None:
    text = spec("entity Note {\n  id: uuid @id\n  org: ref identity.Org @tenant\n"
                "  deal: Deal?\n}\n")
    d = only(diagnostics(text), "CS204")
    assert "  deal: ref Deal?\n" in apply(text, d)


# ---- CS215 --------------------------------------------------------------------------------


def test_list_of_references_in_an_entity() -> None:
    text = spec("entity Team {\n  id: uuid @id\n  org: ref identity.Org @tenant\n"
                "  deals: ref Deal[]\n}\n")
    d = only(diagnostics(text), "CS215")
    assert text_at(text, d) == "ref Deal[]"
    assert "list of references" in d.message and d.help is not None


@pytest.mark.parametrize("body", [
    "command tag v1 {\n  input {\n    deals: ref Deal[]\n  }\n  policy manage\n}\n",
    "event deals.tagged v1 {\n  payload {\n    deals: ref Deal[]\n  }\n}\n",
    "type Selection {\n  deals: ref Deal[]\n}\n",
    "job tagAll {\n  input {\n    deals: ref Deal[]\n  }\n}\n",
])
def test_lists_of_references_outside_entities_are_fine(body: str) -> None:
    assert "CS215" not in codes(spec(body))


# ---- references from other constructs -----------------------------------------------------


@pytest.mark.parametrize("body, span, message", [
    ("critical createDel\n", "createDel", "unknown operation `createDel`"),
    ("on deal.won run sendRemindr\n", "sendRemindr", "unknown job `sendRemindr`"),
    ("schedule nightly every 1d run sendRemindr\n", "sendRemindr", "unknown job `sendRemindr`"),
    ("command c v1 {\n  policy manage\n  behind newBord\n}\n", "newBord",
     "unknown flag or experiment `newBord`"),
    ("command c v1 {\n  policy manage\n  meters api_cals\n}\n", "api_cals",
     "unknown metric `api_cals`"),
    ("plan pro {\n  limit api_cals 10 / month\n}\n", "api_cals", "unknown metric `api_cals`"),
    ("plan pro {\n  flags newBord\n}\n", "newBord", "unknown flag `newBord`"),
    ("attachments on Dael {\n  max 1MB\n}\n", "Dael", "unknown entity `Dael`"),
    ("agent helper {\n  tools listDeal\n}\n", "listDeal", "unknown operation `listDeal`"),
])
def test_unknown_references(body: str, span: str, message: str) -> None:
    text = spec(body)
    d = only(diagnostics(text), "CS201")
    assert d.message == message
    assert text_at(text, d) == span
    assert d.fixes and d.fixes[0].span == d.span


@pytest.mark.parametrize("body, message", [
    ("critical sendReminder\n", "`sendReminder` is a job, not an operation"),
    ("on deal.won run createDeal\n", "`createDeal` is a command, not a job"),
    ("command c v1 {\n  policy manage\n  behind api_calls\n}\n",
     "`api_calls` is a metric, not a flag or experiment"),
    ("command c v1 {\n  policy manage\n  meters newBoard\n}\n",
     "`newBoard` is a flag, not a metric"),
    ("plan pro {\n  flags copy\n}\n", "`copy` is an experiment, not a flag"),
    ("agent helper {\n  tools sendReminder\n}\n", "`sendReminder` is a job, not an operation"),
])
def test_references_of_the_wrong_kind(body: str, message: str) -> None:
    d = only(diagnostics(spec(body)), "CS214")
    assert d.message == message
    assert "CS201" not in codes(spec(body))


def test_entity_positions_naming_an_enum() -> None:
    text = spec("attachments on Status {\n  max 1MB\n}\n\nview v list of Status {\n}\n")
    found = [d for d in diagnostics(text) if d.code == "CS204"]
    assert [d.message for d in found] == [
        "`attachments on` must name an entity, but `Status` is an enum",
        "view `v` must name an entity, but `Status` is an enum",
    ]


def test_valid_references_are_silent() -> None:
    text = spec(
        "critical createDeal, listDeals\n\n"
        "schedule nightly every 1d run sendReminder\n\n"
        "command c v1 {\n  policy manage\n  behind copy\n  meters api_calls\n}\n\n"
        "plan pro {\n  limit api_calls 10 / month\n  flags newBoard\n}\n\n"
        "attachments on Deal {\n  max 1MB\n}\n\n"
        "agent helper {\n  tools listDeals, createDeal\n  limits {\n    steps 10\n"
        "    tokens 2000\n    time 5m\n    cost 100\n  }\n}\n")
    assert not {"CS201", "CS203", "CS204", "CS214", "CS216"} & set(codes(text))


def test_qualified_reference_to_a_used_module() -> None:
    files = {
        "shop.cspec": "module shop\n\nuse ops\n\nattachments on ops.Run {\n  max 1MB\n}\n",
        "ops.cspec": "module ops\n\nentity Run {\n  id: uuid @id\n}\n",
    }
    assert not [c for c in codes(files) if c.startswith("CS2")]
    files["shop.cspec"] = files["shop.cspec"].replace("ops.Run", "ops.Rnu")
    d = only(diagnostics(files), "CS201")
    assert d.fixes[0].replacement == "ops.Run"


# ---- views --------------------------------------------------------------------------------

WORKFLOW = ("workflow DealFlow on Deal.status {\n  initial open\n"
            "  transition win: open -> won by manage\n}\n\n")


def test_view_fields_must_be_fields_of_the_entity() -> None:
    text = spec("view deals list of Deal {\n  columns title, amout\n  filter status\n"
                "  search titel\n}\n\nview board board of Deal by stage {\n  card title\n}\n")
    found = [d for d in diagnostics(text) if d.code == "CS201"]
    assert [(d.message, text_at(text, d)) for d in found] == [
        ("entity `Deal` has no field `amout`", "amout"),
        ("entity `Deal` has no field `titel`", "titel"),
        ("entity `Deal` has no field `stage`", "stage"),
    ]
    assert found[0].fixes[0].replacement == "amount"
    assert found[0].help == "did you mean `amount`?"


def test_view_actions_name_operations_or_transitions() -> None:
    text = spec(WORKFLOW + "view deals list of Deal {\n  columns title\n"
                "  actions win, createDeal, archive\n}\n")
    d = only(diagnostics(text), "CS201")
    assert text_at(text, d) == "archive"
    assert d.message.startswith("unknown action `archive`")


def test_view_action_suggests_a_transition() -> None:
    text = spec(WORKFLOW + "view deals list of Deal {\n  columns title\n  actions wn\n}\n")
    d = only(diagnostics(text), "CS201")
    assert d.fixes[0].replacement == "win"


def test_valid_views_are_silent() -> None:
    text = spec(WORKFLOW +
                "view deals list of Deal {\n  columns title, amount\n  filter status\n"
                "  search title\n  actions win, createDeal\n}\n\n"
                "view board board of Deal by status {\n  card title, amount\n}\n\n"
                "view form form of Deal {\n  fields title, amount\n}\n")
    assert not {"CS201", "CS204", "CS214"} & set(codes(text))


# ---- CS216 --------------------------------------------------------------------------------


def test_misspelled_agent_limit() -> None:
    text = spec("agent helper {\n  limits {\n    tokns 10\n  }\n}\n")
    d = only(diagnostics(text), "CS216")
    assert text_at(text, d) == "tokns"
    assert "`steps`, `tokens`, `time`, `cost`" in d.message
    assert d.fixes[0].replacement == "tokens"


@pytest.mark.parametrize("limit, message", [
    ("time 30", "the `time` limit is a duration such as `30s` or `5m`"),
    ("steps 5m", "the `steps` limit is a whole number, not a duration"),
    ("cost 0", "the `cost` limit must be at least 1"),
])
def test_agent_limit_values(limit: str, message: str) -> None:
    text = spec(f"agent helper {{\n  limits {{\n    {limit}\n  }}\n}}\n")
    d = only(diagnostics(text), "CS216")
    assert d.message == message
    assert text_at(text, d) == limit


# ---- workspaces that must stay clean ------------------------------------------------------


def test_full_workspace_is_clean(full_workspace: Path) -> None:
    found = analyze_workspace([full_workspace]).diagnostics
    assert [(d.code, d.message) for d in found if d.code.startswith("CS2")] == []


def test_standard_library_checks_clean_as_user_code() -> None:
    std = Path(__file__).resolve().parent.parent / "contractspec" / "std"
    found = analyze_texts({p.name: p.read_text() for p in std.glob("*.cspec")}).diagnostics
    assert not [d for d in found if d.code.startswith("CS2")]
