"""Writes `<app>/migrations/versions/0001_initial.py` from the schema (not by autogenerate).

Tables are created in dependency order with every key, unique and check constraint named
as the models' naming convention names them (`op.f(...)` marks a name as final); a foreign
key closing a cycle is added once both tables exist. `downgrade()` undoes it in reverse.
"""

from __future__ import annotations

import hashlib

from contractspec.generators.db.models import INDENT, call
from contractspec.generators.db.naming import py_str
from contractspec.generators.db.schema import Column, Schema, Table

MIGRATION_PATH = "migrations/versions/0001_initial.py"


def revision_id(app: str) -> str:
    """The initial revision's id: fixed for an app, whatever its schema."""
    return hashlib.sha256(f"{app}:0001_initial".encode()).hexdigest()[:12]


def _names(cols: tuple[str, ...] | list[str]) -> str:
    return "[" + ", ".join(py_str(c) for c in cols) + "]"


class MigrationWriter:
    """Python source of the initial migration: one method per schema node."""

    def __init__(self, schema: Schema, app: str, header: str) -> None:
        self.schema = schema
        self.app = app
        self.header = header

    def module(self) -> str:
        revision = revision_id(self.app)
        lines = [self.header.rstrip("\n"),
                 '"""Initial schema: every table of the spec.', "",
                 f"Revision ID: {revision}", "Revises:", '"""', "",
                 "from collections.abc import Sequence", "",
                 *(["import sqlalchemy as sa", "from alembic import op", ""]
                   if self.schema.tables else []),
                 f'revision: str = "{revision}"',
                 "down_revision: str | Sequence[str] | None = None",
                 "branch_labels: str | Sequence[str] | None = None",
                 "depends_on: str | Sequence[str] | None = None", "", "",
                 "def upgrade() -> None:",
                 f'{INDENT}"""Create every table (referenced tables first), then the '
                 'indexes."""']
        for table in self.schema.tables:
            lines += self.create_table(table)
            lines += self.create_indexes(table)
        lines += self.deferred_foreign_keys(drop=False)
        lines += ["", "", "def downgrade() -> None:",
                  f'{INDENT}"""Drop every table, in reverse order."""']
        lines += self.deferred_foreign_keys(drop=True)
        for table in reversed(self.schema.tables):
            for name, _ in index_list(table):
                lines += call("op.", "drop_index", [f"op.f({py_str(name)})",
                                                     f"table_name={py_str(table.name)}"], INDENT)
            lines.append(f"{INDENT}op.drop_table({py_str(table.name)})")
        return "\n".join(lines) + "\n"

    def create_table(self, table: Table) -> list[str]:
        inner = INDENT * 2
        items = [[f"{inner}{py_str(table.name)}"], *(self.column(c) for c in table.columns)]
        key = [py_str(c.name) for c in table.columns if c.primary_key]
        items.append(call("sa.", "PrimaryKeyConstraint",
                          [*key, f"name=op.f({py_str('pk_' + table.name)})"], inner))
        for c in table.columns:
            fk = c.foreign_key
            if fk is not None and not fk.deferred:
                items.append(call("sa.", "ForeignKeyConstraint", [
                    _names([c.name]), _names([f"{fk.table}.{fk.column}"]),
                    f"name=op.f({py_str(fk_name(table, c, fk.table))})",
                    f"ondelete={py_str(fk.ondelete)}"], inner))
        uniques = [(c.name,) for c in table.columns if c.unique] + table.uniques
        for cols in uniques:
            name = f"uq_{table.name}_{'_'.join(cols)}"
            items.append(call("sa.", "UniqueConstraint",
                              [*(py_str(c) for c in cols), f"name=op.f({py_str(name)})"],
                              inner))
        for check in table.checks:
            name = f"ck_{table.name}_{check.name}"
            items.append(call("sa.", "CheckConstraint",
                              [py_str(check.sql), f"name=op.f({py_str(name)})"], inner))
        lines = [f"{INDENT}op.create_table("]
        for item in items:
            lines += [*item[:-1], item[-1] + ","]
        return [*lines, f"{INDENT})"]

    def column(self, column: Column) -> list[str]:
        args = self.column_args(column)
        args[1] = self.column_type(column, INDENT * 3)  # a long enum spans lines
        return call("sa.", "Column", args, INDENT * 2)

    def column_args(self, column: Column) -> list[str]:
        """The arguments of the column's `sa.Column(...)`."""
        args = [py_str(column.name), self.column_type(column),
                f"nullable={column.nullable}"]
        if column.server_default is not None:
            args.append(f"server_default={column.server_default}")
        if column.comment:
            args.append(f"comment={py_str(' '.join(column.comment.split()))}")
        return args

    def column_type(self, column: Column, indent: str | None = None) -> str:
        """The column's type; with `indent`, an enum too long for one line there spans lines."""
        if column.enum is not None:
            args = [*(py_str(v) for v in column.enum.values), "native_enum=False",
                    f"length={column.enum.length}"]
            if indent is None:
                return f"sa.Enum({', '.join(args)})"
            return "\n".join(call("sa.", "Enum", args, indent)).lstrip()
        return f"sa.{column.sa_type}"

    def create_indexes(self, table: Table) -> list[str]:
        return [
            line
            for name, cols in index_list(table)
            for line in call("op.", "create_index",
                             [f"op.f({py_str(name)})", py_str(table.name), _names(cols),
                              "unique=False"], INDENT)
        ]

    def deferred_foreign_keys(self, drop: bool) -> list[str]:
        lines: list[str] = []
        for table in self.schema.tables:
            for c in table.columns:
                fk = c.foreign_key
                if fk is None or not fk.deferred:
                    continue
                name = f"op.f({py_str(fk_name(table, c, fk.table))})"
                lines.append(f"{INDENT}with op.batch_alter_table({py_str(table.name)}) "
                             "as batch_op:")
                lines += call("batch_op.", "drop_constraint",
                              [name, 'type_="foreignkey"'], INDENT * 2) if drop else call(
                    "batch_op.", "create_foreign_key",
                    [name, py_str(fk.table), _names([c.name]), _names([fk.column]),
                     f"ondelete={py_str(fk.ondelete)}"], INDENT * 2)
        return lines


def fk_name(table: Table, column: Column, target: str) -> str:
    return f"fk_{table.name}_{column.name}_{target}"


def index_list(table: Table) -> list[tuple[str, tuple[str, ...]]]:
    cols = [(c.name,) for c in table.columns if c.index] + table.indexes
    return [(f"ix_{table.name}_{'_'.join(c)}", c) for c in cols]
