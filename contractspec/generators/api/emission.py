"""Events emitted by generated code: the payload of an event built from a record.

A payload field is filled, in this order, from the record's field of the same name (a `ref`
by its key; never a `@secret` one), from the record itself when the field references the
record's entity, from the actor when it references `identity.User`; an optional field left
over is omitted. When a required field cannot be filled this way, the operation needs a
handler (it emits itself).
"""

from __future__ import annotations

from dataclasses import dataclass

from contractspec.check.symbols import SymbolTable
from contractspec.generators.api.access import USER, AccessModel, EntityAccess
from contractspec.generators.db.naming import py_str
from contractspec.generators.events.shapes import Catalog, EventVersion
from contractspec.ir import nodes as ir


@dataclass(frozen=True)
class Emission:
    event: EventVersion
    payload: tuple[tuple[str, str], ...]  # (JSON name, Python source over row/actor)

    def call(self, indent: str, row: str = "row") -> list[str]:
        """`outbox.emit(session, actor, events.X, events.XPayload.model_validate({...}))`,
        within 99 columns."""
        cls = f"events.{self.event.class_name}"
        items = [f"{py_str(name)}: {source.replace('row.', f'{row}.')}"
                 for name, source in self.payload]
        inner, deeper = indent + "    ", indent + "        "
        first = f"{indent}outbox.emit(session, actor, {cls}, {cls}Payload.model_validate({{"
        if len(first) <= 99:
            return [first, *(f"{inner}{item}," for item in items), f"{indent}}}))"]
        return [f"{indent}outbox.emit(", f"{inner}session, actor, {cls},",
                f"{inner}{cls}Payload.model_validate({{",
                *(f"{deeper}{item}," for item in items), f"{inner}}}),", f"{indent})"]


def event_index(catalog: Catalog) -> dict[tuple[str, int], EventVersion]:
    """The catalog's event versions by module and declaration (`id` of the IR node)."""
    return {(e.module, id(e.decl)): e for e in catalog.events}


def emission(event: EventVersion, entity: EntityAccess, access: AccessModel,
             symbols: SymbolTable) -> Emission | None:
    """How to emit `event` from a record of `entity`, or None when it cannot be built."""
    payload: list[tuple[str, str]] = []
    for f in event.decl.payload:
        source = _source(f, event.module, entity, access, symbols)
        if source is not None:
            payload.append((f.name, source))
        elif not f.type.optional:
            return None
    return Emission(event, tuple(payload))


def _source(f: ir.FieldDecl, module: str, entity: EntityAccess, access: AccessModel,
            symbols: SymbolTable) -> str | None:
    own = entity.table.entity.field(f.name)
    if own is not None and own.attribute("secret") is None and \
            own.type.is_list == f.type.is_list:
        column = access.column(entity.table, own)
        if column is not None:
            return f"row.{column.attr}"
    if f.type.is_ref and not f.type.is_list:
        target = symbols.lookup(module, f.type.name, "type", frozenset({"entity"})).symbol
        if target is not None and target.qualified == entity.key:
            return f"row.{entity.table.key.attr}"
        if target is not None and target.qualified == USER:
            return "actor.user_id"
    return None
