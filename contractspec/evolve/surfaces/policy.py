"""The policy surface: who may do what, per role, before and after (grants, operation
policies, entity policy rules, workflow transitions' `by`)."""

from __future__ import annotations

from contractspec.evolve.access import NO, OPEN, RANK
from contractspec.evolve.differ import Differ, Released, section, text_of, versioned
from contractspec.evolve.lock import UNVERSIONED, Json
from contractspec.ir import nodes as ir
from contractspec.source import Span


def access(differ: Differ, module: str, old: Json, new: Json) -> None:
    found = differ.module(module)
    before, after = section(old, "access"), section(new, "access")
    places = _places(found) if found is not None else {}
    rules: tuple[dict[str, str], dict[str, str]] | None = None
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
        span, released = places.get(key, (None, None))
        kind, _, rest = key.partition(" ")
        row = f"{kind} `{rest}`"
        if opened:
            differ.add("CX403", module, row, f"{row} has no policy any more: anybody can "
                       "call it", span, released=released)
        elif gained:
            differ.add("CX401", module, row, f"{row}: access widened for {', '.join(gained)}; "
                       "review that it should", span, released=released)
        if lost:
            differ.add("CX402", module, row, f"{row}: access narrowed for {', '.join(lost)}: "
                       "their users get 403 where they used to succeed", span,
                       released=released)
        if not (opened or gained or lost):
            rules = rules or (_rules(old), _rules(new))
            rule, rule_now = rules[0].get(key), rules[1].get(key)
            if rule != rule_now:
                differ.add("CX404", module, row, f"{row}: `{rule}` was rewritten as "
                           f"`{rule_now}`; who may do what is unchanged", span,
                           released=released)


def _rules(lock: Json) -> dict[str, str]:
    """The access expressions' texts, by row of the access section."""
    found: dict[str, str] = {}
    for (name, version), item in versioned(lock, "operations").items():
        text = text_of(item, "policy")
        if text is not None:
            found[f"operation {name if version == UNVERSIONED else f'{name} {version}'}"] = text
    for entity, policy in section(lock, "policies").items():
        rules = policy.get("rules")
        for action, text in (rules.items() if isinstance(rules, dict) else ()):
            if isinstance(text, str):
                found[f"policy {entity} {action}"] = text
    for flow, item in section(lock, "workflows").items():
        for name, transition in section(item, "transitions").items():
            text = text_of(transition, "by")
            if text is not None:
                found[f"transition {flow}.{name}"] = text
    return found


def _places(module: ir.Module) -> dict[str, tuple[Span, Released | None]]:
    """Each row's span in the current specs and, for an operation, its version."""
    found: dict[str, tuple[Span, Released | None]] = {}
    for op in module.operations:
        version = op.version or UNVERSIONED
        label = f"{op.name} {op.version}" if op.version else op.name
        found.setdefault(f"operation {label}", (op.name_span,
                                                ("operations", op.name, version)))
    for policy in module.policies:
        for rule in policy.rules:
            found.setdefault(f"policy {policy.entity.name} {rule.action.name}",
                             (rule.span, None))
    for workflow in module.workflows:
        for t in workflow.transitions:
            found.setdefault(f"transition {workflow.name}.{t.name}", (t.name_span, None))
    return found
