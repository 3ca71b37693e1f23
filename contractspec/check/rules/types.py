"""Types and values: constraints (CS205), defaults and literals (CS206), attributes
(CS207 to CS209, CS212) and entity keys (CS213)."""

from __future__ import annotations

import re
import uuid
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal
from typing import Literal

from contractspec.check.context import CheckContext
from contractspec.check.registry import declare, rule
from contractspec.check.rules.names import Block, blocks, closest, suggestion_fix
from contractspec.check.symbols import GENERICS, SCALARS
from contractspec.diagnostics import Fix, Related, Severity
from contractspec.ir import nodes as ir
from contractspec.source import Span

E = Severity.ERROR

LENGTH_TYPES = ("string", "text", "email", "url")
INT_TYPES = ("int", "bigint")
NUMBER_TYPES = (*INT_TYPES, "decimal", "money")
MAX_PRECISION = 1000


def render(ref: ir.TypeRef) -> str:
    """A type as written (canonically): `ref Stage?`, `string(1..80)[]`."""
    text = ("ref " if ref.is_ref else "") + ref.name
    if ref.generics:
        text += "<" + ", ".join(render(g) for g in ref.generics) + ">"
    if ref.args:
        text += "(" + ",".join(_render_arg(a) for a in ref.args) + ")"
    return text + ("[]" if ref.is_list else "") + ("?" if ref.optional else "")


def _render_arg(arg: ir.TypeArg) -> str:
    return f"{arg.min or ''}..{arg.max or ''}" if arg.is_range else arg.value or ""


def type_positions(module: ir.Module) -> Iterator[ir.TypeRef]:
    """Every type written in a module, type arguments included."""
    def walk(ref: ir.TypeRef) -> Iterator[ir.TypeRef]:
        yield ref
        for inner in ref.generics:
            yield from walk(inner)

    for block in blocks(module):
        for f in block.fields:
            yield from walk(f.type)
    for op in module.operations:
        if op.output is not None:
            yield from walk(op.output)


# ---- constraints --------------------------------------------------------------------------


@dataclass(frozen=True)
class Bounds:
    low: Decimal | None
    high: Decimal | None

    def __str__(self) -> str:
        return f"{'' if self.low is None else self.low}..{'' if self.high is None else self.high}"

    def describe(self, unit: str = "") -> str:
        """`1 to 80 characters`, `at most 80 characters`, `at least 0`."""
        if self.low is not None and self.high is not None:
            text = f"{self.low} to {self.high}"
        else:
            text = f"at most {self.high}" if self.low is None else f"at least {self.low}"
        return text + unit

    def contains(self, value: Decimal) -> bool:
        return (self.low is None or value >= self.low) and (self.high is None or value <= self.high)


def _number(text: str | None) -> Decimal | None:
    return None if text is None else Decimal(text)


def bounds(ref: ir.TypeRef) -> Bounds | None:
    """Length bounds of a string type or value bounds of a number type, when well formed."""
    if ref.is_ref or _constraint_problem(ref) is not None or not ref.args:
        return None
    last = ref.args[-1]
    if ref.name in LENGTH_TYPES and not last.is_range:
        return Bounds(None, _number(last.value))
    return Bounds(_number(last.min), _number(last.max)) if last.is_range else None


@rule(
    "CS205", "bad-constraint", E, "A type's arguments are not valid for that type.",
    "Lengths go on `string`, `text`, `email` and `url`: `string(80)` (at most 80 characters), "
    "`string(1..80)`, `string(1..)`. Value bounds go on `int`, `bigint`, `decimal` and "
    "`money`: `int(0..)`, `money(0..10000)`. `decimal` also takes a precision and scale, "
    "`decimal(12,2)` (1 to 1000 digits, of which 0 up to all after the point), optionally "
    "followed by bounds: `decimal(12,2,0..)`. Bounds are ordered (minimum first), lengths and "
    "precisions are whole numbers. Other scalars, enums, types and entities take no "
    "arguments.",
    bad="module shop\n\nentity Order {\n  id: uuid @id\n  title: string(80..1)\n"
        "  paid: bool(1)\n}\n",
    good="module shop\n\nentity Order {\n  id: uuid @id\n  title: string(1..80)\n"
         "  paid: bool\n}\n",
    per_module=True,
)
def check_constraints(ctx: CheckContext) -> None:
    for module in ctx.user_modules():
        for ref in type_positions(module):
            problem = _constraint_problem(ref)
            if problem is not None:
                ctx.report("CS205", f"`{render(ref)}`: {problem[0]}", ref.span, help=problem[1])


Problem = tuple[str, str | None]


def _constraint_problem(ref: ir.TypeRef) -> Problem | None:
    if not ref.args:
        return None
    name = ref.name
    if ref.is_ref or name in GENERICS or name not in SCALARS:
        return f"`{name}` takes no arguments", _CONSTRAINED
    if name in LENGTH_TYPES:
        return _length_problem(name, ref.args)
    if name in INT_TYPES or name == "money":
        return _bounds_problem(name, ref.args, whole=name in INT_TYPES)
    if name == "decimal":
        return _decimal_problem(ref.args)
    return f"`{name}` takes no arguments", _CONSTRAINED


_CONSTRAINED = ("only `string`, `text`, `email`, `url`, `int`, `bigint`, `decimal` and `money` "
                "take constraints")


def _whole(text: str | None) -> bool:
    return text is None or text.isdigit()


def _integer(text: str | None) -> bool:
    """A whole number that may be negative (value bounds such as `int(-10..10)`)."""
    return text is None or text.removeprefix("-").isdigit()


def _length_problem(name: str, args: tuple[ir.TypeArg, ...]) -> Problem | None:
    usage = f"write `{name}(max)`, `{name}(min..max)` or `{name}(min..)` with whole numbers"
    if len(args) != 1:
        return f"`{name}` takes one length", usage
    arg = args[0]
    if not (_whole(arg.value) and _whole(arg.min) and _whole(arg.max)):
        return "a length is a whole number of characters", usage
    if not arg.is_range:
        return (None if int(arg.value or 0) >= 1 else
                ("the maximum length must be at least 1", usage))
    return _range_order(arg, "length", usage) or (
        ("the maximum length must be at least 1", usage) if arg.max == "0" else None)


def _range_order(arg: ir.TypeArg, what: str, usage: str) -> Problem | None:
    low, high = _number(arg.min), _number(arg.max)
    if low is None and high is None:
        return "a range needs at least one bound", usage
    if low is not None and high is not None and low > high:
        return f"the minimum {what} {arg.min} is greater than the maximum {arg.max}", usage
    return None


def _bounds_problem(name: str, args: tuple[ir.TypeArg, ...], whole: bool) -> Problem | None:
    usage = f"write value bounds such as `{name}(0..)` or `{name}(1..100)`"
    if len(args) != 1 or not args[0].is_range:
        return f"`{name}` takes value bounds, not a length", usage
    arg = args[0]
    if whole and not (_integer(arg.min) and _integer(arg.max)):
        return f"the bounds of `{name}` are whole numbers", usage
    return _range_order(arg, "value", usage)


def _decimal_problem(args: tuple[ir.TypeArg, ...]) -> Problem | None:
    usage = ("write `decimal(precision, scale)` such as `decimal(12,2)`, value bounds such as "
             "`decimal(0..)`, or both: `decimal(12,2,0..)`")
    digits = [a for a in args if not a.is_range]
    ranges = [a for a in args if a.is_range]
    if len(digits) not in (0, 2) or len(ranges) > 1 or (ranges and args[-1] is not ranges[0]):
        return "`decimal` takes a precision and a scale, then optional bounds", usage
    if ranges and (problem := _range_order(ranges[0], "value", usage)):
        return problem
    if not digits:
        return None
    if not all(_whole(d.value) for d in digits):
        return "precision and scale are whole numbers", usage
    precision, scale = (int(d.value or 0) for d in digits)
    if not 1 <= precision <= MAX_PRECISION:
        return f"the precision (number of digits) must be 1 to {MAX_PRECISION}", usage
    if scale > precision:
        return (f"the scale {scale} (digits after the point) is greater than the precision "
                f"{precision} (all digits)", usage)
    return None


# ---- values: defaults and comparisons -----------------------------------------------------


@dataclass(frozen=True)
class Mismatch:
    message: str
    help: str | None = None
    fixes: tuple[Fix, ...] = ()
    at: Span | None = None  # where, when not the whole value (an item of a list)


_DESCRIBE = {"string": "a string", "int": "a whole number", "decimal": "a decimal number",
             "bool": "`true` or `false`", "null": "`null`", "duration": "a duration",
             "size": "a size", "percent": "a percentage"}
_EXPECTED = {"string": "a string", "text": "a string", "email": "a string",
             "url": "a string", "int": "a whole number", "bigint": "a whole number",
             "decimal": "a number", "money": "a number", "bool": "`true` or `false`",
             "date": "`now` or a date string such as \"2024-01-31\"",
             "datetime": "`now` or a date-time string such as \"2024-01-31T09:00:00Z\"",
             "duration": "a duration such as `30s`", "uuid": "a UUID string",
             "json": "any literal"}
_ACCEPTS = {"string": {"string"}, "text": {"string"}, "email": {"string"}, "url": {"string"},
            "int": {"int"}, "bigint": {"int"}, "decimal": {"int", "decimal"},
            "money": {"int", "decimal"}, "bool": {"bool"}, "date": {"string"},
            "datetime": {"string"}, "duration": {"duration"}, "uuid": {"string"},
            "json": {"string", "int", "decimal", "bool"}}


def _literal(expr: ir.Expr) -> tuple[ir.LiteralExpr, Decimal | None] | None:
    """A literal (a signed number included) and its numeric value, if it is one."""
    sign = 1
    if isinstance(expr, ir.UnaryExpr) and expr.op in ("-", "+"):
        sign = -1 if expr.op == "-" else 1
        expr = expr.operand
        if not (isinstance(expr, ir.LiteralExpr) and expr.type in ("int", "decimal")):
            return None
    if not isinstance(expr, ir.LiteralExpr):
        return None
    number = Decimal(str(expr.value)) * sign if expr.type in ("int", "decimal") else None
    return expr, number


@dataclass(frozen=True)
class ValueChecker:
    """Checks a value written for a type: a default, or a literal compared with a field
    (comparisons only pass literals)."""

    ctx: CheckContext
    module: str
    default: bool  # a default (else one side of a comparison)

    def check(self, ref: ir.TypeRef, expr: ir.Expr, subject: str) -> Mismatch | None:
        literal = _literal(expr)
        if literal is not None and literal[0].type == "null":
            return None if ref.optional else self._null(ref, subject)
        if ref.is_list:
            return self._list(ref, expr, subject) if self.default else None
        if ref.is_ref:
            return Mismatch(f"{subject} is a reference to `{ref.name}`; it has no literal value",
                            "a reference is set by the operation that creates the record"
                            if self.default else "compare it with `actor` or another reference")
        if ref.name in SCALARS:
            return self._scalar(ref, expr, literal, subject)
        sym = self.ctx.symbols.lookup(self.module, ref.name, "type").symbol
        if sym is not None and sym.kind == "enum":
            return self._enum(sym.decl, expr, subject)
        if sym is not None:
            return Mismatch(f"{subject} is the {sym.kind} `{ref.name}`; it has no literal value",
                            "only `null`, on an optional field")
        return None

    def _null(self, ref: ir.TypeRef, subject: str) -> Mismatch:
        if not self.default:
            return Mismatch(f"{subject} is never null: its type `{render(ref)}` is not optional")
        end = ref.span.model_copy(update={"start_line": ref.span.end_line,
                                          "start_col": ref.span.end_col,
                                          "start_offset": ref.span.end_offset})
        return Mismatch(f"`null` is only the default of an optional field, and {subject} is "
                        f"`{render(ref)}`", f"make the field optional: `{render(ref)}?`",
                        (Fix(title="Make the field optional", span=end, replacement="?"),))

    def _list(self, ref: ir.TypeRef, expr: ir.Expr, subject: str) -> Mismatch | None:
        if not isinstance(expr, ir.ListExpr):
            return Mismatch(f"{subject} is a list; its default is a list such as `[]`")
        item = ref.model_copy(update={"is_list": False, "optional": False})
        for element in expr.items:
            problem = self.check(item, element, f"an item of {subject}")
            if problem is not None:
                return problem if problem.at else replace(problem, at=element.span)
        return None

    def _scalar(self, ref: ir.TypeRef, expr: ir.Expr,
                literal: tuple[ir.LiteralExpr, Decimal | None] | None,
                subject: str) -> Mismatch | None:
        name = ref.name
        expected = f"{subject} is `{render(ref)}`, so its value is {_EXPECTED[name]}"
        if isinstance(expr, ir.PathExpr) and expr.parts == ("now",):
            return None if name in ("date", "datetime") else Mismatch(
                f"`now` is only a value of `date` and `datetime` fields; {expected}")
        if literal is None:
            return Mismatch(f"a default is a literal, an enum value or `now`; {expected}")
        lit, number = literal
        if lit.type not in _ACCEPTS[name]:
            return Mismatch(f"{expected}, not {_DESCRIBE[lit.type]}")
        text = lit.value if isinstance(lit.value, str) else ""
        if lit.type == "string" and not _string_fits(name, text):
            return Mismatch(f"\"{text}\" is not a valid {name}: {expected}")
        limits = bounds(ref) if self.default else None
        if limits is None:
            return None
        if name in NUMBER_TYPES and number is not None and not limits.contains(number):
            return Mismatch(f"the default {number} is out of range: {subject} is "
                            f"`{render(ref)}`, {limits.describe()}")
        if name in LENGTH_TYPES and not limits.contains(Decimal(len(text))):
            return Mismatch(f"the default has {len(text)} characters, but {subject} takes "
                            f"{limits.describe(' characters')}")
        return None

    def _enum(self, enum: ir.EnumDecl, expr: ir.Expr, subject: str) -> Mismatch | None:
        values = [v.name for v in enum.values]
        listed = ", ".join(f"`{v}`" for v in values)
        if isinstance(expr, ir.PathExpr) and len(expr.parts) == 1:
            if expr.parts[0] in values:
                return None
            help_text, fixes = suggestion_fix(expr.span, closest(expr.parts[0], values))
            return Mismatch(f"`{expr.parts[0]}` is not a value of enum `{enum.name}` "
                            f"({listed})", help_text, fixes)
        if isinstance(expr, ir.LiteralExpr) and expr.value in values:
            value = str(expr.value)
            return Mismatch(f"an enum value is written without quotes: `{value}`", None,
                            (Fix(title=f"Write `{value}`", span=expr.span, replacement=value),))
        return Mismatch(f"{subject} is the enum `{enum.name}`: its value is one of {listed}")


def _string_fits(name: str, text: str) -> bool:
    try:
        if name == "date":
            date.fromisoformat(text)
        elif name == "datetime":
            datetime.fromisoformat(text)
        elif name == "uuid":
            uuid.UUID(text)
    except ValueError:
        return False
    return True


_COMPARISONS = frozenset({"==", "!=", "<", "<=", ">", ">="})


@rule(
    "CS206", "type-mismatch", E, "A value does not fit the type it is written for.",
    "A default (`= value` or `@default(value)`) must fit its field: an enum value of the "
    "field's enum, `true`/`false` on `bool`, numbers on number types (within the field's "
    "bounds), strings on string types (within its length), `now` or an ISO date string on "
    "`date`/`datetime`, a list on a list field, and `null` only on an optional field. In "
    "policies, workflows and attachment rules, a field of `self` compared with a literal "
    "must be compared with a value of its type.",
    bad="module shop\n\nenum Status {\n  open\n  closed\n}\n\nentity Order {\n  id: uuid @id\n"
        "  status: Status = opne\n  paid: bool = 0\n  note: string = null\n}\n",
    good="module shop\n\nenum Status {\n  open\n  closed\n}\n\nentity Order {\n  id: uuid @id\n"
         "  status: Status = open\n  paid: bool = false\n  note: string? = null\n}\n",
    fix="Replace a misspelled enum value with the closest value, or make the field optional.",
    per_module=True,
)
def check_values(ctx: CheckContext) -> None:
    for module in ctx.user_modules():
        checker = ValueChecker(ctx, module.name, default=True)
        for block in blocks(module):
            for f in block.fields:
                written = f.default
                if written is None and f.attributes:
                    attr = f.attribute("default")
                    written = attr.args[0] if attr is not None and len(attr.args) == 1 else None
                if written is not None:
                    _report(ctx, checker.check(f.type, written, f"field `{f.name}`"), written)
        for entity, expr in _self_expressions(ctx, module):
            _check_comparisons(ctx, module.name, entity, expr)


def _report(ctx: CheckContext, problem: Mismatch | None, expr: ir.Expr) -> None:
    if problem is not None:
        ctx.report("CS206", problem.message, problem.at or expr.span, help=problem.help,
                   fixes=problem.fixes)


def _self_expressions(ctx: CheckContext,
                      module: ir.Module) -> Iterator[tuple[ir.EntityDecl, ir.Expr]]:
    """Expressions in which `self` is a record of a known entity."""
    for policy in module.policies:
        entity = ctx.symbols.entity_of(module.name, policy.entity.name)
        if entity is not None:
            yield from ((entity, r.rule) for r in policy.rules)
    for wf in module.workflows:
        entity = ctx.symbols.entity_of(module.name, wf.subject.name.rpartition(".")[0])
        if entity is not None:
            for t in wf.transitions:
                yield from ((entity, e) for e in (t.by, t.when) if e is not None)
    for attachments in module.attachments:
        entity = ctx.symbols.entity_of(module.name, attachments.entity.name)
        if entity is not None:
            yield from ((entity, r.rule) for r in attachments.rules)


def _check_comparisons(ctx: CheckContext, module: str, entity: ir.EntityDecl,
                       expr: ir.Expr) -> None:
    checker = ValueChecker(ctx, module, default=False)
    for node in _walk(expr):
        if not isinstance(node, ir.BinaryExpr):
            continue
        pairs = [(node.left, node.right), (node.right, node.left)]
        if node.op == "in" and isinstance(node.right, ir.ListExpr):
            pairs = [(node.left, item) for item in node.right.items]
        elif node.op not in _COMPARISONS:
            continue
        for side, other in pairs:
            f = _self_field(entity, side)
            if f is not None and _literal(other) is not None:
                _report(ctx, checker.check(f.type, other, f"`self.{f.name}`"), other)


def _self_field(entity: ir.EntityDecl, expr: ir.Expr) -> ir.FieldDecl | None:
    if isinstance(expr, ir.PathExpr) and len(expr.parts) == 2 and expr.parts[0] == "self":
        return entity.field(expr.parts[1])
    return None


def _walk(expr: ir.Expr) -> Iterator[ir.Expr]:
    yield expr
    if isinstance(expr, ir.BinaryExpr):
        yield from _walk(expr.left)
        yield from _walk(expr.right)
    elif isinstance(expr, ir.UnaryExpr):
        yield from _walk(expr.operand)
    elif isinstance(expr, ir.CallExpr):
        for arg in expr.args:
            yield from _walk(arg)
    elif isinstance(expr, ir.ListExpr):
        for item in expr.items:
            yield from _walk(item)


# ---- attributes ---------------------------------------------------------------------------

ArgKind = Literal["none", "string", "reason", "name", "value", "fields"]


@dataclass(frozen=True)
class AttrSpec:
    args: ArgKind
    usage: str  # how it is written
    entity_only: bool = False


FIELD_ATTRIBUTES: dict[str, AttrSpec] = {
    "id": AttrSpec("none", "@id", entity_only=True),
    "unique": AttrSpec("none", "@unique", entity_only=True),
    "index": AttrSpec("none", "@index", entity_only=True),
    "tenant": AttrSpec("none", "@tenant", entity_only=True),
    "immutable": AttrSpec("none", "@immutable", entity_only=True),
    "pii": AttrSpec("none", "@pii"),
    "secret": AttrSpec("none", "@secret"),
    "default": AttrSpec("value", "@default(value)"),
    "label": AttrSpec("string", '@label("Title")'),
    "deprecated": AttrSpec("reason", '@deprecated("why")'),
    "renamedFrom": AttrSpec("name", "@renamedFrom(oldName)"),
    "pattern": AttrSpec("string", '@pattern("^[A-Z]{2}$")'),
    "allowBreaking": AttrSpec("reason", '@allowBreaking("why")'),
}
VALUE_ATTRIBUTES = {n: FIELD_ATTRIBUTES[n] for n in ("label", "deprecated", "renamedFrom")}
ENTITY_ATTRIBUTES: dict[str, AttrSpec] = {
    "index": AttrSpec("fields", "@@index(field, ...)"),
    "unique": AttrSpec("fields", "@@unique(field, ...)"),
    "global": AttrSpec("none", "@@global"),
    "renamedFrom": AttrSpec("name", "@@renamedFrom(OldName)"),
    "allowBreaking": AttrSpec("reason", '@@allowBreaking("why")'),
}
ID_TYPES = ("uuid", "int", "bigint", "string")


def _name_span(attr: ir.Attribute, prefix: str) -> Span:
    """The span of an attribute's name (written right after its `@` or `@@`)."""
    s = attr.span
    start = s.start_offset + len(prefix)
    return s.model_copy(update={"start_col": s.start_col + len(prefix), "start_offset": start,
                                "end_line": s.start_line,
                                "end_col": s.start_col + len(prefix) + len(attr.name),
                                "end_offset": start + len(attr.name)})


@rule(
    "CS207", "unknown-attribute", E, "An attribute is not one the language knows.",
    "Field attributes are " + ", ".join(f"`{s.usage}`" for s in FIELD_ATTRIBUTES.values()) +
    "; enum values take `@label`, `@deprecated` and `@renamedFrom`; entities take "
    + ", ".join(f"`{s.usage}`" for s in ENTITY_ATTRIBUTES.values()) +
    " (`@@global` marks an entity that is deliberately not tenant-scoped). A misspelled "
    "attribute is reported with the closest known one.",
    bad="module shop\n\nentity Customer {\n  id: uuid @id\n  email: email @uniqe\n}\n",
    good="module shop\n\nentity Customer {\n  id: uuid @id\n  email: email @unique\n}\n",
    fix="Replace the attribute with the closest known one.",
    per_module=True,
)
def check_attributes(ctx: CheckContext) -> None:
    for module in ctx.user_modules():
        for block in blocks(module):
            names = {f.name for f in block.fields}
            for f in block.fields:
                _field_attributes(ctx, block, f, names)
            if block.entity is not None:
                _entity_attributes(ctx, block.entity)
        for enum in module.enums:
            for value in enum.values:
                for attr in value.attributes:
                    if _known(ctx, attr, VALUE_ATTRIBUTES, "@", "an enum value"):
                        _arguments(ctx, attr, VALUE_ATTRIBUTES[attr.name], "@")


def _known(ctx: CheckContext, attr: ir.Attribute, known: dict[str, AttrSpec], prefix: str,
           where: str) -> bool:
    if attr.name in known:
        return True
    span = _name_span(attr, prefix)
    help_text, fixes = suggestion_fix(span, closest(attr.name, known))
    listed = ", ".join(f"`{prefix}{n}`" for n in known)
    ctx.report("CS207", f"unknown attribute `{prefix}{attr.name}` on {where}: the attributes "
               f"here are {listed}", span, help=help_text, fixes=fixes)
    return False


declare(
    "CS208", "bad-attribute-argument", E, "An attribute's arguments are missing or wrong.",
    "Each attribute takes fixed arguments: none for `@id`, `@unique`, `@index`, `@tenant`, "
    "`@immutable`, `@pii`, `@secret` and `@@global`; one value for `@default`; one string for "
    "`@label`, `@pattern` (a valid regular expression, Python syntax) and the reason of "
    "`@deprecated` and `@allowBreaking`; the field's (or entity's) former name for "
    "`@renamedFrom` (`@@renamedFrom` on an entity); and "
    "one or more field names of the entity for `@@index` and `@@unique`.",
    bad="module shop\n\nentity Customer {\n  id: uuid @id\n  code: string @pattern(\"[A-Z\")\n"
        "  name: string @label\n}\n",
    good="module shop\n\nentity Customer {\n  id: uuid @id\n  code: string @pattern(\"[A-Z]+\")"
         "\n  name: string @label(\"Name\")\n}\n",
)


def _arguments(ctx: CheckContext, attr: ir.Attribute, spec: AttrSpec, prefix: str) -> bool:
    """Report CS208 when the arguments do not have the attribute's shape."""
    args = attr.args
    shown = f"`{prefix}{attr.name}`"
    message: str | None = None
    if spec.args == "none" and args:
        message = f"{shown} takes no arguments"
    elif spec.args == "fields":
        bad = not args or any(not _is_name(a) for a in args)
        message = f"{shown} takes field names of the entity: `{spec.usage}`" if bad else None
    elif spec.args in ("string", "reason", "name", "value") and len(args) != 1:
        message = f"{shown} takes one argument: `{spec.usage}`"
    elif spec.args in ("string", "reason") and not _is_string(args[0]):
        message = f"{shown} takes a string: `{spec.usage}`"
    elif spec.args == "reason" and not _string(args[0]).strip():
        message = f"{shown} needs a reason: `{spec.usage}`"
    elif spec.args == "name" and not _is_name(args[0]):
        message = f"{shown} takes the field's former name, without quotes: `{spec.usage}`"
    if message is not None:
        ctx.report("CS208", message, attr.span)
        return False
    return True


def _is_name(expr: ir.Expr) -> bool:
    return isinstance(expr, ir.PathExpr) and len(expr.parts) == 1


def _is_string(expr: ir.Expr) -> bool:
    return isinstance(expr, ir.LiteralExpr) and expr.type == "string"


def _string(expr: ir.Expr) -> str:
    return str(expr.value) if isinstance(expr, ir.LiteralExpr) else ""


declare(
    "CS209", "misplaced-attribute", E, "An attribute is used where it has no meaning.",
    "`@id`, `@unique`, `@index`, `@tenant` and `@immutable` describe stored data, so they go "
    "on entity fields only. `@id` goes on a `uuid`, `int`, `bigint` or `string` field that is "
    "neither optional nor a list. `@tenant` goes on the `ref` to the tenant entity (usually "
    "`ref identity.Org`), which is required. `@pattern` goes on string fields. An entity "
    "marked `@@global` is not tenant-scoped and so has no `@tenant` field.",
    bad="module shop\n\nentity Customer {\n  id: uuid @id\n  org: string @tenant\n}\n",
    good="module shop\n\nuse identity\n\nentity Customer {\n  id: uuid @id\n"
         "  org: ref identity.Org @tenant\n}\n",
)


def _placement(ctx: CheckContext, block: Block, f: ir.FieldDecl, attr: ir.Attribute) -> None:
    """Report CS209 when an attribute does not fit the field it is on."""
    spec = FIELD_ATTRIBUTES[attr.name]
    t = f.type
    message: str | None = None
    if spec.entity_only and block.entity is None:
        message = f"`@{attr.name}` applies to entity fields; {block.owner} is not stored"
    elif attr.name == "id" and (t.is_ref or t.name not in ID_TYPES or t.optional or t.is_list):
        message = (f"`@id` goes on a required `uuid`, `int`, `bigint` or `string` field; "
                   f"`{f.name}` is `{render(t)}`")
    elif attr.name == "tenant" and (not t.is_ref or t.optional or t.is_list):
        message = (f"`@tenant` goes on a required `ref` to the tenant entity (usually "
                   f"`ref identity.Org`); `{f.name}` is `{render(t)}`")
    elif attr.name == "pattern" and (t.is_ref or t.name not in LENGTH_TYPES):
        message = f"`@pattern` goes on string fields; `{f.name}` is `{render(t)}`"
    if message is not None:
        ctx.report("CS209", message, attr.span)


def _field_attributes(ctx: CheckContext, block: Block, f: ir.FieldDecl,
                      names: set[str]) -> None:
    seen: dict[str, ir.Attribute] = {}
    for attr in f.attributes:
        if attr.name in seen:
            _repeated(ctx, f"`@{attr.name}` is given twice on field `{f.name}`", attr.span,
                      seen[attr.name].span)
            continue
        seen[attr.name] = attr
        if not _known(ctx, attr, FIELD_ATTRIBUTES, "@", f"field `{f.name}`"):
            continue
        if not _arguments(ctx, attr, FIELD_ATTRIBUTES[attr.name], "@"):
            continue
        _placement(ctx, block, f, attr)
        if attr.name == "pattern":
            _regex(ctx, attr.args[0])
        elif attr.name == "renamedFrom" and isinstance(old := attr.args[0], ir.PathExpr):
            if old.parts[0] in names:
                ctx.report("CS208", f"`{old.parts[0]}` is still a field of {block.owner}; "
                           "`@renamedFrom` names the field's former name", old.span)
        elif attr.name == "default" and f.default is not None:
            _repeated(ctx, f"field `{f.name}` has both `= value` and `@default(...)`",
                      attr.span, f.default.span)


def _regex(ctx: CheckContext, arg: ir.Expr) -> None:
    try:
        with warnings.catch_warnings():  # "possible nested set" and the like: ambiguous
            warnings.simplefilter("error", FutureWarning)
            re.compile(_string(arg))
    except re.error as error:
        where = f" (at position {error.pos} of the pattern)" if error.pos is not None else ""
        ctx.report("CS208", f"`@pattern` is not a valid regular expression: {error.msg}{where}",
                   arg.span, help="patterns use Python regular-expression syntax")
    except FutureWarning as warning:
        ctx.report("CS208", f"`@pattern` is ambiguous: {str(warning).lower()}", arg.span,
                   help="a future Python reads `[` inside a character class as a nested "
                   "set, and `--`, `&&`, `~~`, `||` as set operations: escape them (`\\[`)")


declare(
    "CS212", "repeated-attribute", E, "An attribute, key or default is given twice.",
    "A field takes each attribute once and its default once (`= value` or `@default(value)`, "
    "not both). An entity has one `@id` field (for a key over several fields, keep one `@id` "
    "and add `@@unique(a, b)`), one `@tenant` field, and no two identical `@@index` or "
    "`@@unique` lines.",
    bad="module shop\n\nentity Order {\n  id: uuid @id\n  code: string @id\n}\n",
    good="module shop\n\nentity Order {\n  id: uuid @id\n  code: string @unique\n}\n",
)


def _repeated(ctx: CheckContext, message: str, span: Span, first: Span) -> None:
    ctx.report("CS212", message, span, related=(Related(span=first, message="first given here"),))


def _entity_attributes(ctx: CheckContext, entity: ir.EntityDecl) -> None:
    seen: dict[tuple[str, tuple[str, ...]], ir.Attribute] = {}
    for attr in entity.constraints:
        if not _known(ctx, attr, ENTITY_ATTRIBUTES, "@@", f"entity `{entity.name}`"):
            continue
        if not _arguments(ctx, attr, ENTITY_ATTRIBUTES[attr.name], "@@"):
            continue
        if ENTITY_ATTRIBUTES[attr.name].args != "fields":
            continue
        listed: list[str] = []
        for arg in attr.args:
            assert isinstance(arg, ir.PathExpr)
            name = arg.parts[0]
            if entity.field(name) is None:
                help_text, fixes = suggestion_fix(
                    arg.span, closest(name, (f.name for f in entity.fields)))
                ctx.report("CS201", f"entity `{entity.name}` has no field `{name}`", arg.span,
                           help=help_text, fixes=fixes)
            elif name in listed:
                ctx.report("CS212", f"`{name}` is listed twice in `@@{attr.name}`", arg.span)
            listed.append(name)
        key = (attr.name, tuple(sorted(listed)))
        if key in seen:
            _repeated(ctx, f"the same `@@{attr.name}` is given twice", attr.span,
                      seen[key].span)
        seen.setdefault(key, attr)
    for role in ("id", "tenant"):
        marked = [f for f in entity.fields if f.attribute(role) is not None]
        for extra in marked[1:]:
            _repeated(ctx, f"entity `{entity.name}` has a second `@{role}` field `{extra.name}`",
                      extra.name_span, marked[0].name_span)
    glob = next((c for c in entity.constraints if c.name == "global"), None)
    tenant = next((f for f in entity.fields if f.attribute("tenant") is not None), None)
    if glob is not None and tenant is not None:
        ctx.report("CS209", f"entity `{entity.name}` is `@@global` (not tenant-scoped) but "
                   f"`{tenant.name}` is its `@tenant` field", glob.span,
                   help="remove `@@global`, or the `@tenant` attribute",
                   related=(Related(span=tenant.name_span, message="the tenant field"),))


# ---- keys ---------------------------------------------------------------------------------


@rule(
    "CS213", "missing-id", E, "An entity has no `@id` field.",
    "Every entity is stored with a primary key: mark one field `@id`, usually "
    "`id: uuid @id`. Records are fetched, referenced (`ref`) and audited by it.",
    bad="module shop\n\nentity Order {\n  total: money\n}\n",
    good="module shop\n\nentity Order {\n  id: uuid @id\n  total: money\n}\n",
    fix="Add `@id` to a field named `id`, or insert `id: uuid @id` as the first field.",
    per_module=True,
)
def check_keys(ctx: CheckContext) -> None:
    for module in ctx.user_modules():
        for entity in module.entities:
            if not any(f.attribute("id") is not None for f in entity.fields):
                ctx.report("CS213", f"entity `{entity.name}` has no `@id` field",
                           entity.name_span, help="add a key field such as `id: uuid @id`",
                           fixes=_key_fix(entity))


def _key_fix(entity: ir.EntityDecl) -> tuple[Fix, ...]:
    named_id = entity.field("id")
    if named_id is not None:
        end = named_id.span
        at = end.model_copy(update={"start_line": end.end_line, "start_col": end.end_col,
                                    "start_offset": end.end_offset})
        return (Fix(title="Mark `id` as the key", span=at, replacement=" @id"),)
    members = [*entity.fields, *entity.constraints]
    if not members:
        return ()
    first = min(members, key=lambda m: m.span.start_offset).span
    at = first.model_copy(update={"end_line": first.start_line, "end_col": first.start_col,
                                  "end_offset": first.start_offset})
    indent = " " * (first.start_col - 1)
    return (Fix(title="Add `id: uuid @id`", span=at, replacement=f"id: uuid @id\n{indent}"),)
