"""Access rules as code: tenant scopes, entity policy rules and operation policies.

Every access expression of the spec (see `contractspec.check.access`) is compiled twice:
- to a Python condition over `actor` (the signed-in member) and `row` (the record), used to
  allow or refuse a create, update, delete or workflow transition;
- to a SQLAlchemy condition over the entity's model, used to filter reads (a record a member
  may not read is answered 404, like a record of another organisation).

Tenancy (see `contractspec.check.tenancy`): a `@tenant` field is compared with the actor's
organisation; the tenant root (`identity.Org`) is the actor's organisation only; an entity
owned through a `ref` is visible when its owner is (`.has(...)`); `identity.User` records are
the users with a membership in the actor's organisation; `@@global` and other entities are
not scoped.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from contractspec.check.access import ACTOR, AUTHENTICATED, SELF
from contractspec.check.symbols import Symbol, SymbolTable
from contractspec.check.tenancy import Tenancy, build_tenancy
from contractspec.generators.db.naming import column_name, member_name, py_str
from contractspec.generators.db.schema import Column, Schema, Table
from contractspec.generators.runtime import IDENTITY, MODULE
from contractspec.ir import nodes as ir
from contractspec.ir.text import expr_text

COMPARISONS = frozenset({"==", "!=", "<", "<=", ">", ">="})
USER, ORG, MEMBERSHIP = f"{IDENTITY}.User", f"{IDENTITY}.Org", f"{IDENTITY}.OrgMembership"


class Unsupported(Exception):
    """An access expression the generated code cannot evaluate (reported, never guessed)."""


@dataclass
class EntityAccess:
    """What the generated code needs to guard one entity's records."""

    symbol: Symbol
    table: Table
    rules: dict[str, ir.Expr] = field(default_factory=dict)  # action -> rule
    tenant_column: Column | None = None  # the `@tenant` column, set from the actor on create

    @property
    def key(self) -> str:
        return self.symbol.qualified

    @property
    def prefix(self) -> str:
        """`deal` for `Deal`: the stem of its policy functions."""
        return _snake_class(self.table.class_name)


def _snake_class(name: str) -> str:
    out = "".join(f"_{c.lower()}" if c.isupper() else c for c in name).lstrip("_")
    return out.replace("__", "_")


@dataclass(frozen=True)
class Combo:
    """`or`/`and` of several conditions, or `not` of one."""

    op: str
    items: list[Cond]


Cond = str | Combo
WIDTH = 99


def render(cond: Cond, sql: bool, indent: str, used: int) -> str:
    """Python source of a condition starting `used` columns into a line indented by
    `indent`; split one item per line when it does not fit."""
    flat = _flat(cond, sql)
    if len(indent) + used + len(flat) <= WIDTH or not isinstance(cond, Combo):
        return flat
    inner = indent + "    "
    if sql:
        parts = [render(i, sql, inner, 0) + "," for i in cond.items]
        return f"sa.{cond.op}_(\n" + "".join(f"{inner}{p}\n" for p in parts) + f"{indent})"
    if cond.op == "not":
        return f"not ({render(cond.items[0], sql, indent, used + 5)})"
    parts = [render(i, sql, inner, len(cond.op) + 1) for i in cond.items]
    lines = [f"{inner}{parts[0]}", *(f"{inner}{cond.op} {p}" for p in parts[1:])]
    return "(\n" + "\n".join(lines) + f"\n{indent})"


def _flat(cond: Cond, sql: bool) -> str:
    if isinstance(cond, str):
        return cond
    if sql:
        return f"sa.{cond.op}_(" + ", ".join(_flat(i, sql) for i in cond.items) + ")"
    if cond.op == "not":
        inner = cond.items[0]
        return f"not ({_flat(inner, sql)})" if isinstance(inner, Combo) \
            else f"not {_flat(inner, sql)}"
    return f" {cond.op} ".join(f"({_flat(i, sql)})" if isinstance(i, Combo) and i.op != "not"
                               else _flat(i, sql) for i in cond.items)


class AccessModel:
    """The access rules of a program's entities, compiled on demand."""

    def __init__(self, program: ir.Program, schema: Schema, symbols: SymbolTable) -> None:
        self.program, self.schema, self.symbols = program, schema, symbols
        self.tenancy: Tenancy = build_tenancy(program, symbols)
        self.tables = {(t.module, t.entity.name): t for t in schema.tables}
        self.entities: dict[str, EntityAccess] = {}
        for table in schema.tables:
            if table.module == MODULE:
                continue
            sym = symbols.lookup(table.module, table.entity.name, "type",
                                 frozenset({"entity"})).symbol
            if sym is None:
                continue
            access = EntityAccess(sym, table)
            tenant = self.tenancy.scoped.get(sym.qualified)
            if tenant is not None:
                access.tenant_column = self.column(table, tenant)
            self.entities[sym.qualified] = access
        for module in program.modules:
            for policy in module.policies:
                sym = symbols.lookup(module.name, policy.entity.name, "type",
                                     frozenset({"entity"})).symbol
                if sym is not None and sym.qualified in self.entities:
                    rules = self.entities[sym.qualified].rules
                    for rule in policy.rules:
                        rules.setdefault(rule.action.name, rule.rule)
        self.roles = sorted({r.name for m in program.modules for r in m.roles})
        self.members = self._members()

    def _members(self) -> tuple[str, str, str] | None:
        """The membership model and its user and organisation attributes."""
        member = self.entities.get(MEMBERSHIP)
        fields = [member.table.entity.field(n) for n in ("user", "org")] if member else []
        columns = [self.column(member.table, f) for f in fields if member and f is not None]
        if member is None or len(columns) != 2 or None in columns:
            return None
        user, org = (c.attr for c in columns if c is not None)
        return f"models.{member.table.class_name}", user, org

    # ---- lookups -------------------------------------------------------------------------

    def of(self, sym: Symbol) -> EntityAccess | None:
        return self.entities.get(sym.qualified)

    def column(self, table: Table, f: ir.FieldDecl) -> Column | None:
        name = column_name(f)
        return next((c for c in table.columns if c.name == name), None)

    def grants(self) -> dict[str, list[str]]:
        """Role -> the permissions granted to it (sorted)."""
        out: dict[str, set[str]] = {role: set() for role in self.roles}
        for module in self.program.modules:
            for grant in module.grants:
                for role in grant.roles:
                    out.setdefault(role.name, set()).update(p.name for p in grant.permissions)
        return {role: sorted(perms) for role, perms in sorted(out.items())}

    # ---- tenancy -------------------------------------------------------------------------

    def scope_sql(self, access: EntityAccess, depth: int = 0) -> str | None:
        """The SQL condition keeping `access`'s records to the actor's organisation."""
        model = f"models.{access.table.class_name}"
        key = access.key
        if key == ORG or key in self.tenancy.roots:
            return f"{model}.{access.table.key.attr} == actor.org_id"
        if key == USER and self.members is not None:
            return f"{model}.{access.table.key.attr}.in_(_member_ids(actor))"
        if access.tenant_column is not None:
            target = self.tenancy.tenant_target(key)
            if target is None or target.qualified in self.tenancy.roots or depth > 4:
                return f"{model}.{access.tenant_column.attr} == actor.org_id"
            return self._through(access, access.tenant_column, target, depth)
        owned = self.tenancy.owned.get(key)
        if owned is not None and depth <= 4:
            column = self.column(access.table, owned.field)
            if column is not None:
                return self._through(access, column, owned.target, depth)
        return None

    def _through(self, access: EntityAccess, column: Column, target: Symbol,
                 depth: int) -> str | None:
        inner = self.entities.get(target.qualified)
        rel = next((r for r in access.table.relationships if r.foreign_key_attr == column.attr),
                   None)
        if inner is None or rel is None:
            return None
        condition = self.scope_sql(inner, depth + 1)
        if condition is None:
            return None
        return f"models.{access.table.class_name}.{rel.attr}.has({condition})"

    # ---- expressions ---------------------------------------------------------------------

    def python(self, expr: ir.Expr, entity: EntityAccess | None) -> Cond:
        """`expr` as a Python condition over `actor` and `row`."""
        return _Compiler(self, entity, sql=False).condition(expr)

    def sql(self, expr: ir.Expr, entity: EntityAccess) -> Cond:
        """`expr` as a SQLAlchemy condition over the entity's model."""
        return _Compiler(self, entity, sql=True).condition(expr)

    def describe(self, expr: ir.Expr) -> str:
        return expr_text(expr)


class _Compiler:
    def __init__(self, model: AccessModel, entity: EntityAccess | None, sql: bool) -> None:
        self.model, self.entity, self.sql = model, entity, sql

    def condition(self, expr: ir.Expr) -> Cond:
        if isinstance(expr, ir.BinaryExpr) and expr.op in ("or", "and"):
            items: list[Cond] = []
            for side in (expr.left, expr.right):
                part = self.condition(side)
                items += part.items if isinstance(part, Combo) and part.op == expr.op \
                    else [part]
            return Combo(expr.op, items)
        if isinstance(expr, ir.UnaryExpr) and expr.op == "not":
            return Combo("not", [self.condition(expr.operand)])
        if isinstance(expr, ir.BinaryExpr) and expr.op in COMPARISONS:
            return self.compare(expr)
        if isinstance(expr, ir.PathExpr):
            if expr.parts == (AUTHENTICATED,):
                return "sa.true()" if self.sql else "True"
            if expr.parts[0] == SELF and len(expr.parts) > 1:
                value, _ = self.path(expr)
                return f"{value}.is_(True)" if self.sql else f"bool({value})"
            if len(expr.parts) == 1:
                test = f"actor.can({py_str(expr.parts[0])})"
                return f"_flag({test})" if self.sql else test
        raise Unsupported(f"cannot evaluate `{self.model.describe(expr)}`")

    def compare(self, expr: ir.BinaryExpr) -> str:
        left, _ = self.operand(expr.left, self.enum_of(expr.right))
        right, _ = self.operand(expr.right, self.enum_of(expr.left))
        return f"{left} {expr.op} {right}"

    def enum_of(self, expr: ir.Expr) -> str | None:
        """The enum class of a `self.<enum field>` path (else None)."""
        if isinstance(expr, ir.PathExpr) and expr.parts[0] == SELF:
            return self.path(expr)[1]
        return None

    def operand(self, expr: ir.Expr, enum: str | None) -> tuple[str, str | None]:
        """Python source of a value, and the enum class when it is an enum field."""
        if isinstance(expr, ir.LiteralExpr):
            if expr.type == "string":
                return py_str(str(expr.value)), None
            return (expr.text if expr.type != "bool" else str(expr.value)), None
        if isinstance(expr, ir.PathExpr):
            head = expr.parts[0]
            if head == ACTOR:
                if len(expr.parts) == 1 or expr.parts[1:] == ("id",):
                    return "actor.user_id", None
                if len(expr.parts) == 2:
                    return f"actor.user_fields[{py_str(expr.parts[1])}]", None
            elif head == SELF:
                return self.path(expr)
            elif len(expr.parts) == 1 and enum is not None:
                return f"enums.{enum}.{member_name(head)}", None
        raise Unsupported(f"cannot evaluate `{self.model.describe(expr)}`")

    def path(self, expr: ir.PathExpr) -> tuple[str, str | None]:
        """`self.a.b`: a column (`row.b`, `models.Deal.b`), following required `ref`s by
        their relationship in Python (`row.deal.owner_id`); the enum class of an enum
        field. In SQL only the record's own columns can be compared."""
        entity = self.entity
        if entity is None:
            raise Unsupported("`self` where there is no record")
        base = f"models.{entity.table.class_name}" if self.sql else "row"
        if len(expr.parts) == 1:
            return f"{base}.{entity.table.key.attr}", None
        steps: list[str] = []
        current = entity
        *hops, last = expr.parts[1:]
        for name in hops:
            decl, column = self.field(current, name)
            rel = next((r for r in current.table.relationships
                        if r.foreign_key_attr == column.attr), None)
            target = self.model.symbols.lookup(current.table.module, decl.type.name, "type",
                                               frozenset({"entity"})).symbol
            nxt = self.model.of(target) if target is not None else None
            if rel is None or nxt is None or rel.optional or self.sql:
                raise Unsupported(f"`{self.model.describe(expr)}`: a read rule compares the "
                                  "record's own fields; other rules follow required `ref`s only")
            steps.append(rel.attr)
            current = nxt
        _, column = self.field(current, last)
        steps.append(column.attr)
        return ".".join([base, *steps]), column.enum.class_name if column.enum else None

    def field(self, entity: EntityAccess, name: str) -> tuple[ir.FieldDecl, Column]:
        decl = entity.table.entity.field(name)
        column = self.model.column(entity.table, decl) if decl is not None else None
        if decl is None or column is None:
            raise Unsupported(f"`{name}` is not a stored field of `{entity.table.entity.name}`")
        return decl, column
