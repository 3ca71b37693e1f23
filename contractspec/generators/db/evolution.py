"""Migrations from the schema's history: each `cspec gen` that changes the database writes a
new Alembic revision, with `upgrade()` and `downgrade()`, from the difference between the
schema at the last revision and the schema of the spec now.

The schema at the last revision is kept beside the revisions, in `migrations/schema.json`
(generated, committed): its tables with their columns, keys, indexes and constraints, each
as the migration source that creates it. The pipeline reads the previous revisions and that
snapshot from the output folder and hands them to the `db` target (which stays pure: its
history is an input). Without history (a first run, or an emptied folder) the target writes
the initial revision.

A revision, in order (`downgrade()` undoes it in reverse): tables renamed (`@@renamedFrom`),
tables created, per changed table a batch of constraint drops, column renames
(`@renamedFrom`), added and altered columns; then data moves (enum values renamed with
`@renamedFrom`, workflow states moved by `migrate state X -> Y`) and, for a new required
column without a default, a stop when existing rows would need a value; then a batch of new
constraints and indexes and of dropped columns; then dropped tables. SQLite needs the batch
mode (`render_as_batch`) that `env.py` already uses.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from typing import Any

from contractspec.check.access import subject_parts
from contractspec.check.symbols import SymbolTable
from contractspec.generators.db.migration import MigrationWriter, fk_name, index_list
from contractspec.generators.db.models import INDENT, call
from contractspec.generators.db.naming import column_name, py_str, sql_identifier, table_name
from contractspec.generators.db.schema import Column, Schema, Table
from contractspec.ir import nodes as ir

SNAPSHOT = "migrations/schema.json"
VERSIONS = "migrations/versions/"
I1, I2, I3 = INDENT, INDENT * 2, INDENT * 3
_STEM = re.compile(r"^(\d{4})_[a-z0-9_]+\.py$")


# ---- the snapshot -------------------------------------------------------------------------


def snapshot(schema: Schema, writer: MigrationWriter, head: str, comment: str,
             wish: Intent | None = None) -> dict[str, Any]:
    """The schema as the next revision needs it, with the id of the revision it is at and
    the workflow state moves already done (`table.column` -> [[from, to], ...])."""
    moves = {f"{t}.{c}": [list(m) for m in pairs]
             for (t, c), pairs in sorted((wish.moves if wish else {}).items())}
    return {"$comment": comment, "head": head, "moves": moves,
            "tables": {t.name: _table(t, writer, i) for i, t in enumerate(schema.tables)}}


def _table(table: Table, writer: MigrationWriter, order: int) -> dict[str, Any]:
    return {
        "order": order,
        "create": writer.create_table(table),
        "columns": {c.name: _column(c, writer) for c in table.columns},
        "indexes": {name: list(cols) for name, cols in index_list(table)},
        "uniques": {f"uq_{table.name}_{'_'.join(cols)}": list(cols)
                    for cols in [(c.name,) for c in table.columns if c.unique] + table.uniques},
        "checks": {f"ck_{table.name}_{c.name}": c.sql for c in table.checks},
        "fks": {fk_name(table, c, c.foreign_key.table): {
            "column": c.name, "target": c.foreign_key.table, "remote": c.foreign_key.column,
            "ondelete": c.foreign_key.ondelete, "deferred": c.foreign_key.deferred}
            for c in table.columns if c.foreign_key is not None},
    }


def _column(column: Column, writer: MigrationWriter) -> dict[str, Any]:
    return {"type": writer.column_type(column), "nullable": column.nullable,
            "server_default": column.server_default, "key": column.primary_key,
            "args": writer.column_args(column)}


# ---- what the spec says about moving data -------------------------------------------------------


@dataclass
class Intent:
    """Renames and data moves the spec asks for, by table and column names."""

    tables: dict[str, str] = field(default_factory=dict)  # new table -> old table
    columns: dict[str, dict[str, str]] = field(default_factory=dict)  # table -> new -> old
    values: dict[tuple[str, str], dict[str, str]] = field(default_factory=dict)  # new -> old
    moves: dict[tuple[str, str], list[tuple[str, str]]] = field(default_factory=dict)


def intent(program: ir.Program, schema: Schema) -> Intent:
    symbols = SymbolTable(program)
    out = Intent()
    by_entity = {(t.module, t.entity.name): t for t in schema.tables}
    for table in schema.tables:
        renamed = next((c for c in table.entity.constraints if c.name == "renamedFrom"), None)
        old = _name_arg(renamed)
        if old is not None:
            out.tables[table.name] = table_name(table.module, old)
        for f in table.entity.fields:
            old_field = _name_arg(f.attribute("renamedFrom"))
            if old_field is not None:
                before = column_name(f.model_copy(update={"name": old_field}))
                out.columns.setdefault(table.name, {})[column_name(f)] = before
        for c in table.columns:
            renames = {}
            for value in c.enum.decl.values if c.enum is not None else ():
                attr = next((a for a in value.attributes if a.name == "renamedFrom"), None)
                old_value = _name_arg(attr)
                if old_value is not None:
                    renames[value.name] = old_value
            if renames:
                out.values[(table.name, c.name)] = renames
    for module in program.modules:
        for flow in module.workflows:
            if not flow.migrations:
                continue
            entity, state = subject_parts(flow.subject)
            sym = symbols.lookup(module.name, entity.name, "type",
                                 frozenset({"entity"})).symbol if entity else None
            subject = by_entity.get((sym.module, sym.name)) if sym is not None else None
            decl = subject.entity.field(state.name) if subject is not None and state else None
            if subject is None or decl is None:
                continue
            out.moves[(subject.name, column_name(decl))] = [
                (m.source.name, m.target.name) for m in flow.migrations]
    return out


def _name_arg(attr: ir.Attribute | None) -> str | None:
    if attr is None or len(attr.args) != 1:
        return None
    arg = attr.args[0]
    if isinstance(arg, ir.PathExpr):
        return ".".join(arg.parts).split(".")[-1]
    if isinstance(arg, ir.LiteralExpr) and isinstance(arg.value, str):
        return arg.value
    return None


# ---- a revision -----------------------------------------------------------------------------


def revisions(history: dict[str, bytes], app: str) -> list[tuple[int, str]]:
    """The revision files of the history, by number: (number, path under the app)."""
    found = []
    for path in history:
        if path.startswith(VERSIONS):
            match = _STEM.match(path[len(VERSIONS):])
            if match:
                found.append((int(match.group(1)), path))
    return sorted(found)


def revision_id(app: str, down: str, tables: dict[str, Any]) -> str:
    canonical = json.dumps(tables, sort_keys=True)
    return hashlib.sha256(f"{app}:{down}:{canonical}".encode()).hexdigest()[:12]


class RevisionWriter:
    """The Python source of one revision from the old and new snapshot tables."""

    def __init__(self, old: dict[str, Any], new: dict[str, Any], wish: Intent,
                 done: dict[str, list[list[str]]] | None = None) -> None:
        self.old, self.new, self.intent = old, new, wish
        self.done = done or {}  # state moves an earlier revision made
        self.renamed = {n: o for n, o in wish.tables.items() if o in old and n not in old
                        and n in new}
        self.matched = {n: self.renamed.get(n, n) for n in new
                        if self.renamed.get(n, n) in old}
        self.created = [n for n in new if n not in self.matched]
        gone = set(self.matched.values())
        self.dropped = [o for o in old if o not in gone]
        self.changes: list[str] = []  # one line per change, for the docstring
        self.later: list[str] = []  # constraint and index changes, listed after the rest
        self.up: list[str] = []
        self.down: list[str] = []
        self.guards = False

    def build(self) -> bool:
        """Fill `up`/`down`; False when nothing changed."""
        up_a: list[str] = []
        down_a: list[str] = []
        up_data: list[str] = []
        down_data: list[str] = []
        up_b: list[str] = []
        down_b: list[str] = []
        for new_name in sorted(self.renamed, key=lambda n: self.new[n]["order"]):
            old_name = self.renamed[new_name]
            self.changes.append(f"rename table {old_name} to {new_name}")
            self.up.append(f"{I1}op.rename_table({py_str(old_name)}, {py_str(new_name)})")
        created = sorted(self.created, key=lambda n: self.new[n]["order"])
        for name in created:
            self.changes.append(f"create table {name}")
            self.up += self.new[name]["create"]
            self.up += self._indexes(name, self.new[name]["indexes"], create=True)
        for name in created:
            self.up += self._deferred(name, self.new[name], create=True)
        for new_name in sorted(self.matched, key=lambda n: self.new[n]["order"]):
            a, data, b = self._alter(new_name, self.matched[new_name])
            up_a += a[0]
            down_a = a[1] + down_a
            up_data += data[0]
            down_data = data[1] + down_data
            up_b += b[0]
            down_b = b[1] + down_b
        self.up += up_a + up_data + up_b
        dropped = sorted(self.dropped, key=lambda n: self.old[n]["order"], reverse=True)
        for name in dropped:
            self.changes.append(f"drop table {name}")
            self.up += self._deferred(name, self.old[name], create=False)
        for name in dropped:
            self.up += self._indexes(name, self.old[name]["indexes"], create=False)
            self.up.append(f"{I1}op.drop_table({py_str(name)})")
        # downgrade: the mirror image, except that renamed tables get their old names back
        # first, so that restored foreign keys find the tables they name
        for new_name in sorted(self.renamed, key=lambda n: self.new[n]["order"], reverse=True):
            self.down.append(f"{I1}op.rename_table({py_str(new_name)}, "
                             f"{py_str(self.renamed[new_name])})")
        for name in reversed(dropped):
            self.down += self.old[name]["create"]
            self.down += self._indexes(name, self.old[name]["indexes"], create=True)
        for name in reversed(dropped):
            self.down += self._deferred(name, self.old[name], create=True)
        self.down += down_b + down_data + down_a
        for name in reversed(created):
            self.down += self._deferred(name, self.new[name], create=False)
        for name in reversed(created):
            self.down += self._indexes(name, self.new[name]["indexes"], create=False)
            self.down.append(f"{I1}op.drop_table({py_str(name)})")
        self.changes += self.later
        return bool(self.changes)

    # ---- one table present before and after ------------------------------------------------

    def _alter(self, name: str, old_name: str) -> tuple[tuple[list[str], list[str]], ...]:
        old, new = self.old[old_name], self.new[name]
        wanted = self.intent.columns.get(name, {})
        col_renames = {n: o for n, o in wanted.items()
                       if o in old["columns"] and n not in old["columns"] and n in new["columns"]}
        pairs = {n: col_renames.get(n, n) for n in new["columns"]
                 if col_renames.get(n, n) in old["columns"]}
        added = [n for n in new["columns"] if n not in pairs]
        kept = set(pairs.values())
        dropped = [o for o in old["columns"] if o not in kept]
        a_up: list[str] = []
        a_down: list[str] = []
        b_up: list[str] = []
        b_down: list[str] = []
        # constraints and indexes that go or change: dropped first, created after the data
        for kind in ("fks", "uniques", "checks", "indexes"):
            for cname, spec in old[kind].items():
                if new[kind].get(cname) != spec:
                    a_up += self._constraint(kind, cname, spec, create=False)
                    a_down = self._constraint(kind, cname, spec, create=True) + a_down
                    if cname not in new[kind]:
                        self.later.append(f"drop {_KIND[kind]} {cname}")
            for cname, spec in new[kind].items():
                if old[kind].get(cname) != spec:
                    b_up += self._constraint(kind, cname, spec, create=True)
                    b_down = self._constraint(kind, cname, spec, create=False) + b_down
                    verb = "change" if cname in old[kind] else "add"
                    self.later.append(f"{verb} {_KIND[kind]} {cname}")
        for col, before in col_renames.items():
            self.changes.append(f"rename column {name}.{before} to {col}")
            a_up += call("batch_op.", "alter_column",
                         [py_str(before), f"new_column_name={py_str(col)}"], I2)
            a_down = call("batch_op.", "alter_column",
                          [py_str(col), f"new_column_name={py_str(before)}"], I2) + a_down
        guards: list[str] = []
        for col in added:
            spec = new["columns"][col]
            required = not spec["nullable"] and spec["server_default"] is None
            self.changes.append(f"add column {name}.{col}"
                                + (" (required, no default: the table must be empty or "
                                   "backfilled)" if required else ""))
            args = list(spec["args"])
            if required:
                args = [a if not a.startswith("nullable=") else "nullable=True" for a in args]
                guards += [f"{I1}_require_values({py_str(name)}, {py_str(col)})"]
                b_up += call("batch_op.", "alter_column", [py_str(col), "nullable=False",
                                                           _typed("existing_type", spec["type"])],
                             I2)
            a_up += _add_column(args)
            a_down = call("batch_op.", "drop_column", [py_str(col)], I2) + a_down
        for col, before in pairs.items():
            o, n = old["columns"][before], new["columns"][col]
            differ = [key for key in ("type", "nullable", "server_default") if o[key] != n[key]]
            if not differ:
                continue
            self.changes.append(f"alter column {name}.{col}: {', '.join(differ)}")
            a_up += call("batch_op.", "alter_column",
                         [py_str(col), *_settings(differ, n), _typed("existing_type", o["type"])],
                         I2)
            a_down = call("batch_op.", "alter_column",
                          [py_str(col), *_settings(differ, o), _typed("existing_type", n["type"])],
                          I2) + a_down
        for col in dropped:
            spec = old["columns"][col]
            self.changes.append(f"drop column {name}.{col} (its data is lost)")
            b_up += call("batch_op.", "drop_column", [py_str(col)], I2)
            args = list(spec["args"])
            if not spec["nullable"] and spec["server_default"] is None:
                args = [a if not a.startswith("nullable=") else "nullable=True" for a in args]
            b_down = _add_column(args) + b_down
        d_up, d_down = self._data(name, old_name, old, new, pairs)
        if guards:
            self.guards = True
        return ((_batch(name, a_up), _batch(old_name, a_down)),
                (d_up + guards, d_down),
                (_batch(name, b_up), _batch(old_name, b_down)))

    def _data(self, name: str, old_name: str, old: dict[str, Any], new: dict[str, Any],
              pairs: dict[str, str]) -> tuple[list[str], list[str]]:
        """Rows rewritten: renamed enum values (undone by the downgrade, which runs on the
        table's old name and column) and workflow state moves not made before."""
        up: list[str] = []
        down: list[str] = []
        for col in pairs:
            check = f"ck_{name}_{col}_enum"
            if old["checks"].get(check) != new["checks"].get(check):
                for value, before in self.intent.values.get((name, col), {}).items():
                    self.changes.append(f"rename value {name}.{col}: {before} to {value}")
                    up.append(_update(name, col, before, value))
                    down.insert(0, _update(old_name, col, value, before))
            done = self.done.get(f"{name}.{col}", [])
            for source, target in self.intent.moves.get((name, col), []):
                if [source, target] in done:
                    continue
                self.changes.append(f"move rows of {name}.{col} from state {source} "
                                    f"to {target} (not undone by the downgrade)")
                up.append(_update(name, col, source, target))
        return up, down

    def _constraint(self, kind: str, name: str, spec: Any, create: bool) -> list[str]:
        if kind == "indexes":
            return call("batch_op.", "create_index", [f"op.f({py_str(name)})",
                                                       _names(spec), "unique=False"], I2) \
                if create else call("batch_op.", "drop_index", [f"op.f({py_str(name)})"], I2)
        type_ = {"fks": "foreignkey", "uniques": "unique", "checks": "check"}[kind]
        if not create:
            return call("batch_op.", "drop_constraint",
                        [f"op.f({py_str(name)})", f'type_="{type_}"'], I2)
        if kind == "uniques":
            return call("batch_op.", "create_unique_constraint",
                        [f"op.f({py_str(name)})", _names(spec)], I2)
        if kind == "checks":
            return call("batch_op.", "create_check_constraint",
                        [f"op.f({py_str(name)})", py_str(spec)], I2)
        return call("batch_op.", "create_foreign_key", [
            f"op.f({py_str(name)})", py_str(spec["target"]), _names([spec["column"]]),
            _names([spec["remote"]]), f"ondelete={py_str(spec['ondelete'])}"], I2)

    def _indexes(self, table: str, indexes: dict[str, list[str]], create: bool) -> list[str]:
        if create:
            return [line for name, cols in indexes.items() for line in call(
                "op.", "create_index", [f"op.f({py_str(name)})", py_str(table), _names(cols),
                                        "unique=False"], I1)]
        return [line for name in indexes for line in call(
            "op.", "drop_index", [f"op.f({py_str(name)})", f"table_name={py_str(table)}"], I1)]

    def _deferred(self, table: str, spec: dict[str, Any], create: bool) -> list[str]:
        lines: list[str] = []
        for name, fk in spec["fks"].items():
            if fk["deferred"]:
                lines += _batch(table, self._constraint("fks", name, fk, create))
        return lines

    def module(self, header: str, revision: str, down: str) -> str:
        summary = self.changes[0] + (f", and {len(self.changes) - 1} more"
                                     if len(self.changes) > 1 else "")
        lines = [header.rstrip("\n"), f'"""{summary[:1].upper()}{summary[1:]}.', "",
                 *(f"- {c}" for c in self.changes), "",
                 f"Revision ID: {revision}", f"Revises: {down}", '"""', "",
                 "from collections.abc import Sequence", "",
                 "import sqlalchemy as sa", "from alembic import op", "",
                 f'revision: str = "{revision}"',
                 f'down_revision: str | Sequence[str] | None = "{down}"',
                 "branch_labels: str | Sequence[str] | None = None",
                 "depends_on: str | Sequence[str] | None = None"]
        if self.guards:
            lines += ["", "", "def _require_values(table: str, column: str) -> None:",
                      f'{I1}"""Stop when existing rows have no value for a new required '
                      'column."""',
                      f"{I1}rows = op.get_bind().execute(sa.text(",
                      f'{I2}f\'SELECT COUNT(*) FROM "{{table}}" WHERE "{{column}}" IS NULL\''
                      ")).scalar()",
                      f"{I1}if rows:",
                      f"{I2}raise RuntimeError(",
                      f'{I3}f"{{table}}.{{column}} is required and has no default, but "',
                      f'{I3}f"{{rows}} rows have no value: give the field a default in the "',
                      f'{I3}"spec, or fill the column before upgrading")']
        lines += ["", "", "def upgrade() -> None:", *(self.up or [f"{I1}pass"]), "", "",
                  "def downgrade() -> None:", *(self.down or [f"{I1}pass"])]
        text = "\n".join(lines) + "\n"
        if "sa." not in text.split("from alembic import op", 1)[1]:
            text = text.replace("import sqlalchemy as sa\n", "")
        return text

    def slug(self) -> str:
        words = re.sub(r"[^a-z0-9]+", "_", self.changes[0].lower()).strip("_")
        return words[:48].rstrip("_") or "changes"


_KIND = {"fks": "foreign key", "uniques": "unique constraint", "checks": "check constraint",
         "indexes": "index"}


def _names(cols: list[str]) -> str:
    return "[" + ", ".join(py_str(c) for c in cols) + "]"


def _add_column(args: list[str]) -> list[str]:
    lines = call("batch_op.add_column(", "sa.Column", args, I2)
    lines[-1] += ")"
    return lines


def _settings(keys: list[str], column: dict[str, Any]) -> list[str]:
    """`alter_column` arguments setting these properties of a snapshot column."""
    return [_typed("type_", column[key]) if key == "type" else f"{key}={column[key]}"
            for key in keys]


def _typed(key: str, type_text: str) -> str:
    """`key=type` as an `alter_column` argument; a long `sa.Enum(...)` spans lines, one value
    per line, so that the migration stays within 100 columns."""
    text = f"{key}={type_text}"
    if len(I3) + len(text) + 1 <= 100 or not type_text.startswith("sa.Enum("):
        return text
    args = type_text[len("sa.Enum("):-1].split(", ")
    return "\n".join([f"{key}=sa.Enum(", *(f"{I3}{INDENT}{a}," for a in args), f"{I3})"])


def _batch(table: str, body: list[str]) -> list[str]:
    if not body:
        return []
    return [f"{I1}with op.batch_alter_table({py_str(table)}) as batch_op:", *body]


def _update(table: str, column: str, before: str, after: str) -> str:
    name, col = sql_identifier(table), sql_identifier(column)
    sql = f"UPDATE {name} SET {col} = '{after}' WHERE {col} = '{before}'"
    return f"{I1}op.execute({py_str(sql)})"
