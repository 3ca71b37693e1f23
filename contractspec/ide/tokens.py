"""Semantic tokens: what each word of a file is, for editors without a grammar of their own.

Names are classified from the reference index (a field is a property wherever it is
named); keywords, strings, numbers, comments and attributes from a light lexer that
tolerates broken text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from contractspec.ide.completion import keyword_words
from contractspec.ide.index import Definition, Occurrence
from contractspec.ide.world import World

TOKEN_TYPES = ("namespace", "class", "struct", "enum", "enumMember", "property", "function",
               "method", "event", "variable", "parameter", "keyword", "string", "number",
               "comment", "decorator", "type")
TOKEN_MODIFIERS = ("declaration", "documentation", "defaultLibrary", "readonly")

KIND_TYPES = {
    "module": "namespace", "entity": "class", "type": "struct", "enum": "enum",
    "enum_value": "enumMember", "field": "property", "permission": "variable",
    "role": "variable", "command": "function", "query": "function", "event": "event",
    "workflow": "class", "transition": "method", "job": "function", "error": "enumMember",
}

_LEXER = re.compile(
    r'(?P<doc>///[^\n]*)|(?P<comment>//[^\n]*)|(?P<triple>"""(?:.|\n)*?(?:"""|$))'
    r'|(?P<string>"(?:[^"\\\n]|\\.)*"?)|(?P<attr>@@?[A-Za-z_][A-Za-z0-9_]*)'
    r"|(?P<number>[0-9]+(?:\.[0-9]+)*(?:ms|s|m|h|d|w|y|B|KB|MB|GB|TB|%)?)"
    r"|(?P<word>[A-Za-z_][A-Za-z0-9_]*)",
)


@dataclass(frozen=True)
class SemanticToken:
    line: int  # 1-based
    col: int  # 1-based, code points
    length: int  # code points, within the line
    type: str
    modifiers: frozenset[str] = frozenset()


def semantic_tokens(world: World, path: str) -> list[SemanticToken]:
    source = world.source(path)
    if source is None:
        return []
    text = source.text
    named: dict[int, Definition | Occurrence] = {}
    for d in world.index.by_file.get(path, []):
        named[d.span.start_offset] = d
    for o in world.index.occurrences.get(path, []):
        named[o.span.start_offset] = o
    keywords = keyword_words()
    out: list[SemanticToken] = []
    for match in _LEXER.finditer(text):
        group = match.lastgroup or ""
        start, end = match.start(), match.end()
        kind: str | None
        modifiers: frozenset[str] = frozenset()
        if group == "word":
            kind, modifiers = _classify(named.get(start), match.group(), keywords)
        elif group == "doc":
            kind, modifiers = "comment", frozenset({"documentation"})
        elif group == "triple":
            kind = "string"
        else:
            kind = {"comment": "comment", "string": "string", "attr": "decorator",
                    "number": "number"}[group]
        if kind is None:
            continue
        line, col = source.position(start)
        for piece in text[start:end].split("\n"):
            if piece:
                out.append(SemanticToken(line, col, len(piece), kind, modifiers))
            line, col = line + 1, 1
    return out


def _classify(found: Definition | Occurrence | None, word: str,
              keywords: frozenset[str]) -> tuple[str | None, frozenset[str]]:
    if isinstance(found, Occurrence):
        target = found.target
        if target is None:
            return None, frozenset()
        mods = {"defaultLibrary"} if target.std else set()
        if target.kind in ("permission", "role"):
            mods.add("readonly")
        return KIND_TYPES.get(target.kind, "variable"), frozenset(mods)
    if isinstance(found, Definition):
        mods = {"declaration", *(["defaultLibrary"] if found.std else [])}
        return KIND_TYPES.get(found.kind, "variable"), frozenset(mods)
    if word in keywords:
        return "keyword", frozenset()
    if word in ("self", "actor", "authenticated", "now"):
        return "parameter", frozenset({"readonly"})
    return None, frozenset()
