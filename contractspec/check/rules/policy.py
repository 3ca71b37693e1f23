"""Roles, permissions, grants, policies and tenancy (CS3xx).

Access expressions are resolved in `contractspec.check.access`; the tenancy model (which
entities are tenant-scoped, tenant roots, tenant-owned) is `contractspec.check.tenancy`.
"""

from __future__ import annotations

from contractspec.check.access import (
    access_sites,
    check_access_expr,
    entity_symbol,
)
from contractspec.check.context import CheckContext
from contractspec.check.registry import declare, rule
from contractspec.diagnostics import Severity

E, W, H = Severity.ERROR, Severity.WARNING, Severity.HINT

_ROLES = "module crm\n\nuse identity\n\n"
_DEAL = ("entity Deal {\n  id: uuid @id\n  org: ref identity.Org @tenant\n"
         "  owner: ref identity.User\n  amount: money\n}\n\n")
_PERMS = ("permission view_deals \"See deals\"\npermission manage_deals \"Edit deals\"\n\n"
          "grant owner, admin: view_deals, manage_deals\ngrant member: view_deals\n\n")


# ---- access expressions -----------------------------------------------------------------


@rule(
    "CS310", "unknown-permission-or-role", E,
    "An access rule names an unknown permission or role.",
    "In access rules (entity policies, an operation's or agent's `policy`, attachment rules, "
    "a workflow transition's `by`), a bare name is a permission or a role declared in the "
    "module or in a module it uses; the standard `identity` module declares the roles "
    "`owner`, `admin` and `member`. Two names are built in: `authenticated` (any signed-in "
    "member, whatever their roles) and `actor` (the signed-in user, to compare with a field: "
    "`self.owner == actor`). The diagnostic suggests the closest name and offers it as a fix.",
    bad=_ROLES + _DEAL + _PERMS + "policy Deal {\n  read: view_deal\n}\n",
    good=_ROLES + _DEAL + _PERMS + "policy Deal {\n  read: view_deals\n}\n",
    fix="Replace the name with the suggestion.",
)
def check_access(ctx: CheckContext) -> None:
    for module in ctx.user_modules():
        for site in access_sites(module):
            entity = entity_symbol(ctx, module.name, site.entity)
            check_access_expr(ctx, module.name, site.expr, entity, site.where,
                              record=site.record)


declare(
    "CS311", "unknown-field-in-rule", E, "A rule names a field the record does not have.",
    "`self.<field>` is a field of the record a rule is about (the policy's, attachment's or "
    "workflow's entity); paths follow `ref` fields and embedded types (`self.deal.owner`). "
    "`actor.<field>` is a field of `identity.User`. The diagnostic suggests the closest field.",
    bad=_ROLES + _DEAL + _PERMS + "policy Deal {\n  read: view_deals\n"
        "  update: manage_deals or self.ownr == actor\n}\n",
    good=_ROLES + _DEAL + _PERMS + "policy Deal {\n  read: view_deals\n"
         "  update: manage_deals or self.owner == actor\n}\n",
    fix="Replace the field name with the suggestion.",
)
declare(
    "CS312", "self-without-record", E, "`self` is used where there is no record.",
    "An operation's or agent's `policy` is checked before any record is loaded, so it can "
    "only name permissions, roles and `authenticated`. Rules about a record "
    "(`self.owner == actor`) belong in the entity's `policy`.",
    bad=_ROLES + _DEAL + _PERMS + "query getDeal v1 {\n  input {\n    deal: ref Deal\n  }\n"
        "  output Deal\n  policy self.owner == actor\n}\n",
    good=_ROLES + _DEAL + _PERMS + "policy Deal {\n  read: view_deals or self.owner == actor\n"
         "}\n\nquery getDeal v1 {\n  input {\n    deal: ref Deal\n  }\n  output Deal\n"
         "  policy authenticated\n}\n",
)
declare(
    "CS313", "invalid-access-expression", E, "An access rule is not a yes/no question about "
    "the user.",
    "An access rule combines conditions with `or`, `and` and `not`. A condition is a "
    "permission, a role, `authenticated`, a `bool` field (`self.public`), or a comparison "
    "with `==` or `!=` of `self`/`actor` paths, literals and enum values "
    "(`self.owner == actor`, `self.status == open`). Literals, arithmetic, `<`, calls and "
    "lists cannot decide access, a field that is not a `bool` is not a condition, an enum "
    "comparison must use a value of that enum, and two records of different entities are "
    "never equal.",
    bad=_ROLES + _DEAL + _PERMS + "policy Deal {\n  read: true\n}\n",
    good=_ROLES + _DEAL + _PERMS + "policy Deal {\n  read: authenticated\n}\n",
)
