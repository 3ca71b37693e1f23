"""IR back to text: the rendered expression parses back to the same expression."""

from __future__ import annotations

import pytest

from contractspec.ir import nodes as ir
from contractspec.ir.text import expr_text, type_text
from tests.conftest import analyse


def _rule(source: str) -> ir.Expr:
    spec = ("module m\n\nentity E {\n  id: uuid @id\n  n: int\n}\n\n"
            f"policy E {{\n  read: {source}\n}}\n")
    module = analyse(spec).program.module("m")
    assert module is not None
    return module.policies[0].rules[0].rule


def _shape(expr: ir.Expr) -> object:
    dumped = expr.model_dump()

    def strip(value: object) -> object:
        if isinstance(value, dict):
            return {k: strip(v) for k, v in value.items() if k != "span"}
        if isinstance(value, list | tuple):
            return [strip(v) for v in value]
        return value
    return strip(dumped)


@pytest.mark.parametrize("source", [
    "a or b and c", "(a or b) and c", "not (a == b)", "-(n + 1) == 2", "a == -n",
    "(not a) == b", "n - (1 - 2)", "n * (1 + 2)", "x in [a, b]", "f(a, b + 1)",
])
def test_rendered_expression_parses_back_to_the_same_expression(source: str) -> None:
    expr = _rule(source)
    assert _shape(_rule(expr_text(expr))) == _shape(expr)


def test_type_text_with_and_without_optional() -> None:
    ref = ir.TypeRef(name="Deal", is_ref=True, optional=True, span=_rule("a").span)
    assert type_text(ref) == "ref Deal?"
    assert type_text(ref, optional=False) == "ref Deal"
