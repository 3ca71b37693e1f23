"""`cspec fmt`: the one canonical layout of a `.cspec` file.

Layout rules (also in docs/language.md):

- two spaces of indentation per open block; `{` ends its header line; `}` stands alone;
  an empty block is written `{}`;
- one declaration or member per line, whatever the source had (`enum X { a b }` becomes
  one value per line); lines are never wrapped;
- one space between tokens, except none before `, : ) ] ? [] . ..`, none after
  `( [ . .. @ @@` or a sign (`-x`, but `- -x`), none around generic `<...>` and the `/`
  of a plan limit (`100000/month`), and none before the `(` of a call or of arguments
  (`f(x)`, `@default(now)`, `string(1..80)`); binary operators, `->` and `=` have a
  space on each side, and so has the `(` of a grouping (`not (a)`, `a and (b or c)`);
- a trailing comma before `)` or `]` is dropped; parentheses stay as written;
- strings, `\"\"\"` blocks, numbers, durations, sizes, percents and versions are printed
  exactly as written; `///` and `//` comments keep their text (trailing whitespace goes);
- a comment stays between the same two tokens: an own-line comment goes on its own line
  at the indentation of what follows (inside the block before a `}`); a trailing comment
  stays at the end of its line after one space; a comment in the middle of a member ends
  the line there and the member continues on the next line, one level deeper;
- blank lines: none at the start or end of a block, none after a `///` line, none inside
  a member; one before a declaration (and the comments above it) when it or the one
  before it has a block, or follows the `module` header; elsewhere (between members,
  between one-line declarations such as `use`, `permission`, `grant`) one blank line is
  kept where the author left one or more, so authors can group lines;
- the file ends with one newline; an empty file stays empty.
"""

from __future__ import annotations

from contractspec.format.layout import layout
from contractspec.format.lexing import FormatError, lex
from contractspec.format.printer import Printer

__all__ = ["FormatError", "format_text"]


def format_text(text: str, path: str = "<text>") -> str:
    """The canonical layout of `text`; raises FormatError when it has syntax errors."""
    lexed = lex(text, path)
    return Printer(lexed, layout(lexed.tree, lexed.tokens)).render()
