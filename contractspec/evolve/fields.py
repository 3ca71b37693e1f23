"""Comparing two blocks of fields (an input, a payload, a `type`, a job input, an entity's
columns): what each added, removed, renamed or changed field means depends on who reads and
who writes the block, its role."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from contractspec.evolve.differ import Differ, Released, attribute_reason, renamed_from, strings
from contractspec.evolve.lock import Json
from contractspec.evolve.typediff import TypeChange, compare_types
from contractspec.ir import nodes as ir
from contractspec.source import Span

_ATTRIBUTE_NAME = re.compile(r"@(\w+)")
_DEFAULT = re.compile(r"@default\((?P<value>.*)\)")


class Role(StrEnum):
    INPUT = "input field"
    JOB = "job input field"
    PAYLOAD = "payload field"
    TYPE = "field"
    COLUMN = "column"


@dataclass(frozen=True)
class Codes:
    removed: str
    required_added: str
    optional_added: str
    made_required: str
    made_optional: str
    narrowed: str
    widened: str
    changed: str
    renamed: str
    validation: str  # another attribute changed


CODES = {
    Role.INPUT: Codes("CX105", "CX103", "CX104", "CX106", "CX107", "CX108", "CX109", "CX110",
                      "CX123", "CX119"),
    Role.JOB: Codes("CX804", "CX804", "CX805", "CX804", "CX805", "CX804", "CX805", "CX804",
                    "CX123", "CX119"),
    Role.PAYLOAD: Codes("CX304", "CX306", "CX306", "CX307", "CX305", "CX307", "CX305", "CX305",
                        "CX123", "CX119"),
    Role.TYPE: Codes("CX121", "CX121", "CX122", "CX121", "CX121", "CX121", "CX121", "CX121",
                     "CX123", "CX119"),
    Role.COLUMN: Codes("CX204", "CX206", "CX205", "CX210", "CX211", "CX208", "CX209", "CX208",
                       "CX207", "CX119"),
}
_WHY = {
    "CX103": "requests without it are rejected",
    "CX105": "requests that still send it are rejected",
    "CX106": "requests without it are rejected",
    "CX108": "some values accepted before are rejected now",
    "CX110": "values of the old type are rejected",
    "CX121": "the type is both sent and returned",
    "CX204": "its data is dropped",
    "CX206": "existing rows need a value",
    "CX208": "existing rows must be converted",
    "CX210": "rows holding null must be backfilled",
    "CX304": "consumers reading it break",
    "CX305": "consumers reading it break",
    "CX804": "runs queued with the old input fail",
}


@dataclass(frozen=True)
class Shape:
    """One field as the lock records it."""

    type: str
    optional: bool
    default: str | None
    attributes: tuple[str, ...]  # without `@default(...)`

    @property
    def required(self) -> bool:
        return not self.optional and self.default is None


def shapes(item: Json, key: str) -> dict[str, Shape]:
    """The fields of a lock item's block (`input`, `payload`, `fields`)."""
    block = item.get(key)
    found: dict[str, Shape] = {}
    for name, spec in (block.items() if isinstance(block, dict) else ()):
        if not isinstance(spec, dict):
            continue
        attributes = strings(spec.get("attributes"))
        default = spec.get("default") if isinstance(spec.get("default"), str) else None
        for attr in attributes:
            match = _DEFAULT.fullmatch(attr)
            default = default or (match.group("value") if match else None)
        found[name] = Shape(str(spec.get("type")), spec.get("optional") is True, default,
                            tuple(a for a in attributes if not _DEFAULT.fullmatch(a)))
    return found


@dataclass
class Block:
    """One block being compared, with what the messages and approvals need."""

    differ: Differ
    module: str
    owner: str  # "operation `order v1`"
    role: Role
    span: Span | None  # the owner's span in the current specs
    decls: dict[str, ir.FieldDecl]  # the current fields, by name
    approval: str | None = None  # the owner's approval (an entity's `@@allowBreaking`)
    released: Released | None = None

    def add(self, code: str, name: str, what: str, decl: ir.FieldDecl | None) -> None:
        why = _WHY.get(code)
        subject = f"{self.role.value} `{name}` of {self.owner}"
        approval = (attribute_reason(decl.attributes) if decl is not None else None)
        self.differ.add(code, self.module, subject,
                        f"{subject} {what}" + (f": {why}" if why else ""),
                        decl.name_span if decl is not None else self.span,
                        approval=approval or self.approval, released=self.released)


def compare_blocks(block: Block, old: dict[str, Shape], new: dict[str, Shape]) -> list[str]:
    """Report the changes between two blocks; returns the fields removed (not renamed)."""
    codes = CODES[block.role]
    renames = {former: name for name, decl in block.decls.items()
               if (former := renamed_from(decl.attributes)) is not None
               and former in old and former not in new and name not in old}
    removed: list[str] = []
    for name in old:
        if name in new:
            _compare_field(block, name, old[name], new[name])
        elif name in renames:
            now = renames[name]
            block.add(codes.renamed, now, f"was renamed from `{name}`", block.decls.get(now))
            _compare_field(block, now, old[name], new[now])
        else:
            removed.append(name)
            block.add(codes.removed, name, "was removed", None)
    for name, shape in new.items():
        if name not in old and name not in renames.values():
            required = shape.required if block.role is not Role.PAYLOAD else not shape.optional
            code = codes.required_added if required else codes.optional_added
            block.add(code, name, "was added" + (" as required" if required else ""),
                      block.decls.get(name))
    return removed


def _compare_field(block: Block, name: str, old: Shape, new: Shape) -> None:
    codes, decl, role = CODES[block.role], block.decls.get(name), block.role
    change = compare_types(old.type, new.type)
    shown = f"from `{old.type}` to `{new.type}`"
    if change is TypeChange.SCALE:
        block.differ.add("CX601", block.module, f"{role.value} `{name}` of {block.owner}",
                         f"the amount {role.value} `{name}` of {block.owner} changed {shown}: "
                         "stored and sent amounts are read with another precision or scale",
                         decl.name_span if decl else block.span,
                         approval=(attribute_reason(decl.attributes) if decl else None)
                         or block.approval, released=block.released)
        if role is not Role.COLUMN:  # clients or consumers see another type, too
            block.add(codes.changed, name, f"changed type {shown}", decl)
    elif change is not TypeChange.SAME:
        code = {TypeChange.NARROWED: codes.narrowed, TypeChange.WIDENED: codes.widened,
                TypeChange.CHANGED: codes.changed}[change]
        block.add(code, name, f"changed type {shown}", decl)
    if role is Role.COLUMN:
        if old.optional and not new.optional:
            block.add("CX212" if new.default is not None else codes.made_required, name,
                      "became required" + (f" with the default `{new.default}`"
                                           if new.default is not None else ""), decl)
        elif new.optional and not old.optional:
            block.add(codes.made_optional, name, "became optional", decl)
    else:
        was = old.required if role is not Role.PAYLOAD else not old.optional
        now = new.required if role is not Role.PAYLOAD else not new.optional
        if now and not was:
            block.add(codes.made_required, name, "became required", decl)
        elif was and not now:
            block.add(codes.made_optional, name, "became optional", decl)
    both = old.default is not None and new.default is not None
    if old.default != new.default and (both or role is Role.PAYLOAD
                                       or (old.optional and new.optional)):
        before, after = (f"`{d}`" if d is not None else "none" for d in (old.default,
                                                                           new.default))
        block.differ.add("CX603", block.module, f"{role.value} `{name}` of {block.owner}",
                         f"the default of {role.value} `{name}` of {block.owner} changed from "
                         f"{before} to {after}: new records get another value",
                         decl.name_span if decl else block.span,
                         approval=(attribute_reason(decl.attributes) if decl else None)
                         or block.approval, released=block.released)
    _compare_attributes(block, name, old, new, decl)


def _names(attributes: tuple[str, ...]) -> dict[str, str]:
    return {m.group(1): a for a in attributes if (m := _ATTRIBUTE_NAME.match(a))}


def _compare_attributes(block: Block, name: str, old: Shape, new: Shape,
                        decl: ir.FieldDecl | None) -> None:
    codes, role = CODES[block.role], block.role
    before, after = _names(old.attributes), _names(new.attributes)
    for attr in sorted(set(before) | set(after)):
        if before.get(attr) == after.get(attr):
            continue
        shown = f"`{after.get(attr) or before.get(attr)}`"
        what = (f"gained {shown}" if attr not in before else f"lost {shown}"
                if attr not in after else f"changed `{before[attr]}` to `{after[attr]}`")
        if role is Role.COLUMN and attr == "unique":
            code = "CX213" if attr in after else "CX214"
        elif role is Role.COLUMN and attr == "index":
            code = "CX214"
        elif attr == "pattern" and role in (Role.INPUT, Role.JOB):
            code = codes.narrowed if attr in after else codes.widened
        else:
            code = codes.validation
        block.add(code, name, what, decl)
