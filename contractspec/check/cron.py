"""Validating five-field cron expressions (`minute hour day-of-month month day-of-week`).

Each field is `*` or a comma list of items; an item is a value, a range `a-b`, either with
an optional step `/n`, or `*/n`. Months and weekdays also take names (`JAN`, `mon`);
weekday 7 is Sunday like 0. The macros `@yearly @annually @monthly @weekly @daily
@midnight @hourly` stand for their usual expressions. Quartz extras (`?`, `L`, `W`, `#`)
and seconds fields are not supported: generated schedulers run standard cron.
"""

from __future__ import annotations

from dataclasses import dataclass

MACROS = {
    "@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *", "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0", "@daily": "0 0 * * *", "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}
_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_DAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")


@dataclass(frozen=True)
class _Field:
    name: str
    low: int
    high: int
    names: dict[str, int]


FIELDS = (
    _Field("minute", 0, 59, {}),
    _Field("hour", 0, 23, {}),
    _Field("day of month", 1, 31, {}),
    _Field("month", 1, 12, {m: i + 1 for i, m in enumerate(_MONTHS)}),
    _Field("day of week", 0, 7, {d: i for i, d in enumerate(_DAYS)}),
)


def cron_error(expression: str) -> str | None:
    """Why `expression` is not a valid cron expression, or None when it is."""
    text = expression.strip()
    if text.startswith("@"):
        return None if text.lower() in MACROS else (
            f"unknown macro `{text}`: use one of " + ", ".join(f"`{m}`" for m in MACROS))
    fields = text.split()
    if len(fields) != len(FIELDS):
        return (f"a cron expression has 5 fields (minute hour day-of-month month "
                f"day-of-week), this one has {len(fields)}")
    for number, (value, spec) in enumerate(zip(fields, FIELDS, strict=True), start=1):
        for item in value.split(","):
            problem = _item_error(item, spec)
            if problem is not None:
                return f"field {number} ({spec.name}): {problem}"
    return None


def _item_error(item: str, spec: _Field) -> str | None:
    if not item:
        return "a list has an empty item"
    base, slash, step = item.partition("/")
    if slash:
        if not step.isdigit() or int(step) == 0:
            return f"the step `/{step}` must be a whole number of at least 1"
        if int(step) > spec.high:
            return f"the step `/{step}` is larger than the field's range ({spec.high})"
    if base == "*":
        return None
    low_text, dash, high_text = base.partition("-")
    low = _value(low_text, spec)
    if isinstance(low, str):
        return low
    if not dash:
        return None
    high = _value(high_text, spec)
    if isinstance(high, str):
        return high
    if low > high:
        return f"the range `{base}` runs backwards"
    return None


def _value(text: str, spec: _Field) -> int | str:
    """The number a value stands for, or why it is invalid."""
    if text.isdigit():
        number = int(text)
        if spec.low <= number <= spec.high:
            return number
        return f"`{text}` is out of range {spec.low}-{spec.high}"
    if text.lower() in spec.names:
        return spec.names[text.lower()]
    if any(c in text for c in "?LW#"):
        return f"`{text}`: `?`, `L`, `W` and `#` are not supported"
    if spec.names:
        return f"`{text}` is not a number or a {spec.name} name such as `{next(iter(spec.names))}`"
    return f"`{text}` is not a number" if text else "a value is missing"
