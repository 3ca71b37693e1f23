"""The reference index: every declaration and every name that refers to one.

Built once per analysis, it turns definition, references, rename and highlight into
lookups. Each `Definition` is a declared name (an entity, a field, an enum value, a
transition...); each `Occurrence` is a written name with the definition it resolves to
(or None, with what was expected there, when it does not resolve).
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

from contractspec.analysis import Analysis
from contractspec.check.symbols import SCALARS, Symbol
from contractspec.ide.text import join, segments
from contractspec.ir import nodes as ir
from contractspec.source import SourceFile, Span

SELF, ACTOR, AUTHENTICATED = "self", "actor", "authenticated"
BUILTIN_NAMES = frozenset({SELF, ACTOR, AUTHENTICATED, "now"})

Key = tuple[str, int]  # (file, start offset of the declared name)


@dataclass(eq=False)
class Definition:
    """A declared name."""

    kind: str  # entity, field, enum_value, permission, command, module, transition, ...
    name: str
    module: str
    span: Span  # the name itself
    decl: Any  # the IR node (an ir.Module for modules)
    container: Definition | None = None
    std: bool = False
    version: str | None = None

    @property
    def key(self) -> Key:
        return (self.span.file, self.span.start_offset)

    @property
    def path(self) -> str:
        """`Deal.owner`, `createDeal.title`, `DealFlow.win`: the name within its module."""
        return f"{self.container.path}.{self.name}" if self.container else self.name

    @property
    def label(self) -> str:
        return f"{self.name} {self.version}" if self.version else self.name


@dataclass(frozen=True)
class Occurrence:
    """A name as written, and what it resolves to."""

    span: Span
    target: Definition | None
    expected: str  # what the place expects: "entity", "type", "permission or role", ...
    name: str
    module: str  # the module it is written in


@dataclass
class Index:
    definitions: dict[Key, Definition] = field(default_factory=dict)
    by_file: dict[str, list[Definition]] = field(default_factory=dict)
    occurrences: dict[str, list[Occurrence]] = field(default_factory=dict)
    references: dict[Key, list[Occurrence]] = field(default_factory=dict)
    fields: dict[Key, dict[str, Definition]] = field(default_factory=dict)  # owner -> members
    modules: dict[str, Definition] = field(default_factory=dict)
    parts: dict[str, _Part] = field(default_factory=dict, repr=False)  # by module

    def members(self, owner: Definition | None) -> dict[str, Definition]:
        return self.fields.get(owner.key, {}) if owner is not None else {}

    def at(self, path: str, offset: int) -> Definition | Occurrence | None:
        """The definition name or the reference under `offset` (touching it counts)."""
        occ = next(_touching(self.occurrences.get(path, []), offset), None)
        return occ or next(_touching(self.by_file.get(path, []), offset), None)

    def target_at(self, path: str, offset: int) -> Definition | None:
        found = self.at(path, offset)
        return found.target if isinstance(found, Occurrence) else found

    def uses(self, definition: Definition) -> list[Occurrence]:
        return self.references.get(definition.key, [])

    def all_definitions(self) -> Iterator[Definition]:
        return iter(self.definitions.values())

    def declarations(self, module: str) -> list[Definition]:
        """The top-level declarations of a module (not their members)."""
        part = self.parts.get(module)
        return [d for d in part.definitions if d.container is None] if part else []


class _Spanned(Protocol):
    @property
    def span(self) -> Span: ...


S = TypeVar("S", bound=_Spanned)


def _touching(items: list[S], offset: int) -> Iterator[S]:
    """Items (sorted by start) whose span contains or touches `offset`, innermost first."""
    starts = [i.span.start_offset for i in items]
    k = bisect.bisect_right(starts, offset)
    hits = [i for i in items[max(0, k - 8):k] if i.span.start_offset <= offset
            <= i.span.end_offset]
    hits.sort(key=lambda i: i.span.end_offset - i.span.start_offset)
    inside = [i for i in hits if offset < i.span.end_offset]
    yield from inside or hits


@dataclass
class _Part:
    """What one module adds to the index, and what it was computed from: the module's
    declaration objects (the parse cache keeps them identical while a file is unchanged)
    and, for its references, those of the modules it sees."""

    content: tuple[object, ...]
    definitions: list[Definition] = field(default_factory=list)
    depends: tuple[object, ...] = ()
    occurrences: list[Occurrence] = field(default_factory=list)


def _same(a: tuple[object, ...], b: tuple[object, ...]) -> bool:
    """The same objects (counts and flags: equal values) in the same order."""
    return len(a) == len(b) and all(
        x is y or (isinstance(x, int) and x == y) for x, y in zip(a, b, strict=True))


def _content(module: ir.Module) -> tuple[object, ...]:
    items: list[object] = [module.std, *module.headers]
    for name in ir.Module.model_fields:
        value = getattr(module, name)
        if isinstance(value, tuple) and name not in ("files", "headers"):
            items.append(len(value))
            items.extend(value)
    return tuple(items)


def build_index(analysis: Analysis, previous: Index | None = None) -> Index:
    """The index of an analysis; with the index of the previous analysis, the parts of
    modules that did not change (nor did the modules they see) are reused, not rebuilt."""
    return _Builder(analysis, previous).build()


class _Builder:
    def __init__(self, analysis: Analysis, previous: Index | None = None) -> None:
        self.analysis = analysis
        self.symbols = analysis.symbols
        self.previous = previous.parts if previous is not None else {}
        self.part = _Part(())
        self.index = Index()
        self.module = ""
        self.std = False
        self._flows_by_entity: dict[Key | None, list[Definition]] | None = None
        self._visible: dict[str, list[str]] = {}

    # ---- entry --------------------------------------------------------------------------
    def build(self) -> Index:
        modules = self.analysis.program.modules
        contents = {m.name: _content(m) for m in modules}
        flows = tuple(w for m in modules for w in m.workflows)
        for module in modules:
            old = self.previous.get(module.name)
            self.part = _Part(contents[module.name])
            if old is not None and _same(old.content, self.part.content):
                self.part.definitions = old.definitions
                for d in old.definitions:
                    self._register(d)
                    if d.kind == "module":
                        d.decl = module
                        self.index.modules[module.name] = d
            else:
                self._declare_module(module)
            self.index.parts[module.name] = self.part
        for module in modules:
            self.module, self.std = module.name, module.std
            self.part = self.index.parts[module.name]
            self.part.depends = (flows, *(c for name in self.symbols.visible_modules(module.name)
                                          for c in contents.get(name, ())))
            old = self.previous.get(module.name)
            if old is not None and old.definitions is self.part.definitions and \
                    _same(old.depends, self.part.depends):
                self.part.occurrences = old.occurrences
                for occ in old.occurrences:
                    self._add(occ)
            else:
                self._references(module)
        idx = self.index
        for defs in idx.by_file.values():
            defs.sort(key=lambda d: d.span.start_offset)
        for occs in idx.occurrences.values():
            occs.sort(key=lambda o: o.span.start_offset)
        return idx

    # ---- definitions --------------------------------------------------------------------
    def _define(self, kind: str, decl: Any, container: Definition | None = None,
                name: str | None = None, span: Span | None = None,
                version: str | None = None) -> Definition:
        definition = Definition(kind, name or decl.name, self.module, span or decl.name_span,
                                decl, container, self.std, version)
        self.part.definitions.append(definition)
        self._register(definition)
        return definition

    def _register(self, definition: Definition) -> None:
        self.index.definitions[definition.key] = definition
        self.index.by_file.setdefault(definition.span.file, []).append(definition)
        if definition.container is not None:
            self.index.fields.setdefault(definition.container.key, {}).setdefault(
                definition.name, definition)

    def _declare_module(self, module: ir.Module) -> None:
        self.module, self.std = module.name, module.std
        if module.headers:
            first = module.headers[0]
            self.index.modules[module.name] = self._define("module", module, name=module.name,
                                                           span=first.name_span,
                                                           version=module.version)
        for entity in module.entities:
            self._with_fields(self._define("entity", entity), entity.fields)
        for decl in module.types:
            self._with_fields(self._define("type", decl), decl.fields)
        for enum in module.enums:
            owner = self._define("enum", enum)
            for value in enum.values:
                self._define("enum_value", value, owner)
        for perm in module.permissions:
            self._define("permission", perm)
        for role in module.roles:
            self._define("role", role)
        for op in module.operations:
            owner = self._define(op.kind, op, version=op.version)
            self._with_fields(owner, op.input)
            for error in op.errors:
                self._define("error", error, owner)
        for event in module.events:
            self._with_fields(self._define("event", event, version=event.version),
                              event.payload)
        for flow in module.workflows:
            owner = self._define("workflow", flow)
            for transition in flow.transitions:
                self._define("transition", transition, owner)
        for job in module.jobs:
            self._with_fields(self._define("job", job), job.input)
        for track in module.tracks:
            owner = self._define("track", track)
            for unit in track.units:
                unit_def = self._define("unit", unit, owner)
                for step in unit.steps:
                    self._define("step", step, unit_def)
        for attr, kind in (("schedules", "schedule"), ("notifications", "notification"),
                           ("flags", "flag"), ("experiments", "experiment"),
                           ("metrics", "metric"), ("plans", "plan"), ("views", "view"),
                           ("agents", "agent")):
            for decl in getattr(module, attr):
                self._define(kind, decl)

    def _with_fields(self, owner: Definition, fields: Iterable[ir.FieldDecl]) -> None:
        for f in fields:
            self._define("field", f, owner)

    # ---- resolution ---------------------------------------------------------------------
    def _definition(self, symbol: Symbol | None) -> Definition | None:
        if symbol is None:
            return None
        return self.index.definitions.get((symbol.span.file, symbol.span.start_offset))

    def _lookup(self, name: str, namespace: str,
                kinds: frozenset[str] | None = None, module: str | None = None
                ) -> Definition | None:
        """`SymbolTable.lookup` without its "did you mean" search (misses are frequent
        here and must stay cheap); an ambiguous name resolves to nothing."""
        found = self._find(module or self.module, name, namespace, kinds)
        if not found:
            return None
        return self._definition(max(found, key=lambda s: _version_key(s.version)))

    def _find(self, module: str, name: str, namespace: str,
              kinds: frozenset[str] | None) -> list[Symbol]:
        visible = self._visible.get(module)
        if visible is None:
            visible = self._visible[module] = self.symbols.visible_modules(module)

        def pick(mod: str, short: str) -> list[Symbol]:
            return [s for s in self.symbols.declared(mod, namespace, short)
                    if kinds is None or s.kind in kinds]

        if namespace != "event" and "." in name:
            prefix, short = name.split(".", 1)
            if prefix in visible:
                return pick(prefix, short)
        own = pick(module, name)
        if own:
            return own
        hits = [found for m in visible[1:] if (found := pick(m, name))]
        return hits[0] if len(hits) == 1 else []

    def _record(self, span: Span, target: Definition | None, expected: str, name: str) -> None:
        occ = Occurrence(span, target, expected, name, self.module)
        self.part.occurrences.append(occ)
        self._add(occ)

    def _add(self, occ: Occurrence) -> None:
        self.index.occurrences.setdefault(occ.span.file, []).append(occ)
        if occ.target is not None:
            self.index.references.setdefault(occ.target.key, []).append(occ)

    def _source(self, span: Span) -> SourceFile | None:
        return self.analysis.sources.get(span.file)

    def _qualified(self, span: Span, name: str, target: Definition | None,
                   expected: str, skip: int = 0) -> None:
        """Record a possibly module-qualified name (`identity.User`): the module prefix and
        the last part each get their occurrence."""
        source = self._source(span)
        if source is None:
            return
        parts = name.split(".")
        segs = segments(source, span, len(parts), skip)
        if len(segs) != len(parts):
            return
        if len(parts) > 1 and parts[0] in self.index.modules:
            self._record(segs[0], self.index.modules[parts[0]], "module", parts[0])
        self._record(segs[-1], target, expected, name)

    def _ref(self, ref: ir.NameRef, namespace: str, expected: str,
             kinds: frozenset[str] | None = None) -> Definition | None:
        target = self._lookup(ref.name, namespace, kinds)
        self._qualified(ref.span, ref.name, target, expected)
        return target

    def _event(self, ref: ir.EventRef | None) -> Definition | None:
        if ref is None:
            return None
        versions = self._find(self.module, ref.name, "event", None)
        if ref.version is not None:
            versions = [v for v in versions if v.version == ref.version]
        target = self._definition(max(versions, key=lambda v: _version_key(v.version))) \
            if versions else None
        source = self._source(ref.span)
        if source is None:
            return target
        segs = segments(source, ref.span, ref.name.count(".") + 1)
        if segs:
            self._record(join(segs[0], segs[-1]), target, "event", ref.name)
        return target

    def _type(self, ref: ir.TypeRef) -> None:
        if ref.name in SCALARS or (ref.name in ("page", "list") and ref.generics):
            for inner in ref.generics:
                self._type(inner)
            return
        kinds = frozenset({"entity"}) if ref.is_ref else None
        target = self._lookup(ref.name, "type", kinds)
        self._qualified(ref.span, ref.name, target, "entity" if ref.is_ref else "type",
                        skip=1 if ref.is_ref else 0)
        for inner in ref.generics:
            self._type(inner)

    def _entity_of_field(self, f: Definition) -> Definition | None:
        """The entity or type whose fields one steps into from field `f`."""
        decl: ir.FieldDecl = f.decl
        type_ref = decl.type.generics[0] if decl.type.generics else decl.type
        if type_ref.name in SCALARS:
            return None
        return self._lookup(type_ref.name, "type", frozenset({"entity", "type"}), f.module)

    def _enum_of_field(self, f: Definition | None) -> Definition | None:
        if f is None or f.kind != "field":
            return None
        return self._lookup(f.decl.type.name, "type", frozenset({"enum"}), f.module)

    def _own(self, decl: ir.Declaration) -> Definition | None:
        return self.index.definitions.get((decl.name_span.file, decl.name_span.start_offset))

    def _field_path(self, span: Span, parts: tuple[str, ...], start: Definition | None,
                    skip: int = 1) -> Definition | None:
        """Record `self.deal.owner`-style paths: each part a field of the previous one's
        entity. Returns the definition of the last part."""
        source = self._source(span)
        if source is None:
            return None
        segs = segments(source, span, len(parts))
        owner, current = start, None
        for seg, part in list(zip(segs, parts, strict=False))[skip:]:
            current = self.index.members(owner).get(part) if owner is not None else None
            self._record(seg, current, "field", part)
            owner = self._entity_of_field(current) if current is not None else None
        return current

    def _fields_refs(self, refs: Iterable[ir.NameRef], owner: Definition | None) -> None:
        for ref in refs:
            self._record(ref.span, self.index.members(owner).get(ref.name), "field", ref.name)

    # ---- expressions --------------------------------------------------------------------
    def _expr(self, expr: ir.Expr | None, record: Definition | None, access: bool) -> None:
        """Names in an expression: `self.x` paths, and in access positions permissions and
        roles; in comparisons with an enum field, the enum's values."""
        if expr is None:
            return
        if isinstance(expr, ir.PathExpr):
            self._path(expr, record, access)
        elif isinstance(expr, ir.UnaryExpr):
            self._expr(expr.operand, record, access)
        elif isinstance(expr, ir.BinaryExpr):
            comparing = expr.op in ("==", "!=", "in")
            if comparing:
                self._compare(expr, record)
            else:
                self._expr(expr.left, record, access)
                self._expr(expr.right, record, access)
        elif isinstance(expr, ir.CallExpr):
            for arg in expr.args:
                self._expr(arg, record, False)
        elif isinstance(expr, ir.ListExpr):
            for item in expr.items:
                self._expr(item, record, False)

    def _path(self, expr: ir.PathExpr, record: Definition | None,
              access: bool) -> Definition | None:
        head = expr.parts[0]
        if head == SELF:
            return self._field_path(expr.span, expr.parts, record)
        if head == ACTOR:
            return self._field_path(expr.span, expr.parts, self._actor())
        if head in BUILTIN_NAMES or not access:
            return None
        name = ".".join(expr.parts)
        target = self._lookup(name, "access")
        self._qualified(expr.span, name, target, "permission or role")
        return target

    def _actor(self) -> Definition | None:
        return self._lookup("User", "type", frozenset({"entity"}), "identity")

    def _compare(self, expr: ir.BinaryExpr, record: Definition | None) -> None:
        sides = (expr.left, expr.right)
        enum: Definition | None = None
        for side in sides:
            if isinstance(side, ir.PathExpr) and side.parts[0] in (SELF, ACTOR):
                enum = enum or self._enum_of_field(self._path(side, record, False))
            elif not isinstance(side, ir.PathExpr):
                self._expr(side, record, False)
        for side in sides:
            if isinstance(side, ir.PathExpr) and side.parts[0] not in BUILTIN_NAMES \
                    and len(side.parts) == 1:
                value = self.index.members(enum).get(side.parts[0])
                if value is not None:
                    self._record(side.span, value, "enum value", side.parts[0])

    # ---- references ---------------------------------------------------------------------
    def _references(self, module: ir.Module) -> None:
        for header in module.headers[1:]:
            self._record(header.name_span, self.index.modules.get(module.name), "module",
                         module.name)
        for use in module.uses:
            self._record(use.module.span, self.index.modules.get(use.module.name), "module",
                         use.module.name)
        for entity in module.entities:
            owner = self._own(entity)
            self._field_types(entity.fields)
            for constraint in entity.constraints:
                for arg in constraint.args:
                    if isinstance(arg, ir.PathExpr):
                        self._field_path(arg.span, arg.parts, owner, skip=0)
        for decl in module.types:
            self._field_types(decl.fields)
        for grant in module.grants:
            for role in grant.roles:
                self._ref(role, "access", "role", frozenset({"role"}))
            for perm in grant.permissions:
                self._ref(perm, "access", "permission", frozenset({"permission"}))
        for policy in module.policies:
            subject = self._ref(policy.entity, "type", "entity", frozenset({"entity"}))
            for rule in policy.rules:
                self._expr(rule.rule, subject, True)
        for op in module.operations:
            self._operation(op)
        for event in module.events:
            self._field_types(event.payload)
        for flow in module.workflows:
            self._workflow(flow)
        for job in module.jobs:
            self._field_types(job.input)
        for trigger in module.triggers:
            self._event(trigger.event)
            self._ref(trigger.job, "job", "job")
        for schedule in module.schedules:
            self._ref(schedule.job, "job", "job")
        for note in module.notifications:
            self._notification(note)
        for flag in module.flags:
            for target in flag.targets:
                if target.dimension.name == "plan":
                    for value in target.values:
                        self._ref(value, "plan", "plan")
        for experiment in module.experiments:
            self._event(experiment.metric)
        for critical in module.criticals:
            for ref in critical.operations:
                self._ref(ref, "operation", "operation")
        for attachments in module.attachments:
            subject = self._ref(attachments.entity, "type", "entity", frozenset({"entity"}))
            for att in attachments.rules:
                self._expr(att.rule, subject, True)
        for metric in module.metrics:
            self._event(metric.source)
        for plan in module.plans:
            for limit in plan.limits:
                self._ref(limit.metric, "metric", "metric")
            for flag_ref in plan.flags:
                self._ref(flag_ref, "flag", "flag")
        for track in module.tracks:
            for unit in track.units:
                for step in unit.steps:
                    self._event(step.completes_on)
                    self._expr(step.when, None, False)
        for view in module.views:
            self._view(view)
        for agent in module.agents:
            for tool in agent.tools:
                self._ref(tool, "operation", "operation")
            self._expr(agent.policy, None, True)

    def _field_types(self, fields: Iterable[ir.FieldDecl]) -> None:
        for f in fields:
            self._type(f.type)
            if isinstance(f.default, ir.PathExpr) and len(f.default.parts) == 1:
                enum = self._lookup(f.type.name, "type", frozenset({"enum"}))
                value = self.index.members(enum).get(f.default.parts[0])
                if value is not None:
                    self._record(f.default.span, value, "enum value", f.default.parts[0])

    def _operation(self, op: ir.OperationDecl) -> None:
        self._field_types(op.input)
        if op.output is not None:
            self._type(op.output)
        self._expr(op.policy, None, True)
        for event in op.emits:
            self._event(event)
        for metric in op.meters:
            self._ref(metric, "metric", "metric")
        if op.behind is not None:
            self._ref(op.behind, "flag", "flag or experiment")

    def _workflow(self, flow: ir.WorkflowDecl) -> None:
        entity_name, dot, field_name = flow.subject.name.rpartition(".")
        entity: Definition | None = None
        enum: Definition | None = None
        source = self._source(flow.subject.span)
        if dot and source is not None:
            entity = self._lookup(entity_name, "type", frozenset({"entity"}))
            segs = segments(source, flow.subject.span)
            if len(segs) >= 2:
                self._qualified(join(segs[0], segs[-2]), entity_name, entity, "entity")
                subject = self.index.members(entity).get(field_name)
                self._record(segs[-1], subject, "field", field_name)
                enum = self._enum_of_field(subject)
        states = self.index.members(enum)
        refs = [*([flow.initial] if flow.initial else []), *flow.finals]
        for t in flow.transitions:
            refs.extend((*t.sources, t.target))
        for migration in flow.migrations:
            refs.extend((migration.source, migration.target))
        for ref in refs:
            self._record(ref.span, states.get(ref.name), "state", ref.name)
        for t in flow.transitions:
            self._expr(t.by, entity, True)
            self._expr(t.when, entity, False)
            self._event(t.emits)

    def _notification(self, note: ir.NotificationDecl) -> None:
        event = self._event(note.on)
        for recipient in note.recipients:
            if recipient.kind == "role":
                source = self._source(recipient.span)
                segs = segments(source, recipient.span, 2) if source else []
                if len(segs) == 2:
                    self._record(segs[1], self._lookup(recipient.name, "access",
                                                       frozenset({"role"})),
                                 "role", recipient.name)
            else:
                parts = tuple(recipient.name.split("."))
                self._field_path(recipient.span, parts, event, skip=0)

    def _view(self, view: ir.ViewDecl) -> None:
        entity = self._ref(view.entity, "type", "entity", frozenset({"entity"}))
        named = (*view.columns, *view.filters, *view.search, *view.card, *view.fields,
                 *([view.group_by] if view.group_by else []))
        self._fields_refs(named, entity)
        transitions = {t.name: t for flow in self._flows().get(entity.key if entity else None, [])
                       for t in self.index.members(flow).values()}
        for action in view.actions:
            if action.name in transitions:
                self._record(action.span, transitions[action.name], "operation", action.name)
            else:
                self._ref(action, "operation", "operation")

    def _flows(self) -> dict[Key | None, list[Definition]]:
        """Workflows by the key of their subject entity (computed once)."""
        if self._flows_by_entity is None:
            self._flows_by_entity = {}
            for d in self.index.definitions.values():
                if d.kind == "workflow":
                    name = d.decl.subject.name.rpartition(".")[0]
                    entity = self._lookup(name, "type", frozenset({"entity"}), d.module)
                    if entity is not None:
                        self._flows_by_entity.setdefault(entity.key, []).append(d)
        return self._flows_by_entity


def _version_key(version: str | None) -> tuple[int, ...]:
    if not version:
        return (0,)
    return tuple(int(d) if d.isdigit() else 0 for d in version.lstrip("v").split("."))
