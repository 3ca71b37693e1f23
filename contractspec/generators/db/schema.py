"""The relational schema of a program: tables, columns, keys and constraints.

Both writers (the SQLAlchemy models and the initial migration) render this one model, so
the two always describe the same database. Mapping decisions live here:
- `@id` is the primary key (a `uuid` one gets `uuid.uuid4` as Python default);
- `ref X` is a `<field>_id` column with a foreign key to X's key: `RESTRICT` on delete when
  the reference is required (a record still pointed at cannot be deleted), `SET NULL` when
  optional; a foreign key that closes a cycle between tables is created after the tables;
- string lengths give `String(max)` and a `CHECK` on `length()` (SQLite ignores `VARCHAR(n)`),
  number bounds a `CHECK` on the value, enums a `CHECK` on the allowed values;
- `@unique`/`@@unique` are unique constraints, `@index`/`@@index`/`@tenant` indexes.
"""

from __future__ import annotations

import datetime as dt
import heapq
from collections import Counter
from dataclasses import dataclass, field, replace

from contractspec.check.symbols import SCALARS, SymbolTable
from contractspec.generators.db.naming import (
    attribute_name,
    class_names,
    column_name,
    member_name,
    py_str,
    snake,
    sql_identifier,
    table_name,
)
from contractspec.generators.memo import per_program
from contractspec.ir import nodes as ir

LENGTH_TYPES = frozenset({"string", "text", "email", "url"})
NUMBER_TYPES = frozenset({"int", "bigint", "decimal", "money"})

PY_TYPES = {
    "string": "str", "text": "str", "email": "str", "url": "str", "int": "int",
    "bigint": "int", "decimal": "decimal.Decimal", "money": "decimal.Decimal", "bool": "bool",
    "date": "datetime.date", "datetime": "datetime.datetime", "duration": "datetime.timedelta",
    "uuid": "uuid.UUID", "json": "dict[str, Any]",
}
SA_TYPES = {
    "text": "Text()", "int": "Integer()", "bigint": "BigInteger()", "money": "Numeric(19, 4)",
    "bool": "Boolean()", "date": "Date()", "datetime": "DateTime(timezone=True)",
    "duration": "Interval()", "uuid": "Uuid()", "json": "JSON()",
}


@dataclass(frozen=True)
class EnumType:
    class_name: str
    module: str
    decl: ir.EnumDecl

    @property
    def values(self) -> tuple[str, ...]:
        return tuple(v.name for v in self.decl.values)

    @property
    def length(self) -> int:
        return max((len(v) for v in self.values), default=1)


@dataclass(frozen=True)
class ForeignKey:
    table: str
    column: str
    ondelete: str
    deferred: bool = False  # closes a cycle: created after the tables


@dataclass
class Column:
    attr: str
    name: str
    py_type: str
    sa_type: str  # without the `sa.` prefix; enums are rendered from `enum`
    nullable: bool
    primary_key: bool = False
    unique: bool = False
    index: bool = False
    default: str | None = None
    server_default: str | None = None
    foreign_key: ForeignKey | None = None
    enum: EnumType | None = None
    comment: str | None = None
    info: tuple[str, ...] = ()  # `pii`, `secret`


@dataclass(frozen=True)
class Relationship:
    attr: str
    target_class: str
    optional: bool
    foreign_key_attr: str
    remote_side: str | None = None  # the key attribute, on a reference to the same table
    explicit: bool = False  # several references to one table: name the foreign key
    post_update: bool = False  # on a cycle of references


@dataclass(frozen=True)
class Check:
    name: str  # short: `<column>_length`; the naming convention prefixes `ck_<table>_`
    sql: str


@dataclass
class Table:
    name: str
    class_name: str
    module: str
    entity: ir.EntityDecl
    columns: list[Column] = field(default_factory=list)
    relationships: list[Relationship] = field(default_factory=list)
    uniques: list[tuple[str, ...]] = field(default_factory=list)
    indexes: list[tuple[str, ...]] = field(default_factory=list)
    checks: list[Check] = field(default_factory=list)

    @property
    def key(self) -> Column:
        return next(c for c in self.columns if c.primary_key)


@dataclass
class Schema:
    tables: list[Table]  # in dependency order (a table after those it references)
    enums: list[EnumType]

    def uses(self, module: str) -> bool:
        """Whether some column's type or default needs this standard module."""
        prefix = f"{module}."
        return any(c.py_type.startswith(prefix) or (c.default or "").startswith(prefix)
                   for t in self.tables for c in t.columns)


@per_program
def build_schema(program: ir.Program) -> Schema:
    return _Builder(program).build()


class _Builder:
    def __init__(self, program: ir.Program) -> None:
        self.program = program
        self.symbols = SymbolTable(program)
        self.classes = class_names(program)
        self.enums = {(m.name, e.name): EnumType(self.classes[(m.name, e.name)], m.name, e)
                      for m in program.modules for e in m.enums}

    def build(self) -> Schema:
        tables = [self.table(m, e) for m in self.program.modules for e in m.entities]
        ordered = _dependency_order(tables)
        by_name = {t.name: t for t in ordered}
        links = Counter(frozenset((t.name, c.foreign_key.table)) for t in ordered
                        for c in t.columns if c.foreign_key)
        for t in ordered:
            self.relationships(t, by_name, links)
        return Schema(ordered, list(self.enums.values()))

    # ---- one method per node kind ---------------------------------------------------------

    def table(self, module: ir.Module, entity: ir.EntityDecl) -> Table:
        table = Table(table_name(module.name, entity.name),
                      self.classes[(module.name, entity.name)], module.name, entity)
        if not any(f.attribute("id") for f in entity.fields):
            table.columns.append(Column("id", "id", "uuid.UUID", "Uuid()", False,
                                        primary_key=True, default="uuid.uuid4"))
        for f in entity.fields:
            column = self.column(table, f)
            if column is not None:
                table.columns.append(column)
        _unique_attributes(table)
        by_field = {f.name: c.name for f in entity.fields
                    for c in table.columns if c.name == column_name(f)}
        for attr in entity.constraints:
            names = tuple(by_field[a.parts[0]] for a in attr.args
                          if isinstance(a, ir.PathExpr) and a.parts[0] in by_field)
            if attr.name == "unique" and names:
                table.uniques.append(names)
            elif attr.name == "index" and names:
                table.indexes.append(names)
        return table

    def column(self, table: Table, f: ir.FieldDecl) -> Column | None:
        ref = f.type
        name = column_name(f)
        column = Column(attribute_name(name), name, "", "", ref.optional,
                        primary_key=f.attribute("id") is not None,
                        unique=f.attribute("unique") is not None,
                        index=f.attribute("index") is not None or
                        f.attribute("tenant") is not None,
                        comment=f.doc,
                        info=tuple(a for a in ("pii", "secret") if f.attribute(a)))
        if ref.is_ref:
            return self.reference(table, f, column)
        if ref.is_list:
            column.py_type, column.sa_type = "list[Any]", "JSON()"
        elif ref.name in SCALARS:
            column.py_type, column.sa_type = PY_TYPES[ref.name], _sa_scalar(ref)
            table.checks.extend(_checks(name, ref))
        elif (enum := self._enum(table.module, ref.name)) is not None:
            column.py_type, column.enum = enum.class_name, enum
            values = ", ".join(f"'{v}'" for v in enum.values)
            table.checks.append(Check(f"{name}_enum", f"{sql_identifier(name)} IN ({values})"))
        else:  # a `type`: embedded as a JSON document
            column.py_type, column.sa_type = "dict[str, Any]", "JSON()"
        if column.primary_key and ref.name == "uuid":
            column.default = "uuid.uuid4"
        if column.primary_key and ref.name == "bigint":
            column.sa_type = 'BigInteger().with_variant(sa.Integer(), "sqlite")'
        self.default(column, f)
        return column

    def reference(self, table: Table, f: ir.FieldDecl, column: Column) -> Column | None:
        target = self.symbols.lookup(table.module, f.type.name, "type",
                                     frozenset({"entity"})).symbol
        if target is None:
            return None
        key = _key_field(target.decl)
        column.py_type = PY_TYPES.get(key.type.name, "uuid.UUID") if key else "uuid.UUID"
        column.sa_type = _sa_scalar(key.type) if key else "Uuid()"
        if key and key.type.name == "bigint":
            column.sa_type = 'BigInteger().with_variant(sa.Integer(), "sqlite")'
        column.foreign_key = ForeignKey(table_name(target.module, target.name),
                                        column_name(key) if key else "id",
                                        "SET NULL" if f.type.optional else "RESTRICT")
        return column

    def default(self, column: Column, f: ir.FieldDecl) -> None:
        attr = f.attribute("default")
        expr = f.default if f.default is not None else (
            attr.args[0] if attr is not None and len(attr.args) == 1 else None)
        if expr is None:
            return
        kind = "list" if f.type.is_list else "enum" if column.enum else f.type.name
        column.default, column.server_default = _default(kind, expr, column.enum)

    def relationships(self, table: Table, by_table: dict[str, Table],
                      links: Counter[frozenset[str]]) -> None:
        """A many-to-one `relationship` per reference; `foreign_keys` named when two tables
        are linked by more than one foreign key (either way)."""
        attrs = {c.attr for c in table.columns}
        refs = [(f, c) for f in table.entity.fields for c in table.columns
                if f.type.is_ref and c.name == column_name(f) and c.foreign_key]
        for f, c in refs:
            fk = c.foreign_key
            rel = attribute_name(snake(f.name))
            if fk is None or rel in attrs or fk.table not in by_table:
                continue
            target = by_table[fk.table]
            attrs.add(rel)
            table.relationships.append(Relationship(
                rel, target.class_name, f.type.optional, c.attr,
                remote_side=target.key.attr if target is table else None,
                explicit=links[frozenset((table.name, fk.table))] > 1, post_update=fk.deferred))

    def _enum(self, module: str, name: str) -> EnumType | None:
        sym = self.symbols.lookup(module, name, "type", frozenset({"enum"})).symbol
        return self.enums.get((sym.module, sym.name)) if sym is not None else None


# ---- helpers ------------------------------------------------------------------------------


def _key_field(entity: ir.EntityDecl) -> ir.FieldDecl | None:
    return next((f for f in entity.fields if f.attribute("id") is not None), None)


def _unique_attributes(table: Table) -> None:
    """A key is unique and indexed already."""
    for c in table.columns:
        if c.primary_key:
            c.unique = c.index = False
        elif c.unique:
            c.index = False


def _max_length(ref: ir.TypeRef) -> int | None:
    if not ref.args:
        return None
    arg = ref.args[-1]
    text = arg.max if arg.is_range else arg.value
    return int(text) if text and text.isdigit() else None


def _sa_scalar(ref: ir.TypeRef) -> str:
    if ref.name in LENGTH_TYPES:
        length = _max_length(ref)
        return f"String({length})" if length is not None else "Text()"
    if ref.name == "decimal":
        digits = [a.value for a in ref.args if not a.is_range]
        return f"Numeric({digits[0]}, {digits[1]})" if len(digits) == 2 else "Numeric()"
    return SA_TYPES.get(ref.name, "JSON()")


def _checks(column: str, ref: ir.TypeRef) -> list[Check]:
    sql = sql_identifier(column)
    if ref.name in LENGTH_TYPES and ref.args:
        arg = ref.args[-1]
        low, high = (arg.min, arg.max) if arg.is_range else (None, arg.value)
        name, subject = f"{column}_length", f"length({sql})"
        low = None if low == "0" else low
    elif ref.name in NUMBER_TYPES and (ranges := [a for a in ref.args if a.is_range]):
        low, high = ranges[0].min, ranges[0].max
        name, subject = f"{column}_range", sql
    else:
        return []
    parts = ([f"{subject} >= {low}"] if low is not None else []) + (
        [f"{subject} <= {high}"] if high is not None else [])
    return [Check(name, " AND ".join(parts))] if parts else []


def _default(kind: str, expr: ir.Expr, enum: EnumType | None) -> tuple[str | None, str | None]:
    """(Python-side `default=`, `server_default=`) for a field's default value; a server
    default only where SQLite and PostgreSQL read the same literal."""
    if isinstance(expr, ir.PathExpr):
        if expr.parts == ("now",):
            return None, "sa.func.current_date()" if kind == "date" else "sa.func.now()"
        if enum is not None:
            member = expr.parts[-1]
            return f"{enum.class_name}.{member_name(member)}", py_str(member)
        return None, None
    if isinstance(expr, ir.ListExpr):
        items = [_python_value(item) for item in expr.items]
        if not items:
            return "list", """sa.text("'[]'")"""
        return f"lambda: [{', '.join(i for i in items if i is not None)}]", None
    sign = ""
    if isinstance(expr, ir.UnaryExpr) and isinstance(expr.operand, ir.LiteralExpr):
        sign, expr = ("-" if expr.op == "-" else ""), expr.operand
    if not isinstance(expr, ir.LiteralExpr) or expr.value is None:
        return None, None
    value = expr.value
    if kind in LENGTH_TYPES:
        return py_str(str(value)), py_str(str(value))
    if kind in ("int", "bigint"):
        return f"{sign}{value}", f'sa.text("{sign}{value}")'
    if kind in ("decimal", "money"):
        number = f"{sign}{expr.text}"
        arg = number if expr.type == "int" else py_str(number)
        return f"decimal.Decimal({arg})", f'sa.text("{number}")'
    if kind == "bool":
        return repr(bool(value)), "sa.true()" if value else "sa.false()"
    if kind == "date":
        return repr(dt.date.fromisoformat(str(value))), None
    if kind == "datetime":
        moment = repr(dt.datetime.fromisoformat(str(value)))
        return moment.replace("datetime.timezone.utc", "datetime.UTC"), None
    if kind == "uuid":
        return f'uuid.UUID("{value}")', None
    if kind == "duration":
        return f"datetime.timedelta(seconds={value!r})", None
    written = _python_value(expr)
    return (f"{sign}{written}" if written is not None else None), None


def _python_value(expr: ir.Expr) -> str | None:
    """A literal written as Python (JSON defaults and list items)."""
    if isinstance(expr, ir.UnaryExpr) and isinstance(expr.operand, ir.LiteralExpr):
        inner = _python_value(expr.operand)
        return f"-{inner}" if inner is not None and expr.op == "-" else inner
    if isinstance(expr, ir.PathExpr) and len(expr.parts) == 1:
        return py_str(expr.parts[0])  # an enum value inside a JSON list
    if not isinstance(expr, ir.LiteralExpr) or expr.type in ("null", "percent", "size"):
        return None
    if isinstance(expr.value, str):
        return py_str(expr.value)
    return repr(expr.value)


def _dependency_order(tables: list[Table]) -> list[Table]:
    """Tables after the tables they reference, else in declaration order; a reference that
    closes a cycle is marked deferred (its foreign key is added once both tables exist).

    Each step places the pending table with the fewest references to unplaced tables (the
    first declared among equals), kept in a heap with lazily dropped stale entries."""
    names = {t.name for t in tables}
    waiting = {i: [d for d in _hard_deps(t) if d in names] for i, t in enumerate(tables)}
    users: dict[str, list[int]] = {}
    for i, deps in waiting.items():
        for dep in deps:
            users.setdefault(dep, []).append(i)
    count = {i: len(deps) for i, deps in waiting.items()}
    heap = [(n, i) for i, n in count.items()]
    heapq.heapify(heap)
    done: list[Table] = []
    placed: set[str] = set()
    while heap:
        n, i = heapq.heappop(heap)
        if i not in count or count[i] != n:
            continue
        ready = tables[i]
        del count[i]
        if n:
            for c in ready.columns:
                fk = c.foreign_key
                if fk and fk.table != ready.name and fk.table not in placed:
                    c.foreign_key = replace(fk, deferred=True)
        placed.add(ready.name)
        done.append(ready)
        for user in users.get(ready.name, ()):
            if user in count:
                count[user] -= 1
                heapq.heappush(heap, (count[user], user))
    return done


def _hard_deps(table: Table) -> list[str]:
    return [c.foreign_key.table for c in table.columns
            if c.foreign_key and not c.foreign_key.deferred and c.foreign_key.table != table.name]
