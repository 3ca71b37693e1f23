"""The policy surface: who may do what, per role, before and after (grants, operation
policies, entity policy rules, workflow transitions' `by`)."""

from __future__ import annotations

from contractspec.evolve.access import NO, OPEN, RANK
from contractspec.evolve.differ import Differ, Released, section, text_of
from contractspec.evolve.lock import UNVERSIONED, Json
from contractspec.ir import nodes as ir
from contractspec.source import Span


def access(differ: Differ, module: str, old: Json, new: Json) -> None:
    found = differ.module(module)
    before, after = section(old, "access"), section(new, "access")
    for key, was in before.items():
        now = after.get(key)
        if now is None:
            continue
        gained, lost, opened = [], [], False
        for role in sorted(set(was) | set(now)):
            a, b = str(was.get(role, NO)), str(now.get(role, NO))
            if b == OPEN and a != OPEN:
                opened = True
            elif RANK.get(b, 0) > RANK.get(a, 0):
                gained.append(f"`{role}` ({a} → {b})")
            elif RANK.get(b, 0) < RANK.get(a, 0):
                lost.append(f"`{role}` ({a} → {b})")
        span, released = _where(found, key) if found is not None else (None, None)
        kind, _, rest = key.partition(" ")
        row = f"{kind} `{rest}`"
        if opened:
            differ.add("CX403", module, row, f"{row} has no policy any more: anybody "
                       "can call it", span, released=released)
        elif gained:
            differ.add("CX401", module, row, f"{row}: access widened for {', '.join(gained)}; "
                       "review that it should", span, released=released)
        if lost:
            differ.add("CX402", module, row, f"{row}: access narrowed for {', '.join(lost)}: "
                       "their users get 403 where they used to succeed", span,
                       released=released)
        if not (opened or gained or lost):
            rule, rule_now = _rule(old, key), _rule(new, key)
            if rule != rule_now:
                differ.add("CX404", module, row, f"{row}: `{rule}` was rewritten as "
                           f"`{rule_now}`; who may do what is unchanged", span,
                           released=released)


def _rule(lock: Json, row: str) -> str | None:
    """The access expression's text behind a row of the access section."""
    kind, _, rest = row.partition(" ")
    if kind == "operation":
        name, _, version = rest.partition(" ")
        item = section(lock, "operations").get(name, {}).get(version or UNVERSIONED)
        return text_of(item, "policy") if isinstance(item, dict) else None
    if kind == "policy":
        entity, _, action = rest.partition(" ")
        value = section(lock, "policies").get(entity, {}).get("rules")
        rule = value.get(action) if isinstance(value, dict) else None
        return rule if isinstance(rule, str) else None
    flow, _, transition = rest.partition(".")
    item = section(section(lock, "workflows").get(flow, {}), "transitions").get(transition)
    return text_of(item, "by") if isinstance(item, dict) else None


def _where(module: ir.Module, row: str) -> tuple[Span | None, Released | None]:
    """The span of a row's declaration and, for an operation, its version."""
    kind, _, rest = row.partition(" ")
    if kind == "operation":
        name, _, version = rest.partition(" ")
        key = version or UNVERSIONED
        for op in module.operations:
            if op.name == name and (op.version or UNVERSIONED) == key:
                return op.name_span, ("operations", name, key)
    elif kind == "policy":
        entity, _, action = rest.partition(" ")
        for policy in module.policies:
            for rule in policy.rules:
                if policy.entity.name == entity and rule.action.name == action:
                    return rule.span, None
    else:
        flow, _, transition = rest.partition(".")
        for workflow in module.workflows:
            for t in workflow.transitions:
                if workflow.name == flow and t.name == transition:
                    return t.name_span, None
    return None, None
