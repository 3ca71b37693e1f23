"""Hover: a rendered signature, the doc comment and what else helps, in Markdown."""

from __future__ import annotations

from dataclasses import dataclass

from contractspec.ide import render
from contractspec.ide.access import Access, allowed_roles, permissions_held, who_holds
from contractspec.ide.catalog import (
    ATTRIBUTE_DOCS,
    BUILTIN_DOCS,
    DECLARATION_DOCS,
    MODEL_ATTRIBUTE_DOCS,
    SCALAR_DOCS,
)
from contractspec.ide.index import Definition, Occurrence
from contractspec.ide.text import word_at
from contractspec.ide.world import World
from contractspec.ir import nodes as ir
from contractspec.ir.text import attribute_text, expr_text
from contractspec.source import Span


@dataclass(frozen=True)
class Hover:
    markdown: str
    span: Span


def hover(world: World, path: str, offset: int) -> Hover | None:
    found = world.index.at(path, offset)
    if isinstance(found, Occurrence):
        if found.target is None:
            return None
        return Hover(describe(world, found.target), found.span)
    if isinstance(found, Definition):
        return Hover(describe(world, found), found.span)
    return _builtin(world, path, offset)


def _builtin(world: World, path: str, offset: int) -> Hover | None:
    """Scalars, attributes, `self`/`actor`, declaration keywords."""
    source = world.source(path)
    if source is None:
        return None
    bounds = word_at(source.text, offset)
    if bounds is None:
        return None
    start, end = bounds
    word = source.text[start:end]
    before = source.text[max(0, start - 2):start]
    span = source.span(start, end)
    if before == "@@" and word in MODEL_ATTRIBUTE_DOCS:
        return Hover(f"```cspec\n@@{word}\n```\n\n{MODEL_ATTRIBUTE_DOCS[word]}", span)
    if before.endswith("@") and word in ATTRIBUTE_DOCS:
        return Hover(f"```cspec\n@{word}\n```\n\n{ATTRIBUTE_DOCS[word]}", span)
    for table, what in ((SCALAR_DOCS, "built-in type"), (BUILTIN_DOCS, "built-in name"),
                        (DECLARATION_DOCS, "keyword")):
        if word in table:
            return Hover(f"```cspec\n{word}\n```\n*{what}*\n\n{table[word]}", span)
    return None


def describe(world: World, d: Definition) -> str:
    """The Markdown of one definition."""
    code = _signature(d)
    parts = [f"```cspec\n{code}\n```"]
    doc = _doc(d)
    if doc:
        parts.append(doc)
    extra = _extra(world, d)
    if extra:
        parts.append(extra)
    where = (f"standard library module `{d.module}`" if d.std
             else f"module `{d.module}` · `{d.span.file}:{d.span.start_line}`")
    parts.append(f"*{where}*")
    return "\n\n---\n\n".join(parts)


def _doc(d: Definition) -> str | None:
    decl = d.decl
    if isinstance(decl, ir.Module):
        return decl.doc
    doc: str | None = getattr(decl, "doc", None)
    return doc


def _signature(d: Definition) -> str:
    decl = d.decl
    kind = d.kind
    if kind == "module":
        version = f" version {decl.version}" if decl.version else ""
        uses = "".join(f"\nuse {u.module.name}" for u in decl.uses)
        return f"module {decl.name}{version}{uses}"
    if kind == "entity":
        lines = [render.field_text(f) for f in decl.fields]
        lines += [attribute_text(c, "@@") for c in decl.constraints]
        return render.block(f"entity {decl.name}", lines)
    if kind == "type":
        return render.fields_block(f"type {decl.name}", decl.fields)
    if kind == "enum":
        return render.block(f"enum {decl.name}", (
            " ".join([v.name, *(attribute_text(a) for a in v.attributes)])
            for v in decl.values))
    if kind == "field":
        owner = f"{d.container.kind} {d.container.label}" if d.container else ""
        return f"// in {owner}\n{render.field_text(decl)}"
    if kind == "enum_value":
        return f"// value of enum {d.container.name if d.container else ''}\n{decl.name}"
    if kind in ("permission", "role"):
        return f"{kind} {decl.name}{render.quoted(decl.description)}"
    if kind in ("command", "query"):
        return render.operation_text(decl)
    if kind == "error":
        owner = d.container.label if d.container else ""
        return f"// error of {owner}\n{render.error_text(decl)}"
    if kind == "event":
        return render.event_text(decl)
    if kind == "workflow":
        return render.workflow_text(decl)
    if kind == "transition":
        return render.transition_text(decl)
    if kind == "job":
        return render.job_text(decl)
    return _other_signature(d)


def _other_signature(d: Definition) -> str:
    decl = d.decl
    kind = d.kind
    if kind == "schedule":
        when = f'cron "{decl.cron}"' if decl.cron is not None else (
            f"every {decl.every.text}" if decl.every else "")
        return f"schedule {decl.name} {when} run {decl.job.name}"
    if kind == "notification":
        lines = []
        if decl.on is not None:
            lines.append(f"on {render.event_ref_text(decl.on)}")
        if decl.recipients:
            lines.append("to " + ", ".join(
                f"role {r.name}" if r.kind == "role" else r.name for r in decl.recipients))
        if decl.channels:
            lines.append("via " + ", ".join(c.name for c in decl.channels))
        return render.block(f"notification {decl.name}", lines)
    if kind == "flag":
        lines = []
        if decl.default is not None:
            lines.append(f"default {'on' if decl.default else 'off'}")
        if decl.rollout is not None:
            lines.append(f"rollout {decl.rollout.percent:g}% by {decl.rollout.by.name}")
        lines += [f"target {t.dimension.name} " + ", ".join(v.name for v in t.values)
                  for t in decl.targets]
        return render.block(f"flag {decl.name}{render.quoted(decl.description)}", lines)
    if kind == "view":
        by = f" by {decl.group_by.name}" if decl.group_by else ""
        return f"view {decl.name} {decl.kind} of {decl.entity.name}{by}"
    if kind == "metric":
        lines = []
        if decl.unit is not None:
            lines.append(f"unit {decl.unit.name}")
        if decl.aggregate is not None:
            period = f" {decl.period.name}" if decl.period else ""
            lines.append(f"aggregate {decl.aggregate.name}{period}")
        if decl.source is not None:
            lines.append(f"from {render.event_ref_text(decl.source)}")
        return render.block(f"metric {decl.name}{render.quoted(decl.description)}", lines)
    if kind == "plan":
        lines = [f"limit {lim.metric.name} {lim.amount} / {lim.period.name}"
                 for lim in decl.limits]
        if decl.flags:
            lines.append("flags " + ", ".join(f.name for f in decl.flags))
        return render.block(f"plan {decl.name}{render.quoted(decl.description)}", lines)
    if kind == "agent":
        lines = []
        if decl.model:
            lines.append(f'model "{decl.model}"')
        if decl.tools:
            lines.append("tools " + ", ".join(t.name for t in decl.tools))
        if decl.policy is not None:
            lines.append(f"policy {expr_text(decl.policy)}")
        return render.block(f"agent {decl.name}", lines)
    title = getattr(decl, "title", None)
    return f"{kind} {decl.name}{render.quoted(title)}"


def _extra(world: World, d: Definition) -> str | None:
    index = world.index
    if d.kind == "permission":
        roles = who_holds(index, d)
        return ("Held by " + ", ".join(f"`{r.name}`" for r in roles)) if roles else \
            "No role is granted this permission."
    if d.kind == "role":
        perms = permissions_held(index, d)
        return ("Holds " + ", ".join(f"`{p.name}`" for p in perms)) if perms else \
            "Holds no permission through `grant`."
    if d.kind in ("command", "query"):
        if d.decl.policy is None:
            return "⚠ No `policy`: nobody is checked before calling it."
        access = allowed_roles(index, d.decl.policy, world.visible(d.module))
        return _roles_line(access)
    if d.kind == "event":
        emitters = [o for o in index.uses(d) if _emitter(world, o) is not None]
        names = sorted({name for o in emitters if (name := _emitter(world, o))})
        return ("Emitted by " + ", ".join(f"`{n}`" for n in names)) if names else \
            "Nothing emits this event."
    if d.kind == "workflow":
        return _states(d.decl)
    return None


def _roles_line(access: dict[str, Access]) -> str:
    yes = [r for r, a in access.items() if a is Access.YES]
    maybe = [r for r, a in access.items() if a is Access.CONDITIONAL]
    text = "Allowed for " + (", ".join(f"`{r}`" for r in yes) if yes else "no role alone")
    if maybe:
        text += "; depends on the record for " + ", ".join(f"`{r}`" for r in maybe)
    return text


def _emitter(world: World, occ: Occurrence) -> str | None:
    """The operation or transition whose `emits` holds an occurrence."""
    for definition in world.index.by_file.get(occ.span.file, []):
        decl = definition.decl
        if definition.kind in ("command", "query") and any(
                e.span.contains(occ.span.start_offset) for e in decl.emits):
            return str(decl.name)
        if definition.kind == "transition" and decl.emits is not None and \
                decl.emits.span.contains(occ.span.start_offset):
            return f"{definition.container.name if definition.container else ''}.{decl.name}"
    return None


def _states(flow: ir.WorkflowDecl) -> str:
    states: dict[str, list[str]] = {}
    if flow.initial is not None:
        states.setdefault(flow.initial.name, []).append("initial")
    for t in flow.transitions:
        for s in (*t.sources, t.target):
            states.setdefault(s.name, [])
    for f in flow.finals:
        states.setdefault(f.name, []).append("final")
    listed = ", ".join(f"`{s}`" + (f" ({', '.join(tags)})" if tags else "")
                       for s, tags in states.items())
    return f"States: {listed}" if listed else "No states yet."
