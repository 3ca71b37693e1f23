"""Metrics (money and meaning), flags and jobs."""

from __future__ import annotations

from contractspec.evolve.differ import Differ, same, section, strings
from contractspec.evolve.fields import Block, Role, compare_blocks, shapes
from contractspec.evolve.lock import Json

_METRIC = ("aggregate", "unit", "period", "source")


def metrics(differ: Differ, module: str, old: Json, new: Json) -> None:
    found = differ.module(module)
    spans = {m.name: m.name_span for m in (found.metrics if found else ())}
    after = section(new, "metrics")
    for name, item in section(old, "metrics").items():
        subject = f"metric `{name}`"
        now = after.get(name)
        if now is None:
            differ.add("CX604", module, subject, f"{subject} was removed: its recorded usage "
                       "is no longer read", differ.module_span(module))
            continue
        changed = [f"{k} `{item.get(k)}` → `{now.get(k)}`" for k in _METRIC
                   if item.get(k) != now.get(k)]
        if changed:
            differ.add("CX602", module, subject, f"{subject} changed its "
                       f"{', '.join(changed)}: old and new values no longer add up",
                       spans.get(name))


def flags(differ: Differ, module: str, old: Json, new: Json) -> None:
    found = differ.module(module)
    spans = {f.name: f.name_span for f in (found.flags if found else ())}
    users_now = {f"plan `{p.name}`" for p in (found.plans if found else ())} | {
        f"operation `{op.name} {op.version}`" if op.version else f"operation `{op.name}`"
        for op in (found.operations if found else ())}
    used = section(old, "dependents").get("flags", {})
    after = section(new, "flags")
    for name, item in section(old, "flags").items():
        subject = f"flag `{name}`"
        now = after.get(name)
        if now is None:
            still = [u for u in strings(used.get(name)) if u in users_now]
            if still:
                differ.add("CX701", module, subject, f"{subject} was removed while "
                           f"{', '.join(still)} used it", differ.module_span(module))
            else:
                differ.add("CX702", module, subject, f"{subject} was removed: clients that "
                           "evaluate it get nothing", differ.module_span(module))
            continue
        if item.get("default") != now.get("default"):
            differ.add("CX703", module, subject, f"the default of {subject} changed from "
                       f"{_state(item.get('default'))} to {_state(now.get('default'))}",
                       spans.get(name))
        if (item.get("rollout"), item.get("targets")) != (now.get("rollout"),
                                                          now.get("targets")):
            differ.add("CX704", module, subject, f"the rollout or targets of {subject} "
                       "changed", spans.get(name))


def _state(value: object) -> str:
    return {True: "`on`", False: "`off`"}.get(value, "none") if isinstance(
        value, bool) else "none"


def jobs(differ: Differ, module: str, old: Json, new: Json) -> None:
    found = differ.module(module)
    decls = {j.name: j for j in (found.jobs if found else ())}
    after = section(new, "jobs")
    for name, item in section(old, "jobs").items():
        subject = f"job `{name}`"
        now, decl = after.get(name), decls.get(name)
        if now is None or decl is None:
            differ.add("CX803", module, subject, f"{subject} was removed: runs already queued "
                       "for it can no longer run", differ.module_span(module))
            continue
        if same(item, now):
            continue
        for keys, code in ((("retries", "backoff"), "CX801"), (("timeout",), "CX802")):
            changed = [f"{k} `{item.get(k)}` → `{now.get(k)}`" for k in keys
                       if item.get(k) != now.get(k)]
            if changed:
                differ.add(code, module, subject, f"{subject} changed its "
                           f"{', '.join(changed)}", decl.name_span)
        compare_blocks(Block(differ, module, subject, Role.JOB, decl.name_span,
                             {f.name: f for f in decl.input}), shapes(item, "input"),
                       shapes(now, "input"))


