"""What the change analysis records, and the state it works with.

Each change has a stable code from the catalog (contractspec/evolve/catalog.py), so a
surface and a level, a subject ("operation `createDeal v1`"), an explanation, the span in
the current specs where it can be seen (for something removed: the declaration that held it,
or the module header), and, when the specs approve it, the reason. A change is approved by
`@allowBreaking("why")` on the field it concerns, `@@allowBreaking("why")` on the entity it
concerns, or a comment `// cspec-allow-breaking CX204: why` on the line of the change's span
or on its own line just before it (the module header for removed declarations).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from contractspec.evolve.catalog import KINDS, ChangeKind, Level, Surface
from contractspec.evolve.lock import Json
from contractspec.ir import nodes as ir
from contractspec.source import SourceFile, Span

_APPROVAL = re.compile(
    r"//\s*cspec-allow-breaking\b\s*(?P<codes>(?:CX\d+[\s,]*)*)(?::\s*(?P<reason>.*))?$")
_CODE = re.compile(r"CX\d+")

Released = tuple[str, str, str]  # ("operations" | "events", name, version key)


@dataclass(frozen=True)
class Change:
    kind: ChangeKind
    module: str
    subject: str  # what changed: "input field `sku` of operation `order v1`"
    message: str  # the explanation
    span: Span | None  # where it shows in the current specs
    approved: str | None = None  # the reason it was approved with
    released: Released | None = None  # the operation or event version it changes

    @property
    def code(self) -> str:
        return self.kind.code

    @property
    def level(self) -> Level:
        return self.kind.level

    @property
    def surface(self) -> Surface:
        return self.kind.surface

    def fails(self, threshold: Level | None) -> bool:
        """Whether this change fails `--fail-on threshold` (approved ones never do)."""
        return (threshold is not None and self.approved is None
                and self.level.rank <= threshold.rank)

    def to_json(self, path_of: Callable[[str], str]) -> dict[str, Any]:
        span = self.span
        return {
            "code": self.code, "name": self.kind.name, "surface": self.surface.value,
            "level": self.level.value, "module": self.module, "subject": self.subject,
            "message": self.message, "approved": self.approved,
            "file": path_of(span.file) if span else None,
            "range": {"start": {"line": span.start_line, "column": span.start_col},
                      "end": {"line": span.end_line, "column": span.end_col}} if span else None,
        }


@dataclass
class _Comment:
    line: int
    codes: set[str]
    reason: str


def _comment_approvals(source: SourceFile) -> list[_Comment]:
    found: list[_Comment] = []
    lines = source.text.split("\n")
    for index, text in enumerate(lines):
        match = _APPROVAL.search(text) if "cspec-allow-breaking" in text else None
        if match is None:
            continue
        codes = set(_CODE.findall(match.group("codes") or ""))
        reason = (match.group("reason") or "").strip()
        if not codes or not reason:
            continue
        target = index + 1
        if not text[:match.start()].strip():  # on its own line: the next code line
            target = next((k + 1 for k in range(index + 1, len(lines))
                           if lines[k].strip() and not lines[k].strip().startswith("//")),
                          target)
        found.append(_Comment(target, codes, reason))
    return found


def attribute_reason(attributes: tuple[ir.Attribute, ...]) -> str | None:
    """The reason of an `@allowBreaking("why")` (or `@@allowBreaking`) among attributes."""
    for attr in attributes:
        if attr.name == "allowBreaking" and attr.args and isinstance(
                arg := attr.args[0], ir.LiteralExpr) and isinstance(arg.value, str):
            return arg.value
    return None


def renamed_from(attributes: tuple[ir.Attribute, ...]) -> str | None:
    """The former name an `@renamedFrom(old)` (or `@@renamedFrom`) gives."""
    for attr in attributes:
        if attr.name == "renamedFrom" and attr.args and isinstance(
                arg := attr.args[0], ir.PathExpr):
            return arg.parts[-1]
    return None


@dataclass
class Differ:
    """The two snapshots being compared, the current IR, and the changes found so far."""

    old: Json  # module name -> module lock (the base)
    new: Json  # module name -> module lock (the current specs)
    program: ir.Program
    sources: dict[str, SourceFile]
    changes: list[Change] = field(default_factory=list)
    _comments: dict[str, list[_Comment]] = field(default_factory=dict)

    def add(self, code: str, module: str, subject: str, message: str, span: Span | None, *,
            approval: str | None = None, released: Released | None = None) -> None:
        """Record a change; `approval` is the reason given on its field or entity."""
        reason = approval or self._comment(code, span)
        self.changes.append(Change(KINDS[code], module, subject, message, span, reason,
                                   released))

    def _comment(self, code: str, span: Span | None) -> str | None:
        if span is None or span.file not in self.sources:
            return None
        if span.file not in self._comments:
            self._comments[span.file] = _comment_approvals(self.sources[span.file])
        return next((c.reason for c in self._comments[span.file]
                     if c.line == span.start_line and code in c.codes), None)

    def module(self, name: str) -> ir.Module | None:
        found = self.program.module(name)
        return found if found is not None and not found.std else None

    def module_span(self, name: str) -> Span | None:
        module = self.module(name)
        return module.headers[0].name_span if module is not None and module.headers else None


# ---- reading snapshots defensively (a lock file may have been edited by hand) ------------


def section(module: Json, name: str) -> dict[str, Json]:
    """A section of a module lock: name -> item, items that are not objects left out."""
    items = module.get(name)
    return {k: v for k, v in items.items() if isinstance(v, dict)} if isinstance(
        items, dict) else {}


def versioned(module: Json, name: str) -> dict[tuple[str, str], Json]:
    """A versioned section flattened: (name, version) -> item."""
    return {(n, v): item for n, versions in section(module, name).items()
            for v, item in versions.items() if isinstance(item, dict)}


def same(item: Json, now: Json) -> bool:
    """Whether two lock items hash the same: the same contract, nothing to compare."""
    return isinstance(item.get("hash"), str) and item.get("hash") == now.get("hash")


def text_of(item: Json, key: str) -> str | None:
    value = item.get(key)
    return value if isinstance(value, str) else None


def strings(value: Any) -> list[str]:
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []
