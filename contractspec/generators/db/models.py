"""Writes `<app>/db/models.py` (SQLAlchemy 2 typed models) and `<app>/enums.py`."""

from __future__ import annotations

import textwrap

from contractspec.generators.db.naming import member_name, py_str
from contractspec.generators.db.schema import Column, EnumType, Relationship, Schema, Table

INDENT = "    "
WIDTH = 99


def docstring(text: str | None, indent: str) -> list[str]:
    """A docstring from a doc comment (one line when it fits)."""
    if not text:
        return []
    body = text.replace("\\", "\\\\").replace('"""', '\\"\\"\\"').strip()
    if body.endswith('"'):
        body += " "
    lines = body.splitlines()
    if len(lines) == 1 and len(indent) + len(body) + 6 <= WIDTH:
        return [f'{indent}"""{body}"""']
    room = WIDTH - len(indent) - 3  # a line too long for the width is wrapped
    lines = [part for line in lines
             for part in (textwrap.wrap(line, room) if len(line) > room else [line])]
    return [f'{indent}"""{lines[0]}', *[f"{indent}{ln}".rstrip() for ln in lines[1:]],
            f'{indent}"""']


def call(prefix: str, name: str, args: list[str], indent: str) -> list[str]:
    """`prefix name(args)` on one line, or one argument per line when too long."""
    one = f"{indent}{prefix}{name}({', '.join(args)})"
    if not args or ("\n" not in one and len(one) <= WIDTH):
        return [one]
    inner = indent + INDENT
    return [f"{indent}{prefix}{name}(", *[f"{inner}{a}," for a in args], f"{indent})"]


class ModelsWriter:
    """Python source for the models and the enums: one method per schema node."""

    def __init__(self, schema: Schema, app: str, header: str) -> None:
        self.schema = schema
        self.app = app
        self.header = header

    # ---- enums.py ------------------------------------------------------------------------

    def enums_module(self) -> str:
        lines = [self.header.rstrip("\n"),
                 '"""The enums of the spec: one `StrEnum` per enum, values as written."""', ""]
        lines += ["from enum import StrEnum"] if self.schema.enums else []
        for enum in self.schema.enums:
            lines += ["", "", *self.enum(enum)]
        return "\n".join(lines) + "\n"

    def enum(self, enum: EnumType) -> list[str]:
        lines = [f"class {enum.class_name}(StrEnum):"]
        doc = enum.decl.doc or f"The enum `{enum.decl.name}` of module `{enum.module}`."
        lines += docstring(doc, INDENT)
        lines.append("")
        for value in enum.decl.values:
            if value.doc:
                lines += [f"{INDENT}#: {ln}".rstrip() for ln in value.doc.splitlines()]
            lines.append(f"{INDENT}{member_name(value.name)} = {py_str(value.name)}")
        return lines

    # ---- db/models.py --------------------------------------------------------------------

    def models_module(self) -> str:
        lines = [self.header.rstrip("\n"),
                 '"""The database models: one class per entity of the spec."""', ""]
        if not self.schema.tables:  # nothing to map yet: keep the module importable
            return "\n".join([*lines, f"from {self.app}.db.base import Base", "",
                              '__all__ = ["Base"]']) + "\n"
        lines += self.imports()
        for table in self.schema.tables:
            lines += ["", "", *self.table(table)]
        return "\n".join(lines) + "\n"

    def imports(self) -> list[str]:
        schema = self.schema
        stdlib = [f"import {m}" for m in ("datetime", "decimal", "uuid") if schema.uses(m)]
        if any(c.py_type.endswith("Any]") for t in schema.tables for c in t.columns):
            stdlib.append("from typing import Any")
        orm = ["Mapped", "mapped_column"]
        if any(t.relationships for t in schema.tables):
            orm.append("relationship")
        enums = sorted({c.enum.class_name for t in schema.tables for c in t.columns
                        if c.enum is not None})
        lines = ["from __future__ import annotations", ""]
        lines += [*stdlib, ""] if stdlib else []
        lines += ["import sqlalchemy as sa", f"from sqlalchemy.orm import {', '.join(orm)}", "",
                  f"from {self.app}.db.base import Base"]
        if enums:
            lines.append(_from_import(f"{self.app}.enums", enums))
        return lines

    def table(self, table: Table) -> list[str]:
        lines = [f"class {table.class_name}(Base):"]
        entity = table.entity
        doc = entity.doc or f"The entity `{entity.name}` of module `{table.module}`."
        lines += docstring(doc, INDENT)
        lines += ["", f'{INDENT}__tablename__ = "{table.name}"']
        lines += self.table_args(table)
        lines.append("")
        for column in table.columns:
            lines += self.column(column)
        if table.relationships:
            lines.append("")
        for rel in table.relationships:
            lines += self.relationship(rel, table)
        return lines

    def table_args(self, table: Table) -> list[str]:
        inner = INDENT * 2
        items = [call("sa.", "UniqueConstraint", [py_str(c) for c in cols], inner)
                 for cols in table.uniques]
        items += [call("sa.", "Index", ["None", *(py_str(c) for c in cols)], inner)
                  for cols in table.indexes]
        items += [call("sa.", "CheckConstraint", [py_str(c.sql), f"name={py_str(c.name)}"], inner)
                  for c in table.checks]
        if not items:
            return []
        lines = [f"{INDENT}__table_args__ = ("]
        for item in items:
            lines += [*item[:-1], item[-1] + ","]
        return [*lines, f"{INDENT})"]

    def column(self, column: Column) -> list[str]:
        py_type = f"{column.py_type} | None" if column.nullable else column.py_type
        args = [py_str(column.name)] if column.attr != column.name else []
        args.append(self.column_type(column))
        fk = column.foreign_key
        if fk is not None:
            fk_args = [py_str(f"{fk.table}.{fk.column}"), f"ondelete={py_str(fk.ondelete)}"]
            args.append(f"sa.ForeignKey({', '.join(fk_args)}"
                        f"{', use_alter=True' if fk.deferred else ''})")
        flags = [("primary_key", column.primary_key), ("unique", column.unique),
                 ("index", column.index)]
        args += [f"{name}=True" for name, on in flags if on]
        if column.default is not None:
            args.append(f"default={column.default}")
        if column.server_default is not None:
            args.append(f"server_default={column.server_default}")
        if column.info:
            args.append("info={" + ", ".join(f'"{i}": True' for i in column.info) + "}")
        if column.comment:
            args.append(f"comment={py_str(' '.join(column.comment.split()))}")
        return call(f"{column.attr}: Mapped[{py_type}] = ", "mapped_column", args, INDENT)

    def column_type(self, column: Column) -> str:
        enum = column.enum
        if enum is not None:
            args = [enum.class_name, "native_enum=False", f"length={enum.length}"]
            if any(member_name(v) != v for v in enum.values):
                # SQLAlchemy stores member names unless told to store the values.
                args.append("values_callable=lambda e: [m.value for m in e]")
            lines = call("sa.", "Enum", [*args, "validate_strings=True"], INDENT * 2)
            return "\n".join(lines).strip()
        return f"sa.{column.sa_type}"

    def relationship(self, rel: Relationship, table: Table) -> list[str]:
        target = f"{rel.target_class} | None" if rel.optional else rel.target_class
        args = []
        if rel.explicit or rel.remote_side:
            args.append(f'foreign_keys="[{table.class_name}.{rel.foreign_key_attr}]"')
        if rel.remote_side:
            args.append(f'remote_side="{table.class_name}.{rel.remote_side}"')
        if rel.post_update:
            args.append("post_update=True")
        return call(f"{rel.attr}: Mapped[{target}] = ", "relationship", args, INDENT)


def _from_import(module: str, names: list[str]) -> str:
    return f"from {module} import {', '.join(names)}"
