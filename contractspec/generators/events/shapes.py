"""What the events target generates from: each event version and the shape of each payload
field, resolved once so the JSON Schemas and the pydantic models say the same thing."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field, replace
from decimal import Decimal

from contractspec.check.rules.types import bounds
from contractspec.check.symbols import SCALARS, Symbol, SymbolTable
from contractspec.check.tenancy import build_tenancy
from contractspec.generators.memo import per_program
from contractspec.generators.runtime import MODULE as RUNTIME_MODULE
from contractspec.ir import nodes as ir

UNVERSIONED = "v1"  # the label of an event declared without a version
MONEY_DIGITS = (19, 4)  # money travels like Numeric(19, 4): 15 digits before the point, 4 after

# String-carried scalars: the lexical form both the schema and the model enforce.
UUID_PATTERN = "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
DATE_PATTERN = r"^\d{4}-\d{2}-\d{2}$"
DATETIME_PATTERN = (r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?"
                    r"(Z|[+-]\d{2}:\d{2})$")
DURATION_PATTERN = (r"^P(?!$)(\d+Y)?(\d+M)?(\d+W)?(\d+D)?"
                    r"(T(?=\d)(\d+H)?(\d+M)?(\d+(\.\d+)?S)?)?$")
# Control characters are named besides `\s`: Python's `re` counts \x1c-\x1f as whitespace and
# the Rust engine pydantic uses by default does not, so the two would disagree.
EMAIL_PATTERN = r"^[^@\s\x00-\x1f\x7f]+@[^@\s\x00-\x1f\x7f]+\.[^@\s\x00-\x1f\x7f]+$"
URL_PATTERN = r"^[A-Za-z][A-Za-z0-9+.\-]*://[^\s\x00-\x1f\x7f]+$"


@dataclass(frozen=True)
class Scalar:
    """A scalar with its constraints: lengths for strings, bounds for numbers."""

    name: str
    low: Decimal | None = None
    high: Decimal | None = None
    digits: tuple[int, int] | None = None  # precision and scale of decimal and money
    pattern: str | None = None  # from @pattern


@dataclass(frozen=True)
class Shape:
    """The type of one value: a scalar, an enum, a `type` (by definition name) or a ref."""

    kind: str  # "scalar" | "enum" | "object" | "ref" | "any"
    scalar: Scalar | None = None
    definition: str | None = None  # enum or object: the unique definition name
    entity: str | None = None  # ref: the entity's qualified name
    is_list: bool = False
    optional: bool = False


@dataclass(frozen=True)
class Prop:
    name: str
    shape: Shape
    doc: str | None
    label: str | None
    pii: bool
    secret: bool


@dataclass(frozen=True)
class Definition:
    """An enum (values) or an embedded `type` (props), under its unique name."""

    name: str
    qualified: str
    doc: str | None
    values: tuple[str, ...] = ()
    props: tuple[Prop, ...] = ()
    deps: tuple[str, ...] = ()  # definitions this one's props use


@dataclass(frozen=True)
class EventVersion:
    module: str
    decl: ir.EventDecl
    type: str  # the envelope's `type`: the event name (module-qualified on a clash)
    version: str  # "v1", "v1.4.0"
    class_name: str  # DealCreatedV1
    tenant: bool  # the payload holds tenant data: the envelope carries `orgId`
    props: tuple[Prop, ...]
    deps: tuple[str, ...]  # definitions used, directly or not, sorted

    @property
    def file_stem(self) -> str:
        return f"{self.type}.{self.version}"


@dataclass
class Catalog:
    events: list[EventVersion] = field(default_factory=list)
    definitions: dict[str, Definition] = field(default_factory=dict)


def version_label(version: str | None) -> str:
    if version is None:
        return UNVERSIONED
    return version if version.startswith("v") else f"v{version}"


def pascal(text: str) -> str:
    """`deal.statusChanged` -> `DealStatusChanged`; `v1.4.0` -> `V1_4_0`."""
    parts = [p for p in re.split(r"[^0-9A-Za-z]+", text) if p]
    return "".join(p[0].upper() + p[1:] for p in parts)


@per_program
def build_catalog(program: ir.Program) -> Catalog:
    symbols = SymbolTable(program)
    builder = _Builder(program, symbols)
    return builder.build()


class _Builder:
    def __init__(self, program: ir.Program, symbols: SymbolTable) -> None:
        self.program = program
        self.symbols = symbols
        tenancy = build_tenancy(program, symbols)
        self.tenant_entities = {k for k in tenancy.entities
                                if tenancy.tenant_data(k) or k in tenancy.roots}
        self.names = _definition_names(program)
        self.catalog = Catalog()

    def build(self) -> Catalog:
        declared = [(m.name, e) for m in self.program.modules for e in m.events]
        keys = Counter((e.name, version_label(e.version)) for _, e in declared)
        own = Counter((e.name, version_label(e.version)) for m, e in declared
                      if m != RUNTIME_MODULE)
        for module, event in declared:
            label = version_label(event.version)
            # a name two modules declare is qualified; the generated runtime's yields its
            # plain name to the workspace's own event
            clash = own[(event.name, label)] > 1 or (
                module == RUNTIME_MODULE and keys[(event.name, label)] > 1)
            type_ = f"{module}.{event.name}" if clash else event.name
            props = tuple(self.prop(module, f) for f in event.payload)
            self.catalog.events.append(EventVersion(
                module=module, decl=event, type=type_, version=label,
                class_name=pascal(type_) + pascal(label),
                tenant=self.carries_tenant(module, event.payload, set()),
                props=props, deps=tuple(sorted(self.closure(props)))))
        self.catalog.events.sort(key=lambda e: (e.type, e.version))
        return self.catalog

    def prop(self, module: str, decl: ir.FieldDecl) -> Prop:
        label = decl.attribute("label")
        label_text = (label.args[0].value if label is not None and label.args
                      and isinstance(label.args[0], ir.LiteralExpr)
                      and isinstance(label.args[0].value, str) else None)
        return Prop(decl.name, self.shape(module, decl), decl.doc, label_text,
                    decl.attribute("pii") is not None, decl.attribute("secret") is not None)

    def shape(self, module: str, decl: ir.FieldDecl) -> Shape:
        type_ = decl.type
        shape = self._value(module, decl)
        return replace(shape, is_list=type_.is_list, optional=type_.optional)

    def _value(self, module: str, decl: ir.FieldDecl) -> Shape:
        type_ = decl.type
        if type_.is_ref:
            target = self.entity(module, type_.name)
            if target is None:
                return Shape("any")
            return Shape("ref", scalar=self.id_scalar(target), entity=target.qualified)
        if type_.name in SCALARS:
            return Shape("scalar", scalar=_scalar(type_, decl))
        target = self.symbols.lookup(module, type_.name, "type").symbol
        if target is None or target.kind not in ("enum", "type", "entity"):
            return Shape("any")
        self.define(target)
        kind = "enum" if target.kind == "enum" else "object"
        return Shape(kind, definition=self.names[target.qualified])

    def entity(self, module: str, name: str) -> Symbol | None:
        sym = self.symbols.lookup(module, name, "type", frozenset({"entity"})).symbol
        return sym if sym is not None and sym.kind == "entity" else None

    def id_scalar(self, entity: Symbol) -> Scalar:
        key = next((f for f in entity.decl.fields if f.attribute("id") is not None), None)
        if key is None or key.type.is_ref or key.type.is_list or key.type.name not in SCALARS:
            return Scalar("uuid")
        return _scalar(key.type, key)

    def define(self, target: Symbol) -> None:
        name = self.names[target.qualified]
        if name in self.catalog.definitions:
            return
        decl = target.decl
        if target.kind == "enum":
            self.catalog.definitions[name] = Definition(
                name, target.qualified, decl.doc, values=tuple(v.name for v in decl.values))
            return
        # A placeholder first, so a type that contains itself does not recurse forever.
        self.catalog.definitions[name] = Definition(name, target.qualified, decl.doc)
        props = tuple(self.prop(target.module, f) for f in decl.fields)
        deps = tuple(sorted({p.shape.definition for p in props
                             if p.shape.definition is not None}))
        self.catalog.definitions[name] = Definition(name, target.qualified, decl.doc,
                                                    props=props, deps=deps)

    def closure(self, props: tuple[Prop, ...]) -> set[str]:
        found: set[str] = set()
        todo = [p.shape.definition for p in props if p.shape.definition is not None]
        while todo:
            name = todo.pop()
            if name not in found:
                found.add(name)
                todo.extend(self.catalog.definitions[name].deps)
        return found

    def carries_tenant(self, module: str, fields: tuple[ir.FieldDecl, ...],
                       seen: set[str]) -> bool:
        """Whether a payload refers, directly or through embedded types, to tenant data."""
        for decl in fields:
            if decl.type.is_ref:
                target = self.entity(module, decl.type.name)
                if target is not None and target.qualified in self.tenant_entities:
                    return True
                continue
            sym = self.symbols.lookup(module, decl.type.name, "type").symbol
            if (sym is not None and sym.kind in ("type", "entity")
                    and sym.qualified not in seen):
                seen.add(sym.qualified)
                if self.carries_tenant(sym.module, sym.decl.fields, seen):
                    return True
        return False


# Names models.py defines or imports (besides the event classes).
RESERVED = frozenset({
    "Annotated", "Any", "AwareDatetime", "BaseModel", "BeforeValidator", "ConfigDict", "Decimal",
    "EVENT_MODELS", "EventActor", "Field", "JsonValue", "Literal", "StrEnum", "StrictBool",
    "StrictInt", "UUID", "annotations", "dt", "enums", "re",
})
# Class names the `db` target avoids for enums (contractspec.generators.db.naming).
_DB_RESERVED = frozenset({"Any", "Base", "Mapped", "StrEnum", "annotations"})


def _definition_names(program: ir.Program) -> dict[str, str]:
    """Unique class names: an enum's is the `db` target's (in `<app>/enums.py`): the name,
    or `<Module><Name>` when entities or enums of two modules share it; a type's is its
    name, or `<Module><Name>` on any clash."""
    declared = [(m.name, d.name, kind) for m in program.modules
                for kind, decls in (("enum", m.enums), ("type", m.types), ("entity", m.entities))
                for d in decls]
    stored = Counter(name for _, name, kind in declared if kind != "type")
    every = Counter(name for _, name, _ in declared)
    names: dict[str, str] = {}
    for module, name, kind in declared:
        if kind == "type":
            clash = every[name] > 1 or name in RESERVED
        else:
            clash = stored[name] > 1 or name in _DB_RESERVED
        names[f"{module}.{name}"] = pascal(module) + name if clash else name
    return names


def _scalar(type_: ir.TypeRef, decl: ir.FieldDecl) -> Scalar:
    limits = bounds(type_)
    pattern = decl.attribute("pattern")
    pattern_text = (pattern.args[0].value if pattern is not None and pattern.args
                    and isinstance(pattern.args[0], ir.LiteralExpr)
                    and isinstance(pattern.args[0].value, str) else None)
    digits: tuple[int, int] | None = None
    if type_.name == "money":
        digits = MONEY_DIGITS
    elif type_.name == "decimal":
        plain = [a.value for a in type_.args if not a.is_range]
        if len(plain) == 2 and all(v is not None and v.isdigit() for v in plain):
            digits = (int(plain[0] or 0), int(plain[1] or 0))
    return Scalar(type_.name, limits.low if limits else None, limits.high if limits else None,
                  digits, pattern_text)
