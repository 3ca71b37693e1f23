"""Declarations and references by name: duplicates (CS202), unknown names (CS201),
ambiguous names (CS203), type positions (CS204), names of the wrong kind (CS214), lists of
references in entities (CS215) and agent limits (CS216)."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from contractspec.check.context import CheckContext
from contractspec.check.registry import declare, rule
from contractspec.check.symbols import GENERICS, NAMESPACES, SCALARS, Symbol
from contractspec.diagnostics import Fix, Related, Severity
from contractspec.ir import nodes as ir
from contractspec.source import Span

E = Severity.ERROR


@dataclass(frozen=True)
class Block:
    """A block of fields: an entity's, a type's, an input, a payload."""

    owner: str  # how a message names it: "entity `Deal`", "the input of `createDeal`"
    fields: tuple[ir.FieldDecl, ...]
    entity: ir.EntityDecl | None = None


def blocks(module: ir.Module) -> Iterator[Block]:
    """Every block of fields in a module."""
    for entity in module.entities:
        yield Block(f"entity `{entity.name}`", entity.fields, entity)
    for decl in module.types:
        yield Block(f"type `{decl.name}`", decl.fields)
    for op in module.operations:
        yield Block(f"the input of `{op.name}`", op.input)
    for event in module.events:
        yield Block(f"the payload of `{event.name}`", event.payload)
    for job in module.jobs:
        yield Block(f"the input of job `{job.name}`", job.input)


def field_blocks(module: ir.Module) -> Iterator[tuple[str, tuple[ir.FieldDecl, ...]]]:
    """Every block of fields in a module, with a description of its owner."""
    for block in blocks(module):
        yield block.owner, block.fields


def closest(name: str, candidates: Iterable[str]) -> str | None:
    """The candidate closest to a misspelled name, if any is close enough."""
    options = sorted(set(candidates))
    close = difflib.get_close_matches(name, options, n=1, cutoff=0.6)
    if close:
        return close[0]
    lowered = {o.lower(): o for o in options}
    return lowered.get(name.lower())


def suggestion_fix(span: Span, suggestion: str | None) -> tuple[str | None, tuple[Fix, ...]]:
    """The help text and quick fix that replace a name with a suggestion."""
    if suggestion is None:
        return None, ()
    return (f"did you mean `{suggestion}`?",
            (Fix(title=f"Replace with `{suggestion}`", span=span, replacement=suggestion),))


def article(kind: str) -> str:
    """`an enum`, `a job`."""
    return f"an {kind}" if kind[0] in "aeiou" else f"a {kind}"


# ---- duplicates ---------------------------------------------------------------------------


@rule(
    "CS202", "duplicate-declaration", E, "A name is declared twice.",
    "Within a module, each entity, type, enum, permission, role, operation version, event "
    "version, workflow, job and so on has a unique name; fields of one block, enum values, "
    "policy rules, the errors of an operation and the limits of an agent are unique too.",
    bad="module shop\n\nentity Order {\n  id: uuid @id\n}\n\nentity Order {\n  id: uuid @id\n}\n",
    good="module shop\n\nentity Order {\n  id: uuid @id\n}\n\n"
         "entity Invoice {\n  id: uuid @id\n}\n",
    per_module=True,
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
        for op in module.operations:
            _unique(ctx, [(e.name, e.name_span) for e in op.errors],
                    f"error of `{op.name}`")
        for agent in module.agents:
            _unique(ctx, [(lim.name, lim.span) for lim in agent.limits],
                    f"limit of agent `{agent.name}`")


def _unique(ctx: CheckContext, names: list[tuple[str, Span]], what: str) -> None:
    seen: dict[str, Span] = {}
    for name, span in names:
        if name in seen:
            ctx.report("CS202", f"`{name}` is already a {what}", span,
                       related=(Related(span=seen[name], message="first declared here"),))
        else:
            seen[name] = span


# ---- resolving references -----------------------------------------------------------------

declare(
    "CS201", "unknown-name", E, "A name does not refer to any declaration.",
    "Every reference (types, `ref` targets, events, permissions and roles, workflow states, "
    "operations, jobs, flags, metrics, and the fields named by views and `@@index`) must name "
    "something declared in the module or in a module it uses. The diagnostic suggests the "
    "closest name and offers it as a fix.",
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
def resolve_as(ctx: CheckContext, module: str, ref: ir.NameRef | ir.TypeRef, namespace: str,
               what: str, kinds: frozenset[str] | None = None) -> Symbol | None:
    """Resolve a reference (or the name of a type) to one kind of declaration, reporting
    CS201, CS203 or CS214."""
    found = ctx.symbols.lookup(module, ref.name, namespace, kinds)
    if found.symbol is not None:
        return found.symbol
    span = name_span(ref)
    if not found.symbols:
        other = _declared_elsewhere(ctx, module, ref.name, namespace, kinds)
        if other is not None:
            ctx.report("CS214", f"`{ref.name}` is {article(other.kind)}, not {article(what)}",
                       span, help=f"name {article(what)} here")
            return None
    ctx.resolve(module, ir.NameRef(name=ref.name, span=span), namespace, what, kinds)
    return None


def name_span(ref: ir.NameRef | ir.TypeRef) -> Span:
    """The span of the name alone: `Stage` in `ref Stage?` or in `Stage(…)[]`."""
    s, length = ref.span, len(ref.name)
    if isinstance(ref, ir.NameRef):
        return s
    if ref.is_ref:  # `ref`, the name, then the suffixes: a ref takes no arguments
        suffix = (2 if ref.is_list else 0) + (1 if ref.optional else 0)
        return _piece(s, s.end_line, s.end_col - suffix - length, s.end_offset - suffix - length,
                      length)
    return _piece(s, s.start_line, s.start_col, s.start_offset, length)


def _piece(span: Span, line: int, col: int, offset: int, length: int) -> Span:
    """A piece of one line of a span (a name is never split across lines)."""
    return span.model_copy(update={"start_line": line, "end_line": line, "start_col": col,
                                   "end_col": col + length, "start_offset": offset,
                                   "end_offset": offset + length})


def _declared_elsewhere(ctx: CheckContext, module: str, name: str, namespace: str,
                        kinds: frozenset[str] | None) -> Symbol | None:
    for space in dict.fromkeys(NAMESPACES.values()):
        found = ctx.symbols.lookup(module, name, space)
        for sym in found.symbols:
            if space != namespace or (kinds is not None and sym.kind not in kinds):
                return sym
    return None


def resolve_entity(ctx: CheckContext, module: str, ref: ir.NameRef,
                   where: str) -> ir.EntityDecl | None:
    """Resolve a name that must be an entity (`view … of X`, `attachments on X`)."""
    sym = resolve_as(ctx, module, ref, "type", "entity")
    if sym is None:
        return None
    if sym.kind != "entity":
        ctx.report("CS204", f"{where} must name an entity, but `{ref.name}` is "
                   f"{article(sym.kind)}", ref.span)
        return None
    decl: ir.EntityDecl = sym.decl
    return decl


def report_unknown_field(ctx: CheckContext, ref: ir.NameRef, entity: ir.EntityDecl) -> None:
    help_text, fixes = suggestion_fix(ref.span,
                                      closest(ref.name, (f.name for f in entity.fields)))
    ctx.report("CS201", f"entity `{entity.name}` has no field `{ref.name}`", ref.span,
               help=help_text, fixes=fixes)


# ---- type positions -----------------------------------------------------------------------


@rule(
    "CS204", "wrong-kind-of-type", E, "A type position names something that is not a type.",
    "`ref`, `view … of` and `attachments on` must name an entity; a plain field type must be "
    "a scalar, an enum or a `type` (an entity is stored through `ref Entity`); an "
    "operation's output may also be an entity. `list<T>` takes exactly one type argument, "
    "and `page<T>` is only an operation's output.",
    bad="module shop\n\nenum Color {\n  red\n}\n\nentity Order {\n  id: uuid @id\n"
        "  color: ref Color\n}\n",
    good="module shop\n\nenum Color {\n  red\n}\n\nentity Order {\n  id: uuid @id\n"
         "  color: Color\n}\n",
    per_module=True,
)
def check_type_references(ctx: CheckContext) -> None:
    for module in ctx.user_modules():
        for _owner, fields in field_blocks(module):
            for f in fields:
                check_type(ctx, module.name, f.type, allow_entity=False)
        for op in module.operations:
            if op.output is not None:
                check_type(ctx, module.name, op.output, allow_entity=True, output=True)


def check_type(ctx: CheckContext, module: str, ref: ir.TypeRef, allow_entity: bool,
               output: bool = False) -> None:
    """Resolve one type reference, reporting CS201/CS203/CS204/CS214."""
    if ref.is_ref:
        sym = resolve_as(ctx, module, ref, "type", "entity")
        if sym is not None and sym.kind != "entity":
            name = name_span(ref)
            whole = ref.span.model_copy(update={"end_line": name.end_line,
                                                "end_col": name.end_col,
                                                "end_offset": name.end_offset})
            ctx.report("CS204", f"`ref {ref.name}` must name an entity, but `{ref.name}` is "
                       f"{article(sym.kind)}", ref.span, help=f"write `{ref.name}` without `ref`",
                       fixes=(Fix(title="Remove `ref`", span=whole, replacement=ref.name),))
        return
    if ref.name in GENERICS:
        if len(ref.generics) != 1:
            ctx.report("CS204", f"`{ref.name}` takes one type argument: `{ref.name}<Entity>`",
                       ref.span)
        elif ref.name == "page" and not output:
            ctx.report("CS204", "`page<T>` is only an operation's output", ref.span,
                       help=f"write a list instead: `{ref.generics[0].name}[]`")
        for inner in ref.generics:
            check_type(ctx, module, inner, allow_entity=allow_entity)
        return
    if ref.generics:
        ctx.report("CS204", f"`{ref.name}` takes no type arguments", ref.span)
    if ref.name in SCALARS:
        return
    symbol = resolve_as(ctx, module, ref, "type", "type")
    if symbol is not None and symbol.kind == "entity" and not allow_entity:
        fixes = () if ref.is_list else (
            Fix(title="Store a reference", span=name_span(ref), replacement=f"ref {ref.name}"),)
        ctx.report("CS204", f"a field cannot hold the entity `{ref.name}` itself",
                   ref.span, help=f"store a reference: `ref {ref.name}`", fixes=fixes)


@rule(
    "CS215", "ref-list-in-entity", E, "An entity field is a list of references.",
    "`ref X[]` in an entity would need a hidden join table, so it is refused: model a "
    "many-to-many relation as an entity of its own with two `ref` fields (which can carry "
    "data such as a role or a date), or put a `ref` on the other side for one-to-many. "
    "Lists of references are fine where nothing is stored: operation inputs, event payloads, "
    "job inputs and types.",
    bad="module shop\n\nentity Tag {\n  id: uuid @id\n}\n\nentity Order {\n  id: uuid @id\n"
        "  tags: ref Tag[]\n}\n",
    good="module shop\n\nentity Tag {\n  id: uuid @id\n}\n\nentity Order {\n  id: uuid @id\n"
         "}\n\nentity OrderTag {\n  id: uuid @id\n  order: ref Order\n  tag: ref Tag\n"
         "  @@unique(order, tag)\n}\n",
    per_module=True,
)
def check_ref_lists(ctx: CheckContext) -> None:
    for module in ctx.user_modules():
        for entity in module.entities:
            for f in entity.fields:
                if f.type.is_ref and f.type.is_list and ctx.symbols.entity_of(
                        module.name, f.type.name) is not None:
                    ctx.report(
                        "CS215", f"entity `{entity.name}` cannot store a list of references "
                        f"(`{f.name}: ref {f.type.name}[]`)", f.type.span,
                        help=f"declare an entity that joins `{entity.name}` and "
                             f"`{f.type.name}` with a `ref` to each")


# ---- references from other constructs -----------------------------------------------------

_OPERATION = "operation"


@rule(
    "CS214", "wrong-kind-of-name", E, "A reference names a declaration of another kind.",
    "Each place that names something expects one kind of declaration: `critical` and an "
    "agent's `tools` name operations, `on … run` and schedules name a job, `behind` a flag or "
    "an experiment, `meters` and a plan's `limit` a metric, a plan's `flags` a flag, and a "
    "view's `actions` an operation or a transition of a workflow on the view's entity. "
    "Naming, say, a job where an operation is expected is reported with what the name "
    "really is; names that do not exist at all are CS201.",
    bad="module shop\n\nuse jobs\n\njob sendReceipt {\n  retries 3\n}\n\ncritical sendReceipt\n",
    good="module shop\n\npermission place_orders\n\ncommand placeOrder v1 {\n"
         "  policy place_orders\n}\n\ncritical placeOrder\n",
    per_module=True,
)
def check_references(ctx: CheckContext) -> None:
    for module in ctx.user_modules():
        name = module.name
        for op in module.operations:
            if op.behind is not None:
                resolve_as(ctx, name, op.behind, "flag", "flag or experiment")
            for metric in op.meters:
                resolve_as(ctx, name, metric, "metric", "metric")
        for critical in module.criticals:
            for ref in critical.operations:
                resolve_as(ctx, name, ref, _OPERATION, _OPERATION)
        for plan in module.plans:
            for limit in plan.limits:
                resolve_as(ctx, name, limit.metric, "metric", "metric")
            for flag in plan.flags:
                resolve_as(ctx, name, flag, "flag", "flag", frozenset({"flag"}))
        for trigger in module.triggers:
            resolve_as(ctx, name, trigger.job, "job", "job")
        for schedule in module.schedules:
            resolve_as(ctx, name, schedule.job, "job", "job")
        for attachments in module.attachments:
            resolve_entity(ctx, name, attachments.entity, "`attachments on`")
        for agent in module.agents:
            for tool in agent.tools:
                resolve_as(ctx, name, tool, _OPERATION, _OPERATION)
        for view in module.views:
            _check_view(ctx, module, view)


def _check_view(ctx: CheckContext, module: ir.Module, view: ir.ViewDecl) -> None:
    entity = resolve_entity(ctx, module.name, view.entity, f"view `{view.name}`")
    if entity is None:
        return
    named = (*view.columns, *view.filters, *view.search, *view.card, *view.fields)
    for ref in (*named, *([view.group_by] if view.group_by else [])):
        if entity.field(ref.name) is None:
            report_unknown_field(ctx, ref, entity)
    transitions = [t.name for wf in _workflows_on(ctx, module, entity) for t in wf.transitions]
    for action in view.actions:
        if action.name in transitions:
            continue
        found = ctx.symbols.lookup(module.name, action.name, _OPERATION)
        if found.symbols:
            if found.ambiguous:
                ctx.resolve(module.name, action, _OPERATION, _OPERATION)
            continue
        operations = {s.name for m in ctx.symbols.visible_modules(module.name)
                      for s in ctx.symbols.symbols(m) if s.namespace == _OPERATION}
        help_text, fixes = suggestion_fix(action.span,
                                          closest(action.name, {*operations, *transitions}))
        ctx.report("CS201", f"unknown action `{action.name}`: an action is an operation or a "
                   f"transition of a workflow on `{entity.name}`", action.span,
                   help=help_text, fixes=fixes)


def _workflows_on(ctx: CheckContext, module: ir.Module,
                  entity: ir.EntityDecl) -> Iterator[ir.WorkflowDecl]:
    for name in ctx.symbols.visible_modules(module.name):
        for wf in ctx.symbols.modules[name].workflows:
            subject = wf.subject.name.rpartition(".")[0]
            if subject and ctx.symbols.entity_of(name, subject) is entity:
                yield wf


# ---- agents -------------------------------------------------------------------------------

AGENT_LIMITS: dict[str, str] = {
    "steps": "the number of model steps (tool calls included) in one run",
    "tokens": "the model tokens one run may use",
    "time": "the wall-clock time of one run, a duration such as `5m`",
    "cost": "the cost of one run, in cents",
}


@rule(
    "CS216", "bad-agent-limit", E, "An agent limit is unknown or has the wrong kind of value.",
    "An agent's `limits` block knows " + "; ".join(
        f"`{n}` ({what})" for n, what in AGENT_LIMITS.items()) +
    ". `time` takes a duration, the others a whole number of at least 1.",
    bad="module shop\n\nagent helper {\n  limits {\n    step 10\n    time 30\n  }\n}\n",
    good="module shop\n\nagent helper {\n  limits {\n    steps 10\n    time 30s\n  }\n}\n",
    fix="Replace a misspelled limit with the suggestion.",
    per_module=True,
)
def check_agent_limits(ctx: CheckContext) -> None:
    for module in ctx.user_modules():
        for agent in module.agents:
            for limit in agent.limits:
                _check_limit(ctx, limit)


def _check_limit(ctx: CheckContext, limit: ir.AgentLimit) -> None:
    known = ", ".join(f"`{n}`" for n in AGENT_LIMITS)
    name_span = _limit_name_span(limit)
    if limit.name not in AGENT_LIMITS:
        help_text, fixes = suggestion_fix(name_span, closest(limit.name, AGENT_LIMITS))
        ctx.report("CS216", f"unknown agent limit `{limit.name}`: the limits are {known}",
                   name_span, help=help_text, fixes=fixes)
    elif limit.name == "time" and limit.duration is None:
        ctx.report("CS216", "the `time` limit is a duration such as `30s` or `5m`", limit.span)
    elif limit.name != "time" and limit.value is None:
        ctx.report("CS216", f"the `{limit.name}` limit is a whole number, not a duration",
                   limit.span, help=f"`{limit.name}` is {AGENT_LIMITS[limit.name]}")
    elif limit.value is not None and limit.value < 1:
        ctx.report("CS216", f"the `{limit.name}` limit must be at least 1", limit.span)


def _limit_name_span(limit: ir.AgentLimit) -> Span:
    """The span of a limit's name: the item starts with it, on one line."""
    s = limit.span
    end = s.start_offset + len(limit.name)
    return s.model_copy(update={"end_line": s.start_line, "end_col": s.start_col + len(limit.name),
                                "end_offset": end})
