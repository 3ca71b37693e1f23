"""The outline of a file (document symbols), workspace symbols and folding ranges."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from contractspec.grammar.scan import scan_lines
from contractspec.ide.index import Definition
from contractspec.ide.world import World
from contractspec.ir import nodes as ir
from contractspec.ir.text import type_text
from contractspec.source import Span

MAX_WORKSPACE_SYMBOLS = 500


@dataclass
class OutlineItem:
    name: str
    kind: str
    detail: str
    span: Span  # the whole declaration
    selection: Span  # its name
    children: list[OutlineItem] = field(default_factory=list)


def document_symbols(world: World, path: str) -> list[OutlineItem]:
    module = world.module_of(path)
    if module is None:
        return []
    by_decl = {id(d.decl): d for d in world.index.by_file.get(path, [])}
    items: list[OutlineItem] = []
    for header in module.headers:
        if header.span.file == path:
            items.append(OutlineItem(header.name, "module", header.version or "", header.span,
                                     header.name_span))
    for d in world.index.by_file.get(path, []):
        if d.container is None and d.kind != "module":
            items.append(_item(d, by_decl))
    for node, name, kind in _unnamed(module):
        if node.span.file == path:
            items.append(OutlineItem(name, kind, "", node.span, node.span))
    items.sort(key=lambda i: i.span.start_offset)
    return items


def _item(d: Definition, by_decl: dict[int, Definition]) -> OutlineItem:
    decl = d.decl
    detail = d.version or ""
    if d.kind == "field":
        detail = type_text(decl.type)
    item = OutlineItem(d.name, d.kind, detail, decl.span, d.span)
    for child in _children(decl):
        child_def = by_decl.get(id(child))
        if child_def is not None:
            item.children.append(_item(child_def, by_decl))
    return item


def _children(decl: object) -> list[object]:
    kids: list[object] = []
    for attr in ("fields", "values", "input", "payload", "errors", "transitions", "units",
                 "steps"):
        kids.extend(getattr(decl, attr, ()) or ())
    return kids


def _unnamed(module: ir.Module) -> list[tuple[ir.Node, str, str]]:
    """Declarations without a name of their own, with a label for the outline."""
    found: list[tuple[ir.Node, str, str]] = []
    for use in module.uses:
        found.append((use, f"use {use.module.name}", "use"))
    for grant in module.grants:
        found.append((grant, "grant " + ", ".join(r.name for r in grant.roles) + ": "
                      + ", ".join(p.name for p in grant.permissions), "grant"))
    for policy in module.policies:
        found.append((policy, f"policy {policy.entity.name}", "policy"))
    for trigger in module.triggers:
        found.append((trigger, f"on {trigger.event.name} run {trigger.job.name}", "trigger"))
    for critical in module.criticals:
        found.append((critical, "critical " + ", ".join(o.name for o in critical.operations),
                      "critical"))
    for attachments in module.attachments:
        found.append((attachments, f"attachments on {attachments.entity.name}", "attachments"))
    return found


def workspace_symbols(world: World, query: str) -> list[Definition]:
    """Declarations of the workspace (and the standard library) matching `query` fuzzily."""
    q = query.lower()
    scored: list[tuple[int, str, Definition]] = []
    for d in world.index.all_definitions():
        if d.container is not None and "." not in q:
            continue  # members are found as `Deal.owner`
        name = d.path.lower()
        score = _score(q, name, d.name.lower())
        if score is not None:
            scored.append((score + (100 if d.std else 0), d.path, d))
    scored.sort(key=lambda s: (s[0], s[1]))
    return [d for _, _, d in scored[:MAX_WORKSPACE_SYMBOLS]]


def _score(query: str, path: str, name: str) -> int | None:
    if not query:
        return 50
    if name == query:
        return 0
    if name.startswith(query) or path.startswith(query):
        return 1
    if query in path:
        return 2
    it = iter(path)
    return 3 if all(c in it for c in query) else None


@dataclass(frozen=True)
class Fold:
    start_line: int  # 1-based, inclusive
    end_line: int
    kind: str  # region, comment, imports


def folding_ranges(world: World, path: str) -> list[Fold]:
    """Every `{ … }` block over several lines, runs of `///` lines and of `use` lines."""
    source = world.source(path)
    if source is None:
        return []
    folds: list[Fold] = []
    lines = scan_lines(source.text)
    stack: list[int] = []
    for number, line in enumerate(lines, start=1):
        stack.extend([number] * line.opens)
        for _ in range(min(line.closes, len(stack))):
            start = stack.pop()
            if number > start:
                folds.append(Fold(start, number, "region"))
    folds.extend(_runs(source.text.split("\n"), lambda t: t.lstrip().startswith("///"),
                       "comment"))
    folds.extend(_runs(source.text.split("\n"), lambda t: t.lstrip().startswith("use "),
                       "imports"))
    folds.sort(key=lambda f: (f.start_line, -f.end_line))
    return folds


def _runs(lines: list[str], test: Callable[[str], bool], kind: str) -> list[Fold]:
    folds = []
    start: int | None = None
    for number, text in enumerate([*lines, ""], start=1):
        if test(text):
            start = start or number
        else:
            if start is not None and number - 1 > start:
                folds.append(Fold(start, number - 1, kind))
            start = None
    return folds
