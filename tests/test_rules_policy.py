"""Roles, permissions, grants, policies, tenancy and secrets (CS3xx)."""

from __future__ import annotations

import pytest

from contractspec.analysis import analyze_workspace
from contractspec.diagnostics import Diagnostic, Fix, Severity
from tests.conftest import REPO, codes, diagnostics

HEAD = "module crm\n\nuse identity\n\n"
DEAL = """entity Deal {
  id: uuid @id
  org: ref identity.Org @tenant
  owner: ref identity.User
  status: DealStatus = open
  amount: money
  public: bool
  address: Address
}

enum DealStatus {
  open
  won
}

type Address {
  city: string
}

permission view_deals "See deals"
permission manage_deals "Edit deals"

grant owner, admin: view_deals, manage_deals
grant member: view_deals
"""


def spec(body: str) -> str:
    return HEAD + DEAL + "\n" + body


def found(text: str | dict[str, str], code: str) -> list[Diagnostic]:
    return [d for d in diagnostics(text) if d.code == code]


def one(text: str | dict[str, str], code: str) -> Diagnostic:
    hits = found(text, code)
    assert len(hits) == 1, [(d.code, d.message) for d in diagnostics(text)]
    return hits[0]


def applied(text: str, fix: Fix) -> str:
    return text[:fix.span.start_offset] + fix.replacement + text[fix.span.end_offset:]


def spanned(text: str, diag: Diagnostic) -> str:
    return text[diag.span.start_offset:diag.span.end_offset]


def policy(rules: str) -> str:
    return spec("policy Deal {\n" + rules + "\n}\n")


# ---- access expressions -----------------------------------------------------------------


def test_clean_policy_has_no_policy_findings() -> None:
    text = policy("  read: view_deals or self.owner == actor or self.public\n"
                  "  update: manage_deals and not (self.status == won)\n"
                  "  delete: identity.admin or authenticated and self.address.city != \"x\"")
    assert [c for c in codes(text) if c[2] == "3"] == []


def test_unknown_permission_suggests_and_fixes() -> None:
    text = policy("  read: view_deal\n  update: manage_deals")
    diag = one(text, "CS310")
    assert diag.message == "unknown permission or role `view_deal`"
    assert diag.help == "did you mean `view_deals`?"
    assert spanned(text, diag) == "view_deal"
    assert diag.severity is Severity.ERROR
    assert "CS310" not in codes(applied(text, diag.fixes[0]))


def test_builtin_names_are_suggested() -> None:
    diag = one(policy("  read: authenticate\n  update: manage_deals"), "CS310")
    assert diag.fixes[0].replacement == "authenticated"


def test_qualified_roles_resolve_and_suggest() -> None:
    assert "CS310" not in codes(policy("  read: identity.member\n  update: manage_deals"))
    diag = one(policy("  read: identity.membr\n  update: manage_deals"), "CS310")
    assert diag.fixes[0].replacement == "identity.member"


def test_bare_field_name_suggests_self() -> None:
    text = policy("  read: public\n  update: manage_deals")
    diag = one(text, "CS310")
    assert diag.fixes[0].replacement == "self.public"
    assert "CS310" not in codes(applied(text, diag.fixes[0]))


def test_unknown_self_field_points_at_the_field() -> None:
    text = policy("  read: view_deals\n  update: manage_deals or self.ownr == actor")
    diag = one(text, "CS311")
    assert diag.message == "entity `Deal` has no field `ownr`"
    assert spanned(text, diag) == "ownr"
    assert "CS311" not in codes(applied(text, diag.fixes[0]))


def test_self_paths_follow_refs_and_types() -> None:
    diag = one(policy("  read: self.owner.emial == \"a\"\n  update: manage_deals"), "CS311")
    assert diag.message == "entity `User` has no field `emial`"
    assert diag.fixes[0].replacement == "email"
    diag = one(policy("  read: self.address.cty == \"x\"\n  update: manage_deals"), "CS311")
    assert diag.message == "type `Address` has no field `cty`"
    diag = one(policy("  read: self.amount.cents == 1\n  update: manage_deals"), "CS311")
    assert diag.message == "`self.amount` is a `money`: it has no field `cents`"


def test_actor_fields_are_those_of_user() -> None:
    assert "CS311" not in codes(policy("  read: actor.email == \"a\"\n  update: manage_deals"))
    diag = one(policy("  read: actor.mail == \"a\"\n  update: manage_deals"), "CS311")
    assert diag.message == "entity `User` has no field `mail`"


@pytest.mark.parametrize("decl", [
    "query getDeal v1 {\n  output Deal\n  policy self.owner == actor\n}\n",
    "agent helper {\n  model \"m\"\n  policy view_deals or self.public\n}\n",
])
def test_self_without_record(decl: str) -> None:
    text = spec("policy Deal {\n  read: view_deals\n  update: manage_deals\n}\n\n" + decl)
    diag = one(text, "CS312")
    assert spanned(text, diag).startswith("self")
    assert "there is no record" in diag.message


def test_self_is_not_checked_when_the_entity_is_unknown() -> None:
    found_codes = codes(spec("policy Dael {\n  read: self.nothing == actor\n}\n"))
    assert "CS201" in found_codes
    assert not {"CS311", "CS312"} & set(found_codes)


@pytest.mark.parametrize(("rule", "message"), [
    ("true", "the literal `true` cannot decide access in the `read` rule of policy `Deal`"),
    ("self.amount", "`self.amount` is not a condition in the `read` rule of policy `Deal`"),
    ("actor", "`actor` is not a condition in the `read` rule of policy `Deal`"),
    ("self.amount > 0", "the operator `>` cannot decide access in the `read` rule of policy "
                        "`Deal`"),
    ("self.status == wn", "`wn` is not a value of enum `DealStatus` (`self.status`)"),
    ("self.owner == self.org", "`self.owner` and `self.org` are records of different "
                               "entities (`User`, `Org`): they are never equal"),
    ("admin == member", "`admin == member` compares two names in the `read` rule of policy "
                        "`Deal`"),
    ("self.owner == admin", "`admin` cannot be compared with `self.owner` in the `read` rule "
                            "of policy `Deal`"),
])
def test_invalid_access_expressions(rule: str, message: str) -> None:
    diag = one(policy(f"  read: {rule}\n  update: manage_deals"), "CS313")
    assert diag.message == message


def test_enum_value_fix() -> None:
    text = policy("  read: self.status == wn\n  update: manage_deals")
    diag = one(text, "CS313")
    assert "CS313" not in codes(applied(text, diag.fixes[0]))


def test_every_access_site_is_checked() -> None:
    text = spec("""policy Deal {
  read: view_deals
  update: manage_deals
}

workflow DealFlow on Deal.status {
  initial open
  transition win: open -> won by manage_deal
  final won
}

attachments on Deal {
  upload: manage_deals or self.ownr == actor
}
""")
    assert sorted(codes(text)).count("CS310") == 1
    assert "CS311" in codes(text)


def test_reserved_names() -> None:
    diag = one(HEAD + "role authenticated \"x\"\n", "CS314")
    assert diag.message == "`authenticated` is built into access rules and cannot name a role"
    assert "CS314" not in codes(HEAD + "role signed_in \"x\"\n")


# ---- grants and permissions -------------------------------------------------------------


def test_grant_sides_must_have_the_right_kind() -> None:
    text = spec("grant view_deals: member\n")
    messages = sorted(d.message for d in found(text, "CS315"))
    assert messages == [
        "`member` is a role, but the right side of a grant lists permissions",
        "`view_deals` is a permission, but the left side of a grant lists roles",
    ]


def test_unknown_grant_names_suggest_the_right_kind() -> None:
    diag = one(spec("grant admn: view_deals\n"), "CS310")
    assert diag.message == "unknown role `admn`"
    assert diag.fixes[0].replacement == "admin"
    diag = one(spec("grant admin: view_deal\n"), "CS310")
    assert diag.message == "unknown permission `view_deal`"


def test_permission_never_granted() -> None:
    text = HEAD + DEAL + "\npermission export_deals \"Export\"\n\npolicy Deal {\n" \
        "  read: view_deals\n  update: manage_deals\n  list: export_deals\n}\n"
    diag = one(text, "CS316")
    assert diag.severity is Severity.WARNING
    assert spanned(text, diag) == "export_deals"
    assert "CS316" not in codes(applied(text, diag.fixes[0]))


def test_grants_in_other_modules_count() -> None:
    files = {
        "crm.cspec": "module crm\n\nuse identity\n\npermission export \"x\"\n",
        "ops.cspec": "module ops\n\nuse identity\nuse crm\n\ngrant admin: export\n",
    }
    assert "CS316" not in codes(files)


def test_permission_never_checked_is_a_hint() -> None:
    diag = one(spec("permission export \"x\"\n\ngrant admin: export\n\n"
                    "policy Deal {\n  read: view_deals\n  update: manage_deals\n}\n"), "CS317")
    assert diag.severity is Severity.HINT
    assert diag.message == "permission `export` is not checked by any rule"


def test_permission_checked_by_a_workflow_counts() -> None:
    text = spec("permission close \"x\"\n\ngrant admin: close\n\n"
                "policy Deal {\n  read: view_deals\n  update: manage_deals\n}\n\n"
                "workflow F on Deal.status {\n  initial open\n"
                "  transition win: open -> won by close\n  final won\n}\n")
    assert "CS317" not in codes(text)


# ---- policies ---------------------------------------------------------------------------


def test_policy_must_name_an_entity() -> None:
    diag = one(spec("policy DealStatus {\n  read: member\n}\n"), "CS320")
    assert diag.message == "`DealStatus` is an enum, and a policy is about the records of an " \
                           "entity"
    diag = one(spec("policy Dael {\n  read: member\n}\n"), "CS201")
    assert diag.message == "unknown entity `Dael`"
    assert diag.fixes[0].replacement == "Deal"


@pytest.mark.parametrize(("action", "suggestion"), [("view", "read"), ("updte", "update"),
                                                    ("edit", "update"), ("remove", "delete")])
def test_unknown_policy_action(action: str, suggestion: str) -> None:
    text = policy(f"  {action}: view_deals\n  update: manage_deals"
                  if action != "edit" else "  read: view_deals\n  edit: manage_deals")
    diag = one(text, "CS321")
    assert diag.fixes[0].replacement == suggestion
    assert spanned(text, diag) == action


def test_unknown_action_without_suggestion() -> None:
    diag = one(policy("  read: view_deals\n  frobnicate: manage_deals"), "CS321")
    assert diag.help is None and diag.fixes == ()


def test_duplicate_policy_across_modules() -> None:
    files = {
        "crm.cspec": "module crm\n\nuse identity\n\npolicy identity.Org {\n  read: member\n}\n",
    }
    diag = one(files, "CS322")
    assert diag.message == "entity `Org` already has a policy"
    assert diag.related[0].span.file == "<std>/identity.cspec"


# ---- operations -------------------------------------------------------------------------

OPS_BASE = "policy Deal {\n  read: view_deals\n  update: manage_deals\n}\n\n"


def test_command_without_policy_fix_uses_the_entity_policy() -> None:
    text = spec(OPS_BASE + "/// Close it.\ncommand closeDeal v1 {\n  input {\n"
                "    deal: ref Deal\n  }\n  output Deal\n}\n")
    diag = one(text, "CS323")
    assert diag.message == "command `closeDeal` has no `policy`: say who may run it"
    assert spanned(text, diag) == "closeDeal"
    assert [f.title for f in diag.fixes] == ["Add `policy manage_deals`",
                                             "Add `policy authenticated`"]
    fixed = applied(text, diag.fixes[0])
    assert "  output Deal\n  policy manage_deals\n}\n" in fixed
    assert "CS323" not in codes(fixed)
    assert "CS101" not in codes(fixed)


def test_one_line_operation_fix() -> None:
    text = spec(OPS_BASE + "command ping v1 { output Deal }\n")
    diag = one(text, "CS323")
    fixed = applied(text, diag.fixes[-1])
    assert "command ping v1 { output Deal policy authenticated }" in fixed
    assert not {"CS101", "CS323"} & set(codes(fixed))


def test_query_without_policy_is_a_warning() -> None:
    text = spec(OPS_BASE + "query listDeals v1 {\n  output page<Deal>\n}\n")
    diag = one(text, "CS324")
    assert diag.severity is Severity.WARNING
    assert diag.fixes[0].replacement == "  policy view_deals\n"
    assert "CS324" not in codes(applied(text, diag.fixes[0]))


def test_entity_returned_without_policy() -> None:
    text = spec("query listDeals v1 {\n  output page<Deal>\n  policy view_deals\n}\n")
    diag = one(text, "CS325")
    assert diag.message == "entity `Deal` is returned by `listDeals` but has no `policy`"
    assert spanned(text, diag) == "Deal"
    assert spanned(text, diag.related[0]) == "page<Deal>"
    assert "CS325" not in codes(spec(OPS_BASE + "query listDeals v1 {\n  output page<Deal>\n"
                                     "  policy view_deals\n}\n"))


# ---- tenancy ----------------------------------------------------------------------------

NOTE = "entity Note {\n  id: uuid @id\n  deal: ref Deal\n}\n"


def test_entity_referring_to_scoped_data_needs_a_tenant() -> None:
    text = spec(NOTE)
    diag = one(text, "CS301")
    assert diag.message == ("entity `Note` holds tenant data (it refers to `Deal`, which is "
                            "scoped by `org`) but has no `@tenant` field")
    assert spanned(text, diag) == "Note"
    fixed = applied(text, diag.fixes[0])
    assert "  org: ref identity.Org @tenant\n}" in fixed
    assert "CS301" not in codes(fixed)


def test_reference_to_the_tenant_is_marked() -> None:
    text = HEAD + "entity Team {\n  id: uuid @id\n  org: ref identity.Org\n}\n"
    diag = one(text, "CS301")
    assert "it refers to the tenant `Org`" in diag.message
    fixed = applied(text, diag.fixes[0])
    assert "org: ref identity.Org @tenant\n" in fixed
    assert "CS301" not in codes(fixed)


def test_tenant_ownership_is_transitive() -> None:
    text = spec(NOTE + "\nentity Reply {\n  id: uuid @id\n  note: ref Note?\n}\n")
    assert sorted(d.message.split("`")[1] for d in found(text, "CS301")) == ["Note", "Reply"]


@pytest.mark.parametrize("body", [
    "entity Profile {\n  id: uuid @id\n  user: ref identity.User\n}\n",
    "entity Currency {\n  id: uuid @id\n  code: string\n}\n",
    "entity Template {\n  id: uuid @id\n  example: ref Deal?\n  @@global\n}\n",
])
def test_not_tenant_owned(body: str) -> None:
    assert "CS301" not in codes(spec(body))


def test_query_reading_across_tenants() -> None:
    text = spec(NOTE + "\npolicy Note {\n  read: view_deals\n}\n\n"
                "query listNotes v1 {\n  output list<Note>\n  policy view_deals\n}\n")
    diag = one(text, "CS302")
    assert spanned(text, diag) == "list<Note>"
    assert diag.message.startswith("query `listNotes` can read across tenants")


def test_global_entity_exposing_tenant_data() -> None:
    body = ("entity Template {\n  id: uuid @id\n  example: ref Deal?\n  @@global\n}\n\n"
            "policy Template {\n  read: authenticated\n}\n\n"
            "query listTemplates v1 {\n  output Template[]\n  policy authenticated\n}\n")
    diag = one(spec(body), "CS303")
    assert diag.severity is Severity.WARNING
    assert "whose field `example` refers to one tenant's records" in diag.message
    assert "CS303" not in codes(spec(body.replace("  example: ref Deal?\n", "")))


def test_nested_tenant() -> None:
    text = spec("entity Note {\n  id: uuid @id\n  deal: ref Deal @tenant\n}\n")
    diag = one(text, "CS304")
    assert diag.message == ("the tenant field `deal` refers to `Deal`, which is itself scoped "
                            "by `org`")
    assert diag.help == "point `@tenant` at the tenant itself (`identity.Org`)"
    assert spanned(text, diag) == "deal: ref Deal @tenant"
    assert "CS304" not in codes(spec("entity Note {\n  id: uuid @id\n"
                                     "  org: ref identity.Org @tenant\n}\n"))


# ---- secrets ----------------------------------------------------------------------------


def test_secret_in_event_payload() -> None:
    text = HEAD + "event token.issued v1 {\n  payload {\n    token: string @secret\n  }\n}\n"
    diag = one(text, "CS330")
    assert spanned(text, diag) == "token"
    assert "CS330" not in codes(text.replace(" @secret", ""))


# ---- the repository's own specs ----------------------------------------------------------


def test_full_workspace_is_clean() -> None:
    assert analyze_workspace([REPO / "tests/data/full"]).diagnostics == []


def test_std_is_clean() -> None:
    """Checked as a workspace of its own, the standard library reports nothing, not even a
    hint (tests/test_std.py checks each module alone too)."""
    assert analyze_workspace([REPO / "contractspec/std"]).diagnostics == []
