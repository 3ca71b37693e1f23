"""The symbol table: every declaration by module and namespace, and name lookup.

Names are looked up in the module itself first, then in the modules it `use`s; a dotted
name whose first part is a visible module (`identity.User`) looks only there. Events have
dotted names of their own (`deal.created`) and are looked up whole.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import cached_property, partial
from typing import Any

from contractspec.ir import nodes as ir
from contractspec.source import Span

SCALARS = frozenset({
    "string", "text", "int", "bigint", "decimal", "money", "bool", "date", "datetime",
    "duration", "uuid", "email", "url", "json",
})
GENERICS = frozenset({"page", "list"})

# Which declaration kinds share a namespace (a name may be declared once per namespace).
NAMESPACES: dict[str, str] = {
    "entity": "type", "type": "type", "enum": "type",
    "permission": "access", "role": "access",
    "command": "operation", "query": "operation",
    "event": "event", "workflow": "workflow", "job": "job", "schedule": "schedule",
    "notification": "notification", "flag": "flag", "experiment": "flag",
    "metric": "metric", "plan": "plan", "track": "track", "view": "view", "agent": "agent",
}

# (module field, kind) for each top-level named declaration.
_DECLARATIONS: tuple[tuple[str, str | None], ...] = (
    ("entities", "entity"), ("types", "type"), ("enums", "enum"),
    ("permissions", "permission"), ("roles", "role"), ("operations", None),
    ("events", "event"), ("workflows", "workflow"), ("jobs", "job"),
    ("schedules", "schedule"), ("notifications", "notification"), ("flags", "flag"),
    ("experiments", "experiment"), ("metrics", "metric"), ("plans", "plan"),
    ("tracks", "track"), ("views", "view"), ("agents", "agent"),
)


@dataclass(frozen=True)
class Symbol:
    kind: str
    name: str
    module: str
    decl: Any
    span: Span
    version: str | None = None

    @property
    def qualified(self) -> str:
        return f"{self.module}.{self.name}"

    @property
    def namespace(self) -> str:
        return NAMESPACES[self.kind]


@dataclass
class Lookup:
    """The outcome of a lookup: one symbol, or why there is none."""

    symbols: list[Symbol] = field(default_factory=list)
    ambiguous: bool = False
    suggest: Callable[[], str | None] | None = field(default=None, repr=False, compare=False)

    @property
    def symbol(self) -> Symbol | None:
        return self.symbols[0] if len(self.symbols) == 1 else None

    @cached_property
    def suggestion(self) -> str | None:
        """A close name to suggest, found only when asked for (generators probe names that
        may be missing and never ask: the fuzzy match is most of a failed lookup's cost)."""
        return self.suggest() if self.suggest is not None else None


class SymbolTable:
    def __init__(self, program: ir.Program) -> None:
        self.program = program
        self.modules = {m.name: m for m in program.modules}
        self._table: dict[str, dict[str, dict[str, list[Symbol]]]] = {}
        self._visible: dict[str, list[str]] = {}
        for module in program.modules:
            spaces = self._table.setdefault(module.name, {})
            for sym in _module_symbols(module):
                spaces.setdefault(sym.namespace, {}).setdefault(sym.name, []).append(sym)

    def symbols(self, module: str) -> Iterator[Symbol]:
        for space in self._table.get(module, {}).values():
            for syms in space.values():
                yield from syms

    def declared(self, module: str, namespace: str, name: str) -> list[Symbol]:
        return self._table.get(module, {}).get(namespace, {}).get(name, [])

    def visible_modules(self, module: str) -> list[str]:
        """The module itself, then the modules it uses, in declaration order."""
        visible = self._visible.get(module)
        if visible is None:
            mod = self.modules.get(module)
            used = [u.module.name for u in mod.uses] if mod else []
            visible = [module, *dict.fromkeys(u for u in used
                                              if u in self.modules and u != module)]
            self._visible[module] = visible
        return visible

    def lookup(self, module: str, name: str, namespace: str,
               kinds: frozenset[str] | None = None) -> Lookup:
        """Resolve `name` as seen from `module` in one namespace (optionally some kinds)."""
        def pick(mod: str, short: str) -> list[Symbol]:
            # A duplicate declaration (reported as CS202) resolves to the first one, so
            # the duplicate does not cascade into "unknown" or "unused" reports.
            first: dict[str | None, Symbol] = {}
            for sym in self.declared(mod, namespace, short):
                if kinds is None or sym.kind in kinds:
                    first.setdefault(sym.version, sym)
            return list(first.values())

        visible = self.visible_modules(module)
        if namespace != "event" and "." in name:
            prefix, short = name.split(".", 1)
            if prefix in visible:
                found = pick(prefix, short)
                if found:
                    return Lookup(found)
                return Lookup(suggest=partial(self._suggest, [prefix], short, namespace,
                                              kinds, prefix + "."))
        own = pick(module, name)
        if own:
            return Lookup(own)
        hits = [(m, pick(m, name)) for m in visible[1:]]
        hits = [(m, found) for m, found in hits if found]
        if len(hits) == 1:
            return Lookup(hits[0][1])
        if len(hits) > 1:
            return Lookup([s for _, found in hits for s in found], ambiguous=True)
        return Lookup(suggest=partial(self._suggest, visible, name, namespace, kinds, ""))

    def _suggest(self, modules: list[str], name: str, namespace: str,
                 kinds: frozenset[str] | None, prefix: str) -> str | None:
        names = {
            s.name
            for mod in modules
            for syms in self._table.get(mod, {}).get(namespace, {}).values()
            for s in syms
            if kinds is None or s.kind in kinds
        }
        if namespace == "type" and (kinds is None or "scalar" in kinds):
            names |= SCALARS
        close = difflib.get_close_matches(name, sorted(names), n=1, cutoff=0.6)
        if not close:
            lowered = {n.lower(): n for n in names}
            if name.lower() in lowered:
                close = [lowered[name.lower()]]
        return prefix + close[0] if close else None

    def event(self, module: str, ref: ir.EventRef) -> Lookup:
        """An event by name and, when given, version (else its latest version)."""
        found = self.lookup(module, ref.name, "event")
        if not found.symbols or found.ambiguous:
            return found
        if ref.version is not None:
            exact = [s for s in found.symbols if s.version == ref.version]
            return Lookup(exact)
        return Lookup([max(found.symbols, key=lambda s: _version_key(s.version))])

    def entity_of(self, module: str, name: str) -> ir.EntityDecl | None:
        sym = self.lookup(module, name, "type", frozenset({"entity"})).symbol
        return sym.decl if sym is not None else None


def _version_key(version: str | None) -> tuple[int, ...]:
    if not version:
        return (0,)
    digits = version.lstrip("v").split(".")
    return tuple(int(d) if d.isdigit() else 0 for d in digits)


def _module_symbols(module: ir.Module) -> Iterator[Symbol]:
    for attr, kind in _DECLARATIONS:
        for decl in getattr(module, attr):
            decl_kind = kind or decl.kind
            version = getattr(decl, "version", None) if decl_kind in (
                "command", "query", "event") else None
            yield Symbol(decl_kind, decl.name, module.name, decl, decl.name_span, version)
