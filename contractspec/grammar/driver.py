"""A fast run of the Lark LALR parser, for text without syntax errors.

Lark's parser spends most of its time in general machinery: a lexer-state object and a
generator step per token, and a chain of tree-building wrappers per reduction. This module
runs the very same automaton that `get_parser()` built (its parse table, its per-state
contextual lexers, `_CollisionAwareLexer`'s retyping) in one loop, and builds the same trees
(same rules inlined, same tokens kept, same positions and metas). At the first syntax error
it gives up and returns None: `parse_source` then lets Lark parse again and report, so error
messages and recovery are Lark's own. tests/test_performance_paths.py checks that the trees
are identical to Lark's, positions included.
"""

from __future__ import annotations

from typing import Any

from lark import Lark, Token, Tree
from lark.lexer import UnlessCallback
from lark.parsers.lalr_analysis import Shift
from lark.tree import Meta

# A reduction's tree shape: (result name, `?rule` single-child inlining, the children kept
# as (index, inline the child's own children) pairs, or None when all are kept as they are).
Shape = tuple[str, bool, tuple[tuple[int, bool], ...] | None]
# A reduction: (rule name, number of symbols, tree shape or None for a one-symbol `?rule`).
Reduce = tuple[str, int, Shape | None]
_new_meta: Any = Meta
# A state's lexer: compiled scanners, ignored types, newline types, keyword retyping.
StateLexer = tuple[tuple[Any, ...], frozenset[str], frozenset[str], dict[str, dict[str, str]]]


class Driver:
    """The parse loop over one `Lark` parser's tables (`parser.py` makes the one in use)."""

    def __init__(self, parser: Lark, alternatives: dict[str, tuple[str, ...]],
                 patterns: dict[str, Any]) -> None:
        inner = parser.parser.parser.parser
        table = inner.parse_table
        self.start: int = table.start_states["start"]
        self.end: int = table.end_states["start"]
        self.alternatives = alternatives
        self.patterns = patterns
        # state -> symbol -> the next state (shift, or goto after a reduction), or a
        # reduction as (rule name, number of symbols, tree shape).
        self.table: dict[int, dict[str, Any]] = {  # values: int | Reduce
            state: {symbol: arg if kind is Shift else
                    (arg.origin.name, len(arg.expansion), _shape(arg))
                    for symbol, (kind, arg) in actions.items()}
            for state, actions in table.states.items()
        }
        if any(action[0] == "start" and action[2] is None for actions in self.table.values()
               for action in actions.values() if action.__class__ is not int):
            raise TypeError("the start rule must build a tree")  # `parse` relies on it
        self.contextual = parser.parser.lexer.lexers
        self.lexers: dict[int, StateLexer] = {}  # built on first use, as Lark does

    def lexer(self, state: int) -> StateLexer:
        """The lexer of a parser state: Lark's scanner, and its keyword retyping as dicts."""
        lexer = self.contextual[state]
        scanner = lexer.scanner  # building it sets `lexer.callback`
        keywords: dict[str, dict[str, str]] = {}
        for name, callback in lexer.callback.items():
            if not isinstance(callback, UnlessCallback):
                raise TypeError(f"unexpected lexer callback for {name}")
            keywords[name] = _literal_types(callback)
        built = self.lexers[state] = (tuple(scanner._mres), lexer.ignore_types,
                                      lexer.newline_types, keywords)
        return built

    def accepts(self, stack: list[int], token_type: str) -> bool:
        """Whether the parser would shift `token_type` after its pending reductions."""
        table = self.table
        stack = list(stack)
        while True:
            action = table[stack[-1]].get(token_type)
            if action is None:
                return False
            if action.__class__ is int:
                return True
            origin, size, _ = action
            if size:
                del stack[-size:]
            stack.append(table[stack[-1]][origin])

    def parse(self, text: str) -> Tree[Token] | None:
        table, lexers, alternatives, patterns = self.table, self.lexers, self.alternatives, \
            self.patterns
        end_state = self.end
        new_token: Any = Token._future_new  # Token() minus a deprecation shim
        states = [self.start]
        values: list[Any] = []
        size_text = len(text)
        pos = 0
        line = 1
        line_start = 0
        token: Token | None = None
        while True:
            if pos < size_text:
                try:
                    scanners, ignore, newlines, keywords = lexers[states[-1]]
                except KeyError:
                    scanners, ignore, newlines, keywords = self.lexer(states[-1])
                for scanner in scanners:
                    match = scanner.match(text, pos)
                    if match is not None:
                        break
                else:
                    return None
                value = match.group()
                kind = match.lastgroup
                end = match.end()
                if kind in ignore:
                    if kind in newlines and "\n" in value:
                        line += value.count("\n")
                        line_start = pos + value.rindex("\n") + 1
                    pos = end
                    continue
                start_line, start_col = line, pos - line_start + 1
                if kind in newlines and "\n" in value:
                    line += value.count("\n")
                    line_start = pos + value.rindex("\n") + 1
                if kind in keywords:
                    kind = keywords[kind].get(value, kind)
                if kind in alternatives and table[states[-1]].get(kind).__class__ is not int \
                        and not self.accepts(states, kind):
                    for other in alternatives[kind]:
                        if patterns[other].fullmatch(value) and self.accepts(states, other):
                            kind = other
                            break
                token = new_token(kind, value, pos, start_line, start_col, line,
                                  end - line_start + 1, end)
                pos = end
                is_end = False
            else:
                token = (Token.new_borrow_pos("$END", "", token) if token is not None
                         else Token("$END", "", 0, 1, 1))
                kind = "$END"
                is_end = True
            while True:
                try:
                    action = table[states[-1]][kind]
                except KeyError:
                    return None
                if action.__class__ is int:
                    if is_end:
                        return None
                    states.append(action)
                    values.append(token)
                    break
                origin, size, shape = action
                if shape is None:  # a `?rule` of one symbol: that symbol's value, untouched
                    states[-1] = table[states[-2]][origin]
                    continue
                if size:
                    children = values[-size:]
                    del states[-size:]
                    del values[-size:]
                else:
                    children = []
                states.append(table[states[-1]][origin])
                values.append(_build(shape, children))
                if is_end and states[-1] == end_state:
                    result = values[-1]
                    return result if isinstance(result, Tree) else None


def _shape(rule: Any) -> Shape | None:
    """What Lark's ParseTreeBuilder does for a rule (LALR, no placeholders); None for a
    `?rule` of one symbol, kept, which reduces to that symbol's value untouched."""
    options = rule.options
    name = rule.alias or options.template_source or rule.origin.name
    expand1 = bool(options.expand1) and not rule.alias
    include = tuple(
        (i, not sym.is_term and sym.name.startswith("_"))
        for i, sym in enumerate(rule.expansion)
        if options.keep_all_tokens or not (sym.is_term and sym.filter_out)
    )
    if expand1 and include == ((0, False),) and len(rule.expansion) == 1:
        return None
    filtered = len(include) < len(rule.expansion) or any(inline for _, inline in include)
    return name, expand1, include if filtered else None


def _literal_types(callback: UnlessCallback) -> dict[str, str]:
    """The keyword retyping of an UnlessCallback, as a dict (literal text -> terminal)."""
    types: dict[str, str] = {}
    for terminal in callback.scanner.terminals:
        pattern = terminal.pattern
        if pattern.type != "str" or pattern.flags:
            raise TypeError(f"unexpected keyword terminal {terminal.name}")
        types.setdefault(pattern.value, terminal.name)
    return types


def _build(shape: Shape, children: list[Any]) -> Any:
    """Lark's tree building for one reduction: filter, inline, then propagate positions."""
    name, expand1, include = shape
    if include is None:
        kept = children
    else:
        kept = []
        for index, inline in include:
            if inline:
                if kept:
                    kept += children[index].children
                else:
                    kept = children[index].children
            else:
                kept.append(children[index])
    meta: Any
    if expand1 and len(kept) == 1:
        result = kept[0]
        if not isinstance(result, Tree):
            return result
        meta = result.meta
    else:
        meta = _new_meta()
        result = Tree(name, kept, meta)
    first: Any
    last: Any
    for child in children:
        if isinstance(child, Tree):
            first = child.meta
            if first.empty:
                continue
            first_line, first_col, first_pos = (
                first.container_line, first.container_column, first.container_start_pos)
        else:
            first_line, first_col, first_pos = child.line, child.column, child.start_pos
        if not hasattr(meta, "line"):
            meta.line, meta.column, meta.start_pos = first_line, first_col, first_pos
            meta.empty = False
        meta.container_line, meta.container_column = first_line, first_col
        meta.container_start_pos = first_pos
        break
    for child in reversed(children):
        if isinstance(child, Tree):
            last = child.meta
            if last.empty:
                continue
            last_line, last_col, last_pos = (
                last.container_end_line, last.container_end_column, last.container_end_pos)
        else:
            last_line, last_col, last_pos = child.end_line, child.end_column, child.end_pos
        if not hasattr(meta, "end_line"):
            meta.end_line, meta.end_column, meta.end_pos = last_line, last_col, last_pos
            meta.empty = False
        meta.container_end_line, meta.container_end_column = last_line, last_col
        meta.container_end_pos = last_pos
        break
    return result
