"""What the `ui` target generates from: the workspace's views, per entity.

Each view names an entity; the pages of an entity read its records with the same
`policies.readable` condition as the API (tenancy and read rules) and change them only by
calling the API's route functions (the operation `create<Entity>` and `update<Entity>` the
api target implements, and the workflow transitions), so policies, tenancy, events and audit
stay in one place.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from contractspec.check.crud import key_field
from contractspec.check.rules.types import bounds
from contractspec.check.symbols import Symbol, SymbolTable
from contractspec.generators.api.access import AccessModel
from contractspec.generators.api.model import Operation, build_api
from contractspec.generators.api.workflows import Flow, build_flows
from contractspec.generators.base import GeneratorError
from contractspec.generators.db.naming import kebab, snake
from contractspec.generators.db.schema import Column, Table, build_schema
from contractspec.ir import nodes as ir

LABEL_NAMES = ("name", "title", "label", "subject", "email")
_WIDGETS = {"text": "textarea", "email": "email", "url": "url", "int": "number",
            "bigint": "number", "decimal": "number", "money": "number", "date": "date",
            "datetime": "datetime-local", "bool": "checkbox"}
_PARSE = {"uuid.UUID": "uuid.UUID", "int": "int", "decimal.Decimal": "decimal.Decimal",
          "bool": "bool", "datetime.date": "datetime.date.fromisoformat",
          "datetime.datetime": "datetime.datetime.fromisoformat"}


@dataclass(frozen=True)
class Target:
    """The entity a `ref` field points at: how to list and label its records."""

    cls: str  # models class
    key: str  # key attribute
    label: str  # label attribute


@dataclass(frozen=True)
class UiField:
    name: str  # the spec's name: read model and input key
    label: str
    attr: str  # the models attribute
    widget: str
    parse: str  # a callable turning a query string value into a column value
    required: bool
    hint: str = ""
    enum: str | None = None  # enums class
    target: Target | None = None

    @property
    def choice(self) -> bool:
        return self.enum is not None or self.target is not None


@dataclass
class Page:
    """One entity's pages: its record page and the views over it."""

    entity: Symbol
    table: Table
    slug: str  # URL segment of the record pages: `deal`
    fields: dict[str, UiField]  # by spec name, in declaration order
    key: UiField
    label: UiField | None  # the field naming a record (headings, links)
    create: Operation | None = None
    update: Operation | None = None
    flows: list[Flow] = field(default_factory=list)
    detail: ir.ViewDecl | None = None
    form: ir.ViewDecl | None = None  # the form view editing the records
    actions: list[Operation] = field(default_factory=list)

    @property
    def cls(self) -> str:
        return self.table.class_name

    @property
    def title(self) -> str:
        return words(self.entity.name)


@dataclass
class Ui:
    pages: list[Page]
    views: list[tuple[ir.ViewDecl, Page]]  # in declaration order

    def page(self, view: ir.ViewDecl) -> Page:
        return next(p for v, p in self.views if v is view)


def words(name: str) -> str:
    """`contactEmail` -> `Contact email`."""
    spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", name).replace("_", " ").lower()
    return spaced[:1].upper() + spaced[1:]


def view_path(view: ir.ViewDecl) -> str:
    return f"/ui/{kebab(view.name)}"


def view_function(view: ir.ViewDecl) -> str:
    return snake(view.name)


def views(program: ir.Program) -> list[tuple[str, ir.ViewDecl]]:
    return [(m.name, v) for m in program.modules if not m.std for v in m.views]


def build_ui(program: ir.Program) -> Ui:
    """The pages of the views of a workspace with identity (`with_runtime` applied)."""
    symbols = SymbolTable(program)
    schema = build_schema(program)
    access = AccessModel(program, schema, symbols)
    flows = build_flows(program, access, symbols)
    api = build_api(program, flows, auth=True)
    tables = {(t.module, t.entity.name): t for t in schema.tables}
    by_name = {t.name: t for t in schema.tables}
    pages: dict[str, Page] = {}
    detail_of: dict[str, str] = {}  # the module of each page's detail view
    ui = Ui([], [])
    for module, view in views(program):
        sym = symbols.lookup(module, view.entity.name, "type", frozenset({"entity"})).symbol
        if sym is None or sym.kind != "entity":
            raise GeneratorError(f"view `{view.name}`: `{view.entity.name}` is not an entity")
        page = pages.get(sym.qualified)
        if page is None:
            page = _page(sym, tables[(sym.module, sym.name)], by_name, api.operations, flows,
                         access)
            pages[sym.qualified] = page
        _check(view, page)
        if view.kind == "detail" and page.detail is None:
            page.detail, detail_of[sym.qualified] = view, module
        if view.kind == "form":
            page.form = page.form or view
        ui.views.append((view, page))
    for name, page in pages.items():
        if page.detail is not None:
            steps = {t.name for flow in page.flows for t in flow.transitions}
            page.actions = [_action(page, symbols, detail_of[name], ref, api.operations)
                            for ref in page.detail.actions if ref.name not in steps]
    ui.pages = sorted(pages.values(), key=lambda p: p.slug)
    return ui


def _page(sym: Symbol, table: Table, tables: dict[str, Table], operations: list[Operation],
          flows: list[Flow], access: AccessModel) -> Page:
    entity: ir.EntityDecl = sym.decl
    fields: dict[str, UiField] = {}
    for f in entity.fields:
        column = access.column(table, f)
        if column is None or "secret" in column.info or f.type.is_list:
            continue
        fields[f.name] = _field(f, column, tables)
    declared = key_field(entity)
    if declared is not None and declared.name not in fields:
        raise GeneratorError(f"the key `{declared.name}` of `{sym.name}` is not shown: "
                             "pages link to records by their key")
    key = fields[declared.name] if declared is not None else UiField(
        "id", "Id", "id", "text", "uuid.UUID", True)  # the uuid key the table adds
    strings = {f.name for f in entity.fields if f.name in fields
               and getattr(access.column(table, f), "py_type", None) == "str"}
    texts = [fl for fl in fields.values() if fl.name in strings and fl is not key]
    label = next((fl for n in LABEL_NAMES for fl in texts if fl.name == n),
                 texts[0] if texts else None)
    mine = [op for op in operations if op.entity is not None
            and op.entity.qualified == sym.qualified]
    return Page(
        sym, table, kebab(table.class_name), fields, key, label,
        create=next((op for op in mine if op.crud == "create"), None),
        update=next((op for op in mine if op.crud == "update"), None),
        flows=[fl for fl in flows if fl.entity.symbol.qualified == sym.qualified])


def _field(f: ir.FieldDecl, column: Column, tables: dict[str, Table]) -> UiField:
    target = None
    if column.foreign_key is not None and f.type.is_ref:
        table = tables[column.foreign_key.table]
        texts = [c for c in table.columns if c.py_type == "str" and "secret" not in c.info]
        label = next((c for n in LABEL_NAMES for c in texts if c.name == n),
                     texts[0] if texts else table.key)
        target = Target(table.class_name, table.key.attr, label.attr)
    enum = column.enum.class_name if column.enum is not None else None
    if enum is not None or target is not None:
        widget, parse = "select", f"enums.{enum}" if enum else _PARSE.get(column.py_type, "str")
    else:
        widget = _WIDGETS.get(f.type.name, "text")
        parse = _PARSE.get(column.py_type, "str")
    required = not f.type.optional and f.default is None
    return UiField(f.name, words(f.name), column.attr, widget, parse, required,
                   _hint(f.type), enum, target)


def _hint(ref: ir.TypeRef) -> str:
    """The bounds of `string(1..80)` or `int(0..)`, in words."""
    limits = bounds(ref)
    low, high = (limits.low, limits.high) if limits is not None else (None, None)
    unit = " characters" if ref.name in ("string", "text") else ""
    if low is not None and high is not None:
        return f"From {low} to {high}{unit}."
    if low is not None:
        return f"At least {low}{unit}."
    return f"At most {high}{unit}." if high is not None else ""


def _check(view: ir.ViewDecl, page: Page) -> None:
    """Every field a view names exists (the checker reports it; generation refuses it)."""
    for ref in (*view.columns, *view.filters, *view.search, *view.card, *view.fields,
                *([view.group_by] if view.group_by else [])):
        if ref.name not in page.fields:
            raise GeneratorError(f"view `{view.name}`: `{page.entity.name}` has no field "
                                 f"`{ref.name}` the UI can show")
    if view.kind == "board" and view.group_by is None and not page.flows:
        raise GeneratorError(f"board `{view.name}`: name the field to group by (`by field`); "
                             f"`{page.entity.name}` has no workflow")
    if view.kind == "form" and page.create is None and page.update is None:
        raise GeneratorError(f"form `{view.name}`: `{page.entity.name}` has no create or "
                             "update operation to call")


def _action(page: Page, symbols: SymbolTable, module: str, ref: ir.NameRef,
            operations: list[Operation]) -> Operation:
    """An operation of a detail view's `actions` (a transition is a button of its workflow
    already): its only required input is the key (the checker reports others, CS526)."""
    decls = [s.decl for s in symbols.lookup(module, ref.name, "operation").symbols]
    op = next((o for o in operations if any(o.decl is d for d in decls)), None)
    required = [f.name for f in op.input.fields if f.required] if op is not None else []
    if op is None or required != [page.key.name]:
        raise GeneratorError(f"view `{page.detail.name if page.detail else ''}`: action "
                             f"`{ref.name}` must be an operation whose only required input is "
                             f"`{page.key.name}`")
    return op
