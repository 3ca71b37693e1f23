"""`<app>/events/models.py`: a pydantic v2 model per event version, mirroring its schema."""

from __future__ import annotations

import keyword
import textwrap
from collections.abc import Callable
from decimal import Decimal

from contractspec.generators.events import shapes as s
from contractspec.generators.events.schema import (
    ACTOR,
    ACTOR_ID_LENGTH,
    ACTOR_KINDS,
    decimal_pattern,
)

LINE_LENGTH = 99

# Names a field cannot take in a pydantic model: it gets a trailing `_` and an alias.
_RESERVED = frozenset({
    "copy", "dict", "json", "schema", "schema_json", "construct", "validate", "parse_obj",
    "parse_raw", "parse_file", "from_orm", "update_forward_refs", "fields",
})

# Module-level aliases for the string-carried scalars: (alias, definition).
_ALIASES: dict[str, tuple[str, str]] = {
    "uuid": ("_Uuid", "Annotated[UUID, _lexical(_UUID, UUID)]"),
    "date": ("_Date", "Annotated[dt.date, _lexical(_DATE, dt.date)]"),
    "datetime": ("_Timestamp", "Annotated[AwareDatetime, _lexical(_DATETIME, dt.datetime)]"),
    "duration": ("_Duration", "Annotated[dt.timedelta, _lexical(_DURATION, dt.timedelta)]"),
    "money": ("_Money", "Annotated[Decimal, _lexical(_MONEY, Decimal), "
                        "Field(max_digits=19, decimal_places=4)]"),
    "email": ("_Email", "Annotated[str, Field(pattern=_EMAIL)]"),
    "url": ("_Url", "Annotated[str, Field(pattern=_URL)]"),
}
_PATTERNS = {
    "uuid": ("_UUID", s.UUID_PATTERN), "date": ("_DATE", s.DATE_PATTERN),
    "datetime": ("_DATETIME", s.DATETIME_PATTERN), "duration": ("_DURATION", s.DURATION_PATTERN),
    "money": ("_MONEY", decimal_pattern(s.Scalar("money", digits=s.MONEY_DIGITS))),
    "email": ("_EMAIL", s.EMAIL_PATTERN),
    "url": ("_URL", s.URL_PATTERN),
}

_LEXICAL = '''def _lexical(pattern: str, kind: type[object]) -> BeforeValidator:
    """Accept a `kind` value, or a string written as the event's JSON Schema requires."""
    compiled = re.compile(pattern)

    def check(value: object) -> object:
        if isinstance(value, kind) or (isinstance(value, str) and compiled.fullmatch(value)):
            return value
        raise ValueError(f"expected a string matching {pattern}")

    return BeforeValidator(check)
'''


def render_models(catalog: s.Catalog, header: str, app: str) -> str:
    return _Writer(catalog, app).render(header)


class _Writer:
    def __init__(self, catalog: s.Catalog, app: str) -> None:
        self.catalog = catalog
        self.app = app
        self.aliases: set[str] = {"uuid", "datetime"}  # the envelope's own
        self.names: set[str] = set()  # imported names in use

    def render(self, header: str) -> str:
        body = [self.actor()]
        body += [self.definition(name) for name in self.definition_order()]
        for event in self.catalog.events:
            body.append(self.model(f"{event.class_name}Payload",
                                   f"The payload of `{event.type} {event.version}`.",
                                   event.props))
            body.append(self.envelope(event))
        registry = "\n".join(f"    ({_str(e.type)}, {_str(e.version)}): {e.class_name},"
                             for e in self.catalog.events)
        body.append("# Every event version by (type, version), for readers of the outbox.\n"
                    "EVENT_MODELS: dict[tuple[str, str], type[BaseModel]] = {\n"
                    + (registry + "\n" if registry else "") + "}\n")
        enums = any(d.values for d in self.catalog.definitions.values())
        top = f"{header}{_DOC}\n{self.imports(enums)}\n\n{self.preamble()}"
        return "\n\n\n".join(p.rstrip("\n") for p in [top, *body]) + "\n"

    def definition_order(self) -> list[str]:
        """Definitions, each after those it uses (sorted otherwise)."""
        order: list[str] = []
        done: set[str] = set()

        def visit(name: str) -> None:
            if name in done:
                return
            done.add(name)
            for dep in self.catalog.definitions[name].deps:
                visit(dep)
            if not self.catalog.definitions[name].values:
                order.append(name)

        for name in sorted(self.catalog.definitions):
            visit(name)
        return order

    def imports(self, enums: bool) -> str:
        """The imports the body uses (render the body first)."""
        std = ["import datetime as dt", "import re"]
        if "Decimal" in self.names or "money" in self.aliases:
            std.append("from decimal import Decimal")
        typing = ["Annotated", "Literal"]
        std.append(f"from typing import {', '.join(typing)}")
        std.append("from uuid import UUID")
        pydantic = {"AwareDatetime", "BaseModel", "BeforeValidator", "ConfigDict", "Field"}
        pydantic |= self.names & {"JsonValue", "StrictBool", "StrictInt"}
        lines = ["from __future__ import annotations", "\n".join(std),
                 _import("pydantic", sorted(pydantic))]
        if enums:
            lines.append(f"from {self.app} import enums")
        return "\n\n".join(lines)

    def preamble(self) -> str:
        patterns = [f"{name} = {_str(pattern)}" for key, (name, pattern) in _PATTERNS.items()
                    if key in self.aliases]
        aliases = [f"{alias} = {definition}" for key, (alias, definition) in _ALIASES.items()
                   if key in self.aliases]
        config = ('_CONFIG = ConfigDict(extra="forbid", frozen=True, '
                  'regex_engine="python-re")')
        return "\n\n\n".join(["\n".join(patterns), _LEXICAL.rstrip("\n"),
                              "\n".join(aliases) + "\n" + config])

    def actor(self) -> str:
        kinds = ", ".join(_str(k) for k in ACTOR_KINDS)
        low, high = ACTOR_ID_LENGTH
        return (f"class {ACTOR}(BaseModel):\n"
                '    """Who caused the event: a user, an AI agent or the system itself."""\n\n'
                "    model_config = _CONFIG\n\n"
                f"    kind: Literal[{kinds}]\n"
                f"    id: Annotated[str, Field(min_length={low}, max_length={high})]\n")

    def definition(self, name: str) -> str:
        definition = self.catalog.definitions[name]
        return self.model(name, definition.doc or f"The `{definition.qualified}` type.",
                          definition.props)

    def model(self, name: str, doc: str, props: tuple[s.Prop, ...]) -> str:
        lines = [f"class {name}(BaseModel):", _docstring(doc, "    "), ""]
        aliased = any(_python_name(p.name) != p.name for p in props)
        config = ("ConfigDict(**_CONFIG, validate_by_name=True, serialize_by_alias=True)"
                  if aliased else "_CONFIG")
        lines.append(f"    model_config = {config}")
        if props:
            lines.append("")
        lines += [self.field(p) for p in props]
        return "\n".join(lines) + "\n"

    def envelope(self, event: s.EventVersion) -> str:
        doc = f"`{event.type} {event.version}`" + (f": {event.decl.doc}" if event.decl.doc
                                                   else ".")
        lines = [f"class {event.class_name}(BaseModel):", _docstring(doc, "    "), "",
                 "    model_config = _CONFIG", "",
                 "    id: _Uuid",
                 f"    type: Literal[{_str(event.type)}]",
                 f"    version: Literal[{_str(event.version)}]",
                 "    occurredAt: _Timestamp",
                 f"    actor: {ACTOR}"]
        if event.tenant:
            lines.append("    orgId: _Uuid")
        lines.append(f"    payload: {event.class_name}Payload")
        return "\n".join(lines) + "\n"

    def field(self, prop: s.Prop) -> str:
        shape = prop.shape
        annotation = self.value(shape)
        if shape.is_list:
            annotation = f"list[{annotation}]"
        if shape.optional:
            annotation += " | None"
        name = _python_name(prop.name)
        args = []
        if name != prop.name:
            args.append(f"alias={_str(prop.name)}")
        if prop.doc:
            args.append(f"description={_str(prop.doc)}")
        if args:
            default = f" = Field({', '.join(['default=None'] * shape.optional + args)})"
        else:
            default = " = None" if shape.optional else ""
        return _wrap(f"    {name}: {annotation}{default}")

    def value(self, shape: s.Shape) -> str:
        if shape.kind in ("scalar", "ref") and shape.scalar is not None:
            return self.scalar(shape.scalar)
        if shape.kind == "enum" and shape.definition is not None:
            return f"enums.{shape.definition}"
        if shape.definition is not None:
            return shape.definition
        self.names.add("JsonValue")
        return "JsonValue"

    def scalar(self, scalar: s.Scalar) -> str:
        name = scalar.name
        if name in ("string", "text", "email", "url"):
            constraints = []
            if scalar.low is not None:
                constraints.append(f"min_length={int(scalar.low)}")
            if scalar.high is not None:
                constraints.append(f"max_length={int(scalar.high)}")
            if scalar.pattern is not None:
                constraints.append(f"pattern={_str(scalar.pattern)}")
                base = "str"
            elif name in ("email", "url"):
                self.aliases.add(name)
                base = _ALIASES[name][0]
            else:
                base = "str"
            return f"Annotated[{base}, Field({', '.join(constraints)})]" if constraints else base
        if name in ("int", "bigint", "bool"):
            base = "StrictBool" if name == "bool" else "StrictInt"
            self.names.add(base)
            constraints = _bounds(scalar, int)
            return f"Annotated[{base}, Field({', '.join(constraints)})]" if constraints else base
        if name in ("decimal", "money"):
            if name == "money" and scalar.low is None and scalar.high is None:
                self.aliases.add("money")
                return "_Money"
            self.names.add("Decimal")
            constraints = []
            if scalar.digits is not None:
                constraints += [f"max_digits={scalar.digits[0]}",
                                f"decimal_places={scalar.digits[1]}"]
            constraints += _bounds(scalar, _decimal_literal)
            pattern = _str(decimal_pattern(scalar))
            return (f"Annotated[Decimal, _lexical({pattern}, Decimal), "
                    f"Field({', '.join(constraints)})]" if constraints else
                    f"Annotated[Decimal, _lexical({pattern}, Decimal)]")
        if name in _ALIASES:
            self.aliases.add(name)
            return _ALIASES[name][0]
        self.names.add("JsonValue")
        return "JsonValue"


_DOC = '''"""Typed events: one pydantic model per event version, mirroring `schemas/*.json`.

Money and decimals travel as strings ("12.50") and are read as `Decimal`; ids, dates,
times (with an offset) and durations (ISO 8601) travel as strings too. Optional fields
may be missing or null.
"""
'''


def _bounds(scalar: s.Scalar, render: Callable[[Decimal], object]) -> list[str]:
    out = []
    if scalar.low is not None:
        out.append(f"ge={render(scalar.low)}")
    if scalar.high is not None:
        out.append(f"le={render(scalar.high)}")
    return out


def _import(module: str, names: list[str]) -> str:
    return f"from {module} import {', '.join(names)}"


def _wrap(line: str) -> str:
    """A field line too long for one line: the arguments of its first `Annotated[...]`,
    one per line."""
    start = line.find("Annotated[")
    if len(line) <= LINE_LENGTH or start < 0:
        return line
    open_at = start + len("Annotated[")
    args, depth, begin, index = [], 0, open_at, open_at
    while index < len(line):
        char = line[index]
        if char in "\"'":  # a string literal: skip to its closing quote
            index = line.index(char, index + 1)
        elif char in "([{":
            depth += 1
        elif char in ")]}" and depth > 0:
            depth -= 1
        elif char == "]" or (char == "," and depth == 0):
            args.append(line[begin:index].strip())
            begin = index + 1
            if char == "]":
                break
        index += 1
    inner = "".join(f"        {a},\n" for a in args)
    return f"{line[:open_at]}\n{inner}    ]{line[index + 1:]}"


def _decimal_literal(value: Decimal) -> str:
    return str(int(value)) if value == value.to_integral_value() else f'Decimal("{value}")'


def _python_name(name: str) -> str:
    if keyword.iskeyword(name) or name in _RESERVED or name.startswith("model_"):
        return name + "_"
    return name


def _str(text: str) -> str:
    """A Python string literal: raw when that needs no escapes."""
    if '"' not in text and "\n" not in text and not text.endswith("\\"):
        return f'r"{text}"' if "\\" in text else f'"{text}"'
    return repr(text)


def _docstring(text: str, indent: str) -> str:
    text = text.replace("\\", "\\\\").replace('"""', '\\"\\"\\"').strip()
    width = 100 - len(indent)  # long lines are wrapped to stay within 100 columns
    lines = [part for line in text.splitlines()
             for part in (textwrap.wrap(line, width - 3) if len(line) > width - 6 else [line])]
    if len(lines) == 1:
        return f'{indent}"""{text}"""'
    body = "\n".join(f"{indent}{line}" if line else "" for line in lines)
    return f'{indent}"""{body.lstrip()}\n{indent}"""'
