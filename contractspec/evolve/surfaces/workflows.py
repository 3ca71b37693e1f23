"""The workflows surface: workflows, their states and transitions."""

from __future__ import annotations

from contractspec.evolve.differ import Differ, same, section, strings
from contractspec.evolve.lock import Json

_ROUTE = ("from", "to", "emits")


def workflows(differ: Differ, module: str, old: Json, new: Json) -> None:
    found = differ.module(module)
    decls = {w.name: w for w in (found.workflows if found else ())}
    before, after = section(old, "workflows"), section(new, "workflows")
    for name, item in before.items():
        subject = f"workflow `{name}`"
        now, decl = after.get(name), decls.get(name)
        if now is None or decl is None:
            differ.add("CX501", module, subject, f"{subject} was removed: its transition "
                       "commands disappear", differ.module_span(module))
            continue
        if same(item, now):
            continue
        span = decl.name_span
        migrated = {m.source.name: m.target.name for m in decl.migrations}
        states, states_now = strings(item.get("states")), strings(now.get("states"))
        for state in states:
            if state in states_now:
                continue
            if state in migrated:
                differ.add("CX503", module, f"state `{state}` of {subject}",
                           f"state `{state}` of {subject} was removed and its rows move to "
                           f"`{migrated[state]}`", span)
            else:
                differ.add("CX502", module, f"state `{state}` of {subject}",
                           f"state `{state}` of {subject} was removed while rows may be in "
                           f"it: add `migrate state {state} -> <state>`", span)
        added = [s for s in states_now if s not in states]
        transitions = section(item, "transitions")
        transitions_now = section(now, "transitions")
        spans = {t.name: t.name_span for t in decl.transitions}
        for t, spec in transitions.items():
            where = f"transition `{t}` of {subject}"
            spec_now = transitions_now.get(t)
            if spec_now is None:
                differ.add("CX504", module, where, f"{where} was removed: its command "
                           "disappears", span)
                continue
            if spec.get("when") != spec_now.get("when"):
                differ.add("CX505", module, where, f"the guard of {where} changed from "
                           f"`{spec.get('when')}` to `{spec_now.get('when')}`", spans.get(t))
            moved = [k for k in _ROUTE if spec.get(k) != spec_now.get(k)]
            if moved:
                differ.add("CX506", module, where, f"{where} changed its "
                           f"{', '.join(f'`{k}`' for k in moved)}", spans.get(t))
        added += [f"transition {t}" for t in transitions_now if t not in transitions]
        if added:
            differ.add("CX507", module, subject, f"{subject} gained "
                       f"{', '.join(f'`{a}`' for a in added)}", span)
    for name in after.keys() - before.keys():
        decl = decls.get(name)
        differ.add("CX507", module, f"workflow `{name}`", f"workflow `{name}` was added",
                   decl.name_span if decl else None)
