"""Completion by context.

The text of the current declaration up to the cursor (minus the word being typed) is fed
to Lark's interactive parser: the terminals it accepts next give the keywords, and the
tokens before the cursor tell which kind of name fits (an entity after `ref`, an event
after `emits`, a permission after `policy`...). Only the text before the cursor is parsed,
so a half-typed line does not matter; an earlier broken line of the same declaration is
blanked and the parse retried.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from lark import Token
from lark.exceptions import UnexpectedCharacters, UnexpectedInput, UnexpectedToken

from contractspec.check.symbols import SCALARS
from contractspec.grammar.parser import accepted_terminals, get_parser
from contractspec.grammar.scan import split_declarations
from contractspec.ide.catalog import (
    ATTACHMENT_ACTIONS,
    ATTRIBUTE_DOCS,
    BUILTIN_DOCS,
    DECLARATION_DOCS,
    EVENT_SEVERITIES,
    MODEL_ATTRIBUTE_DOCS,
    POLICY_ACTIONS,
    SCALAR_DOCS,
    SNIPPETS,
)
from contractspec.ide.index import Definition
from contractspec.ide.render import field_text
from contractspec.ide.text import word_before
from contractspec.ide.world import World
from contractspec.source import Span
from contractspec.workspace.loader import std_modules

MAX_RETRIES = 8
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@dataclass(frozen=True)
class CompletionItem:
    label: str
    kind: str  # keyword, snippet, entity, field, event, permission, role, module, ...
    detail: str | None = None
    documentation: str | None = None
    insert_text: str | None = None
    snippet: bool = False
    replace: Span | None = None  # the text the item replaces (the word being typed)


@dataclass
class _Context:
    tokens: list[Token]
    accepted: set[str] | None  # None when the current line does not parse
    decl: str  # the declaration keyword (`entity`, `command`, ...) or ""
    blocks: list[str]  # the keyword that opened each enclosing `{`
    line: list[Token]  # the tokens of the cursor's line
    header: list[Token] = field(default_factory=list)  # the declaration's tokens before `{`

    @property
    def prev(self) -> str | None:
        return str(self.tokens[-1]) if self.tokens else None

    @property
    def top_level(self) -> bool:
        return not self.blocks and (not self.tokens or str(self.tokens[-1]) == "}" or
                                    not self.line)

    def line_has(self, value: str) -> bool:
        return any(str(t) == value for t in self.line)


def complete(world: World, path: str, offset: int) -> list[CompletionItem]:
    source = world.source(path)
    if source is None:
        return []
    text = source.text
    offset = max(0, min(offset, len(text)))
    line_start = text.rfind("\n", 0, offset) + 1
    if _in_comment_or_string(text[line_start:offset]):
        return []
    word = word_before(text, offset)
    start = offset - len(word)
    qualifier, _, partial = word.rpartition(".")
    whole = source.span(start, offset)
    tail = source.span(offset - len(partial), offset)
    if text[max(0, start - 2):start] == "@@":
        return _attributes(MODEL_ATTRIBUTE_DOCS, tail)
    if text[max(0, start - 1):start] == "@":
        return _attributes(ATTRIBUTE_DOCS, tail)
    ctx = _context(text, start, line_start)
    module = world.module_of(path)
    items = _Completer(world, module.name if module else None, ctx, tail, whole,
                       qualifier).items()
    return [i for i in items if _fuzzy(partial if i.replace is tail else word, i.label)]


def _fuzzy(typed: str, label: str) -> bool:
    """Whether `typed` is a case-insensitive subsequence of `label`."""
    it = iter(label.lower())
    return all(c in it for c in typed.lower())


def _in_comment_or_string(line: str) -> bool:
    quote = False
    i = 0
    while i < len(line):
        c = line[i]
        if quote:
            if c == "\\":
                i += 1
            elif c == '"':
                quote = False
        elif c == '"':
            quote = True
        elif line.startswith("//", i):
            return True
        i += 1
    return quote


def _attributes(table: dict[str, str], span: Span) -> list[CompletionItem]:
    return [CompletionItem(name, "attribute", None, doc, replace=span)
            for name, doc in table.items()]


# ---- the parse up to the cursor -----------------------------------------------------------

def _context(text: str, offset: int, line_start: int) -> _Context:
    chunk_start = 0
    for chunk in split_declarations(text[:offset]):
        if chunk.start <= offset:
            chunk_start = chunk.start
    prefix = text[chunk_start:offset]
    tokens, accepted = _feed(prefix, line_start - chunk_start)
    cursor_line = prefix.count("\n") + 1
    blocks: list[str] = []
    firsts: dict[int, Token] = {}
    header: list[Token] = []
    decl = ""
    for tok in tokens:
        if tok.type == "DOC":
            continue
        decl = decl or str(tok)
        first = firsts.setdefault(tok.line or 0, tok)
        if str(tok) == "{":
            blocks.append(str(first))
        elif str(tok) == "}":
            if blocks:
                blocks.pop()
        elif not blocks and str(tok) != "}":
            header.append(tok)
    line = [t for t in tokens if t.line == cursor_line and t.type != "DOC"]
    if not blocks and tokens and str(tokens[-1]) == "}":
        decl, header = "", []
    return _Context(tokens, accepted, decl, blocks, line, header)


def _feed(prefix: str, line_start: int) -> tuple[list[Token], set[str] | None]:
    """Lex and parse `prefix`; the tokens and the terminals acceptable next."""
    parser = get_parser()
    tokens: list[Token] = []
    for _ in range(MAX_RETRIES):
        interactive = parser.parse_interactive(prefix)
        tokens = []
        try:
            for token in interactive.iter_parse():
                tokens.append(token)
            return tokens, accepted_terminals(interactive.parser_state)
        except UnexpectedCharacters as error:
            position = error.pos_in_stream
        except UnexpectedToken as error:
            position = error.token.start_pos
            tokens = tokens[:-1]
        except UnexpectedInput:
            return tokens, None
        if position is None:
            return tokens, None
        if position >= line_start:
            if prefix[line_start:position].strip() or not prefix[:line_start].strip():
                return tokens, None
            position = len(prefix[:line_start].rstrip()) - 1  # blame the line before
        begin = prefix.rfind("\n", 0, position) + 1
        end = prefix.find("\n", position)
        end = len(prefix) if end == -1 else end
        prefix = prefix[:begin] + " " * (end - begin) + prefix[end:]
    return tokens, None


# ---- what fits ----------------------------------------------------------------------------

_NAME_KINDS: dict[str, frozenset[str]] = {
    "entity": frozenset({"entity"}),
    "type": frozenset({"entity", "type", "enum"}),
    "field_type": frozenset({"type", "enum"}),
    "access": frozenset({"permission", "role"}),
    "role": frozenset({"role"}),
    "permission": frozenset({"permission"}),
    "event": frozenset({"event"}),
    "job": frozenset({"job"}),
    "operation": frozenset({"command", "query"}),
    "metric": frozenset({"metric"}),
    "flag": frozenset({"flag", "experiment"}),
    "plan": frozenset({"plan"}),
}
_FIELD_BLOCKS = frozenset({"entity", "type", "input", "payload"})
_EXPRESSION_OPS = frozenset({"or", "and", "not", "(", "by", "policy"})


class _Completer:
    def __init__(self, world: World, module: str | None, ctx: _Context, tail: Span,
                 whole: Span, qualifier: str) -> None:
        self.world, self.module, self.ctx = world, module, ctx
        self.tail, self.whole, self.qualifier = tail, whole, qualifier

    def items(self) -> list[CompletionItem]:
        ctx = self.ctx
        if ctx.top_level and not self.qualifier:
            return [*self._keywords(), *self._snippets()]
        names = list(self._names())
        if names or self.qualifier:
            return names
        return list(self._keywords())

    # ---- keywords and snippets ----------------------------------------------------------
    def _keywords(self) -> Iterator[CompletionItem]:
        accepted = self.ctx.accepted
        if accepted is None:
            return
        literals = _keyword_terminals()
        for terminal in sorted(accepted):
            word = literals.get(terminal)
            if word is not None:
                yield CompletionItem(word, "keyword", None, DECLARATION_DOCS.get(word),
                                     replace=self.tail)

    def _snippets(self) -> Iterator[CompletionItem]:
        for keyword, body in SNIPPETS.items():
            yield CompletionItem(keyword, "snippet", f"{keyword} declaration",
                                 DECLARATION_DOCS.get(keyword), body, True, self.tail)

    # ---- names --------------------------------------------------------------------------
    def _names(self) -> Iterator[CompletionItem]:
        ctx = self.ctx
        prev = ctx.prev
        first = str(ctx.line[0]) if ctx.line else None
        block = ctx.blocks[-1] if ctx.blocks else None
        if self.qualifier.split(".")[0] in ("self", "actor"):
            yield from self._fields(self._path_owner(self.qualifier))
            return
        if ctx.decl == "use" and not ctx.blocks:
            yield from self._modules()
            return
        if prev == "ref":
            yield from self._declared("entity")
            return
        if block == "workflow":
            yield from self._workflow(first)
            return
        if not ctx.blocks and ctx.header:
            yield from self._header()
            return
        if first is None:
            yield from self._member_names(block)
            return
        yield from self._member(block, first, prev)

    def _member_names(self, block: str | None) -> Iterator[CompletionItem]:
        """Names that start a member line: policy actions, attachment actions."""
        table = {"policy": POLICY_ACTIONS, "attachments": ATTACHMENT_ACTIONS}.get(
            self.ctx.decl if block == self.ctx.decl else "", {})
        for name, doc in table.items():
            yield CompletionItem(name, "keyword", "action", doc, f"{name}: ",
                                 replace=self.tail)

    def _header(self) -> Iterator[CompletionItem]:
        """Names in a declaration's first line: `policy X`, `view v list of X`, ..."""
        ctx, prev = self.ctx, self.ctx.prev
        if ctx.decl in ("policy", "attachments") or prev == "of":
            yield from self._declared("entity")
        elif ctx.decl == "workflow" and ctx.line_has("on"):
            if self.qualifier:
                yield from self._fields(self._entity(self.qualifier))
            else:
                yield from self._declared("entity")
        elif ctx.decl == "view" and prev == "by":
            yield from self._fields(self._view_entity())
        elif ctx.decl == "grant":
            yield from self._declared("permission" if ctx.line_has(":") else "role")
        elif ctx.decl == "on":
            yield from self._declared("job" if prev == "run" else "event")
        elif ctx.decl == "schedule" and prev == "run":
            yield from self._declared("job")
        elif ctx.decl == "critical":
            yield from self._declared("operation")

    def _member(self, block: str | None, first: str, prev: str | None) -> Iterator[CompletionItem]:
        ctx = self.ctx
        if (block in _FIELD_BLOCKS and prev in (":", "<")) or prev == "output" or (
                first == "output" and prev == "<"):
            yield from self._types(allow_entities=first == "output" or prev == "<")
        elif first == "emits" or prev == "emits" or first in ("on", "completes") or (
                first == "metric" and ctx.decl == "experiment") or first == "from":
            yield from self._declared("event")
        elif first in ("policy", "by") or (ctx.decl in ("policy", "attachments")
                                           and ctx.line_has(":")):
            if prev in _EXPRESSION_OPS or prev == ":":
                yield from self._access()
        elif first == "tools" or first == "actions":
            yield from self._declared("operation")
        elif first == "meters" or (first == "limit" and prev == "limit"):
            yield from self._declared("metric")
        elif first in ("behind", "flags"):
            yield from self._declared("flag")
        elif first == "target" and prev == "plan":
            yield from self._declared("plan")
        elif first == "severity":
            for s in EVENT_SEVERITIES:
                yield CompletionItem(s, "keyword", "severity", replace=self.tail)
        elif first == "to":
            yield from self._recipients(prev)
        elif ctx.decl == "view" and first in ("columns", "filter", "search", "card", "fields"):
            yield from self._fields(self._view_entity())
        elif first == "@@" and prev in ("(", ","):
            yield from self._fields(self._header_entity())

    # ---- kinds of names -----------------------------------------------------------------
    def _visible(self) -> list[str]:
        return self.world.visible(self.module) if self.module else []

    def _declared(self, what: str) -> Iterator[CompletionItem]:
        kinds = _NAME_KINDS[what]
        modules = self._visible()
        if self.qualifier and what != "event":
            modules = [self.qualifier] if self.qualifier in modules else []
        if what == "event":
            span = self.whole
        else:
            span = self.tail
            if not self.qualifier:
                yield from self._module_prefixes(modules[1:])
        for module in modules:
            for d in self.world.index.declarations(module):
                if d.kind in kinds:
                    yield self._item(d, span)

    def _module_prefixes(self, modules: Iterable[str]) -> Iterator[CompletionItem]:
        for name in modules:
            yield CompletionItem(name, "module", "module", replace=self.tail)

    def _item(self, d: Definition, span: Span) -> CompletionItem:
        where = "" if d.module == self.module else f" · {d.module}"
        detail = f"{d.kind} {d.label}{where}"
        doc = getattr(d.decl, "doc", None)
        return CompletionItem(d.name, d.kind, detail, doc, replace=span)

    def _types(self, allow_entities: bool) -> Iterator[CompletionItem]:
        if not self.qualifier:
            for name, doc in SCALAR_DOCS.items():
                if name in SCALARS or allow_entities:
                    yield CompletionItem(name, "scalar", "built-in type", doc, replace=self.tail)
            yield CompletionItem("ref", "keyword", "a reference to an entity",
                                 "`ref Entity` stores a reference to a record.",
                                 "ref ", replace=self.tail)
        yield from self._declared("type" if allow_entities else "field_type")

    def _access(self) -> Iterator[CompletionItem]:
        yield from self._declared("access")
        if self.qualifier:
            return
        record = self.ctx.decl in ("policy", "attachments", "workflow")
        for name, doc in BUILTIN_DOCS.items():
            if name != "now" and (name != "self" or record):
                yield CompletionItem(name, "builtin", "built-in", doc, replace=self.tail)

    def _modules(self) -> Iterator[CompletionItem]:
        names = {m.name for m in self.world.analysis.program.modules if not m.std}
        names |= set(std_modules())
        names.discard(self.module or "")
        for name in sorted(names):
            std = name in std_modules()
            yield CompletionItem(name, "module", "standard library" if std else "module",
                                 replace=self.tail)

    def _fields(self, owner: Definition | None) -> Iterator[CompletionItem]:
        for f in self.world.index.members(owner).values():
            if f.kind == "field":
                yield CompletionItem(f.name, "field", field_text(f.decl),
                                     getattr(f.decl, "doc", None), replace=self.tail)

    def _workflow(self, first: str | None) -> Iterator[CompletionItem]:
        ctx, prev = self.ctx, self.ctx.prev
        if (first == "transition" and prev in ("by",)) or (
                first == "transition" and ctx.line_has("by") and prev in _EXPRESSION_OPS):
            yield from self._access()
            return
        if first == "transition" and prev == "emits":
            yield from self._declared("event")
            return
        state_position = (first in ("initial", "final")
                          or (first == "migrate" and prev != "migrate")
                          or (first == "transition" and prev in (":", ",", "->")))
        if not state_position:
            return
        entity = self._entity(_subject(ctx.header).rpartition(".")[0])
        subject = self.world.index.members(entity).get(_subject(ctx.header).rpartition(".")[2])
        enum = self._enum_of(subject)
        for value in self.world.index.members(enum).values():
            yield CompletionItem(value.name, "state", f"state of {enum.name if enum else ''}",
                                 replace=self.tail)

    def _recipients(self, prev: str | None) -> Iterator[CompletionItem]:
        if prev == "role":
            yield from self._declared("role")
            return
        if not self.qualifier:
            yield CompletionItem("role", "keyword", "notify everyone with a role",
                                 replace=self.tail)
        event = self._notification_event()
        owner = event
        for part in self.qualifier.split(".") if self.qualifier else []:
            member = self.world.index.members(owner).get(part)
            owner = self._target_of(member)
        yield from self._fields(owner)

    # ---- resolving what the context names -----------------------------------------------
    def _lookup(self, name: str, namespace: str, kinds: frozenset[str]) -> Definition | None:
        if not self.module or not name:
            return None
        found = self.world.analysis.symbols.lookup(self.module, name, namespace, kinds)
        if not found.symbols:
            return None
        sym = found.symbols[-1]
        return self.world.index.definitions.get((sym.span.file, sym.span.start_offset))

    def _entity(self, name: str) -> Definition | None:
        return self._lookup(name, "type", frozenset({"entity"}))

    def _target_of(self, member: Definition | None) -> Definition | None:
        """The entity or type a field steps into."""
        if member is None or member.kind != "field":
            return None
        type_ref = member.decl.type.generics[0] if member.decl.type.generics else member.decl.type
        found = self.world.analysis.symbols.lookup(member.module, type_ref.name, "type",
                                                   frozenset({"entity", "type"}))
        sym = found.symbols[-1] if found.symbols else None
        return self.world.index.definitions.get((sym.span.file, sym.span.start_offset)) \
            if sym else None

    def _enum_of(self, member: Definition | None) -> Definition | None:
        if member is None or member.kind != "field":
            return None
        found = self.world.analysis.symbols.lookup(member.module, member.decl.type.name,
                                                   "type", frozenset({"enum"}))
        sym = found.symbols[-1] if found.symbols else None
        return self.world.index.definitions.get((sym.span.file, sym.span.start_offset)) \
            if sym else None

    def _path_owner(self, qualifier: str) -> Definition | None:
        """The entity whose fields follow `self.a.b` / `actor.a`."""
        parts = qualifier.split(".")
        if parts[0] == "actor":
            owner = self._lookup("identity.User", "type", frozenset({"entity"})) or \
                self._lookup("User", "type", frozenset({"entity"}))
        else:
            owner = self._header_entity()
        for part in parts[1:]:
            owner = self._target_of(self.world.index.members(owner).get(part))
        return owner

    def _header_entity(self) -> Definition | None:
        """The entity a declaration is about: `policy X`, `attachments on X`,
        `workflow W on X.f`, or the entity being declared."""
        ctx = self.ctx
        words = [str(t) for t in ctx.header]
        if ctx.decl == "entity" and len(words) > 1:
            return self._entity(words[1])
        if ctx.decl == "policy":
            return self._entity("".join(words[1:]))
        if ctx.decl in ("attachments", "workflow"):
            return self._entity(_subject(ctx.header).rpartition(".")[0]
                                if ctx.decl == "workflow" else _subject(ctx.header))
        return None

    def _view_entity(self) -> Definition | None:
        words = [str(t) for t in self.ctx.header]
        if "of" not in words:
            return None
        rest = words[words.index("of") + 1:]
        name = "".join(rest[:rest.index("by")] if "by" in rest else rest)
        return self._entity(name)

    def _notification_event(self) -> Definition | None:
        """The event of the notification's `on` line."""
        tokens = self.ctx.tokens
        for k, tok in enumerate(tokens):
            if str(tok) == "on" and self.module:
                name = _dotted(t for t in tokens[k + 1:] if t.line == tok.line)
                found = self.world.analysis.symbols.lookup(self.module, name, "event")
                if found.symbols:
                    sym = found.symbols[-1]
                    return self.world.index.definitions.get((sym.span.file,
                                                             sym.span.start_offset))
        return None


def _dotted(tokens: Iterable[Token]) -> str:
    """The dotted name at the start of `tokens`."""
    parts: list[str] = []
    for t in tokens:
        if str(t) == "." or (t.type == "NAME" and (not parts or parts[-1] == ".")):
            parts.append(str(t))
        else:
            break
    return "".join(parts)


def _subject(header: list[Token]) -> str:
    """The qualified name after `on` in a declaration's first line."""
    words = [str(t) for t in header]
    if "on" not in words:
        return ""
    return _dotted(header[words.index("on") + 1:])


@cache
def _keyword_terminals() -> dict[str, str]:
    """Terminal name -> keyword, for the grammar's word-like literal terminals."""
    parser: Any = get_parser()
    return {t.name: t.pattern.value for t in parser.terminals
            if t.pattern.type == "str" and _IDENT.fullmatch(t.pattern.value)}


def keyword_words() -> frozenset[str]:
    return frozenset(_keyword_terminals().values())
