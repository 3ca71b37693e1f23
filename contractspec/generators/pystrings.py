"""Long keyword-argument strings of generated Python, wrapped to the app's line length.

Spec text reaches generated code as string literals: a field's doc comment becomes a
column's `comment="…"`, joined onto one line. A line `<indent>name="…",` longer than the
app's 100 columns (ruff's E501) is rewritten as a parenthesised implicit concatenation,
split between words:

    comment=(
        "A platform operator's token: it acts with the `operator` role, not the "
        "member's role."
    ),

The value is the same string (one literal on its own line when it fits there). Only
whole-line keyword arguments whose value is one string literal are touched; a literal with
no space to split at is left as it is.
"""

from __future__ import annotations

import re

LINE_WIDTH = 100  # the generated app's ruff `line-length`
_KEYWORD_STRING = re.compile(
    r'(?P<indent>[ \t]*)(?P<name>\w+)=(?P<literal>"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\')'
    r"(?P<end>,?)")


def wrap_strings(source: str) -> str:
    """`source` with each too-long `name="…",` line wrapped between words."""
    lines: list[str] = []
    for line in source.split("\n"):
        match = _KEYWORD_STRING.fullmatch(line) if len(line) > LINE_WIDTH else None
        if match is None:
            lines.append(line)
            continue
        indent = match["indent"]
        width = LINE_WIDTH - len(indent) - 4  # the parts' room, one level deeper
        parts = _split(match["literal"], width)
        if not parts or (len(parts) == 1 and len(parts[0]) > width):
            lines.append(line)
            continue
        lines += [f"{indent}{match['name']}=(", *(f"{indent}    {part}" for part in parts),
                  f"{indent}){match['end']}"]
    return "\n".join(lines)


def _split(literal: str, width: int) -> list[str]:
    """The literal as several literals of at most `width` columns where it can, each ending
    after a space (never inside an escape sequence, which holds no space)."""
    quote, body = literal[0], literal[1:-1]
    words = re.findall(r"[^ ]* *", body)[:-1] or [body]  # each word with its spaces
    parts: list[str] = []
    current = ""
    for word in words:
        if current and len(current) + len(word) + 2 > width:
            parts.append(current)
            current = ""
        current += word
    parts.append(current)
    return [f"{quote}{part}{quote}" for part in parts if part]
