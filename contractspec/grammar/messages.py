"""Syntax-error wording: turn the parser's expected-terminal sets into a user's words."""

from __future__ import annotations

from functools import cache

from lark import Token

_PHRASES = {
    "NAME": "a name",
    "STRING": 'a string such as "text"',
    "TRIPLE_STRING": 'a """ text block',
    "INT": "a whole number",
    "NUMBER": "a number",
    "DECIMAL": "a decimal number",
    "DURATION": "a duration such as `30s` or `2h`",
    "SIZE": "a size such as `10MB`",
    "PERCENT": "a percentage such as `25%`",
    "VNUM": "a version such as `v1`",
    "SEMVER": "a version such as `1.0.0`",
    "DOC": "a `///` doc comment",
    "CMP_OP": "a comparison such as `==`",
    "ADD_OP": "`+` or `-`",
    "MUL_OP": "`*` or `/`",
    "RANGE": "`..`",
    "OPTIONAL": "`?`",
    "LIST_SUFFIX": "`[]`",
    "$END": "the end of the file",
}

# Sets that mean one thing to a reader: checked in order, first match wins.
_CONTEXTS: list[tuple[frozenset[str], str]] = [
    (frozenset({"REF"}), "expected a field type such as `string` or `ref Entity`"),
    (frozenset({"ENTITY", "COMMAND"}),
     "expected a declaration such as `entity`, `command`, `event` or `policy`"),
    (frozenset({"INPUT", "OUTPUT", "EMITS"}),
     "expected an operation member (`input`, `output`, `policy`, `emits`, `errors`, "
     "`meters`, `behind`) or `}`"),
    (frozenset({"PAYLOAD", "SEVERITY"}),
     "expected an event member (`payload`, `severity`, `retention`, `audit`) or `}`"),
    (frozenset({"INITIAL", "TRANSITION"}),
     "expected a workflow member (`initial`, `transition`, `final`, `migrate`) or `}`"),
    (frozenset({"NAME", "__ANON_0", "RBRACE"}),
     "expected a field such as `title: string`, an `@@` constraint or `}`"),
    (frozenset({"NAME", "COLON"}), "expected a name"),
]

_EXPRESSION_STARTS = frozenset({"NAME", "STRING", "INT", "LPAR", "LSQB", "NOT", "TRUE"})


@cache
def _literal_names() -> dict[str, str]:
    from contractspec.grammar.parser import get_parser

    return {
        t.name: f"`{t.pattern.value}`"
        for t in get_parser().terminals
        if t.pattern.type == "str"
    }


def phrase(terminal: str) -> str:
    if terminal in _PHRASES:
        return _PHRASES[terminal]
    return _literal_names().get(terminal, terminal.lower())


def describe_expected(expected: set[str]) -> str:
    """'expected X, Y or Z' in user terms, most helpful reading first."""
    for needed, message in _CONTEXTS:
        if needed <= expected:
            return message
    if expected >= _EXPRESSION_STARTS:
        return "expected a value or expression such as `admin`, `self.amount > 0` or `\"text\"`"
    items = sorted(expected - {"DOC", "$END"}, key=lambda t: (t != "NAME", phrase(t)))
    if "INT" in items and "DECIMAL" in items:
        items = [t for t in items if t != "DECIMAL"]
        items[items.index("INT")] = "NUMBER"
        if "ADD_OP" in items:  # a sign before a number: "a number" covers it
            items.remove("ADD_OP")
    if not items:
        return "expected nothing more here"
    words = [phrase(t) for t in items[:6]]
    if len(items) > 6:
        words.append("…")
    if len(words) == 1:
        return f"expected {words[0]}"
    return f"expected {', '.join(words[:-1])} or {words[-1]}"


def describe_token(token: Token) -> str:
    if token.type == "$END":
        return "the end of the file"
    value = str(token)
    if len(value) > 30:
        value = value[:27] + "..."
    return f"`{value}`"
