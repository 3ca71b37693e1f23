"""Workflows: state machines over an enum field of an entity (CS4xx).

`workflow DealFlow on Deal.status { ... }`: the states are the values of the field's enum;
`initial` is where new records start, `transition name: a, b -> c by <access> when <cond>
emits <event>` moves a record, `final` lists the states where the process is complete (a
transition may still reopen them), and `migrate state a -> b` moves records out of a state
that is being retired. Access in `by` is checked with the policy rules (CS310-CS313).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

from contractspec.check.access import (
    check_self_paths,
    closest,
    insert_member,
    replace_fix,
    subject_parts,
)
from contractspec.check.context import CheckContext
from contractspec.check.registry import declare, rule
from contractspec.check.symbols import SCALARS, Symbol
from contractspec.diagnostics import Fix, Related, Severity
from contractspec.ir import nodes as ir
from contractspec.source import Span

E, W = Severity.ERROR, Severity.WARNING

_HEAD = ("module crm\n\nuse identity\n\nenum DealStatus {\n  open\n  won\n  lost\n}\n\n"
         "entity Deal {\n  id: uuid @id\n  org: ref identity.Org @tenant\n"
         "  status: DealStatus = open\n  amount: money\n}\n\n"
         "permission manage_deals \"Move deals\"\n\ngrant admin: manage_deals\n\n"
         "policy Deal {\n  update: manage_deals\n}\n\n")


def _flow(*members: str, subject: str = "Deal.status") -> str:
    body = "".join(f"  {m}\n" for m in members)
    return f"{_HEAD}workflow DealFlow on {subject} {{\n{body}}}\n"


_WIN = "transition win: open -> won by manage_deals"
_LOSE = "transition lose: open -> lost by manage_deals"
_GOOD = _flow("initial open", _WIN, _LOSE, "final won lost")


@dataclass
class _Flow:
    """What one workflow's checks share."""

    module: str
    decl: ir.WorkflowDecl
    entity: Symbol | None = None
    state_field: ir.FieldDecl | None = None
    enum: ir.EnumDecl | None = None
    mentions: dict[str, Span] = field(default_factory=dict)  # state -> its first mention

    @property
    def states(self) -> list[str]:
        return [v.name for v in self.enum.values] if self.enum is not None else []


@rule(
    "CS401", "bad-workflow-subject", E, "A workflow does not run on a field of an entity.",
    "`workflow DealFlow on Deal.status` names an entity and one of its fields; the record's "
    "state is that field. The diagnostic suggests the closest field. (An unknown entity is "
    "reported as CS201.)",
    bad=_flow("initial open", _WIN, _LOSE, "final won lost", subject="Deal.state"),
    good=_GOOD,
    fix="Replace the field name with the suggestion.",
)
def check_workflows(ctx: CheckContext) -> None:
    owners: dict[str, Span] = {}
    for module in sorted(ctx.program.modules, key=lambda m: not m.std):
        for decl in module.workflows:
            flow = _subject(ctx, module, decl)
            if flow.entity is not None and flow.state_field is not None:
                key = f"{flow.entity.qualified}.{flow.state_field.name}"
                first = owners.setdefault(key, decl.name_span)
                if first is not decl.name_span and not module.std:
                    ctx.report("CS410", f"`{decl.subject.name}` already has a workflow",
                               decl.name_span, help="merge the transitions into one workflow",
                               related=(Related(span=first, message="the first workflow"),))
            if not module.std:
                _check_transitions(ctx, flow)
                _check_states(ctx, flow)


def _subject(ctx: CheckContext, module: ir.Module, decl: ir.WorkflowDecl) -> _Flow:
    flow = _Flow(module.name, decl)
    entity_ref, field_ref = subject_parts(decl.subject)
    report = not module.std
    if entity_ref is None or field_ref is None:
        if report:
            ctx.report("CS401", f"`{decl.subject.name}` is not `Entity.field`", decl.subject.span,
                       help="a workflow runs on an enum field of an entity, e.g. `on Deal.status`")
        return flow
    found = ctx.symbols.lookup(module.name, entity_ref.name, "type")
    sym = found.symbol
    if sym is None or sym.kind != "entity":
        if report and sym is not None:
            ctx.report("CS401", f"`{entity_ref.name}` is not an entity but {_an(sym.kind)}",
                       entity_ref.span, help="a workflow runs on an enum field of an entity")
        elif report:
            ctx.resolve(module.name, entity_ref, "type", "entity", frozenset({"entity"}))
        return flow
    flow.entity = sym
    flow.state_field = sym.decl.field(field_ref.name)
    if flow.state_field is None:
        if report:
            suggestion = closest(field_ref.name, [f.name for f in sym.decl.fields])
            ctx.report("CS401", f"entity `{sym.name}` has no field `{field_ref.name}`",
                       field_ref.span,
                       help=f"did you mean `{suggestion}`?" if suggestion else None,
                       fixes=replace_fix(field_ref.span, suggestion))
        return flow
    flow.enum = _enum_of(ctx, sym, flow.state_field)
    if flow.enum is None and report and _resolves(ctx, sym, flow.state_field):
        ctx.report("CS402", f"`{decl.subject.name}` is {_type_text(flow.state_field.type)}, "
                   "not an enum: a workflow's states are the values of an enum field",
                   decl.subject.span, help="declare an enum of the states and use it as the "
                                           "field's type",
                   related=(Related(span=flow.state_field.span, message="the field"),))
    return flow


def _enum_of(ctx: CheckContext, entity: Symbol, f: ir.FieldDecl) -> ir.EnumDecl | None:
    if f.type.is_ref or f.type.is_list or f.type.generics:
        return None
    sym = ctx.symbols.lookup(entity.module, f.type.name, "type", frozenset({"enum"})).symbol
    return sym.decl if sym is not None and sym.kind == "enum" else None


def _resolves(ctx: CheckContext, entity: Symbol, f: ir.FieldDecl) -> bool:
    """Whether the field's type is known at all (an unknown one is reported as CS201)."""
    t = f.type
    return (t.is_ref or t.is_list or t.name in SCALARS
            or ctx.symbols.lookup(entity.module, t.name, "type").symbol is not None)


def _type_text(t: ir.TypeRef) -> str:
    text = f"ref {t.name}" if t.is_ref else t.name
    return f"`{text}{'[]' if t.is_list else ''}`"


def _an(kind: str) -> str:
    return f"an {kind}" if kind[0] in "aeiou" else f"a {kind}"


declare(
    "CS402", "workflow-field-not-enum", E, "A workflow runs on a field that is not an enum.",
    "A workflow's states are the values of the field's enum, so the field has an enum type "
    "(not a string, a reference or a list).",
    bad=_HEAD + "workflow AmountFlow on Deal.amount {\n  initial open\n}\n",
    good=_GOOD,
)
declare(
    "CS410", "duplicate-workflow", E, "Two workflows run on the same field.",
    "One field has one state machine; put every transition of it in one workflow.",
    bad=_GOOD + "\nworkflow DealFlow2 on Deal.status {\n  initial open\n"
        "  transition win: open -> won by manage_deals\n  final won\n}\n",
    good=_GOOD,
)


# ---- transitions -------------------------------------------------------------------------


def _check_transitions(ctx: CheckContext, flow: _Flow) -> None:
    seen: dict[str, Span] = {}
    for t in flow.decl.transitions:
        where = f"transition `{t.name}` of workflow `{flow.decl.name}`"
        first = seen.setdefault(t.name, t.name_span)
        if first is not t.name_span:
            ctx.report("CS408", f"workflow `{flow.decl.name}` already has a transition "
                       f"`{t.name}`", t.name_span,
                       help="each transition becomes a command: give it its own name",
                       related=(Related(span=first, message="first declared here"),))
        if t.by is None:
            ctx.report("CS407", f"{where} has no `by`: anyone who may update "
                       f"`{flow.entity.name if flow.entity else 'the record'}` can take it",
                       t.name_span, help="say who may take it: `by <permissions or roles>`")
        if t.when is not None:
            check_self_paths(ctx, flow.module, t.when, flow.entity, where)
        if t.emits is not None:
            _check_event(ctx, flow.module, t.emits)


def _check_event(ctx: CheckContext, module: str, ref: ir.EventRef) -> None:
    found = ctx.symbols.event(module, ref)
    if found.ambiguous:
        options = ", ".join(sorted(s.qualified for s in found.symbols))
        ctx.report("CS203", f"`{ref.name}` is ambiguous: it could be {options}", ref.span,
                   help="qualify it with its module name")
    elif not found.symbols:
        if ref.version is not None and ctx.symbols.lookup(module, ref.name, "event").symbols:
            ctx.report("CS201", f"event `{ref.name}` has no version {ref.version}", ref.span)
        else:
            ctx.report_unknown(ref, "event", found.suggestion)


declare(
    "CS407", "transition-without-guard", W, "A transition does not say who may take it.",
    "Each transition becomes a command and an action button; `by` says who may take it, "
    "with the same access rules as a policy (`by manage_deals`, `by admin or self.owner == "
    "actor`). Without it, anyone allowed to update the record can move it.",
    bad=_flow("initial open", "transition win: open -> won", _LOSE, "final won lost"),
    good=_GOOD,
)
declare(
    "CS408", "duplicate-transition", E, "A workflow has two transitions with one name.",
    "Each transition becomes a command named after it, so names are unique in a workflow; "
    "one transition may leave several states (`reopen: won, lost -> open`).",
    bad=_flow("initial open", _WIN, "transition win: open -> lost by manage_deals",
              "final won lost"),
    good=_GOOD,
)


# ---- states ------------------------------------------------------------------------------


def _check_states(ctx: CheckContext, flow: _Flow) -> None:
    decl = flow.decl
    if flow.enum is None:
        if decl.initial is None and flow.entity is not None and flow.state_field is not None:
            ctx.report("CS404", f"workflow `{decl.name}` has no `initial` state",
                       decl.name_span, help="add `initial <state>`: where new records start")
        return
    named = [decl.initial] if decl.initial is not None else []
    for t in decl.transitions:
        named.extend((*t.sources, t.target))
    named.extend(decl.finals)
    for m in decl.migrations:
        named.extend((m.source, m.target))
    valid = set(flow.states)
    for ref in named:
        flow.mentions.setdefault(ref.name, ref.span)
        if ref.name not in valid:
            _unknown_state(ctx, flow, ref)
    if decl.initial is None:
        default = _default_state(flow)
        start = default if default in valid else (flow.states[0] if flow.states else None)
        ctx.report("CS404", f"workflow `{decl.name}` has no `initial` state", decl.name_span,
                   help="add `initial <state>`: where new records start",
                   fixes=(insert_member(decl, decl.name_span.start_line, f"initial {start}",
                                        f"Start at `{start}`"),) if start else ())
    elif decl.initial.name in valid:
        _check_reachability(ctx, flow, decl.initial.name)
        _check_default(ctx, flow, decl.initial)


def _unknown_state(ctx: CheckContext, flow: _Flow, ref: ir.NameRef) -> None:
    assert flow.enum is not None
    suggestion = closest(ref.name, flow.states)
    listed = ", ".join(f"`{s}`" for s in flow.states)
    ctx.report("CS403", f"`{ref.name}` is not a state of `{flow.decl.subject.name}` "
               f"(the values of `{flow.enum.name}`: {listed})", ref.span,
               help=f"did you mean `{suggestion}`?" if suggestion else
               f"add `{ref.name}` to enum `{flow.enum.name}`",
               fixes=replace_fix(ref.span, suggestion))


def _check_reachability(ctx: CheckContext, flow: _Flow, initial: str) -> None:
    decl = flow.decl
    outgoing: dict[str, list[str]] = {}
    for t in decl.transitions:
        for source in t.sources:
            outgoing.setdefault(source.name, []).append(t.target.name)
    reached = {initial}
    queue = deque([initial])
    while queue:
        for target in outgoing.get(queue.popleft(), []):
            if target not in reached:
                reached.add(target)
                queue.append(target)
    retired = {m.source.name for m in decl.migrations}
    finals = {f.name for f in decl.finals}
    assert flow.enum is not None
    for value in flow.enum.values:
        state = value.name
        at = flow.mentions.get(state, decl.name_span)
        related = (Related(span=value.name_span, message="the state"),)
        if state in retired:
            continue
        if state not in reached:
            ctx.report("CS405", f"state `{state}` cannot be reached from `{initial}` in "
                       f"workflow `{decl.name}`", at, related=related,
                       help=f"add a transition into `{state}`, or retire it with "
                            f"`migrate state {state} -> <state>`")
        elif state not in finals and state not in outgoing:
            ctx.report("CS406", f"state `{state}` is not final but no transition leaves it",
                       at, related=related,
                       help=f"add a transition out of `{state}`, or list it in `final`",
                       fixes=(_final_fix(decl, state),))


def _final_fix(decl: ir.WorkflowDecl, state: str) -> Fix:
    title = f"Make `{state}` final"
    if decl.finals:
        last = decl.finals[-1].span
        end = last.model_copy(update={"start_line": last.end_line, "start_col": last.end_col,
                                      "start_offset": last.end_offset})
        return Fix(title=title, span=end, replacement=f" {state}")
    return insert_member(decl, decl.name_span.start_line, f"final {state}", title)


def _default_state(flow: _Flow) -> str | None:
    if flow.state_field is None:
        return None
    written = _default_expr(flow.state_field)
    if isinstance(written, ir.PathExpr) and len(written.parts) == 1:
        return written.parts[0]
    return None


def _default_expr(f: ir.FieldDecl) -> ir.Expr | None:
    if f.default is not None:
        return f.default
    attr = f.attribute("default")
    return attr.args[0] if attr is not None and len(attr.args) == 1 else None


def _check_default(ctx: CheckContext, flow: _Flow, initial: ir.NameRef) -> None:
    default = _default_state(flow)
    if default is None or default == initial.name or default not in flow.states:
        return
    assert flow.state_field is not None
    written = _default_expr(flow.state_field)
    assert written is not None
    fixes = [Fix(title=f"Start the workflow at `{default}`", span=initial.span,
                 replacement=default)]
    if flow.entity is not None and flow.entity.module == flow.module:
        fixes.append(Fix(title=f"Make `{initial.name}` the default of "
                               f"`{flow.decl.subject.name}`", span=written.span,
                         replacement=initial.name))
    ctx.report("CS409", f"workflow `{flow.decl.name}` starts at `{initial.name}`, but new "
               f"records get `{default}` (the default of `{flow.decl.subject.name}`)",
               initial.span, related=(Related(span=written.span, message="the default"),),
               fixes=tuple(fixes))


declare(
    "CS403", "unknown-state", E, "A workflow names a state its enum does not have.",
    "Every state a workflow names (`initial`, the sources and target of each transition, "
    "`final`, `migrate state`) is a value of the enum of its field. The diagnostic suggests "
    "the closest value.",
    bad=_flow("initial open", "transition win: open -> wn by manage_deals", _LOSE,
              "final won lost"),
    good=_GOOD,
    fix="Replace the state with the suggestion.",
)
declare(
    "CS404", "missing-initial-state", E, "A workflow has no `initial` state.",
    "`initial` is the state of new records, and where reachability starts. The quick fix "
    "uses the field's default, or the enum's first value.",
    bad=_flow(_WIN, _LOSE, "final won lost"),
    good=_GOOD,
    fix="Add `initial` with the field's default.",
)
declare(
    "CS405", "unreachable-state", W, "No sequence of transitions reaches a state.",
    "Every value of the enum is a state; one that no chain of transitions from `initial` "
    "reaches can only be set by hand-written code or a data migration. A state being "
    "retired with `migrate state old -> new` is exempt.",
    bad=_flow("initial open", _WIN, "final won lost"),
    good=_GOOD,
)
declare(
    "CS406", "dead-end-state", E, "A state that is not final has no way out.",
    "A record that reaches a state with no outgoing transition is stuck there; either the "
    "process is complete (list the state in `final`) or a transition is missing. Final "
    "states may still have transitions out (`reopen: won, lost -> open`).",
    bad=_flow("initial open", _WIN, _LOSE, "final won"),
    good=_GOOD,
    fix="List the state in `final`.",
)
declare(
    "CS409", "initial-not-default", W, "New records do not start in the initial state.",
    "The default of the workflow's field is the state of a new record, so it should be the "
    "workflow's `initial` state; otherwise records start where no transition expects them.",
    bad=_flow("initial won", "transition reopen: won -> open by manage_deals",
              "transition close: open -> lost by manage_deals", "final lost"),
    good=_GOOD,
    fix="Change the initial state, or the field's default.",
)
