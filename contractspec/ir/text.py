"""IR back to canonical `.cspec` text: types, expressions, attributes.

One renderer for every reader that shows or compares spec text (hovers, the release lock).
Expressions are parenthesised only where operator precedence needs it, so the text parses
back to the same expression.
"""

from __future__ import annotations

from contractspec.ir import nodes as ir

PRECEDENCE = {"or": 1, "and": 2, "==": 4, "!=": 4, "<": 4, "<=": 4, ">": 4, ">=": 4,
              "in": 4, "+": 5, "-": 5, "*": 6, "/": 6}
_NOT = 3  # `not` binds looser than comparisons
_SIGN = 7  # a sign binds tighter than any binary operator


def type_text(ref: ir.TypeRef, optional: bool = True) -> str:
    """`ref Stage?`, `string(1..80)`, `page<Deal>`, `Address[]`; `optional=False` leaves out
    the top-level `?` (for readers that record optionality separately)."""
    text = ("ref " if ref.is_ref else "") + ref.name
    if ref.generics:
        text += "<" + ", ".join(type_text(g) for g in ref.generics) + ">"
    if ref.args:
        text += "(" + ", ".join(
            f"{a.min or ''}..{a.max or ''}" if a.is_range else a.value or "" for a in ref.args
        ) + ")"
    text += "[]" if ref.is_list else ""
    return text + ("?" if optional and ref.optional else "")


def expr_text(expr: ir.Expr, parent: int = 0) -> str:
    """An expression as canonical text, parenthesised only where precedence needs it."""
    if isinstance(expr, ir.LiteralExpr):
        return expr.text
    if isinstance(expr, ir.PathExpr):
        return ".".join(expr.parts)
    if isinstance(expr, ir.CallExpr):
        return f"{expr.name}({', '.join(expr_text(a) for a in expr.args)})"
    if isinstance(expr, ir.ListExpr):
        return "[" + ", ".join(expr_text(i) for i in expr.items) + "]"
    if isinstance(expr, ir.UnaryExpr):
        own = _NOT if expr.op == "not" else _SIGN
        text = ("not " if expr.op == "not" else expr.op) + expr_text(expr.operand, own)
    else:
        own = PRECEDENCE[expr.op]
        text = f"{expr_text(expr.left, own)} {expr.op} {expr_text(expr.right, own + 1)}"
    return f"({text})" if own < parent else text


def attribute_text(attr: ir.Attribute, prefix: str = "@") -> str:
    """`@default(now)`, `@@index(org, stage)`."""
    args = f"({', '.join(expr_text(a) for a in attr.args)})" if attr.args else ""
    return f"{prefix}{attr.name}{args}"
