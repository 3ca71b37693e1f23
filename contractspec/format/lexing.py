"""What the formatter reads: the parse tree, every token with its offsets, and the comments.

The grammar ignores `//` comments, so they are recovered from the gaps between tokens: a
gap holds only whitespace and comments, so every `//` in it starts a comment that runs to
the end of its line. `///` doc comments are tokens (`DOC`) where the grammar takes them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from lark import Token, Tree
from lark.exceptions import UnexpectedInput

from contractspec.diagnostics import Diagnostic
from contractspec.grammar.parser import _diagnose, get_parser, parse_source
from contractspec.source import SourceFile

_COMMENT = re.compile(r"//[^\n]*")


class FormatError(Exception):
    """The text cannot be formatted because it has syntax errors (see `diagnostics`)."""

    def __init__(self, diagnostics: list[Diagnostic]) -> None:
        self.diagnostics = diagnostics
        message = "syntax error"
        if diagnostics:
            first = diagnostics[0]
            span = first.span
            message = f"{span.file}:{span.start_line}:{span.start_col}: {first.message}"
        super().__init__(message)


@dataclass(frozen=True)
class Comment:
    text: str  # as written, without trailing whitespace
    start: int  # offset in the source
    own_line: bool  # nothing but whitespace before it on its line


@dataclass
class Lexed:
    text: str
    tree: Tree[Token]
    tokens: list[Token]
    gaps: list[list[Comment]]  # gaps[i]: comments before tokens[i]; the last one after all


def lex(text: str, path: str) -> Lexed:
    """Parse `text` once, keeping every token; raises FormatError on a syntax error."""
    interactive = get_parser().parse_interactive(text)
    tokens: list[Token] = []
    try:
        tokens.extend(interactive.iter_parse())
        tree: Tree[Token] = interactive.feed_eof()  # type: ignore[no-untyped-call]
    except UnexpectedInput as error:
        raise FormatError(_syntax_diagnostics(SourceFile(path, text), error)) from None
    return Lexed(text, tree, tokens, _gaps(text, tokens))


def _syntax_diagnostics(source: SourceFile, error: UnexpectedInput) -> list[Diagnostic]:
    diagnostics = parse_source(source).diagnostics
    return diagnostics or [_diagnose(source, 0, source.text, error)[1]]


def _gaps(text: str, tokens: list[Token]) -> list[list[Comment]]:
    gaps: list[list[Comment]] = []
    previous_end: int | None = None
    for token in [*tokens, None]:
        start = 0 if previous_end is None else previous_end
        end = len(text) if token is None else token.start_pos or 0
        gap: list[Comment] = []
        for match in _COMMENT.finditer(text, start, end):
            own_line = (previous_end is None or bool(gap)
                        or text.find("\n", start, match.start()) >= 0)
            gap.append(Comment(match.group().rstrip(), match.start(), own_line))
        gaps.append(gap)
        if token is not None:
            previous_end = token.end_pos
    return gaps
