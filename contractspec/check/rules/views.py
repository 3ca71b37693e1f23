"""Views the `ui` target can serve (CS524-CS528): a form has an operation to call, a board
something to group by, a record page's actions take only the record's key, every field
a view names can be shown, and the pages have users to sign in. Names and kinds of what
views name are CS201/CS214."""

from __future__ import annotations

from collections.abc import Iterator

from contractspec.check.context import CheckContext
from contractspec.check.crud import crud_shape, key_field
from contractspec.check.registry import rule
from contractspec.check.symbols import Symbol
from contractspec.diagnostics import Related, Severity
from contractspec.ir import nodes as ir

E = Severity.ERROR
_ENTITY = frozenset({"entity"})
_DEAL = ("module shop\n\nuse identity\n\nenum Stage {\n  open\n  won\n}\n\n"
         "entity Deal {\n  id: uuid @id\n"
         "  title: string(1..80)\n  stage: Stage = open\n}\n\npermission manage_deals\n\n"
         "role sales\n\ngrant sales: manage_deals\n\n"
         "policy Deal {\n  read: manage_deals\n}\n\n")
_CREATE = ("command createDeal v1 {\n  input {\n    title: string(1..80)\n  }\n  output Deal\n"
           "  policy manage_deals\n}\n\n")


def views_of(ctx: CheckContext) -> Iterator[tuple[ir.Module, ir.ViewDecl, Symbol]]:
    """The user modules' views whose entity resolves, with that entity."""
    for module in ctx.user_modules():
        for view in module.views:
            sym = ctx.symbols.lookup(module.name, view.entity.name, "type", _ENTITY).symbol
            if sym is not None and sym.kind == "entity":
                yield module, view, sym


def _writes(ctx: CheckContext, entity: Symbol) -> list[str]:
    """The verbs (`create`, `update`) of the CRUD operations that write the entity."""
    return [shape[0] for module in ctx.program.modules for op in module.operations
            if (shape := crud_shape(ctx.symbols, module.name, op)) is not None
            and shape[0] in ("create", "update") and shape[1].qualified == entity.qualified]


def transitions_of(ctx: CheckContext, entity: Symbol) -> list[str]:
    """The transitions of the workflows on the entity (of any workspace module): the ui
    target shows them on the record page."""
    names: list[str] = []
    for module in ctx.program.modules:
        if module.std:
            continue
        for workflow in module.workflows:
            subject, _, state = workflow.subject.name.rpartition(".")
            sym = ctx.symbols.lookup(module.name, subject, "type", _ENTITY).symbol \
                if subject else None
            if sym is not None and sym.qualified == entity.qualified \
                    and sym.decl.field(state) is not None:
                names += [t.name for t in workflow.transitions]
    return names


@rule(
    "CS524", "form-without-operation", E,
    "A form view's entity has no create or update operation.",
    "A `form` view saves records by calling the operation the api target implements for its "
    "entity: `create<Entity>` (a command whose output is the entity) and "
    "`update<Entity>` (a command taking the entity's key and returning it). Without either, "
    "the form has nothing to call. Declare one of them, or show the records with a `list` "
    "or `detail` view.",
    bad=_DEAL + "view dealForm form of Deal {\n  fields title\n}\n",
    good=_DEAL + _CREATE + "view dealForm form of Deal {\n  fields title\n}\n",
)
def check_forms(ctx: CheckContext) -> None:
    for _, view, entity in views_of(ctx):
        if view.kind == "form" and not _writes(ctx, entity):
            ctx.report("CS524", f"form `{view.name}`: `{entity.name}` has no create or update "
                       "operation to call", view.name_span,
                       help=f"declare `command create{entity.name}` with `output "
                            f"{entity.name}` (or `update{entity.name}` taking its key), or "
                            "make the view a `list` or `detail`")


@rule(
    "CS525", "board-without-grouping", E,
    "A board view has no `by` field and its entity no workflow.",
    "A `board` shows records in columns: by the field named after `by`, else by the state of "
    "a workflow on its entity. Name the field to group by (`view b board of Deal by stage`), "
    "or declare a workflow on the entity.",
    bad=_DEAL + "view pipeline board of Deal {\n  card title\n}\n",
    good=_DEAL + "view pipeline board of Deal by stage {\n  card title\n}\n",
)
def check_boards(ctx: CheckContext) -> None:
    for _, view, entity in views_of(ctx):
        if view.kind == "board" and view.group_by is None and not transitions_of(ctx, entity):
            ctx.report("CS525", f"board `{view.name}` has nothing to group by: `{entity.name}` "
                       "has no workflow", view.name_span,
                       help=f"name the field to group by: `view {view.name} board of "
                            f"{view.entity.name} by <field>`")




_ACCOUNT = ("module shop\n\nuse identity\n\nentity Account {\n  id: uuid @id\n"
            "  org: ref identity.Org @tenant\n  name: string\n  token: string @secret\n}\n\n"
            "policy Account {\n  read: admin\n}\n\nview accounts list of Account {\n")


def _action_example(reason: str) -> str:
    return (_DEAL + "command archiveDeal v1 {\n  input {\n    id: uuid\n"
            f"    reason: {reason}\n  }}\n  policy manage_deals\n}}\n\n"
            "view dealPage detail of Deal {\n  actions archiveDeal\n}\n")


@rule(
    "CS526", "bad-view-action", E,
    "A record page's action does not take just the record's key.",
    "The `actions` of a `detail` view are buttons on the record page: each calls an "
    "operation with the record's key and nothing else, so the operation's only required "
    "input is the entity's key field (`@id`, else `id`). A transition of a workflow on the "
    "entity is an action too. Give the other inputs a default or make them optional, or "
    "call the operation from elsewhere.",
    bad=_action_example("string"),
    good=_action_example("string?"),
)
def check_actions(ctx: CheckContext) -> None:
    for module, view, entity in views_of(ctx):
        if view.kind != "detail":
            continue
        transitions = transitions_of(ctx, entity)
        key = key_field(entity.decl)
        key_name = key.name if key is not None else "id"
        for action in view.actions:
            if action.name in transitions:
                continue
            found = ctx.symbols.lookup(module.name, action.name, "operation")
            if found.ambiguous:
                continue  # CS203
            for sym in found.symbols:
                required = required_inputs(sym.decl)
                if required != [key_name]:
                    _report_action(ctx, action, sym, entity, key_name, required)
                    break


def _report_action(ctx: CheckContext, action: ir.NameRef, op: Symbol, entity: Symbol,
                   key: str, required: list[str]) -> None:
    others = [n for n in required if n != key]
    why, fix = [], []
    if key not in required:
        why.append(f"it does not require `{key}`")
        fix.append(f"add `{key}` (not optional) to the input of `{op.name}`")
    if others:
        why.append(f"it also requires {', '.join(f'`{n}`' for n in others)}")
        fix.append("give its other inputs a default or make them optional")
    ctx.report("CS526", f"action `{action.name}` must be an operation whose only required "
               f"input is `{entity.name}`'s key `{key}`: {' and '.join(why)}", action.span,
               help="; ".join(fix),
               related=(Related(span=op.span, message=f"`{op.name}` is declared here"),))


def required_inputs(op: ir.OperationDecl) -> list[str]:
    """The inputs the generated API requires: neither optional nor with a default it can
    write (a literal, an enum value or `[]`; `now` and other lists stay required)."""
    return [f.name for f in op.input if not f.type.optional and not _written_default(f)]


def _written_default(f: ir.FieldDecl) -> bool:
    expr = f.default
    if isinstance(expr, ir.LiteralExpr):
        return expr.type in ("string", "int", "bool", "decimal")
    if isinstance(expr, ir.PathExpr):
        return len(expr.parts) == 1 and not (expr.parts == ("now",)
                                             and f.type.name in ("date", "datetime"))
    return isinstance(expr, ir.ListExpr) and not expr.items


@rule(
    "CS527", "view-field-hidden", E, "A view names a field the UI never shows.",
    "The UI never shows `@secret` fields (nor lists, which have no widget), so a view cannot "
    "name them in `columns`, `filter`, `search`, `card`, `fields` or `by`; and its pages "
    "link to records by their key, so the key of a viewed entity cannot be `@secret`.",
    bad=_ACCOUNT + "  columns name, token\n}\n",
    good=_ACCOUNT + "  columns name\n}\n",
)
def check_view_fields(ctx: CheckContext) -> None:
    for _, view, entity in views_of(ctx):
        decl: ir.EntityDecl = entity.decl
        key = key_field(decl)
        if key is not None and key.attribute("secret") is not None:
            ctx.report("CS527", f"view `{view.name}`: the key `{key.name}` of `{entity.name}` "
                       "is `@secret`, and pages link to records by their key", view.name_span,
                       help=f"remove `@secret` from `{key.name}`",
                       related=(Related(span=key.span, message="the key"),))
        for ref in (*view.columns, *view.filters, *view.search, *view.card, *view.fields,
                    *([view.group_by] if view.group_by else [])):
            f = decl.field(ref.name)
            if f is None:
                continue  # CS201
            why = "`@secret`" if f.attribute("secret") is not None else \
                "a list" if f.type.is_list else None
            if why is not None:
                ctx.report("CS527", f"view `{view.name}`: the UI does not show `{ref.name}`, "
                           f"which is {why}", ref.span,
                           help=f"remove `{ref.name}` from the view",
                           related=(Related(span=f.span, message="declared here"),))


# What the generated sign-in needs of the `identity` module (generators/runtime.py).
IDENTITY_NEEDS = ("User", "Org", "OrgMembership", "OrgRole")


@rule(
    "CS528", "view-without-identity", E, "A module declares views but does not use `identity`.",
    "The pages of the `ui` target sign in with the API tokens of the generated app's users, "
    "so a module that declares a `view` uses the standard module `identity` (or a module "
    "`identity` declaring " + ", ".join(f"`{n}`" for n in IDENTITY_NEEDS) + ").",
    bad="module shop\n\nentity Note {\n  id: uuid @id\n  title: string\n}\n\n"
        "view notes list of Note {\n  columns title\n}\n",
    good="module shop\n\nuse identity\n\nentity Note {\n  id: uuid @id\n"
         "  org: ref identity.Org @tenant\n  title: string\n}\n\npolicy Note {\n"
         "  read: member\n}\n\nview notes list of Note {\n  columns title\n}\n",
    per_module=True,
)
def check_identity(ctx: CheckContext) -> None:
    identity = ctx.symbols.modules.get("identity")
    declared = {d.name for d in (*identity.entities, *identity.enums)} if identity else set()
    missing = [n for n in IDENTITY_NEEDS if n not in declared]
    for module in ctx.user_modules():
        if not module.views or module.name == "identity":
            continue
        view = module.views[0]
        if "identity" not in {u.module.name for u in module.uses}:
            ctx.report("CS528", f"view `{view.name}` needs the module `identity`, which module "
                       f"`{module.name}` does not use", view.name_span,
                       help="add `use identity`: the pages sign in as its users")
        elif missing:
            ctx.report("CS528", f"view `{view.name}` needs the module `identity` to declare "
                       + ", ".join(f"`{n}`" for n in missing), view.name_span,
                       help="use the standard `identity` module")
