"""How a field's type changed, from the type texts the lock records (`string(1..80)`,
`decimal(12,2)`, `ref Stage`, `page<Deal>`, `Tag[]`)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from enum import StrEnum

_TYPE = re.compile(r"(?P<base>(?:ref )?[\w.]+(?:<.*>)?)(?:\((?P<args>[^)]*)\))?(?P<list>\[\])?")
_MONEY = frozenset({"money", "decimal"})
_WIDER = {("int", "bigint"), ("string", "text")}
_INFINITY = Decimal("Infinity")


class TypeChange(StrEnum):
    SAME = "same"
    NARROWED = "narrowed"  # accepts fewer values (some old ones are rejected)
    WIDENED = "widened"  # accepts every old value and more
    CHANGED = "changed"  # another type
    SCALE = "scale"  # a money or decimal amount is read with another precision or scale


@dataclass(frozen=True)
class _Type:
    base: str
    digits: tuple[str, ...]  # decimal precision and scale
    bounds: tuple[Decimal, Decimal]  # length or value bounds
    is_list: bool


def _number(text: str, default: Decimal) -> Decimal:
    try:
        return Decimal(text.replace(" ", "")) if text.strip() else default
    except InvalidOperation:
        return default


def _parse(text: str) -> _Type | None:
    match = _TYPE.fullmatch(text.strip())
    if match is None:
        return None
    args = [a.strip() for a in (match.group("args") or "").split(",") if a.strip()]
    digits = tuple(a for a in args if ".." not in a)
    ranges = [a for a in args if ".." in a]
    low, high = -_INFINITY, _INFINITY
    if ranges:
        lo, _, hi = ranges[0].partition("..")
        low, high = _number(lo, -_INFINITY), _number(hi, _INFINITY)
    base = match.group("base")
    if base != "decimal" and digits:  # `string(80)`: a maximum length
        low, high, digits = -_INFINITY, _number(digits[0], _INFINITY), ()
    return _Type(base, digits, (low, high), bool(match.group("list")))


def compare_types(old: str, new: str) -> TypeChange:
    """How the type `new` relates to `old`, as values a field accepts."""
    if old == new:
        return TypeChange.SAME
    a, b = _parse(old), _parse(new)
    if a is None or b is None or a.is_list != b.is_list:
        return TypeChange.CHANGED
    if a.base != b.base:
        if {a.base, b.base} & _MONEY and {a.base, b.base} <= _MONEY | {"int", "bigint"}:
            return TypeChange.SCALE
        return TypeChange.WIDENED if (a.base, b.base) in _WIDER else TypeChange.CHANGED
    if a.digits != b.digits:
        return TypeChange.SCALE
    (lo, hi), (new_lo, new_hi) = a.bounds, b.bounds
    if new_lo <= lo and hi <= new_hi:
        return TypeChange.WIDENED
    return TypeChange.NARROWED
