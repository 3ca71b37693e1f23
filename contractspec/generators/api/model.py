"""What the `api` target generates from: operations as routes, with typed fields.

Both writers (the Python sources and `openapi.json`) render this one model, so the served
schema and the committed one say the same thing. Decisions:
- route: `GET /<version>/<operation-kebab>` for a query, `POST` for a command (a query whose
  inputs are not all scalars, enums or refs is a `POST` too); the version is the operation's
  (`v1` when it has none), so versions coexist; `/<version>/<module>/<operation>` when two
  modules declare an operation of the same name and version;
- CRUD: `create|update|delete|get<Entity>` and `list<Entity>`, `list<Entity>s`,
  `list<Entity>es` on an entity visible from the module is implemented with SQLAlchemy;
  every other operation calls a function of the module's user-owned handler module;
- errors: the catalog's status, else by name: `…NotFound`/`…Missing` 404, `…Duplicate…`,
  `…Exists`, `…Conflict…` 409, `…Forbidden`/`…NotAllowed` 403, otherwise 400.
"""

from __future__ import annotations

import keyword
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any

from contractspec.check.crud import crud_shape, key_field
from contractspec.check.rules.types import bounds
from contractspec.check.symbols import SCALARS, Symbol, SymbolTable
from contractspec.generators.api.emission import Emission
from contractspec.generators.api.workflows import Flow, FlowTransition
from contractspec.generators.base import python_package_name
from contractspec.generators.db.naming import (
    attribute_name,
    class_names,
    column_name,
    kebab,
    member_name,
    pascal,
    py_str,
    snake,
)
from contractspec.generators.events.shapes import EMAIL_PATTERN, URL_PATTERN, version_label
from contractspec.ir import nodes as ir

PAGE_SIZE, MAX_PAGE_SIZE = 20, 100
MAX_PAGE = 2**31 - 1  # keeps the offset within a 64-bit integer
SEARCH = "q"  # the search parameter of list queries
SEARCHABLE = frozenset({"string", "text", "email", "url"})
# Names schemas.py defines or imports besides the spec's models.
RESERVED = frozenset({
    "Annotated", "Any", "BaseModel", "ConfigDict", "Field", "ErrorBody", "ErrorInfo",
    "JsonValue", "annotations", "datetime", "decimal", "enums", "models", "uuid",
    "AfterValidator", "UtcDateTime", "SafeStr", "Duration", "PlainSerializer",
})
# The classes errors.py always defines (the spec's errors of these names get a prefix).
GENERIC_ERRORS = frozenset({"ApiError", "Unauthorized", "Forbidden", "NotFound", "Conflict",
                            "NotImplementedYet"})
# Field names pydantic does not allow: a trailing `_` and an alias.
_FIELD_RESERVED = frozenset({"copy", "dict", "json", "schema", "construct", "validate",
                             "fields", "self", "session", "data", "row"})

_SCALAR_PY = {
    "string": "SafeStr", "text": "SafeStr", "email": "SafeStr", "url": "SafeStr", "int": "int",
    "bigint": "int", "decimal": "decimal.Decimal", "money": "decimal.Decimal",
    "bool": "bool", "date": "datetime.date", "datetime": "UtcDateTime",
    "duration": "Duration", "uuid": "uuid.UUID", "json": "dict[str, Any]",
}
# The range of the database column of an integer type (`Integer`, `BigInteger`).
INT_RANGES = {"int": (Decimal(-2**31), Decimal(2**31 - 1)),
              "bigint": (Decimal(-2**63), Decimal(2**63 - 1))}
_SCALAR_SCHEMA: dict[str, dict[str, Any]] = {
    "int": {"type": "integer"}, "bigint": {"type": "integer"}, "bool": {"type": "boolean"},
    "date": {"type": "string", "format": "date"},
    "datetime": {"type": "string", "format": "date-time"},
    "duration": {"type": "string", "format": "duration"},
    "uuid": {"type": "string", "format": "uuid"},
    "json": {"type": "object", "additionalProperties": True},
}


@dataclass(frozen=True)
class Value:
    """The type of one field or output: its Python annotation, pydantic `Field` constraints,
    JSON Schema, and the models it needs."""

    py: str
    schema: dict[str, Any]
    constraints: tuple[str, ...] = ()
    kind: str = "scalar"  # scalar | enum | object | ref | list | json
    uses: tuple[str, ...] = ()  # component names ($ref) it needs

    def annotated(self) -> str:
        if not self.constraints:
            return self.py
        return f"Annotated[{self.py}, Field({', '.join(self.constraints)})]"


@dataclass(frozen=True)
class ApiField:
    name: str  # the spec's name: the JSON key
    attr: str  # the Python attribute (`class_` for `class`, with an alias)
    value: Value
    optional: bool
    default: str | None  # a Python literal (the field is not required)
    doc: str | None
    column: str | None = None  # entity fields: the model attribute
    former: str | None = None  # inputs: the name before an `@renamedFrom(old)`, still accepted

    @property
    def required(self) -> bool:
        return self.default is None and not self.optional


@dataclass
class Model:
    """A pydantic model of schemas.py: an entity's read model, a `type`, an input."""

    name: str
    doc: str
    fields: list[ApiField]
    entity: Symbol | None = None  # read models: the entity, for `from_row`
    orm_class: str | None = None


@dataclass(frozen=True)
class ErrorEntry:
    class_name: str
    code: str
    status: int
    message: str


@dataclass(frozen=True)
class Output:
    kind: str  # none | entity | page | list | value
    py: str  # the response annotation
    schema: dict[str, Any]
    entity: str | None = None  # entity read model (entity, page, list of entities)


@dataclass
class Operation:
    module: str
    decl: ir.OperationDecl
    version: str  # v1
    function: str  # create_deal_v1 (route and handler function name)
    method: str
    path: str
    input: Model
    output: Output
    errors: list[ErrorEntry]
    crud: str | None = None  # create | update | delete | get | list | transition
    entity: Symbol | None = None  # the entity of a CRUD operation or a transition
    handler_module: str = ""
    emissions: list[Emission] = field(default_factory=list)  # events CRUD code emits
    transition: tuple[Flow, FlowTransition] | None = None
    service: str | None = None  # the std module whose generated service implements it

    @property
    def body(self) -> bool:
        return self.method == "POST"

    @property
    def public(self) -> bool:
        """Served without a token: the policy is `not authenticated` (sign-up, ...)."""
        rule = self.decl.policy
        return isinstance(rule, ir.UnaryExpr) and rule.op == "not" and isinstance(
            rule.operand, ir.PathExpr) and rule.operand.parts == ("authenticated",)

    def error_statuses(self, auth: bool) -> dict[int, str]:
        """The error responses of the route: status -> description."""
        statuses = {e.status: e.message for e in reversed(self.errors)}
        statuses.setdefault(422, "Invalid input.")
        if auth and not self.public:
            statuses.setdefault(401, "No valid bearer token.")
            statuses.setdefault(403, "Not allowed.")
        if self.crud in ("get", "update", "delete", "transition") or (
                auth and self.crud == "create" and self.refs):
            statuses.setdefault(404, "Not found.")
        if self.crud in ("create", "update", "delete", "transition"):
            statuses.setdefault(409, "Conflicts with existing data or the record's state.")
        if self.crud is None and auth:
            statuses.setdefault(404, "Not found.")  # `ctx.get` of a record not readable
        if self.crud is None and self.decl.kind == "command":
            statuses.setdefault(409, "Conflicts with existing data or the record's state.")
        if self.crud is None and self.service is None:
            statuses.setdefault(501, "Its handler is not written yet.")
        if self.decl.behind is not None:
            statuses.setdefault(404, "Not found.")  # while its flag is off for the actor
        if self.decl.meters:
            statuses.setdefault(429, "A usage limit of the organisation's plan is reached.")
        if self.body:
            statuses.setdefault(413, "The request body is too large.")
        return dict(sorted(statuses.items()))

    @property
    def refs(self) -> list[ApiField]:
        return [f for f in self.input.fields if f.value.kind == "ref"]

    @property
    def status(self) -> int:
        if self.crud == "create":
            return 201
        return 204 if self.output.kind == "none" else 200


@dataclass
class Api:
    operations: list[Operation] = field(default_factory=list)
    models: dict[str, Model] = field(default_factory=dict)  # read models and types, by name
    enums: dict[str, tuple[str, ...]] = field(default_factory=dict)  # class name -> values
    pages: list[str] = field(default_factory=list)  # entity read models with a page model
    errors: dict[str, ErrorEntry] = field(default_factory=dict)  # class name -> entry
    auth: bool = False  # the workspace has users: bearer tokens, policies, tenancy


def error_status(error: ir.ErrorDecl) -> int:
    if error.status is not None:
        return error.status
    name = error.name
    if name.endswith(("NotFound", "Missing")):
        return 404
    if re.search(r"Duplicate|Exists|Conflict", name):
        return 409
    if name.endswith(("Forbidden", "NotAllowed")):
        return 403
    return 400


def build_api(program: ir.Program, flows: Sequence[Flow] = (), auth: bool = False,
              services: Mapping[str, frozenset[tuple[str, str]]] | None = None,
              skip: frozenset[tuple[str, str, str]] = frozenset()) -> Api:
    """The API of the workspace's operations and transitions, but those in `skip`
    ((module, name, version label)). A standard module's operation is served when `services`
    (module -> (name, version) implemented) has it, else only when it is plain CRUD (see
    `unserved`)."""
    return _Builder(program).build(flows, auth, services or {}, skip)


def unserved(api: Api, program: ir.Program) -> frozenset[tuple[str, str, str]]:
    """The standard modules' operations that are neither CRUD nor implemented."""
    std = {m.name for m in program.modules if m.std}
    return frozenset((op.module, op.decl.name, op.version) for op in api.operations
                     if op.module in std and op.crud is None and op.service is None)


class _Builder:
    def __init__(self, program: ir.Program) -> None:
        self.program = program
        self.symbols = SymbolTable(program)
        self.classes = class_names(program)
        counts = Counter(d.name for m in program.modules
                         for d in (*m.entities, *m.enums, *m.types))
        self.type_names = {(m.name, t.name): (pascal(m.name) + t.name if counts[t.name] > 1
                                               or t.name in RESERVED else t.name)
                           for m in program.modules for t in m.types}
        self.api = Api()

    def build(self, flows: Sequence[Flow], auth: bool,
              services: Mapping[str, frozenset[tuple[str, str]]],
              skip: frozenset[tuple[str, str, str]]) -> Api:
        self.api.auth = auth
        ops = [(m, op) for m in self.program.modules for op in m.operations
               if (m.name, op.name, version_label(op.version)) not in skip]
        clashes = Counter((op.name, version_label(op.version)) for _, op in ops)
        for module, op in ops:
            served = self.operation(module, op, clashes[(op.name, version_label(op.version))] > 1)
            if (op.name, served.version) in services.get(module.name, frozenset()):
                served.crud, served.entity, served.service = None, None, module.name
                if served.output.kind == "page":  # a service pages like CRUD (no `q`)
                    served.input.fields += self.paging(served.input.fields, False)
            if auth and served.public:  # no actor: its handler or service does everything
                served.crud, served.entity = None, None
            self.api.operations.append(served)
        for flow in flows:
            for transition in flow.transitions:
                self.api.operations.append(self.transition(flow, transition))
        self.api.operations.sort(key=lambda o: (o.path, o.method))
        self.api.models = dict(sorted(self.api.models.items()))
        self.api.enums = dict(sorted(self.api.enums.items()))
        self.api.pages.sort()
        self.api.errors = dict(sorted(self.api.errors.items()))
        return self.api

    # ---- operations ----------------------------------------------------------------------

    def operation(self, module: ir.Module, op: ir.OperationDecl, clash: bool) -> Operation:
        version = version_label(op.version)
        suffix = pascal(version)
        prefix = pascal(module.name) * clash + pascal(op.name) + suffix
        inputs = [self.field(module.name, f) for f in op.input]
        scalar_inputs = all(f.value.kind in ("scalar", "enum", "ref") for f in inputs)
        method = "GET" if op.kind == "query" and scalar_inputs else "POST"
        path = "/" + "/".join([version, *[kebab(module.name)] * clash, kebab(op.name)])
        crud, entity = self.crud(module.name, op)
        output = self.output(module.name, op.output)
        if crud == "list" and output.kind == "page" and entity is not None:
            inputs += self.paging(inputs, bool(searchable(entity.decl)))
        errors = [self.error(op, e) for e in op.errors]
        return Operation(
            module=module.name, decl=op, version=version,
            function=snake(prefix), method=method, path=path,
            input=Model(f"{prefix}Input", f"The input of {op.kind} `{op.name} {version}`.",
                        inputs),
            output=output, errors=errors, crud=crud, entity=entity,
            handler_module=python_package_name(module.name))

    def transition(self, flow: Flow, t: FlowTransition) -> Operation:
        """A workflow transition as a command: input the record's key, output the record."""
        entity = flow.entity.symbol
        key = key_field(entity.decl)
        key_type = key.type if key is not None else ir.TypeRef(name="uuid", span=entity.span)
        key_decl = ir.FieldDecl(name=key.name if key else "id", type=key_type,
                                span=entity.span, name_span=entity.span)
        decl = ir.OperationDecl(
            kind="command", name=f"{flow.name}.{t.name}", span=t.decl.span,
            name_span=t.decl.name_span, input=(key_decl,), doc=(
                f"Transition `{t.name}` of workflow `{flow.name}`: "
                f"{', '.join(t.sources)} -> {t.target}."),
            output=ir.TypeRef(name=entity.name, span=entity.span))
        name = f"{pascal(flow.name)}{pascal(t.name)}"
        self.api.errors.setdefault("TransitionNotAllowed", ErrorEntry(
            "TransitionNotAllowed", "transition_not_allowed", 409,
            "The record's state does not allow this transition."))
        return Operation(
            module=flow.module, decl=decl, version="v1", function=t.function,
            method="POST", path=t.path,
            input=Model(f"{name}Input", f"The input of transition `{flow.name}.{t.name}`.",
                        [self.field(entity.module, key_decl)]),
            output=self.output(entity.module, decl.output),
            errors=[self.api.errors["TransitionNotAllowed"]], crud="transition",
            entity=entity, transition=(flow, t))

    def paging(self, inputs: list[ApiField], search: bool) -> list[ApiField]:
        names = {f.name for f in inputs}
        extra = [
            ApiField("page", "page", Value("int", {"type": "integer", "minimum": 1,
                                                   "maximum": MAX_PAGE},
                                           ("ge=1", f"le={MAX_PAGE}")),
                     False, "1", "The page, from 1."),
            ApiField("size", "size", Value("int", {"type": "integer", "minimum": 1,
                                                   "maximum": MAX_PAGE_SIZE},
                                           ("ge=1", f"le={MAX_PAGE_SIZE}")),
                     False, str(PAGE_SIZE), "Items per page."),
            ApiField(SEARCH, SEARCH, Value("str", {"type": "string"}), True, None,
                     "Search the text fields."),
        ]
        return [f for f in extra[:3 if search else 2] if f.name not in names]

    def crud(self, module: str, op: ir.OperationDecl) -> tuple[str | None, Symbol | None]:
        shape = crud_shape(self.symbols, module, op)
        return shape if shape is not None else (None, None)

    def error(self, op: ir.OperationDecl, error: ir.ErrorDecl) -> ErrorEntry:
        entry = ErrorEntry(error.name, error.name, error_status(error),
                           error.message or _sentence(error.name))
        known = self.api.errors.get(entry.class_name)
        if entry.class_name in GENERIC_ERRORS or (known is not None and known != entry):
            name = pascal(op.name) + error.name
            entry = ErrorEntry(name, error.name, entry.status, entry.message)
        self.api.errors[entry.class_name] = entry
        return entry

    # ---- outputs ---------------------------------------------------------------------------

    def output(self, module: str, ref: ir.TypeRef | None) -> Output:
        if ref is None:
            return Output("none", "None", {})
        if ref.name == "page" and len(ref.generics) == 1:
            sym = self.entity(module, ref.generics[0].name)
            if sym is not None:
                name = self.read_model(sym)
                if name not in self.api.pages:
                    self.api.pages.append(name)
                return Output("page", f"{name}Page", _ref(f"{name}Page"), entity=name)
        if ref.name in ("page", "list") and len(ref.generics) == 1:
            inner = self.output(module, ref.generics[0])
            return Output("list", f"list[{inner.py}]", {"type": "array", "items": inner.schema},
                          entity=inner.entity)
        if not ref.is_ref and (sym := self.entity(module, ref.name)) is not None:
            name = self.read_model(sym)
            kind = "list" if ref.is_list else "entity"
            out = Output(kind, name, _ref(name), entity=name)
            if ref.is_list:
                return Output(kind, f"list[{name}]", {"type": "array", "items": _ref(name)},
                              entity=name)
            return out
        value = self.value(module, ref, None)
        if ref.is_list:
            value = Value(f"list[{value.annotated()}]", {"type": "array", "items": value.schema})
        return Output("value", value.annotated(), value.schema)

    def read_model(self, sym: Symbol) -> str:
        name = self.classes[(sym.module, sym.name)]
        if name in self.api.models:
            return name
        self.api.models[name] = Model(name, "", [])  # placeholder against cycles
        entity: ir.EntityDecl = sym.decl
        fields: list[ApiField] = []
        if key_field(entity) is None:
            fields.append(ApiField("id", "id", Value("uuid.UUID", _SCALAR_SCHEMA["uuid"]),
                                   False, None, None, column="id"))
        for f in entity.fields:
            if f.attribute("secret") is not None:
                continue
            fields.append(self.field(sym.module, f, column=attribute_name(column_name(f)),
                                     read=True))
        doc = entity.doc or f"The entity `{sym.name}` of module `{sym.module}`."
        self.api.models[name] = Model(name, doc, fields, entity=sym, orm_class=name)
        return name

    # ---- fields ----------------------------------------------------------------------------

    def field(self, module: str, f: ir.FieldDecl, column: str | None = None,
              read: bool = False) -> ApiField:
        value = self.value(module, f.type, f)
        if f.type.is_list:
            value = Value(f"list[{value.annotated()}]", {"type": "array", "items": value.schema},
                          kind="list", uses=value.uses)
        if not read and f.attribute("secret") is not None:
            value = replace(value, schema={**value.schema, "writeOnly": True})
        default = None if read else _default(f, value)
        attr = f.name if f.name.isidentifier() and f.name not in _FIELD_RESERVED \
            and not f.name.startswith("model_") and not keyword.iskeyword(f.name) else f.name + "_"
        renamed = f.attribute("renamedFrom")
        former = _name_of(renamed.args[0]) if renamed is not None and renamed.args and \
            not read else None
        return ApiField(f.name, attr, value, f.type.optional, default, f.doc, column=column,
                        former=former)

    def value(self, module: str, ref: ir.TypeRef, f: ir.FieldDecl | None) -> Value:
        if ref.is_ref:
            target = self.entity(module, ref.name)
            key = key_field(target.decl) if target is not None else None
            if key is None:
                return Value("uuid.UUID", dict(_SCALAR_SCHEMA["uuid"]), kind="ref")
            inner = self.value(target.module if target else module, key.type, None)
            return Value(inner.py, inner.schema, kind="ref")
        if ref.name in SCALARS:
            return _scalar(ref, f)
        sym = self.symbols.lookup(module, ref.name, "type").symbol
        if sym is not None and sym.kind == "enum":
            name = self.classes[(sym.module, sym.name)]
            self.api.enums[name] = tuple(v.name for v in sym.decl.values)
            return Value(f"enums.{name}", _ref(name), kind="enum", uses=(name,))
        if sym is not None and sym.kind == "type":
            name = self.type_names[(sym.module, sym.name)]
            if name not in self.api.models:
                self.api.models[name] = Model(name, "", [])
                fields = [self.field(sym.module, tf) for tf in sym.decl.fields]
                self.api.models[name] = Model(
                    name, sym.decl.doc or f"The type `{sym.name}` of module `{sym.module}`.",
                    fields)
            return Value(name, _ref(name), kind="object", uses=(name,))
        if sym is not None and sym.kind == "entity":
            name = self.read_model(sym)
            return Value(name, _ref(name), kind="object", uses=(name,))
        return Value("JsonValue", {}, kind="json")

    def entity(self, module: str, name: str) -> Symbol | None:
        sym = self.symbols.lookup(module, name, "type", frozenset({"entity"})).symbol
        return sym if sym is not None and sym.kind == "entity" else None


# ---- helpers ------------------------------------------------------------------------------


def searchable(entity: ir.EntityDecl) -> list[ir.FieldDecl]:
    """The fields `q` searches: text fields that are neither lists nor secrets."""
    return [f for f in entity.fields if f.type.name in SEARCHABLE and not f.type.is_ref
            and not f.type.is_list and f.attribute("secret") is None]


def _name_of(expr: ir.Expr) -> str | None:
    if isinstance(expr, ir.PathExpr) and len(expr.parts) == 1:
        return expr.parts[0]
    return str(expr.value) if isinstance(expr, ir.LiteralExpr) else None


def _ref(name: str) -> dict[str, Any]:
    return {"$ref": f"#/components/schemas/{name}"}


def key_name(entity: ir.EntityDecl) -> str:
    """The name of an entity's key field (`id` when it declares none)."""
    key = key_field(entity)
    return key.name if key is not None else "id"


def _sentence(name: str) -> str:
    words = snake(name).replace("_", " ")
    return words[:1].upper() + words[1:] + "."


def _number(value: Decimal, integer: bool) -> str:
    if integer or value == value.to_integral_value():
        return str(int(value))
    return f'decimal.Decimal("{value}")'


def _json_number(value: Decimal) -> int | float:
    return int(value) if value == value.to_integral_value() else float(value)


def _scalar(ref: ir.TypeRef, f: ir.FieldDecl | None) -> Value:
    name = ref.name
    py = _SCALAR_PY[name]
    limits = bounds(ref)
    low, high = (limits.low, limits.high) if limits is not None else (None, None)
    constraints: list[str] = []
    if name in SEARCHABLE:
        schema: dict[str, Any] = {"type": "string"}
        if low is not None:
            constraints.append(f"min_length={int(low)}")
            schema["minLength"] = int(low)
        if high is not None:
            constraints.append(f"max_length={int(high)}")
            schema["maxLength"] = int(high)
        attr = f.attribute("pattern") if f is not None else None
        pattern = (attr.args[0].value if attr is not None and attr.args
                   and isinstance(attr.args[0], ir.LiteralExpr) else None)
        if not isinstance(pattern, str):
            pattern = {"email": EMAIL_PATTERN, "url": URL_PATTERN}.get(name)
        if pattern is not None:
            constraints.append(f"pattern={py_str(pattern)}")
            schema["pattern"] = pattern
        return Value(py, schema, tuple(constraints))
    if name in ("decimal", "money"):
        digits = (19, 4) if name == "money" else _digits(ref)
        if digits is not None:
            constraints += [f"max_digits={digits[0]}", f"decimal_places={digits[1]}"]
        number: dict[str, Any] = {"type": "number"}
    elif name in ("int", "bigint"):
        number = {"type": "integer"}
    else:
        return Value(py, dict(_SCALAR_SCHEMA[name]), kind="json" if name == "json" else "scalar")
    integer = name in ("int", "bigint")
    if integer:  # the column's range: a larger value would be a database error, not a 422
        floor, ceiling = INT_RANGES[name]
        low = floor if low is None else max(low, floor)
        high = ceiling if high is None else min(high, ceiling)
    if low is not None:
        constraints.append(f"ge={_number(low, integer)}")
        number["minimum"] = _json_number(low)
    if high is not None:
        constraints.append(f"le={_number(high, integer)}")
        number["maximum"] = _json_number(high)
    schema = number if integer else {"anyOf": [number, {"type": "string"}]}
    return Value(py, schema, tuple(constraints))


def _digits(ref: ir.TypeRef) -> tuple[int, int] | None:
    plain = [a.value for a in ref.args if not a.is_range]
    if len(plain) == 2 and all(v is not None and v.isdigit() for v in plain):
        return int(plain[0] or 0), int(plain[1] or 0)
    return None


def _default(f: ir.FieldDecl, value: Value) -> str | None:
    """A literal default of an input field, as Python (enum values and lists included)."""
    expr = f.default
    if expr is None:
        return None
    if isinstance(expr, ir.LiteralExpr) and expr.type in ("string", "int", "bool"):
        return repr(expr.value) if expr.type != "string" else py_str(str(expr.value))
    if isinstance(expr, ir.LiteralExpr) and expr.type == "decimal":
        return f'decimal.Decimal("{expr.text}")'
    if isinstance(expr, ir.PathExpr) and value.kind == "enum" and len(expr.parts) == 1:
        return f"{value.py}.{member_name(expr.parts[0])}"
    if isinstance(expr, ir.ListExpr) and not expr.items:
        return "[]"
    return None
