"""Views the ui target cannot serve (CS524-CS527): the checker reports each of them, the ui
target refuses exactly those (GeneratorError), and serves the corrected specs."""

from __future__ import annotations

import pytest

from contractspec.check.registry import all_rules
from contractspec.check.rules.views import required_inputs
from contractspec.generators.base import GeneratorError, GeneratorOptions
from contractspec.generators.ui import UiGenerator
from contractspec.ir import nodes as ir
from tests.conftest import analyse

BASE = """module shop

use identity

enum Stage {
  open
  won
}

entity Deal {
  id: uuid @id
  org: ref identity.Org @tenant
  title: string(1..80)
  stage: Stage = open
  tags: string[]
  token: string? @secret
}

policy Deal {
  read: member
}

command createDeal v1 {
  input {
    title: string(1..80)
  }
  output Deal
  policy member
}
"""
WORKFLOW = """
workflow DealFlow on Deal.stage {
  initial open
  transition win: open -> won by member
  final won
}
"""


def errors(text: str) -> list[str]:
    return [f"{d.code} {d.message}" for d in analyse(text).errors]


def ui_files(text: str) -> dict[str, bytes]:
    """The ui target's files for the spec, errors or not (GeneratorError when it refuses)."""
    return UiGenerator().generate(analyse(text).program, GeneratorOptions(app="shop"))


def refused(text: str, code: str, message: str) -> None:
    """The checker reports exactly `code` with `message`, and the ui target refuses it."""
    assert errors(text) == [f"{code} {message}"]
    with pytest.raises(GeneratorError):
        ui_files(text)


def served(text: str) -> str:
    """The spec checks clean and the ui target serves it: its routes module."""
    assert errors(text) == []
    return ui_files(text)["shop/ui/routes.py"].decode()


def test_a_form_needs_a_create_or_an_update_operation() -> None:
    form = "\nview dealForm form of Deal {\n  fields title\n}\n"
    without = BASE.replace("command createDeal", "command openDeal")
    refused(without + form, "CS524",
            "form `dealForm`: `Deal` has no create or update operation to call")
    assert "def deal_form_create(" in served(BASE + form)
    update = without.replace("    title: string(1..80)\n  }\n  output",
                             "    id: uuid\n    title: string(1..80)?\n  }\n  output")
    assert "def deal_form_edit(" in served(update.replace("openDeal", "updateDeal") + form)
    # the name is CRUD but the shape is not: a query does not create
    query = without.replace("command openDeal", "query createDeal")
    assert any(e.startswith("CS524") for e in errors(query + form))


def test_a_board_groups_by_its_field_or_its_workflow() -> None:
    board = "\nview pipeline board of Deal {\n  card title\n}\n"
    refused(BASE + board, "CS525",
            "board `pipeline` has nothing to group by: `Deal` has no workflow")
    assert "def pipeline(" in served(BASE + WORKFLOW + board)
    assert "def pipeline(" in served(BASE + board.replace("of Deal", "of Deal by stage"))


ARCHIVE = """
command archiveDeal v1 {{
  input {{
{}  }}
  policy member
}}

view dealPage detail of Deal {{
  actions {}
}}
"""


def test_an_action_takes_only_the_record_key() -> None:
    def spec(inputs: str, actions: str = "archiveDeal") -> str:
        return BASE + WORKFLOW + ARCHIVE.format(inputs, actions)

    refused(spec("    id: uuid\n    reason: string\n"), "CS526",
            "action `archiveDeal` must be an operation whose only required input is `Deal`'s "
            "key `id`: it also requires `reason`")
    refused(spec("    reason: string?\n"), "CS526",
            "action `archiveDeal` must be an operation whose only required input is `Deal`'s "
            "key `id`: it does not require `id`")
    [diag] = [d for d in analyse(spec("    deal: uuid\n")).errors]
    assert diag.message.endswith("it does not require `id` and it also requires `deal`")
    assert diag.help == ("add `id` (not optional) to the input of `archiveDeal`; give its other "
                         "inputs a default or make them optional")
    assert diag.related[0].message == "`archiveDeal` is declared here"
    for other in ("reason: string?", 'note: string = "x"', "stage: Stage = won",
                  "tags: string[] = []"):
        assert "def deal_archive_deal(" in served(spec(f"    id: uuid\n    {other}\n"))
    # a transition of a workflow on the entity is an action (a button of its workflow)
    routes = served(spec("    id: uuid\n", "win, archiveDeal"))
    assert "def deal_deal_flow(" in routes and "def deal_archive_deal(" in routes


def test_required_inputs_are_those_the_api_requires() -> None:
    text = BASE + ("\ncommand stamp v1 {\n  input {\n    id: uuid\n    at: datetime = now\n"
                   "    when: date?\n    n: int = 3\n  }\n  policy member\n}\n")
    module = next(m for m in analyse(text).program.modules if m.name == "shop")
    op: ir.OperationDecl = next(o for o in module.operations if o.name == "stamp")
    assert required_inputs(op) == ["id", "at"]


def test_a_view_names_only_fields_the_ui_shows() -> None:
    listed = "\nview deals list of Deal {\n  columns title, %s\n}\n"
    refused(BASE + listed % "token", "CS527",
            "view `deals`: the UI does not show `token`, which is `@secret`")
    refused(BASE + listed % "tags", "CS527",
            "view `deals`: the UI does not show `tags`, which is a list")
    refused(BASE + "\nview b board of Deal by tags {\n  card title\n}\n", "CS527",
            "view `b`: the UI does not show `tags`, which is a list")
    secret_key = BASE.replace("id: uuid @id", "id: uuid @id @secret")
    refused(secret_key + listed % "stage", "CS527",
            "view `deals`: the key `id` of `Deal` is `@secret`, and pages link to records by "
            "their key")
    assert "def deals(" in served(BASE + listed % "stage")


def test_an_entity_without_a_key_gets_pages_by_its_generated_id() -> None:
    text = BASE.replace("  id: uuid @id\n", "").replace(
        "entity Deal {", "entity Deal {  // cspec-ignore CS213: the table adds a uuid `id`") + (
        "\nview deals list of Deal {\n  columns title\n}\n"
        "\nview dealPage detail of Deal {\n  fields title, stage\n}\n")
    routes = served(text)
    assert "models.Deal.id == parsed" in routes


def test_views_need_the_identity_module() -> None:
    bare = "module shop\n\nentity Note {\n  id: uuid @id\n  title: string\n}\n\n"
    view = "view notes list of Note {\n  columns title\n}\n"
    refused(bare + view, "CS528",
            "view `notes` needs the module `identity`, which module `shop` does not use")
    own = {"shop.cspec": bare.replace("module shop\n", "module shop\n\nuse identity\n") + view,
           "identity.cspec": "module identity\n\nentity User {\n  id: uuid @id\n}\n"}
    assert [f"{d.code} {d.message}" for d in analyse(own).errors] == [
        "CS528 view `notes` needs the module `identity` to declare `Org`, `OrgMembership`, "
        "`OrgRole`"]


@pytest.mark.parametrize("code", ["CS524", "CS525", "CS526", "CS527", "CS528"])
def test_the_good_examples_generate_their_pages(code: str) -> None:
    good = all_rules()[code].good
    assert isinstance(good, str)
    assert served(good)
