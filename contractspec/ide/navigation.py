"""Go to definition, find references, document highlight, rename."""

from __future__ import annotations

import re
from dataclasses import dataclass

from contractspec.check.symbols import NAMESPACES
from contractspec.ide.catalog import DECLARATION_DOCS
from contractspec.ide.index import Definition, Occurrence
from contractspec.ide.world import World
from contractspec.source import Span

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_EVENT_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*")


class RenameError(Exception):
    """A rename that cannot be done; the message says why, in the user's words."""


@dataclass(frozen=True)
class TextEdit:
    span: Span
    new_text: str


def definition(world: World, path: str, offset: int) -> Definition | None:
    return world.index.target_at(path, offset)


def references(world: World, path: str, offset: int,
               include_declaration: bool = True) -> list[Span]:
    target = world.index.target_at(path, offset)
    if target is None:
        return []
    spans = [o.span for o in world.index.uses(target)]
    if include_declaration:
        spans.insert(0, target.span)
    return spans


def highlights(world: World, path: str, offset: int) -> list[tuple[Span, bool]]:
    """The spans in this file naming the same thing; True marks the declaration (write)."""
    target = world.index.target_at(path, offset)
    if target is None:
        return []
    found = [(o.span, False) for o in world.index.uses(target) if o.span.file == path]
    if target.span.file == path:
        found.insert(0, (target.span, True))
    return found


def prepare_rename(world: World, path: str, offset: int) -> tuple[Span, str]:
    """The span to rename and its current text; RenameError when it cannot be renamed."""
    found = world.index.at(path, offset)
    if found is None:
        raise RenameError("nothing to rename here: put the cursor on a name")
    target = found.target if isinstance(found, Occurrence) else found
    if target is None:
        raise RenameError(f"`{found.name}` does not refer to any declaration")
    if target.std or world.is_std(path):
        raise RenameError(f"`{target.name}` belongs to the standard library "
                          f"(`{target.module}`) and cannot be renamed")
    source = world.source(found.span.file)
    text = source.text[found.span.start_offset:found.span.end_offset] if source else ""
    return found.span, text


def rename(world: World, path: str, offset: int, new_name: str) -> dict[str, list[TextEdit]]:
    """Edits per file that rename the declaration under `offset` and every reference."""
    span, _ = prepare_rename(world, path, offset)
    target = world.index.target_at(path, span.start_offset)
    assert target is not None
    pattern = _EVENT_NAME if target.kind in ("event", "module") else _NAME
    if not pattern.fullmatch(new_name):
        raise RenameError(f"`{new_name}` is not a valid name")
    if new_name in DECLARATION_DOCS and target.kind != "field":
        raise RenameError(f"`{new_name}` is a keyword")
    if new_name in ("self", "actor", "authenticated"):
        raise RenameError(f"`{new_name}` is a built-in name")
    if new_name != target.name:
        clash = _clash(world, target, new_name)
        if clash is not None:
            raise RenameError(f"`{new_name}` is already declared at "
                              f"{clash.span.file}:{clash.span.start_line}")
    edits: dict[str, list[TextEdit]] = {}
    for s in [target.span, *(o.span for o in world.index.uses(target))]:
        edits.setdefault(s.file, []).append(TextEdit(s, new_name))
    for file_edits in edits.values():
        file_edits.sort(key=lambda e: e.span.start_offset)
    return {f: _unique(e) for f, e in edits.items() if e}


def _unique(edits: list[TextEdit]) -> list[TextEdit]:
    seen: set[int] = set()
    out = []
    for e in edits:
        if e.span.start_offset not in seen:
            seen.add(e.span.start_offset)
            out.append(e)
    return out


def _clash(world: World, target: Definition, new_name: str) -> Definition | None:
    """A declaration the renamed one would collide with."""
    if target.container is not None:
        return world.index.members(target.container).get(new_name)
    for d in world.index.all_definitions():
        if d.name == new_name and d.container is None and d.module == target.module and \
                _same_namespace(d.kind, target.kind):
            return d
    return None


def _same_namespace(a: str, b: str) -> bool:
    return a == b or (a in NAMESPACES and b in NAMESPACES and NAMESPACES[a] == NAMESPACES[b])
