"""Which operations the generated API implements as CRUD, as a fact the checker can use.

`create|update|delete|get<Entity>` and `list<Entity>`, `list<Entity>s`, `list<Entity>es` on an
entity visible from the operation's module, of the shape the CRUD code serves (a create or
update whose inputs are all fields of the entity): the api
target implements them with SQLAlchemy (`generators/api/model.py`) and the ui target's forms
call them, so the checker can tell when a form has nothing to call (`rules/views.py`).
"""

from __future__ import annotations

from contractspec.check.symbols import Symbol, SymbolTable
from contractspec.ir import nodes as ir

CRUD_VERBS = ("create", "update", "delete", "get", "list")


def crud_shape(symbols: SymbolTable, module: str,
               op: ir.OperationDecl) -> tuple[str, Symbol] | None:
    """(verb, entity) when the operation of `module` is implemented as CRUD, else None."""
    for verb in CRUD_VERBS:
        rest = op.name[len(verb):] if op.name.startswith(verb) else ""
        if not rest[:1].isupper():
            continue
        names = [rest]
        if verb == "list":
            names += [rest[:-1]] * rest.endswith("s") + [rest[:-2]] * rest.endswith("es")
        for name in names:
            sym = symbols.lookup(module, name, "type", frozenset({"entity"})).symbol
            if sym is not None and sym.kind == "entity" and crud_fits(verb, op, sym):
                return verb, sym
    return None


def crud_fits(verb: str, op: ir.OperationDecl, sym: Symbol) -> bool:
    """The operation's shape is the one the CRUD implementation serves."""
    out = op.output
    returns = out is not None and not out.generics and out.name.split(".")[-1] == sym.name
    key = key_field(sym.decl)
    has_key = key is not None and any(f.name == key.name and not f.type.optional for f in op.input)
    # CRUD writes each input to the entity field of its name: an input naming no field
    # would be dropped, so such an operation is a handler's (`createDocument(file)` fills
    # `current`), never CRUD that loses data or leaves a required field empty.
    writes_fields = {f.name for f in op.input} <= {f.name for f in sym.decl.fields}
    if verb == "create":
        return op.kind == "command" and returns and writes_fields
    if verb == "update":
        return op.kind == "command" and returns and has_key and writes_fields
    if verb == "delete":
        return op.kind == "command" and has_key and (out is None or returns)
    if verb == "get":
        return op.kind == "query" and returns and has_key
    return (op.kind == "query" and out is not None and out.name == "page"
            and len(out.generics) == 1 and out.generics[0].name.split(".")[-1] == sym.name)


def key_field(entity: ir.EntityDecl) -> ir.FieldDecl | None:
    """The entity's `@id` field (the generated table adds a uuid `id` when there is none)."""
    return next((f for f in entity.fields if f.attribute("id") is not None), None)

