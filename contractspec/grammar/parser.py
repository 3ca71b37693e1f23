"""Parsing `.cspec` text into Lark trees, with error recovery and readable messages.

A whole file is parsed in one go. When that fails, the file is cut into top-level
declarations and each is parsed on its own; inside a broken declaration the offending
line (or nested block) is blanked and the parse retried, so one file yields one
diagnostic per error and everything else still lowers to IR.
"""

from __future__ import annotations

import gc
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from lark import Lark, Token, Tree
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken
from lark.lexer import ContextualLexer
from lark.parsers.lalr_analysis import Shift

from contractspec.diagnostics import Diagnostic, Severity
from contractspec.grammar.driver import Driver
from contractspec.grammar.messages import describe_expected, describe_token
from contractspec.grammar.scan import Chunk, split_declarations
from contractspec.source import SourceFile

GRAMMAR_PATH = Path(__file__).with_name("cspec.lark")
MAX_RETRIES_PER_DECLARATION = 25
_SURROGATE = re.compile("[\ud800-\udfff]")


@dataclass
class ParsedChunk:
    """A parse tree for part of a file; tree positions are relative to `base`."""

    tree: Tree[Token]
    base: int


@dataclass
class ParseResult:
    chunks: list[ParsedChunk] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)


class _CollisionAwareLexer(ContextualLexer):
    """Lark's contextual lexer, corrected for LALR's merged lookaheads.

    A state's lexer may pick a terminal that the parser cannot take after its pending
    reductions: a field named `by` lexed as the keyword, or `>` lexed as the end of a
    generic type inside `self.amount > 0`. When another terminal matches the same text
    and the parser accepts it, the token is retyped.
    """

    alternatives: dict[str, tuple[str, ...]] = {}

    def lex(self, lexer_state: Any, parser_state: Any) -> Iterator[Token]:
        alternatives = self.alternatives
        for token in super().lex(lexer_state, parser_state):
            others = alternatives.get(token.type)
            if others and not parser_accepts(parser_state, token.type):
                for other in others:
                    if _matches(other, token) and parser_accepts(parser_state, other):
                        token.type = other
                        break
            yield token


_PATTERNS: dict[str, re.Pattern[str]] = {}


def _matches(terminal: str, token: Token) -> bool:
    return _PATTERNS[terminal].fullmatch(str(token)) is not None


def parser_accepts(parser_state: Any, token_type: str) -> bool:
    """Whether the LALR parser would shift `token_type` after its pending reductions."""
    states = parser_state.parse_conf.states
    stack = list(parser_state.state_stack)
    while True:
        action = states[stack[-1]].get(token_type)
        if action is None:
            return False
        kind, arg = action
        if kind is Shift:
            return True
        size = len(arg.expansion)
        if size:
            del stack[-size:]
        stack.append(states[stack[-1]][arg.origin.name][1])


def accepted_terminals(parser_state: Any) -> set[str]:
    """The terminals truly acceptable in a parser state (not LALR's merged superset)."""
    states = parser_state.parse_conf.states
    candidates = [t for t in states[parser_state.position] if t.isupper()]
    return {t for t in candidates if t == "$END" or parser_accepts(parser_state, t)}


@cache
def get_parser() -> Lark:
    """The Lark LALR parser for the language (built once; grammar analysis cached on disk)."""
    parser = Lark(
        GRAMMAR_PATH.read_text(encoding="utf-8"),
        parser="lalr",
        lexer="contextual",
        propagate_positions=True,
        maybe_placeholders=False,
        cache=True,
    )
    lexer = parser.parser.lexer
    lexer.__class__ = _CollisionAwareLexer
    lexer.alternatives = _colliding_terminals(parser)
    return parser


def _colliding_terminals(parser: Lark) -> dict[str, tuple[str, ...]]:
    """For each terminal, the other terminals that can match some of the same text."""
    for t in parser.terminals:
        _PATTERNS[t.name] = re.compile(t.pattern.to_regexp())
    literals = [t for t in parser.terminals if t.pattern.type == "str"]
    groups: dict[str, set[str]] = {}
    for lit in literals:
        for other in parser.terminals:
            if other.name != lit.name and _PATTERNS[other.name].fullmatch(lit.pattern.value):
                groups.setdefault(lit.name, set()).add(other.name)
                groups.setdefault(other.name, set()).add(lit.name)
    return {name: tuple(sorted(others)) for name, others in groups.items()}


@contextmanager
def gc_paused() -> Iterator[None]:
    """Hold the cyclic garbage collector while building trees and IR.

    Parsing and lowering allocate hundreds of thousands of objects that live on (the IR) or
    die by reference counting (the trees), so collecting while they are built finds nothing,
    and each collection costs more as the heap grows. On exit the objects allocated meanwhile
    are moved straight to the oldest generation (`freeze` then `unfreeze`, which only moves
    lists) rather than being scanned young, then again in the middle generation; cyclic
    garbage among them is still found by the next full collection. Nothing changes when the
    collector was off already, or when the program froze objects of its own.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            if gc.get_freeze_count() == 0:
                gc.freeze()
                gc.unfreeze()
            gc.enable()


@cache
def _driver() -> Driver:
    parser = get_parser()
    return Driver(parser, parser.parser.lexer.alternatives, _PATTERNS)


def parse_source(source: SourceFile) -> ParseResult:
    """Parse one file; never raises on bad input.

    The fast driver (the same automaton, run leaner) parses first. When it finds a syntax
    error, Lark parses the file again (so a disagreement could only cost time) and, on its
    error, declaration by declaration to report each error.
    """
    with gc_paused():
        result = _parse(source)
    surrogate = _SURROGATE.search(source.text)
    if surrogate is not None:  # only an editor's buffer can hold one (files are UTF-8)
        span = source.span(surrogate.start(), surrogate.end())
        message = (f"text holds a lone surrogate (U+{ord(surrogate.group()):04X}), half of a "
                   "character, which UTF-8 cannot encode; delete it or retype the character")
        result.diagnostics.append(Diagnostic(code="CS112", severity=Severity.ERROR,
                                             message=message, span=span))
    return result


def _parse(source: SourceFile) -> ParseResult:
    parser = get_parser()
    result = ParseResult()
    try:
        tree = _driver().parse(source.text)
        result.chunks.append(ParsedChunk(tree if tree is not None else parser.parse(source.text),
                                         0))
        return result
    except UnexpectedInput:
        pass
    for chunk in split_declarations(source.text):
        _parse_chunk(parser, source, chunk, result)
    return result


def _parse_chunk(parser: Lark, source: SourceFile, chunk: Chunk, result: ParseResult) -> None:
    text = source.text[chunk.start : chunk.end]
    for _ in range(MAX_RETRIES_PER_DECLARATION):
        try:
            fast = _driver().parse(text)
            tree = fast if fast is not None else parser.parse(text)
        except UnexpectedInput as error:
            offset, diagnostic = _diagnose(source, chunk.start, text, error)
            offset, diagnostic = _blame_unfinished_line(parser, source, chunk, text, offset,
                                                        diagnostic)
            if all(d.span != diagnostic.span for d in result.diagnostics):
                result.diagnostics.append(diagnostic)
            repaired = chunk.repair(text, offset)
            if repaired is None:
                return
            text = repaired
            continue
        result.chunks.append(ParsedChunk(tree, chunk.start))
        return


def _blame_unfinished_line(
    parser: Lark, source: SourceFile, chunk: Chunk, text: str, offset: int, diagnostic: Diagnostic
) -> tuple[int, Diagnostic]:
    """Members are one per line: when the error sits inside a line whose previous line
    stops mid-construct (`title:` with no type), the previous line is the one to blame."""
    previous = chunk.previous_line_end(text, offset)
    if previous is None:
        return offset, diagnostic
    try:
        parser.parse(text[:previous])
    except UnexpectedToken as error:
        if error.token.type != "$END" or error.state is None:
            return offset, diagnostic
        expected = accepted_terminals(error.state)
        if "RBRACE" in expected or not expected:
            return offset, diagnostic
        message = f"{describe_expected(expected)}, found the end of the line"
        span = source.span(chunk.start + previous, chunk.start + previous)
        return previous, diagnostic.model_copy(update={"message": message, "span": span})
    except UnexpectedInput:
        return offset, diagnostic
    return offset, diagnostic


def _diagnose(
    source: SourceFile, base: int, text: str, error: UnexpectedInput
) -> tuple[int, Diagnostic]:
    """A user-worded diagnostic for a Lark error; returns the chunk-relative error offset."""
    if isinstance(error, UnexpectedToken):
        token = error.token
        expected = accepted_terminals(error.state) if error.state is not None else set()
        if token.type == "$END":
            offset = len(text.rstrip())
            message = f"unexpected end of declaration, {describe_expected(expected)}"
            end = offset
        else:
            offset = token.start_pos or 0
            end = token.end_pos or offset + len(token)
            message = f"{describe_expected(expected)}, found {describe_token(token)}"
    elif isinstance(error, UnexpectedCharacters):
        offset = error.pos_in_stream or 0
        char = text[offset] if offset < len(text) else ""
        end = offset + 1
        message = f"unexpected character {char!r}" + _char_hint(char)
    else:
        assert isinstance(error, UnexpectedEOF)
        offset = end = len(text.rstrip())
        message = "unexpected end of declaration"
    span = source.span(base + offset, base + max(end, offset))
    return offset, Diagnostic(
        code="CS101", severity=Severity.ERROR, message=message, span=span
    )


def _char_hint(char: str) -> str:
    if char == '"':
        return ": this string is never closed (strings end on the same line; use \"\"\" for blocks)"
    if char == "#":
        return ": comments start with `//`"
    if char == ";":
        return ": declarations and members need no `;`, put one per line"
    return ""
