"""The canonical layout: the source's tokens in the source's order, re-spaced.

Only whitespace between tokens changes (and a trailing comma before `)` or `]` goes), so
the token stream, and with it the meaning, is the same before and after. Each comment
stays in the gap between the same two tokens it was written in.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from lark import Token

from contractspec.format.layout import Layout
from contractspec.format.lexing import Comment, Lexed
from contractspec.source import GRAMMAR_WHITESPACE

INDENT = "  "
# Tokens after which a `+` or `-` is binary; elsewhere it is a sign.
_OPERAND_END = frozenset({
    "NAME", "INT", "DECIMAL", "STRING", "TRIPLE_STRING", "DURATION", "SIZE", "PERCENT",
    "TRUE", "FALSE", "NULL", "RPAR", "RSQB", "VNUM", "SEMVER",
})
_NO_SPACE_BEFORE = frozenset({",", ")", "]", "?", "[]", ".", "..", ":"})
_NO_SPACE_AFTER = frozenset({"(", "[", ".", "..", "@", "@@"})


@dataclass
class _Line:
    indent: int
    text: str
    blank: bool  # preceded by a blank line
    last: str = ""  # its last token ("" for a comment line)
    doc: bool = False
    comment: str | None = None  # a trailing comment

    def render(self) -> str:
        text = INDENT * self.indent + self.text
        return f"{text} {self.comment}" if self.comment is not None else text


def _angle(token: Token) -> bool:
    """`<` or `>` around generic type arguments (not a comparison)."""
    return token.type != "CMP_OP" and str(token) in ("<", ">")


def _space(prev: Token, token: Token, after_sign: bool) -> bool:
    """Whether one space separates two tokens on the same line."""
    p, t = str(prev), str(token)
    if after_sign:
        return token.type == "ADD_OP"  # `- -1`, not `--1`
    if t in _NO_SPACE_BEFORE or p in _NO_SPACE_AFTER:
        return False
    if p == "{" and t == "}":
        return False
    if _angle(token) or (_angle(prev) and p == "<"):
        return False
    if t == "(":  # a call, an attribute's or a type's arguments; otherwise a grouping
        return not (prev.type == "NAME" or _angle(prev))
    return "/" not in (p, t) or "MUL_OP" in (prev.type, token.type)  # `100000/month`


def _blank_before(text: str, offset: int) -> bool:
    """Whether the author left an empty line just before `offset`."""
    k = offset
    while k > 0 and text[k - 1] in GRAMMAR_WHITESPACE:
        k -= 1
    return text.count("\n", k, offset) >= 2


class Printer:
    def __init__(self, lexed: Lexed, layout: Layout) -> None:
        self.text = lexed.text
        self.tokens = lexed.tokens
        self.gaps = lexed.gaps
        self.starts = layout.starts
        decls = layout.declarations
        # The first line of a declaration (or of the comments above it) after a block or
        # the module header, or of a block declaration, is preceded by a blank line.
        self.separated = {
            b.first for a, b in itertools.pairwise(decls)
            if a.block or a.header or b.block
        }
        self.lines: list[_Line] = []

    def render(self) -> str:
        self._print()
        out: list[str] = []
        for line in self.lines:
            if line.blank:
                out.append("")
            out.append(line.render())
        return "\n".join(out) + "\n" if out else ""

    def _emit(self, indent: int, text: str, blank: bool, last: str = "",
              doc: bool = False) -> _Line:
        previous = self.lines[-1] if self.lines else None
        if previous is None or previous.last == "{" or previous.doc:
            blank = False
        line = _Line(indent, text, blank, last, doc)
        self.lines.append(line)
        return line

    def _dropped(self, i: int) -> bool:
        """A trailing comma before `)` or `]` with no comment after it."""
        tokens = self.tokens
        return (tokens[i].type == "COMMA" and i + 1 < len(tokens)
                and str(tokens[i + 1]) in (")", "]") and not self.gaps[i + 1])

    def _starts_line(self, i: int, previous: Token | None) -> bool:
        token = self.tokens[i]
        if token.type == "RBRACE":
            return not (previous is not None and previous.type == "LBRACE" and not self.gaps[i])
        return (i in self.starts or token.type == "DOC" or previous is None
                or previous.type in ("DOC", "LBRACE", "RBRACE"))

    def _print(self) -> None:
        depth = 0  # open blocks
        member_depth = 0  # the depth of the line being continued
        current: _Line | None = None
        previous: Token | None = None
        after_sign = False
        for i in range(len(self.tokens) + 1):
            token = self.tokens[i] if i < len(self.tokens) else None
            if token is None:
                self._comments(self.gaps[i], current, depth, True, False)
                return
            if token.type == "RBRACE":
                depth -= 1
            starts = self._starts_line(i, previous)
            separated = i in self.separated
            comment_indent = depth + (token.type == "RBRACE") if starts else member_depth + 1
            current, separated = self._comments(self.gaps[i], current, comment_indent, starts,
                                                separated)
            if self._dropped(i):
                continue
            value = str(token).rstrip() if token.type == "DOC" else str(token)
            if starts:
                blank = separated or (token.type != "RBRACE"
                                      and _blank_before(self.text, token.start_pos or 0))
                current = self._emit(depth, value, blank, value, token.type == "DOC")
                member_depth = depth
            elif current is None or previous is None:  # cut by a comment: continue, indented
                current = self._emit(member_depth + 1, value, False, value)
            else:
                if _space(previous, token, after_sign):
                    current.text += " "
                current.text += value
                current.last = value
            after_sign = token.type == "ADD_OP" and (
                previous is None or previous.type not in _OPERAND_END)
            previous = token
            if token.type == "LBRACE":
                depth += 1

    def _comments(self, gap: list[Comment], current: _Line | None, indent: int,
                  keep_blanks: bool, separated: bool) -> tuple[_Line | None, bool]:
        """Print the comments of one gap; returns the open line (None once a comment ends
        it) and whether a pending blank line is still to be placed."""
        for comment in gap:
            if not comment.own_line and current is not None:
                current.comment = comment.text
            else:
                blank = separated or (keep_blanks and _blank_before(self.text, comment.start))
                self._emit(indent, comment.text, blank)
                separated = False
            current = None
        return current, separated
