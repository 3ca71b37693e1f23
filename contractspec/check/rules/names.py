"""Declarations and type references: duplicates (CS202), unknown names (CS201),
ambiguous names (CS203)."""

from __future__ import annotations

from collections.abc import Iterator

from contractspec.check.context import CheckContext
from contractspec.check.registry import declare, rule
from contractspec.check.symbols import GENERICS, SCALARS
from contractspec.diagnostics import Related, Severity
from contractspec.ir import nodes as ir
from contractspec.source import Span

E = Severity.ERROR


def field_blocks(module: ir.Module) -> Iterator[tuple[str, tuple[ir.FieldDecl, ...]]]:
    """Every block of fields in a module, with a description of its owner."""
    for entity in module.entities:
        yield f"entity `{entity.name}`", entity.fields
    for decl in module.types:
        yield f"type `{decl.name}`", decl.fields
    for op in module.operations:
        yield f"the input of `{op.name}`", op.input
    for event in module.events:
        yield f"the payload of `{event.name}`", event.payload
    for job in module.jobs:
        yield f"the input of job `{job.name}`", job.input


@rule(
    "CS202", "duplicate-declaration", E, "A name is declared twice.",
    "Within a module, each entity, type, enum, permission, role, operation version, event "
    "version, workflow, job and so on has a unique name; fields of one block, enum values "
    "and policy rules are unique too.",
    bad="module shop\n\nentity Order {\n  id: uuid @id\n}\n\nentity Order {\n  id: uuid @id\n}\n",
    good="module shop\n\nentity Order {\n  id: uuid @id\n}\n\n"
         "entity Invoice {\n  id: uuid @id\n}\n",
)
def check_duplicates(ctx: CheckContext) -> None:
    for module in ctx.user_modules():
        seen: dict[tuple[str, str, str | None], Span] = {}
        for sym in sorted(ctx.symbols.symbols(module.name), key=lambda s: s.span.start_offset):
            key = (sym.namespace, sym.name, sym.version)
            first = seen.setdefault(key, sym.span)
            if first is not sym.span:
                what = f"{sym.name} {sym.version}" if sym.version else sym.name
                ctx.report("CS202", f"`{what}` is already declared in module `{module.name}`",
                           sym.span, related=(Related(span=first, message="first declared here"),))
        for owner, fields in field_blocks(module):
            _unique(ctx, [(f.name, f.name_span) for f in fields], f"field of {owner}")
        for enum in module.enums:
            _unique(ctx, [(v.name, v.name_span) for v in enum.values],
                    f"value of enum `{enum.name}`")
        for policy in module.policies:
            _unique(ctx, [(r.action.name, r.action.span) for r in policy.rules],
                    f"rule of policy `{policy.entity.name}`")


def _unique(ctx: CheckContext, names: list[tuple[str, Span]], what: str) -> None:
    seen: dict[str, Span] = {}
    for name, span in names:
        if name in seen:
            ctx.report("CS202", f"`{name}` is already a {what}", span,
                       related=(Related(span=seen[name], message="first declared here"),))
        else:
            seen[name] = span


declare(
    "CS201", "unknown-name", E, "A name does not refer to any declaration.",
    "Every reference (types, `ref` targets, events, permissions and roles, workflow states, "
    "operations, jobs, flags, metrics) must name something declared in the module or in a "
    "module it uses. The diagnostic suggests the closest name and offers it as a fix.",
    bad="module shop\n\nentity Order {\n  id: uuid @id\n  total: mony\n}\n",
    good="module shop\n\nentity Order {\n  id: uuid @id\n  total: money\n}\n",
    fix="Replace the name with the suggestion.",
)
declare(
    "CS203", "ambiguous-name", E, "A name is declared in two used modules.",
    "When two modules that you `use` declare the same name, qualify it: `billing.Plan`.",
    bad={"shop.cspec": "module shop\n\nuse a\nuse b\n\nentity Order {\n  id: uuid @id\n"
                       "  item: ref Item\n}\n",
         "a.cspec": "module a\n\nentity Item {\n  id: uuid @id\n}\n",
         "b.cspec": "module b\n\nentity Item {\n  id: uuid @id\n}\n"},
    good={"shop.cspec": "module shop\n\nuse a\nuse b\n\nentity Order {\n  id: uuid @id\n"
                        "  item: ref a.Item\n}\n",
          "a.cspec": "module a\n\nentity Item {\n  id: uuid @id\n}\n",
          "b.cspec": "module b\n\nentity Item {\n  id: uuid @id\n}\n"},
)


@rule(
    "CS204", "wrong-kind-of-type", E, "A type position names something that is not a type.",
    "`ref` must name an entity; a plain field type must be a scalar, an enum, a `type` or "
    "(for outputs) an entity; `page<T>` and `list<T>` take exactly one type argument.",
    bad="module shop\n\nenum Color {\n  red\n}\n\nentity Order {\n  id: uuid @id\n"
        "  color: ref Color\n}\n",
    good="module shop\n\nenum Color {\n  red\n}\n\nentity Order {\n  id: uuid @id\n"
         "  color: Color\n}\n",
)
def check_type_references(ctx: CheckContext) -> None:
    for module in ctx.user_modules():
        for _owner, fields in field_blocks(module):
            for f in fields:
                check_type(ctx, module.name, f.type, allow_entity=False)
        for op in module.operations:
            if op.output is not None:
                check_type(ctx, module.name, op.output, allow_entity=True)


def check_type(ctx: CheckContext, module: str, ref: ir.TypeRef, allow_entity: bool) -> None:
    """Resolve one type reference, reporting CS201/CS203/CS204."""
    name_ref = ir.NameRef(name=ref.name, span=ref.span)
    if ref.is_ref:
        found = ctx.resolve(module, name_ref, "type", "entity")
        if found.symbol is not None and found.symbol.kind != "entity":
            ctx.report("CS204", f"`ref {ref.name}` must name an entity, but `{ref.name}` is "
                       f"a{'n' if found.symbol.kind == 'enum' else ''} {found.symbol.kind}",
                       ref.span, help=f"write `{ref.name}` without `ref`")
        return
    if ref.name in GENERICS:
        if len(ref.generics) != 1:
            ctx.report("CS204", f"`{ref.name}` takes one type argument: `{ref.name}<Entity>`",
                       ref.span)
        for inner in ref.generics:
            check_type(ctx, module, inner, allow_entity=True)
        return
    if ref.generics:
        ctx.report("CS204", f"`{ref.name}` takes no type arguments", ref.span)
    if ref.name in SCALARS:
        return
    found = ctx.resolve(module, name_ref, "type", "type")
    symbol = found.symbol
    if symbol is not None and symbol.kind == "entity" and not allow_entity:
        ctx.report("CS204", f"a field cannot hold the entity `{ref.name}` itself",
                   ref.span, help=f"store a reference: `ref {ref.name}`")
