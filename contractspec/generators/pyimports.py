"""Import lines of generated Python that any ruff configuration accepts as sorted.

isort (and ruff's `I001`) wraps a `from m import a, b` longer than the line length in
parentheses, one name per line; a parenthesised import ending in a comma stays wrapped
whatever the line length (the "magic trailing comma"). Generated modules are checked under
the app's own ruff settings (100 columns) and under ruff's defaults (88), so every
`from` import longer than 88 columns is written in the wrapped form.
"""

from __future__ import annotations

import re

IMPORT_WIDTH = 88  # ruff's and isort's default line length
_FROM_IMPORT = re.compile(r"(?P<indent>[ \t]*)from (?P<module>[\w.]+) import (?P<names>[\w ,]+)")


def wrap_imports(source: str) -> str:
    """`source` with each one-line `from … import …` longer than 88 columns wrapped."""
    lines = []
    for line in source.split("\n"):
        match = _FROM_IMPORT.fullmatch(line) if len(line) > IMPORT_WIDTH else None
        if match is None:
            lines.append(line)
            continue
        indent = match["indent"]
        names = [name.strip() for name in match["names"].split(",")]
        lines += [f"{indent}from {match['module']} import (",
                  *[f"{indent}    {name}," for name in names], f"{indent})"]
    return "\n".join(lines)
