"""Events and their payloads, as the CS5xx checks see them: resolving event references and
walking dotted paths (`deal.owner.email`) through payload fields, `ref`s and `type`s."""

from __future__ import annotations

import difflib
from dataclasses import dataclass

from contractspec.check.context import CheckContext
from contractspec.check.symbols import SCALARS, Symbol, SymbolTable
from contractspec.ir import nodes as ir


def event_label(name: str, version: str | None) -> str:
    return f"{name} {version}" if version else name


def resolve_event(ctx: CheckContext, module: str, ref: ir.EventRef) -> Symbol | None:
    """The event `ref` names, seen from `module`; reports CS201 or CS203 when there is none."""
    found = ctx.symbols.event(module, ref)
    if found.ambiguous:
        options = ", ".join(sorted({s.qualified for s in found.symbols}))
        ctx.report("CS203", f"event `{ref.name}` is ambiguous: it could be {options}", ref.span,
                   help="event names cannot be qualified: rename the event in one module")
        return None
    if found.symbol is not None:
        return found.symbol
    versions = ctx.symbols.lookup(module, ref.name, "event").symbols
    if ref.version is not None and versions:
        declared = ", ".join(sorted(str(s.version) for s in versions if s.version))
        ctx.report("CS201", f"event `{ref.name}` has no version {ref.version}", ref.span,
                   help=f"declared versions: {declared}" if declared else
                   f"`{ref.name}` is declared without a version: drop `{ref.version}`")
    else:
        ctx.report_unknown(ref, "event", found.suggestion)
    return None


@dataclass(frozen=True)
class PathError:
    """Why a path does not resolve: the index of the failing segment, and the words."""

    index: int
    message: str
    suggestion: str | None = None


@dataclass(frozen=True)
class PathEnd:
    """The field a path ends at, and the module that declared it (to resolve its type)."""

    field: ir.FieldDecl
    module: str


def walk_path(symbols: SymbolTable, event: Symbol, parts: list[str]
              ) -> PathEnd | PathError | None:
    """Follow `parts` from the payload of `event` through `ref`s and `type`s; None when a
    type on the way is unknown (the type checks report that)."""
    decl: ir.EventDecl = event.decl
    fields, module = decl.payload, event.module
    owner = f"the payload of `{event_label(decl.name, decl.version)}`"
    end: PathEnd | None = None
    for index, part in enumerate(parts):
        if end is not None:
            inner = _fields_of(symbols, end)
            if isinstance(inner, str):
                return PathError(index, f"`{'.'.join(parts[:index])}` {inner}: it has no "
                                        f"field `{part}`")
            if inner is None:
                return None
            owner, fields, module = inner
        field = next((f for f in fields if f.name == part), None)
        if field is None:
            close = difflib.get_close_matches(part, [f.name for f in fields], n=1, cutoff=0.6)
            return PathError(index, f"{owner} has no field `{part}`",
                             close[0] if close else None)
        end = PathEnd(field, module)
    assert end is not None, "walk_path needs at least one segment"
    return end


def _fields_of(symbols: SymbolTable, end: PathEnd
               ) -> tuple[str, tuple[ir.FieldDecl, ...], str] | str | None:
    """The fields reachable through `end` (owner words, fields, module), or why there are
    none (a string), or None when the type itself is unknown."""
    type_ = end.field.type
    if type_.is_list:
        return "is a list"
    if not type_.is_ref and type_.name in SCALARS:
        return f"is a `{type_.name}` value"
    target = resolve_type(symbols, end.module, type_)
    if target is None:
        return None
    if target.kind == "enum":
        return f"is a value of enum `{target.name}`"
    return f"{target.kind} `{target.name}`", target.decl.fields, target.module


def resolve_type(symbols: SymbolTable, module: str, type_: ir.TypeRef) -> Symbol | None:
    """The entity, type or enum a non-scalar type names, seen from `module`."""
    kinds = frozenset({"entity"}) if type_.is_ref else None
    return symbols.lookup(module, type_.name, "type", kinds).symbol


def type_identity(symbols: SymbolTable, module: str, type_: ir.TypeRef) -> tuple[str, ...]:
    """What makes two field types the same, constraints aside: `ref crm.Task[]`."""
    name = type_.name
    if type_.is_ref or name not in SCALARS:
        target = resolve_type(symbols, module, type_)
        name = target.qualified if target is not None else name
    return ("ref" if type_.is_ref else "", name, "[]" if type_.is_list else "")


def type_text(type_: ir.TypeRef) -> str:
    """A type as a reader writes it (constraints and optionality aside)."""
    return f"{'ref ' if type_.is_ref else ''}{type_.name}{'[]' if type_.is_list else ''}"


def find_event(symbols: SymbolTable, module: str, ref: ir.EventRef | None) -> Symbol | None:
    """The event `ref` names, without reporting (the reference check reports once)."""
    return symbols.event(module, ref).symbol if ref is not None else None
