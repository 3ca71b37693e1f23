"""Roles, permissions, grants, policies and tenancy (CS3xx).

Access expressions are resolved in `contractspec.check.access`; the tenancy model (which
entities are tenant-scoped, tenant roots, tenant-owned) is `contractspec.check.tenancy`.
"""

from __future__ import annotations

import difflib

from contractspec.check.access import (
    AUTHENTICATED,
    BUILTINS,
    access_names,
    access_sites,
    check_access_expr,
    entity_symbol,
    insert_member,
    render,
)
from contractspec.check.context import CheckContext
from contractspec.check.registry import declare, rule
from contractspec.check.symbols import Symbol
from contractspec.check.tenancy import Tenancy, build_tenancy, output_entity
from contractspec.diagnostics import Fix, Related, Severity
from contractspec.ir import nodes as ir
from contractspec.source import Span

E, W, H = Severity.ERROR, Severity.WARNING, Severity.HINT

_ROLES = "module crm\n\nuse identity\n\n"
_DEAL = ("entity Deal {\n  id: uuid @id\n  org: ref identity.Org @tenant\n"
         "  owner: ref identity.User\n  amount: money\n}\n\n")
_PERMS = ("permission view_deals \"See deals\"\npermission manage_deals \"Edit deals\"\n\n"
          "grant owner, admin: view_deals, manage_deals\ngrant member: view_deals\n\n")
_POLICY = "policy Deal {\n  read: view_deals\n  update: manage_deals\n}\n\n"


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
    bad=_ROLES + _DEAL + _PERMS + "policy Deal {\n  read: view_deal\n  update: manage_deals\n}\n",
    good=_ROLES + _DEAL + _PERMS + _POLICY,
    fix="Replace the name with the suggestion.",
    per_module=True,
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
         "  update: manage_deals\n}\n\nquery getDeal v1 {\n  input {\n    deal: ref Deal\n"
         "  }\n  output Deal\n  policy authenticated\n}\n",
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
    bad=_ROLES + _DEAL + _PERMS + "policy Deal {\n  read: true\n  update: manage_deals\n}\n",
    good=_ROLES + _DEAL + _PERMS + "policy Deal {\n  read: view_deals or self.owner == actor\n"
         "  update: manage_deals\n}\n",
)
@rule(
    "CS314", "reserved-access-name", E, "A permission or role takes a built-in name.",
    "`actor`, `authenticated` and `self` have a fixed meaning in access rules, so no "
    "permission or role may be called that.",
    bad=_ROLES + "role authenticated \"Signed in\"\n",
    good=_ROLES + "role signed_in \"Signed in\"\n",
    per_module=True,
)
def check_reserved_names(ctx: CheckContext) -> None:
    for module in ctx.user_modules():
        for decl in (*module.permissions, *module.roles):
            if decl.name in BUILTINS:
                kind = "permission" if isinstance(decl, ir.PermissionDecl) else "role"
                ctx.report("CS314", f"`{decl.name}` is built into access rules and cannot name "
                           f"a {kind}", decl.name_span, help="choose another name")


# ---- grants and permissions -------------------------------------------------------------


@rule(
    "CS315", "grant-wrong-kind", E, "A grant gives something other than permissions to roles.",
    "`grant owner, admin: manage_deals` gives permissions (right of the colon) to roles "
    "(left of the colon). Roles do not contain other roles, and a permission cannot hold "
    "another permission.",
    bad=_ROLES + "permission view_deals \"See deals\"\n\ngrant view_deals: member\n",
    good=_ROLES + _DEAL + "permission view_deals \"See deals\"\n\ngrant member: view_deals\n\n"
         "policy Deal {\n  read: view_deals\n}\n",
    per_module=True,
)
def check_grants(ctx: CheckContext) -> None:
    for module in ctx.user_modules():
        for grant in module.grants:
            for ref in grant.roles:
                _grant_side(ctx, module.name, ref, "role", "permission")
            for ref in grant.permissions:
                _grant_side(ctx, module.name, ref, "permission", "role")


def _grant_side(ctx: CheckContext, module: str, ref: ir.NameRef, want: str,
                other: str) -> None:
    found = ctx.symbols.lookup(module, ref.name, "access")
    sym = found.symbol
    if sym is not None and sym.kind != want:
        side = "left" if want == "role" else "right"
        ctx.report("CS315", f"`{ref.name}` is a {other}, but the {side} side of a grant lists "
                   f"{want}s", ref.span, help="write `grant <roles>: <permissions>`")
    elif not found.symbols:
        ctx.resolve(module, ref, "access", want, frozenset({want}), code="CS310")
    elif found.ambiguous:
        ctx.resolve(module, ref, "access", want)


@rule(
    "CS316", "permission-never-granted", W, "No role is granted a permission.",
    "A permission that no `grant` gives to a role is held by nobody, so every rule that "
    "requires it denies everyone. Grants in any module count.",
    bad=_ROLES + _DEAL + "permission view_deals \"See deals\"\n\n"
        "policy Deal {\n  read: view_deals\n}\n",
    good=_ROLES + _DEAL + "permission view_deals \"See deals\"\n\ngrant member: view_deals\n\n"
         "policy Deal {\n  read: view_deals\n}\n",
    fix="Grant the permission to `admin` (when that role is visible).",
)
def check_permission_use(ctx: CheckContext) -> None:
    granted: set[str] = set()
    checked: set[str] = set()
    for module in ctx.program.modules:
        for grant in module.grants:
            granted.update(_qualified(ctx, module.name, ref.name) for ref in grant.permissions)
        for site in access_sites(module):
            checked.update(_qualified(ctx, module.name, ".".join(path.parts))
                           for path in access_names(site.expr))
    for module in ctx.user_modules():
        for perm in module.permissions:
            key = f"{module.name}.{perm.name}"
            if key not in granted:
                ctx.report("CS316", f"permission `{perm.name}` is granted to no role, so nobody "
                           "has it", perm.name_span, help=f"grant it: `grant admin: {perm.name}`",
                           fixes=_grant_fix(ctx, module.name, perm))
            if key not in checked:
                ctx.report("CS317", f"permission `{perm.name}` is not checked by any rule",
                           perm.name_span, help="use it in a `policy`, or remove it if no "
                                                "hand-written code checks it either")


def _qualified(ctx: CheckContext, module: str, name: str) -> str:
    """The qualified name of a permission or role, or "" when it does not resolve."""
    sym = ctx.symbols.lookup(module, name, "access").symbol
    return sym.qualified if sym is not None else ""


def _grant_fix(ctx: CheckContext, module: str, perm: ir.PermissionDecl) -> tuple[Fix, ...]:
    admin = ctx.symbols.lookup(module, "admin", "access", frozenset({"role"})).symbol
    if admin is None:
        return ()
    end = perm.span.model_copy(update={"start_line": perm.span.end_line,
                                       "start_col": perm.span.end_col,
                                       "start_offset": perm.span.end_offset})
    return (Fix(title=f"Grant `{perm.name}` to `admin`", span=end,
                replacement=f"\ngrant admin: {perm.name}"),)


declare(
    "CS317", "permission-never-checked", H, "No rule checks a permission.",
    "A permission that no access rule names (policies, operation and agent policies, "
    "attachment rules, workflow `by`, in any module) protects nothing in the spec. This is "
    "a hint rather than a warning because a permission is also an interface: hand-written "
    "handlers may check it by name, and a module may declare permissions for the modules "
    "that use it (as `identity` declares `view_billing`).",
    bad=_ROLES + "permission export_deals \"Export deals\"\n\ngrant admin: export_deals\n",
    good=_ROLES + _DEAL + "permission export_deals \"Export deals\"\n\n"
         "grant admin: export_deals\n\npolicy Deal {\n  list: export_deals\n}\n",
)


# ---- policies ---------------------------------------------------------------------------

ACTIONS = {
    "read": "fetch one record",
    "list": "list and search records (when absent, `read` applies)",
    "create": "create a record",
    "update": "change a record",
    "delete": "delete a record",
}
_SYNONYMS = {
    "view": "read", "get": "read", "show": "read", "see": "read", "search": "list",
    "browse": "list", "index": "list", "add": "create", "new": "create", "insert": "create",
    "edit": "update", "write": "update", "modify": "update", "change": "update",
    "remove": "delete", "destroy": "delete", "archive": "delete",
}


@rule(
    "CS320", "policy-not-on-entity", E, "A `policy` names something that is not an entity.",
    "`policy X { ... }` gives the access rules of the records of entity `X`; enums and "
    "embedded types have no records of their own. An unknown name is reported as CS201.",
    bad=_ROLES + "enum DealStatus {\n  open\n  won\n}\n\n"
        "policy DealStatus {\n  read: member\n}\n",
    good=_ROLES + _DEAL + "policy Deal {\n  read: member\n}\n",
)
def check_policies(ctx: CheckContext) -> None:
    seen: dict[str, Span] = {}
    for module in sorted(ctx.program.modules, key=lambda m: not m.std):
        for policy in module.policies:
            entity = _policy_entity(ctx, module, policy)
            if entity is None:
                continue
            first = seen.setdefault(entity.qualified, policy.entity.span)
            if first is not policy.entity.span and not module.std:
                ctx.report("CS322", f"entity `{entity.name}` already has a policy",
                           policy.entity.span, help="merge the rules into one `policy` block",
                           related=(Related(span=first, message="its policy"),))
        if not module.std:
            for policy in module.policies:
                for policy_rule in policy.rules:
                    _check_action(ctx, policy_rule.action)


def _policy_entity(ctx: CheckContext, module: ir.Module, policy: ir.PolicyDecl
                   ) -> Symbol | None:
    found = ctx.symbols.lookup(module.name, policy.entity.name, "type")
    sym = found.symbol
    if sym is not None and sym.kind != "entity":
        if not module.std:
            ctx.report("CS320", f"`{policy.entity.name}` is {_an(sym.kind)}, and a policy is "
                       "about the records of an entity", policy.entity.span)
        return None
    if sym is None and not module.std:
        ctx.resolve(module.name, policy.entity, "type", "entity", frozenset({"entity"}))
    return sym


def _an(kind: str) -> str:
    return f"an {kind}" if kind[0] in "aeiou" else f"a {kind}"


def _check_action(ctx: CheckContext, action: ir.NameRef) -> None:
    if action.name in ACTIONS:
        return
    close = difflib.get_close_matches(action.name, list(ACTIONS), n=1, cutoff=0.6)
    suggestion = _SYNONYMS.get(action.name.lower()) or (close[0] if close else None)
    known = ", ".join(f"`{a}`" for a in ACTIONS)
    ctx.report("CS321", f"`{action.name}` is not a policy action; the actions are {known}",
               action.span, help=f"did you mean `{suggestion}`?" if suggestion else None,
               fixes=(Fix(title=f"Replace with `{suggestion}`", span=action.span,
                          replacement=suggestion),) if suggestion else ())


declare(
    "CS321", "unknown-policy-action", E, "A policy rule names an unknown action.",
    "A policy has one rule per action: " + "; ".join(f"`{a}`: {d}" for a, d in ACTIONS.items())
    + ". An action without a rule is denied. Common synonyms (`view`, `edit`, `remove`...) "
    "are suggested as the action they mean.",
    bad=_ROLES + _DEAL + "policy Deal {\n  view: member\n}\n",
    good=_ROLES + _DEAL + "policy Deal {\n  read: member\n}\n",
    fix="Replace the action with the suggestion.",
)
declare(
    "CS322", "duplicate-policy", E, "An entity has two policies.",
    "All the access rules of an entity live in one `policy` block, so that a reader finds "
    "them in one place; this holds across modules too.",
    bad=_ROLES + _DEAL + "policy Deal {\n  read: member\n}\n\npolicy Deal {\n  update: admin\n}\n",
    good=_ROLES + _DEAL + "policy Deal {\n  read: member\n  update: admin\n}\n",
)


# ---- operations -------------------------------------------------------------------------


@rule(
    "CS323", "command-without-policy", E, "A command does not say who may run it.",
    "Every command changes state, so it states its `policy`: permissions and roles, or "
    "`authenticated` for any signed-in member. The quick fix adds the matching rule of the "
    "returned entity's policy when it has one, or `policy authenticated`.",
    bad=_ROLES + _DEAL + _PERMS + _POLICY +
        "command closeDeal v1 {\n  input {\n    deal: ref Deal\n  }\n  output Deal\n}\n",
    good=_ROLES + _DEAL + _PERMS + _POLICY +
         "command closeDeal v1 {\n  input {\n    deal: ref Deal\n  }\n  output Deal\n"
         "  policy manage_deals\n}\n",
    fix="Add a `policy` line to the operation.",
)
def check_operation_policies(ctx: CheckContext) -> None:
    for module in ctx.user_modules():
        for op in module.operations:
            if op.policy is not None:
                continue
            code = "CS323" if op.kind == "command" else "CS324"
            ctx.report(code, f"{op.kind} `{op.name}` has no `policy`: say who may "
                       f"{'run' if op.kind == 'command' else 'call'} it", op.name_span,
                       help="add `policy <permissions or roles>`, or `policy authenticated` "
                            "for any signed-in member",
                       fixes=_policy_fixes(ctx, module.name, op))


def _policy_fixes(ctx: CheckContext, module: str, op: ir.OperationDecl) -> tuple[Fix, ...]:
    candidates: list[str] = []
    entity = output_entity(ctx.symbols, module, op.output)
    rules = _entity_rules(ctx, entity) if entity is not None else {}
    actions = (("list", "read") if op.kind == "query" else
               ("create",) if op.name.startswith(("create", "add", "new")) else
               ("delete",) if op.name.startswith(("delete", "remove")) else ("update",))
    for action in actions:
        text = render(rules[action]) if action in rules else None
        if text is not None:
            candidates.append(text)
            break
    candidates.append(AUTHENTICATED)
    line = op.name_span.start_line
    return tuple(insert_member(op, line, f"policy {text}", f"Add `policy {text}`")
                 for text in dict.fromkeys(candidates))


def _entity_rules(ctx: CheckContext, entity: Symbol) -> dict[str, ir.Expr]:
    for module in ctx.program.modules:
        for policy in module.policies:
            sym = entity_symbol(ctx, module.name, policy.entity)
            if sym is not None and sym.qualified == entity.qualified:
                return {r.action.name: r.rule for r in policy.rules}
    return {}


declare(
    "CS324", "query-without-policy", W, "A query does not say who may call it.",
    "A query without a `policy` leaves the reader guessing who may read its data; state it, "
    "even if it is `policy authenticated`. (A warning, not an error, because reading does "
    "not change state and the entity's `policy` still filters the records.)",
    bad=_ROLES + _DEAL + _PERMS + _POLICY +
        "query listDeals v1 {\n  output page<Deal>\n}\n",
    good=_ROLES + _DEAL + _PERMS + _POLICY +
         "query listDeals v1 {\n  output page<Deal>\n  policy view_deals\n}\n",
    fix="Add a `policy` line to the operation.",
)


@rule(
    "CS325", "entity-without-policy", W, "An operation returns an entity that has no policy.",
    "When a command or query returns records of an entity, the entity's `policy` says who "
    "may read, change or delete them in the generated API and UI. Without one, only the "
    "operation's own `policy` guards the data, and the generated record endpoints deny "
    "everything.",
    bad=_ROLES + _DEAL + _PERMS + "query listDeals v1 {\n  output page<Deal>\n"
        "  policy view_deals\n}\n",
    good=_ROLES + _DEAL + _PERMS + _POLICY +
         "query listDeals v1 {\n  output page<Deal>\n  policy view_deals\n}\n",
)
def check_entity_policies(ctx: CheckContext) -> None:
    with_policy = {sym.qualified for module in ctx.program.modules for p in module.policies
                   if (sym := entity_symbol(ctx, module.name, p.entity)) is not None}
    returned: dict[str, list[ir.OperationDecl]] = {}
    for module in ctx.user_modules():
        for op in module.operations:
            entity = output_entity(ctx.symbols, module.name, op.output)
            if entity is not None and entity.qualified not in with_policy:
                returned.setdefault(entity.qualified, []).append(op)
    for module in ctx.user_modules():
        for entity_decl in module.entities:
            ops = returned.get(f"{module.name}.{entity_decl.name}")
            if not ops:
                continue
            names = ", ".join(f"`{op.name}`" for op in ops)
            ctx.report("CS325", f"entity `{entity_decl.name}` is returned by {names} but has no "
                       "`policy`", entity_decl.name_span,
                       help=f"add `policy {entity_decl.name} {{ read: ... }}`",
                       related=tuple(Related(span=op.output.span, message="returned here")
                                     for op in ops if op.output is not None))


# ---- tenancy ----------------------------------------------------------------------------

_TENANCY = ("Definitions: an entity is *tenant-scoped* when it has a field marked `@tenant` "
            "(`org: ref identity.Org @tenant`; every query of it is filtered by that field); a "
            "*tenant root* is the target of a `@tenant` field (`identity.Org`: it is the "
            "tenant); a *global* entity carries `@@global` (deliberately shared by all "
            "tenants); an entity is *tenant-owned* when it is none of these and has a `ref` "
            "field (optional or list included) to a tenant-scoped entity, a tenant root, or "
            "another tenant-owned entity.")
_NOTE = ("entity Note {\n  id: uuid @id\n  deal: ref Deal\n  text: text\n}\n\n")
_SCOPED_NOTE = ("entity Note {\n  id: uuid @id\n  org: ref identity.Org @tenant\n"
                "  deal: ref Deal\n  text: text\n}\n\n")


@rule(
    "CS301", "tenant-owned-without-tenant", E,
    "An entity holds one tenant's data but has no `@tenant` field.",
    _TENANCY + " A tenant-owned entity's records belong to one tenant, but nothing scopes "
    "them, so generated queries would return every tenant's records. Add a `@tenant` field, "
    "or mark the entity `@@global` if it is deliberately shared. The quick fix marks an "
    "existing `ref` to the tenant root `@tenant`, or adds `org: ref <root> @tenant`.",
    bad=_ROLES + _DEAL + _NOTE,
    good=_ROLES + _DEAL + _SCOPED_NOTE,
    fix="Mark the reference to the tenant `@tenant`, or add a tenant field.",
)
def check_tenancy(ctx: CheckContext) -> None:
    model = build_tenancy(ctx.program, ctx.symbols)
    for module in ctx.user_modules():
        for entity in module.entities:
            key = f"{module.name}.{entity.name}"
            ownership = model.owned.get(key)
            if ownership is not None:
                _report_owned(ctx, model, module.name, entity, ownership.field,
                              ownership.target, ownership.root)
            _check_tenant_field(ctx, model, key)
        for op in module.operations:
            if op.kind == "query":
                _check_query_scope(ctx, model, module.name, op)


def _report_owned(ctx: CheckContext, model: Tenancy, module: str, entity: ir.EntityDecl,
                  via: ir.FieldDecl, target: Symbol, root: Symbol | None) -> None:
    if target.qualified in model.roots:
        why = f"it refers to the tenant `{target.name}`"
    elif target.qualified in model.scoped:
        why = (f"it refers to `{target.name}`, which is scoped by "
               f"`{model.scoped[target.qualified].name}`")
    else:
        why = f"it refers to `{target.name}`, which holds tenant data"
    tenant = root.qualified if root is not None else "the tenant"
    ctx.report("CS301", f"entity `{entity.name}` holds tenant data ({why}) but has no "
               "`@tenant` field", entity.name_span,
               help=f"add a `@tenant` field referring to `{tenant}`, or mark the entity "
                    "`@@global` if every tenant shares it",
               related=(Related(span=via.span, message="refers to tenant data here"),),
               fixes=_tenant_fixes(ctx, module, entity, root))


def _tenant_fixes(ctx: CheckContext, module: str, entity: ir.EntityDecl,
                  root: Symbol | None) -> tuple[Fix, ...]:
    if root is None:
        return ()
    for f in entity.fields:
        target = entity_symbol(ctx, module, ir.NameRef(name=f.type.name, span=f.type.span)
                               ) if f.type.is_ref else None
        if target is not None and target.qualified == root.qualified and not f.type.is_list:
            end = f.span.model_copy(update={"start_line": f.span.end_line,
                                            "start_col": f.span.end_col,
                                            "start_offset": f.span.end_offset})
            return (Fix(title=f"Mark `{f.name}` as the tenant", span=end,
                        replacement=" @tenant"),)
    written = next((n for n in (root.qualified, root.name)
                    if (s := entity_symbol(ctx, module, ir.NameRef(name=n, span=entity.span)))
                    is not None and s.qualified == root.qualified), None)
    name = next((n for n in ("org", "tenant") if entity.field(n) is None), None)
    if written is None or name is None:
        return ()
    member = f"{name}: ref {written} @tenant"
    return (insert_member(entity, entity.name_span.start_line, member, f"Add `{member}`"),)


def _check_tenant_field(ctx: CheckContext, model: Tenancy, key: str) -> None:
    tenant = model.scoped.get(key)
    target = model.tenant_target(key)
    if tenant is None or target is None or target.qualified not in model.scoped:
        return
    root = model.root_of(key)
    ctx.report("CS304", f"the tenant field `{tenant.name}` refers to `{target.name}`, which is "
               f"itself scoped by `{model.scoped[target.qualified].name}`", tenant.span,
               help=f"point `@tenant` at the tenant itself (`{root.qualified}`)" if root else
               "point `@tenant` at the tenant entity itself")


declare(
    "CS304", "nested-tenant", W, "A `@tenant` field refers to a tenant-scoped entity.",
    "The `@tenant` field is the tenant boundary, a `ref` to the tenant itself (an entity with "
    "no `@tenant` field of its own, such as `identity.Org`). Pointing it at a tenant-scoped "
    "entity (a team inside an org) nests tenants, which generated queries do not scope by: "
    "give the entity the org's `@tenant` field and keep the other as a plain `ref`. (Where "
    "`@tenant` may go at all, and that it is given once, is checked by CS209 and CS212.)",
    bad=_ROLES + "entity Team {\n  id: uuid @id\n  org: ref identity.Org @tenant\n}\n\n"
        "entity Note {\n  id: uuid @id\n  team: ref Team @tenant\n}\n",
    good=_ROLES + "entity Team {\n  id: uuid @id\n  org: ref identity.Org @tenant\n}\n\n"
         "entity Note {\n  id: uuid @id\n  org: ref identity.Org @tenant\n"
         "  team: ref Team\n}\n",
)


def _check_query_scope(ctx: CheckContext, model: Tenancy, module: str,
                       op: ir.OperationDecl) -> None:
    entity = output_entity(ctx.symbols, module, op.output)
    if entity is None or op.output is None:
        return
    key = entity.qualified
    if key in model.owned:
        ctx.report("CS302", f"query `{op.name}` can read across tenants: `{entity.name}` holds "
                   "tenant data but has no `@tenant` field to scope it by", op.output.span,
                   help=f"add a `@tenant` field to `{entity.name}`",
                   related=(Related(span=entity.span, message="declared here"),))
    elif key in model.global_:
        leaks = [f for f, target in model.refs.get(key, [])
                 if model.tenant_data(target.qualified)]
        if leaks:
            ctx.report("CS303", f"query `{op.name}` returns the global entity `{entity.name}`, "
                       f"whose field `{leaks[0].name}` refers to one tenant's records",
                       op.output.span,
                       help="every tenant sees these references; drop the field, or scope "
                            "the entity with a `@tenant` field instead of `@@global`",
                       related=(Related(span=leaks[0].span, message="refers to tenant data"),))


declare(
    "CS302", "cross-tenant-query", E, "A query can return several tenants' records.",
    _TENANCY + " A query whose output (`X`, `X[]`, `page<X>`, `list<X>`) is a tenant-owned "
    "entity cannot be filtered by tenant, so it returns every tenant's records.",
    bad=_ROLES + _DEAL + _PERMS + _POLICY + _NOTE
        + "policy Note {\n  read: view_deals\n  update: manage_deals\n}\n\n"
        "query listNotes v1 {\n  output page<Note>\n  policy view_deals\n}\n",
    good=_ROLES + _DEAL + _PERMS + _POLICY + _SCOPED_NOTE
         + "policy Note {\n  read: view_deals\n  update: manage_deals\n}\n\n"
         "query listNotes v1 {\n  output page<Note>\n  policy view_deals\n}\n",
)
declare(
    "CS303", "global-entity-exposes-tenant-data", W,
    "A query returns a global entity that refers to tenant data.",
    "An `@@global` entity is shared by every tenant; when it has a `ref` to tenant-scoped "
    "or tenant-owned records, a query returning it shows every tenant those references.",
    bad=_ROLES + _DEAL + _PERMS + _POLICY +
        "entity Template {\n  id: uuid @id\n  example: ref Deal?\n  @@global\n}\n\n"
        "policy Template {\n  read: authenticated\n}\n\n"
        "query listTemplates v1 {\n  output list<Template>\n  policy authenticated\n}\n",
    good=_ROLES + _DEAL + _PERMS + _POLICY +
         "entity Template {\n  id: uuid @id\n  body: text\n  @@global\n}\n\n"
         "policy Template {\n  read: authenticated\n}\n\n"
         "query listTemplates v1 {\n  output list<Template>\n  policy authenticated\n}\n",
)


# ---- secrets ----------------------------------------------------------------------------

_ISSUE = ("permission issue_tokens \"Issue tokens\"\n\ngrant admin: issue_tokens\n\n"
          "command issueToken v1 {\n  input {\n    user: ref identity.User\n  }\n"
          "  policy issue_tokens\n  emits token.issued\n}\n\n")


@rule(
    "CS330", "secret-in-event-payload", W, "An event payload field is marked `@secret`.",
    "Events travel to subscribers, jobs, notifications, webhooks and the audit trail. "
    "`@secret` fields of entities are stripped when records leave the system, but a payload "
    "field declared `@secret` is sent as is; carry a reference instead and let the handler "
    "load the secret.",
    bad=_ROLES + _ISSUE + "event token.issued v1 {\n  payload {\n    user: ref identity.User\n"
        "    token: string @secret\n  }\n  retention 30d\n}\n",
    good=_ROLES + _ISSUE + "event token.issued v1 {\n  payload {\n    user: ref identity.User\n"
         "  }\n  retention 30d\n}\n",
    per_module=True,
)
def check_event_secrets(ctx: CheckContext) -> None:
    for module in ctx.user_modules():
        for event in module.events:
            for f in event.payload:
                if f.attribute("secret") is not None:
                    ctx.report("CS330", f"the payload of `{event.name}` carries the secret "
                               f"field `{f.name}`", f.name_span,
                               help="send a reference to the record that holds it instead")
