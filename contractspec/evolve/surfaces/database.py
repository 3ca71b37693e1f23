"""The database surface: entities (tables), their fields (columns) and constraints."""

from __future__ import annotations

import re

from contractspec.evolve.differ import (
    Differ,
    attribute_reason,
    renamed_from,
    same,
    section,
    strings,
    text_of,
)
from contractspec.evolve.fields import Block, Role, compare_blocks, shapes
from contractspec.evolve.lock import Json
from contractspec.evolve.surfaces.api import label, operation_decls


def entities(differ: Differ, module: str, old: Json, new: Json) -> None:
    found = differ.module(module)
    decls = {e.name: e for e in (found.entities if found else ())}
    before, after = section(old, "entities"), section(new, "entities")
    renames = {former: name for name, decl in decls.items()
               if (former := renamed_from(decl.constraints)) is not None
               and former in before and former not in after and name not in before}
    for name, item in before.items():
        target = name if name in after else renames.get(name)
        if target is None:
            differ.add("CX201", module, f"entity `{name}`", f"entity `{name}` was removed: its "
                       "table and every row in it are dropped", differ.module_span(module))
            continue
        if target == name and same(item, after[name]):
            continue
        decl = decls.get(target)
        span = decl.name_span if decl is not None else None
        approval = attribute_reason(decl.constraints) if decl is not None else None
        if target != name:
            differ.add("CX203", module, f"entity `{target}`", f"entity `{name}` was renamed to "
                       f"`{target}`: the table is renamed and its rows kept", span,
                       approval=approval)
        block = Block(differ, module, f"entity `{target}`", Role.COLUMN, span,
                      {f.name: f for f in decl.fields} if decl else {}, approval=approval)
        removed = compare_blocks(block, shapes(item, "fields"), shapes(after[target], "fields"))
        _outputs(differ, module, new, {name, target}, removed, block)
        _constraints(differ, module, target, strings(item.get("constraints")),
                     strings(after[target].get("constraints")), block)
    for name in after.keys() - before.keys() - set(renames.values()):
        decl = decls.get(name)
        differ.add("CX202", module, f"entity `{name}`", f"entity `{name}` was added: a new, "
                   "empty table", decl.name_span if decl else None)


def _outputs(differ: Differ, module: str, new: Json, names: set[str], removed: list[str],
             block: Block) -> None:
    """CX112 for each operation returning the entity that lost fields."""
    if not removed:
        return
    mention = re.compile(r"\b(" + "|".join(map(re.escape, sorted(names))) + r")\b")
    decls = operation_decls(differ, module)
    for (name, version), op in decls.items():
        item = section(new, "operations").get(name, {}).get(version)
        output = text_of(item, "output") if isinstance(item, dict) else None
        if output is None or not mention.search(output):
            continue
        subject = f"operation `{label(name, version)}`"
        for field in removed:
            differ.add("CX112", module, f"output field `{field}` of {subject}",
                       f"{subject} returns `{output}`, whose field `{field}` was removed: "
                       "clients reading it break", op.name_span, approval=block.approval,
                       released=("operations", name, version))


def _constraints(differ: Differ, module: str, entity: str, before: list[str],
                 after: list[str], block: Block) -> None:
    for text in sorted(set(before) ^ set(after)):
        added = text in after
        code = "CX213" if added and text.startswith("@@unique") else "CX214"
        differ.add(code, module, f"`{text}` of entity `{entity}`",
                   f"entity `{entity}` {'gained' if added else 'lost'} `{text}`"
                   + (": existing rows may hold duplicates" if code == "CX213" else ""),
                   block.span, approval=block.approval)
