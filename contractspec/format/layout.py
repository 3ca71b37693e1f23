"""Where lines start, read from the parse tree.

A declaration starts a line, and so does every member of a block: a child of a rule that
comes after the rule's `{` (every `{ ... }` in the language holds members, and every
block ends its rule, so this needs no list of member rules). Member nesting is bounded
by the grammar (track > unit > step), so the walk never goes deep.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field

from lark import Token, Tree


@dataclass(frozen=True)
class Declaration:
    first: int  # index of its first token
    block: bool  # has a `{ ... }` body
    header: bool  # the `module` header


@dataclass
class Layout:
    starts: set[int] = field(default_factory=set)  # token indices that begin a member line
    declarations: list[Declaration] = field(default_factory=list)


def layout(tree: Tree[Token], tokens: list[Token]) -> Layout:
    index = {token.start_pos: i for i, token in enumerate(tokens)}
    braces = [token.start_pos or 0 for token in tokens if token.type == "LBRACE"]
    result = Layout()

    def opening_brace(node: Tree[Token]) -> int | None:
        k = bisect.bisect_left(braces, node.meta.start_pos)
        return braces[k] if k < len(braces) and braces[k] < node.meta.end_pos else None

    def mark(node: Tree[Token]) -> int | None:
        result.starts.add(index[node.meta.start_pos])
        brace = opening_brace(node)
        if brace is not None:
            for child in node.children:
                if (isinstance(child, Tree) and child.data != "docs"
                        and child.meta.start_pos > brace):
                    mark(child)
        return brace

    for decl in tree.children:
        assert isinstance(decl, Tree)
        brace = mark(decl)
        result.declarations.append(
            Declaration(index[decl.meta.start_pos], brace is not None, decl.data == "module_decl")
        )
    return result
