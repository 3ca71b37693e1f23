"""Access expressions: who may do something, shared by the policy and workflow rules.

An access expression answers "may the signed-in user do this?". It appears in entity
policies (`update: manage_deals or self.owner == actor`), operation and agent `policy`
members, attachment rules (`upload: manage_deals`) and workflow transitions
(`by manage_deals`). Its parts:

- a bare name is a permission or a role (the "access" namespace: `permission` and `role`
  declarations; the standard `identity` module declares the roles owner, admin, member);
- `authenticated` is any signed-in member, whatever their roles and permissions;
- `actor` is the signed-in user (an `identity.User`), `actor.<field>` one of its fields;
- `self` is the record the rule is about, `self.<field>` one of its fields, following
  `ref` fields and embedded types (`self.deal.owner`); only where there is a record (entity
  policies, attachments, workflows), not in operation or agent policies;
- `or`, `and`, `not` combine conditions; `==` and `!=` compare `self`/`actor` paths with
  each other, with literals, or with a value of an enum field (`self.status == open`).

This module also holds the small text-edit helpers the quick fixes of those rules share.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator
from dataclasses import dataclass

from contractspec.check.context import CheckContext
from contractspec.check.symbols import SCALARS, Symbol
from contractspec.diagnostics import Fix
from contractspec.ir import nodes as ir
from contractspec.source import Span

AUTHENTICATED = "authenticated"
ACTOR = "actor"
SELF = "self"
BUILTINS = frozenset({AUTHENTICATED, ACTOR, SELF})
ACCESS_KINDS = frozenset({"permission", "role"})

_SHAPE_HELP = ("combine permissions and roles with `or`, `and`, `not`, or compare with "
               "`==` / `!=` (for example `self.owner == actor`)")


@dataclass(frozen=True)
class AccessSite:
    """One access expression of a module and what `self` means there."""

    expr: ir.Expr
    where: str  # "the `update` rule of policy `Deal`", for messages
    entity: ir.NameRef | None = None  # the entity whose record `self` is
    record: bool = True  # False where there is no record at all (operations, agents)


def access_sites(module: ir.Module) -> Iterator[AccessSite]:
    """Every access expression written in `module`."""
    for policy in module.policies:
        for rule in policy.rules:
            yield AccessSite(rule.rule, f"the `{rule.action.name}` rule of policy "
                             f"`{policy.entity.name}`", policy.entity)
    for op in module.operations:
        if op.policy is not None:
            yield AccessSite(op.policy, f"the policy of {op.kind} `{op.name}`", record=False)
    for agent in module.agents:
        if agent.policy is not None:
            yield AccessSite(agent.policy, f"the policy of agent `{agent.name}`", record=False)
    for attachments in module.attachments:
        for att in attachments.rules:
            yield AccessSite(att.rule, f"the `{att.action.name}` rule of attachments on "
                             f"`{attachments.entity.name}`", attachments.entity)
    for flow in module.workflows:
        entity = subject_parts(flow.subject)[0]
        for transition in flow.transitions:
            if transition.by is not None:
                yield AccessSite(transition.by, f"transition `{transition.name}` of workflow "
                                 f"`{flow.name}`", entity)


def subject_parts(subject: ir.NameRef) -> tuple[ir.NameRef | None, ir.NameRef | None]:
    """`Deal.status` → (`Deal`, `status`), each with its own span; `identity.Org.x` works."""
    entity, dot, field = subject.name.rpartition(".")
    if not dot or not entity or not field:
        return None, None
    return (ir.NameRef(name=entity, span=sub_span(subject.span, subject.name, 0, len(entity))),
            ir.NameRef(name=field, span=sub_span(subject.span, subject.name, len(entity) + 1,
                                                 len(field))))


def entity_symbol(ctx: CheckContext, module: str, ref: ir.NameRef | None) -> Symbol | None:
    """The entity a reference names, without reporting anything."""
    if ref is None:
        return None
    sym = ctx.symbols.lookup(module, ref.name, "type", frozenset({"entity"})).symbol
    return sym if sym is not None and sym.kind == "entity" else None


def access_names(expr: ir.Expr) -> Iterator[ir.PathExpr]:
    """The permission and role names of an expression (bare names in condition position)."""
    if isinstance(expr, ir.BinaryExpr) and expr.op in ("or", "and"):
        yield from access_names(expr.left)
        yield from access_names(expr.right)
    elif isinstance(expr, ir.UnaryExpr) and expr.op == "not":
        yield from access_names(expr.operand)
    elif isinstance(expr, ir.PathExpr) and expr.parts[0] not in BUILTINS:
        yield expr


def render(expr: ir.Expr) -> str | None:
    """The text of an expression made only of names, `or`, `and` and `not` (else None)."""
    if isinstance(expr, ir.PathExpr) and expr.parts[0] != SELF:
        return ".".join(expr.parts)
    if isinstance(expr, ir.UnaryExpr) and expr.op == "not":
        inner = render(expr.operand)
        if inner is None:
            return None
        return f"not {inner}" if isinstance(expr.operand, ir.PathExpr) else f"not ({inner})"
    if isinstance(expr, ir.BinaryExpr) and expr.op in ("or", "and"):
        left, right = render(expr.left), render(expr.right)
        if left is None or right is None:
            return None
        if expr.op == "and":
            left = f"({left})" if _is_or(expr.left) else left
            right = f"({right})" if _is_or(expr.right) else right
        return f"{left} {expr.op} {right}"
    return None


def _is_or(expr: ir.Expr) -> bool:
    return isinstance(expr, ir.BinaryExpr) and expr.op == "or"


def check_access_expr(ctx: CheckContext, module: str, expr: ir.Expr, entity: Symbol | None,
                      where: str, *, record: bool = True) -> None:
    """Check one access expression, reporting CS310-CS313.

    `entity` is the entity of `self`; with `record=False` there is no record at all and any
    `self` is reported; with `record=True` and no entity (it did not resolve, which is
    reported elsewhere) `self` paths are not checked.
    """
    _Checker(ctx, module, entity, where, record).condition(expr)


def check_self_paths(ctx: CheckContext, module: str, expr: ir.Expr, entity: Symbol | None,
                     where: str) -> None:
    """Check every `self.<field>` and `actor.<field>` path of any expression (CS311)."""
    checker = _Checker(ctx, module, entity, where, record=True)
    for path in _paths(expr):
        if path.parts[0] in (SELF, ACTOR):
            checker.value(path)


def _paths(expr: ir.Expr) -> Iterator[ir.PathExpr]:
    if isinstance(expr, ir.PathExpr):
        yield expr
    elif isinstance(expr, ir.UnaryExpr):
        yield from _paths(expr.operand)
    elif isinstance(expr, ir.BinaryExpr):
        yield from _paths(expr.left)
        yield from _paths(expr.right)
    elif isinstance(expr, ir.CallExpr | ir.ListExpr):
        for item in expr.args if isinstance(expr, ir.CallExpr) else expr.items:
            yield from _paths(item)


@dataclass(frozen=True)
class _Value:
    """What a `self`/`actor` path or a literal denotes, as far as the rules care."""

    text: str
    record: Symbol | None = None  # an entity record (`self`, `actor`, a `ref` field)
    enum: ir.EnumDecl | None = None
    scalar: str | None = None
    literal: bool = False
    struct: tuple[str, ir.TypeDecl] | None = None  # an embedded type, with its module


@dataclass(frozen=True)
class _Fields:
    """Fields one can step into: an entity's or an embedded type's, with their module."""

    module: str
    fields: tuple[ir.FieldDecl, ...]
    owner: str


class _Checker:
    def __init__(self, ctx: CheckContext, module: str, entity: Symbol | None, where: str,
                 record: bool) -> None:
        self.ctx, self.module, self.entity = ctx, module, entity
        self.where, self.record = where, record

    # ---- conditions -------------------------------------------------------------------
    def condition(self, expr: ir.Expr) -> None:
        if isinstance(expr, ir.BinaryExpr) and expr.op in ("or", "and"):
            self.condition(expr.left)
            self.condition(expr.right)
        elif isinstance(expr, ir.UnaryExpr) and expr.op == "not":
            self.condition(expr.operand)
        elif isinstance(expr, ir.BinaryExpr) and expr.op in ("==", "!="):
            self.compare(expr)
        elif isinstance(expr, ir.PathExpr) and expr.parts[0] in (SELF, ACTOR):
            value = self.value(expr)
            if value is not None and value.scalar != "bool":
                help_text = (f"`{AUTHENTICATED}` means any signed-in member"
                             if value.text == ACTOR else
                             f"compare it, for example `{value.text} == actor`"
                             if value.record is not None else
                             "compare it with a value using `==` or `!=`")
                self.ctx.report("CS313", f"`{value.text}` is not a condition in {self.where}",
                                expr.span, help=help_text)
        elif isinstance(expr, ir.PathExpr):
            if expr.parts != (AUTHENTICATED,):
                self.name(expr)
        else:
            help_text = (f"write `{AUTHENTICATED}` for any signed-in member"
                         if isinstance(expr, ir.LiteralExpr) else _SHAPE_HELP)
            self.ctx.report("CS313", f"{_describe(expr)} cannot decide access in {self.where}",
                            expr.span, help=help_text)

    def name(self, expr: ir.PathExpr) -> None:
        """A permission or role."""
        name = ".".join(expr.parts)
        ref = ir.NameRef(name=name, span=expr.span)
        found = self.ctx.symbols.lookup(self.module, name, "access")
        if found.ambiguous:
            options = ", ".join(sorted(s.qualified for s in found.symbols))
            self.ctx.report("CS203", f"`{name}` is ambiguous: it could be {options}", expr.span,
                            help="qualify it with its module name")
            return
        if found.symbols:
            return
        if self.entity is not None and self.entity.decl.field(expr.parts[0]) is not None:
            self.ctx.report("CS310", f"unknown permission or role `{name}`", expr.span,
                            help=f"a field of the record is written `self.{name}`",
                            fixes=(Fix(title=f"Replace with `self.{name}`", span=expr.span,
                                       replacement=f"self.{name}"),))
            return
        suggestion = found.suggestion or closest(name, [AUTHENTICATED])
        self.ctx.report_unknown(ref, "permission or role", suggestion, "CS310")

    def compare(self, expr: ir.BinaryExpr) -> None:
        left, right = self.operand(expr.left), self.operand(expr.right)
        if isinstance(left, ir.PathExpr) and isinstance(right, ir.PathExpr):
            field = next((n for n in (_text(left), _text(right)) if self.entity is not None
                          and self.entity.decl.field(n) is not None), None)
            self.ctx.report("CS313", f"`{_text(left)} {expr.op} {_text(right)}` compares two "
                            f"names in {self.where}", expr.span,
                            help=f"a field of the record is written `self.{field}`" if field
                            else "compare a field with a value, for example "
                                 "`self.status == open`")
        elif isinstance(left, ir.PathExpr) and isinstance(right, _Value):
            self.enum_value(left, right)
        elif isinstance(right, ir.PathExpr) and isinstance(left, _Value):
            self.enum_value(right, left)
        elif isinstance(left, _Value) and isinstance(right, _Value):
            self.same_record(expr, left, right)

    def operand(self, expr: ir.Expr) -> _Value | ir.PathExpr | None:
        """A comparison operand: a value, a bare name (an enum value), or None if unusable."""
        if isinstance(expr, ir.PathExpr):
            if expr.parts[0] in (SELF, ACTOR):
                return self.value(expr)
            if len(expr.parts) == 1 and expr.parts[0] != AUTHENTICATED:
                return expr
        if isinstance(expr, ir.LiteralExpr):
            return _Value(expr.text, literal=True)
        self.ctx.report("CS313", f"{_describe(expr)} cannot be compared in {self.where}",
                        expr.span, help=_SHAPE_HELP)
        return None

    def enum_value(self, name: ir.PathExpr, other: _Value) -> None:
        value = name.parts[0]
        if other.enum is None:
            if other.literal or other.record is not None or other.scalar is not None:
                self.ctx.report("CS313", f"`{value}` cannot be compared with `{other.text}` in "
                                f"{self.where}", name.span,
                                help="to require a permission or role, write it on its own: "
                                     f"`{value} or {other.text} == ...`")
            return
        values = [v.name for v in other.enum.values]
        if value in values:
            return
        suggestion = closest(value, values)
        self.ctx.report("CS313", f"`{value}` is not a value of enum `{other.enum.name}` "
                        f"(`{other.text}`)", name.span,
                        help=f"did you mean `{suggestion}`?" if suggestion else
                        "its values are " + ", ".join(f"`{v}`" for v in values),
                        fixes=replace_fix(name.span, suggestion))

    def same_record(self, expr: ir.BinaryExpr, left: _Value, right: _Value) -> None:
        if left.record is None or right.record is None:
            return
        if left.record.qualified == right.record.qualified:
            return
        self.ctx.report("CS313", f"`{left.text}` and `{right.text}` are records of different "
                        f"entities (`{left.record.name}`, `{right.record.name}`): they are "
                        "never equal", expr.span)

    # ---- values -----------------------------------------------------------------------
    def value(self, path: ir.PathExpr) -> _Value | None:
        """What a `self`/`actor` path denotes; None when unknown or already reported."""
        root = path.parts[0]
        if root == SELF and not self.record:
            self.ctx.report("CS312", f"`self` has no meaning in {self.where}: there is no "
                            "record there", path.span,
                            help="name permissions or roles here, and put record rules such "
                                 "as `self.owner == actor` in the entity's `policy`")
            return None
        start = self.entity if root == SELF else self.actor()
        if start is None:
            return None
        current: _Value | None = _Value(root, record=start)
        for index, part in enumerate(path.parts[1:], start=1):
            if current is None:
                return None
            fields = self.fields_of(current)
            text = ".".join(path.parts[:index])
            if fields is None:
                self.ctx.report("CS311", f"`{text}` is a {_kind(current)}: it has no field "
                                f"`{part}`", path.span)
                return None
            field = next((f for f in fields.fields if f.name == part), None)
            if field is None:
                self.unknown_field(path, index, fields)
                return None
            current = self.field_value(f"{text}.{part}", field, fields.module)
        return current

    def actor(self) -> Symbol | None:
        users = self.ctx.symbols.declared("identity", "type", "User")
        return next((s for s in users if s.kind == "entity"), None)

    def fields_of(self, value: _Value) -> _Fields | None:
        if value.record is not None:
            return _Fields(value.record.module, value.record.decl.fields,
                           f"entity `{value.record.name}`")
        if value.struct is not None:
            module, decl = value.struct
            return _Fields(module, decl.fields, f"type `{decl.name}`")
        return None

    def field_value(self, text: str, field: ir.FieldDecl, module: str) -> _Value | None:
        ref = field.type
        if ref.is_list:
            return _Value(text, scalar="list")
        if ref.is_ref:
            target = self.ctx.symbols.lookup(module, ref.name, "type",
                                             frozenset({"entity"})).symbol
            return _Value(text, record=target) if target is not None else None
        if ref.name in SCALARS:
            return _Value(text, scalar=ref.name)
        sym = self.ctx.symbols.lookup(module, ref.name, "type",
                                      frozenset({"enum", "type"})).symbol
        if sym is None:
            return None
        if sym.kind == "enum":
            return _Value(text, enum=sym.decl)
        return _Value(text, struct=(sym.module, sym.decl))

    def unknown_field(self, path: ir.PathExpr, index: int, fields: _Fields) -> None:
        part = path.parts[index]
        names = [f.name for f in fields.fields]
        suggestion = closest(part, names)
        offset = len(".".join(path.parts[:index])) + 1
        span = sub_span(path.span, ".".join(path.parts), offset, len(part))
        self.ctx.report("CS311", f"{fields.owner} has no field `{part}`", span,
                        help=f"did you mean `{suggestion}`?" if suggestion else None,
                        fixes=replace_fix(span, suggestion))


def _kind(value: _Value) -> str:
    if value.enum is not None:
        return f"`{value.enum.name}` value"
    return f"`{value.scalar}`" if value.scalar else "value"


def _describe(expr: ir.Expr) -> str:
    if isinstance(expr, ir.LiteralExpr):
        return f"the literal `{expr.text}`"
    if isinstance(expr, ir.CallExpr):
        return f"the call `{expr.name}(...)`"
    if isinstance(expr, ir.ListExpr):
        return "a list"
    if isinstance(expr, ir.BinaryExpr | ir.UnaryExpr):
        return f"the operator `{expr.op}`"
    return f"`{_text(expr)}`"


def _text(expr: ir.PathExpr) -> str:
    return ".".join(expr.parts)


def closest(name: str, options: list[str]) -> str | None:
    """The option closest to a misspelled name, if any is close enough."""
    close = difflib.get_close_matches(name, options, n=1, cutoff=0.6)
    return close[0] if close else None


def replace_fix(span: Span, suggestion: str | None) -> tuple[Fix, ...]:
    """A fix replacing `span` with the suggestion, when there is one."""
    if suggestion is None:
        return ()
    return (Fix(title=f"Replace with `{suggestion}`", span=span, replacement=suggestion),)


# ---- edits shared by the quick fixes ------------------------------------------------------


def sub_span(span: Span, text: str, offset: int, length: int) -> Span:
    """The part of a one-line `span` holding `text[offset:offset + length]`.

    Falls back to the whole span when the span does not hold exactly `text` on one line
    (which only happens for oddly spaced source such as `Deal . status`).
    """
    if span.start_line != span.end_line or span.end_offset - span.start_offset != len(text):
        return span
    return span.model_copy(update={
        "start_col": span.start_col + offset, "end_col": span.start_col + offset + length,
        "start_offset": span.start_offset + offset,
        "end_offset": span.start_offset + offset + length,
    })


def insert_member(decl: ir.Node, header_line: int, member: str,
                  title: str) -> Fix:
    """A fix adding `member` as the last member of a `{ ... }` block ending `decl.span`.

    In a block spread over lines it becomes a line of its own just before the line of the
    closing brace (whatever else that line holds); in a one-line block it goes just before
    the brace.
    """
    span = decl.span
    brace = span.end_offset - 1
    if span.end_line > header_line:
        start = brace - (span.end_col - 2)  # the start of the closing brace's line
        edit = span.model_copy(update={
            "start_line": span.end_line, "end_line": span.end_line, "start_col": 1,
            "end_col": 1, "start_offset": start, "end_offset": start})
        return Fix(title=title, span=edit, replacement=f"  {member}\n")
    edit = span.model_copy(update={
        "start_line": span.end_line, "start_col": span.end_col - 1,
        "end_col": span.end_col - 1, "start_offset": brace, "end_offset": brace})
    return Fix(title=title, span=edit, replacement=f"{member} ")
