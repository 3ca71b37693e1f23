"""Lowering: Lark parse trees to IR nodes, one method per grammar rule.

Lowering is purely structural: it resolves no names. It reports the few mistakes that are
visible in one declaration alone (a member given twice, an unknown literal unit).
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from sys import intern
from typing import Any, TypeVar, cast

from lark import Token, Tree
from pydantic import BaseModel

from contractspec.diagnostics import Diagnostic, Severity
from contractspec.grammar.parser import ParsedChunk, gc_paused
from contractspec.ir import nodes as ir
from contractspec.source import SourceFile, Span

DURATION_UNITS = {
    "ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, "y": 31536000,
}
# How deep an expression or a type may nest in the IR; deeper is CS105 (the IR is walked
# recursively downstream, and pydantic refuses to serialise much deeper models).
MAX_EXPRESSION_DEPTH = 200
SIZE_UNITS = {"B": 1, "KB": 1024, "MB": 1024**2, "GB": 1024**3, "TB": 1024**4}
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\"}

# Module fields that hold each kind of top-level declaration.
DECLARATION_FIELDS = {
    "use_decl": "uses", "enum_decl": "enums", "type_decl": "types", "entity_decl": "entities",
    "permission_decl": "permissions", "role_decl": "roles", "grant_decl": "grants",
    "policy_decl": "policies", "operation_decl": "operations", "event_decl": "events",
    "workflow_decl": "workflows", "job_decl": "jobs", "trigger_decl": "triggers",
    "schedule_decl": "schedules", "notification_decl": "notifications", "flag_decl": "flags",
    "experiment_decl": "experiments", "critical_decl": "criticals",
    "attachments_decl": "attachments", "metric_decl": "metrics", "plan_decl": "plans",
    "track_decl": "tracks", "view_decl": "views", "agent_decl": "agents",
}

Child = Tree[Token] | Token
_Model = TypeVar("_Model", bound=BaseModel)
# model class -> (every field in order with its default, None if required; the fields-set of
# each combination of fields given, shared by the nodes given that combination)
_PLANS: dict[type[BaseModel], tuple[dict[str, Any], dict[tuple[str, ...], set[str]]]] = {}
_new = object.__new__
_set = object.__setattr__


def _node(cls: type[_Model], /, **values: Any) -> _Model:
    """An IR node built without validation, from lowering's own, already typed values.

    Lowering builds hundreds of thousands of nodes; pydantic's validation gives each one a
    fields-set of its own and a grown dict (about 1 KB a node). This builds the same object
    (same dict, in field order; one fields-set shared by the nodes given the same fields) in
    a third of the memory. Only the field names are checked here, once per combination:
    tests/test_performance_paths.py checks that the IR of every spec in the repository
    equals its validated copy, value for value.
    """
    plan = _PLANS.get(cls)
    if plan is None:
        plan = _PLANS[cls] = ({name: None if f.is_required() else f.get_default()
                               for name, f in cls.model_fields.items()}, {})
    template, fields_sets = plan
    key = tuple(values)
    fields_set = fields_sets.get(key)
    if fields_set is None:
        fields_set = set(key)
        required = {name for name, f in cls.model_fields.items() if f.is_required()}
        if not required <= fields_set <= template.keys():
            raise TypeError(f"{cls.__name__} given {sorted(fields_set)}")
        fields_sets[key] = fields_set
    data = {**template, **values}  # the template's order, the values given
    node = _new(cls)
    _set(node, "__dict__", data)
    _set(node, "__pydantic_fields_set__", fields_set)
    _set(node, "__pydantic_extra__", None)
    _set(node, "__pydantic_private__", None)
    return node


@dataclass
class LoweredFile:
    """The IR of one file, before files are gathered into modules."""

    path: str
    header: ir.ModuleHeader | None = None
    declarations: dict[str, list[Any]] = field(default_factory=dict)
    diagnostics: list[Diagnostic] = field(default_factory=list)


def unescape(token: str) -> str:
    """The value of a STRING or TRIPLE_STRING token."""
    if token.startswith('"""'):
        body = token[3:-3]
        if body.startswith("\n"):
            body = body[1:]
        return textwrap.dedent(body).rstrip()
    body = token[1:-1]
    if "\\" not in body:
        return body
    out: list[str] = []
    i = 0
    while i < len(body):
        c = body[i]
        if c == "\\" and i + 1 < len(body):
            nxt = body[i + 1]
            out.append(_ESCAPES.get(nxt, "\\" + nxt))
            i += 2
        else:
            out.append(c)
            i += 1
    return "".join(out)


def parse_duration(text: str) -> ir.Duration:
    number = text.rstrip("abcdefghijklmnopqrstuvwxyz")
    seconds = float(int(number) * DURATION_UNITS[text[len(number):]])
    return _node(ir.Duration, text=text, seconds=seconds)


def parse_size(text: str) -> ir.Size:
    number = text.rstrip("BKMGT")
    return _node(ir.Size, text=text, bytes=int(number) * SIZE_UNITS[text[len(number):]])


class TooDeep(Exception):
    """An expression or a type nests deeper than MAX_EXPRESSION_DEPTH."""


class Lowerer:
    """Turns the parse trees of one file into a `LoweredFile`."""

    def __init__(self, source: SourceFile) -> None:
        self.source = source
        self.base = 0
        self.out = LoweredFile(source.path)

    # ---- entry ------------------------------------------------------------------------
    def lower(self, chunks: Iterable[ParsedChunk]) -> LoweredFile:
        for chunk in chunks:
            self.base = chunk.base
            for decl in chunk.tree.children:
                assert isinstance(decl, Tree)
                try:
                    self._declaration(decl)
                except (RecursionError, TooDeep):
                    self._error("CS105", "this declaration is nested too deeply to analyse",
                                self._span(decl))
        return self.out

    def _declaration(self, tree: Tree[Token]) -> None:
        kind = str(tree.data)
        if kind == "module_decl":
            header = self.module_decl(tree)
            if self.out.header is not None:
                self._error("CS103", "a file has one `module` header; this is a second one",
                            header.span)
            else:
                self.out.header = header
            return
        method: Callable[[Tree[Token]], Any] = getattr(self, kind)
        lowered = method(tree)  # first: a declaration too deep to lower adds no empty list
        self.out.declarations.setdefault(DECLARATION_FIELDS[kind], []).append(lowered)

    # ---- helpers ----------------------------------------------------------------------
    def _span(self, item: Child) -> Span:
        if isinstance(item, Token):
            start = (item.start_pos or 0) + self.base
            end = (item.end_pos or start - self.base) + self.base
            return self.source.span(start, end)
        meta = item.meta
        if getattr(meta, "empty", True):
            return self.source.span(self.base, self.base)
        return self.source.span(meta.start_pos + self.base, meta.end_pos + self.base)

    def _error(self, code: str, message: str, span: Span) -> None:
        self.out.diagnostics.append(
            Diagnostic(code=code, severity=Severity.ERROR, message=message, span=span)
        )

    @staticmethod
    def _split(tree: Tree[Token]) -> tuple[str | None, list[Child]]:
        """A rule's doc comment and its remaining children."""
        children = list(tree.children)
        if children and isinstance(children[0], Tree) and children[0].data == "docs":
            docs = children.pop(0)
            assert isinstance(docs, Tree)
            lines = [str(t)[3:].rstrip() for t in docs.children]
            if all(line.startswith(" ") or not line for line in lines):
                lines = [line[1:] for line in lines]
            return "\n".join(line.rstrip() for line in lines).strip(), children
        return None, children

    def _name(self, token: Child) -> ir.NameRef:
        assert isinstance(token, Token | Tree)
        if isinstance(token, Tree):  # qual_name, path
            return _node(ir.NameRef, name=intern(".".join(str(t) for t in token.children)),
                         span=self._span(token))
        return _node(ir.NameRef, name=intern(str(token)), span=self._span(token))

    def _names(self, tree: Child) -> tuple[ir.NameRef, ...]:
        assert isinstance(tree, Tree)
        return tuple(self._name(t) for t in tree.children)

    def _decl(self, tree: Tree[Token], name: Child, doc: str | None) -> dict[str, Any]:
        ref = self._name(name)
        return {"name": ref.name, "name_span": ref.span, "doc": doc, "span": self._span(tree)}

    @staticmethod
    def _tokens(children: Sequence[Child], kind: str) -> list[Token]:
        return [c for c in children if isinstance(c, Token) and c.type == kind]

    def _string(self, children: Sequence[Child]) -> str | None:
        strings = self._tokens(children, "STRING") + self._tokens(children, "TRIPLE_STRING")
        return unescape(str(strings[0])) if strings else None

    def _members(
        self, children: Sequence[Child], owner: str, singular: Iterable[str] = ()
    ) -> dict[str, list[Tree[Token]]]:
        """Group member trees by rule, reporting a second copy of a singular member."""
        groups: dict[str, list[Tree[Token]]] = {}
        single = set(singular)
        for child in children:
            if not isinstance(child, Tree):
                continue
            rule = str(child.data)
            if rule in single and rule in groups:
                keyword = _MEMBER_KEYWORDS.get(rule, rule)
                self._error("CS102", f"`{keyword}` is given twice in {owner}; keep one",
                            self._span(child))
                continue
            groups.setdefault(rule, []).append(child)
        return groups

    # ---- module and imports -----------------------------------------------------------
    def module_decl(self, tree: Tree[Token]) -> ir.ModuleHeader:
        doc, rest = self._split(tree)
        name = self._name(rest[0])
        version = self._version(rest[1]) if len(rest) > 1 else None
        return _node(ir.ModuleHeader, doc=doc, name=name.name, name_span=name.span, version=version,
                     span=self._span(tree))

    def use_decl(self, tree: Tree[Token]) -> ir.UseDecl:
        doc, rest = self._split(tree)
        return _node(ir.UseDecl, doc=doc, module=self._name(rest[0]), path=self._string(rest),
                     span=self._span(tree))

    @staticmethod
    def _version(tree: Child) -> str:
        assert isinstance(tree, Tree)
        return str(tree.children[0])

    # ---- enums, types, entities -------------------------------------------------------
    def enum_decl(self, tree: Tree[Token]) -> ir.EnumDecl:
        doc, rest = self._split(tree)
        values = tuple(self.enum_value(t) for t in rest[1:] if isinstance(t, Tree))
        return _node(ir.EnumDecl, **self._decl(tree, rest[0], doc), values=values)

    def enum_value(self, tree: Tree[Token]) -> ir.EnumValue:
        doc, rest = self._split(tree)
        return _node(ir.EnumValue, **self._decl(tree, rest[0], doc),
                     attributes=self._attributes(rest))

    def type_decl(self, tree: Tree[Token]) -> ir.TypeDecl:
        doc, rest = self._split(tree)
        return _node(ir.TypeDecl, **self._decl(tree, rest[0], doc), fields=self._fields(rest[1:]))

    def entity_decl(self, tree: Tree[Token]) -> ir.EntityDecl:
        doc, rest = self._split(tree)
        constraints = tuple(
            self.attribute(t) for t in rest[1:] if isinstance(t, Tree) and t.data == "model_attr"
        )
        return _node(ir.EntityDecl, **self._decl(tree, rest[0], doc), fields=self._fields(rest[1:]),
                     constraints=constraints)

    def _fields(self, children: Sequence[Child]) -> tuple[ir.FieldDecl, ...]:
        return tuple(self.field(t) for t in children if isinstance(t, Tree) and t.data == "field")

    def field(self, tree: Tree[Token]) -> ir.FieldDecl:
        doc, rest = self._split(tree)
        default = next((c for c in rest if isinstance(c, Tree) and c.data == "default"), None)
        return _node(
            ir.FieldDecl,
            **self._decl(tree, rest[0], doc),
            type=self.type_expr(cast(Tree[Token], rest[1])),
            default=self.expr(default.children[0]) if default is not None else None,
            attributes=self._attributes(rest),
        )

    def _attributes(self, children: Sequence[Child]) -> tuple[ir.Attribute, ...]:
        return tuple(
            self.attribute(c) for c in children if isinstance(c, Tree) and c.data == "attribute"
        )

    def attribute(self, tree: Tree[Token]) -> ir.Attribute:
        _, rest = self._split(tree)
        args: tuple[ir.Expr, ...] = ()
        if len(rest) > 1:
            args_tree = rest[1]
            assert isinstance(args_tree, Tree)
            args = tuple(self.expr(a) for a in args_tree.children)
        return _node(ir.Attribute, name=intern(str(rest[0])), args=args, span=self._span(tree))

    # ---- types ------------------------------------------------------------------------
    def type_expr(self, tree: Tree[Token], depth: int = 0) -> ir.TypeRef:
        if depth > MAX_EXPRESSION_DEPTH:
            raise TooDeep
        base = cast(Tree[Token], tree.children[0])
        suffixes = [str(s) for s in tree.children[1:]]
        optional = "?" in suffixes
        is_list = "[]" in suffixes
        name = self._name(base.children[0])
        generics: tuple[ir.TypeRef, ...] = ()
        args: tuple[ir.TypeArg, ...] = ()
        for part in base.children[1:]:
            assert isinstance(part, Tree)
            if part.data == "generic_args":
                generics = tuple(self.type_expr(cast(Tree[Token], g), depth + 1)
                                 for g in part.children)
            elif part.data == "type_args":
                args = tuple(self._type_arg(cast(Tree[Token], a)) for a in part.children)
        return _node(ir.TypeRef, name=name.name, is_ref=base.data == "ref_type", args=args,
                     generics=generics, optional=optional, is_list=is_list,
                     span=self._span(tree))

    @staticmethod
    def _type_arg(tree: Tree[Token]) -> ir.TypeArg:
        if tree.data == "range":
            bounds: list[str | None] = [None, None]
            side = 0
            for child in tree.children:
                if isinstance(child, Token) and child.type == "RANGE":
                    side = 1
                else:
                    bounds[side] = Lowerer._bound(cast(Tree[Token], child))
            return _node(ir.TypeArg, min=bounds[0], max=bounds[1], is_range=True)
        return _node(ir.TypeArg, value=Lowerer._bound(tree))

    @staticmethod
    def _bound(tree: Tree[Token]) -> str:
        """A number as written, with its sign when it has one (`-10` in `int(-10..10)`)."""
        if tree.data == "signed_number":
            sign = str(tree.children[0])
            digits = str(cast(Tree[Token], tree.children[1]).children[0])
            return f"-{digits}" if sign == "-" else digits
        return str(tree.children[0])

    # ---- roles, permissions, policies -------------------------------------------------
    def permission_decl(self, tree: Tree[Token]) -> ir.PermissionDecl:
        doc, rest = self._split(tree)
        return _node(ir.PermissionDecl, **self._decl(tree, rest[0], doc),
                     description=self._string(rest))

    def role_decl(self, tree: Tree[Token]) -> ir.RoleDecl:
        doc, rest = self._split(tree)
        return _node(ir.RoleDecl, **self._decl(tree, rest[0], doc), description=self._string(rest))

    def grant_decl(self, tree: Tree[Token]) -> ir.GrantDecl:
        doc, rest = self._split(tree)
        return _node(ir.GrantDecl, doc=doc, roles=self._names(rest[0]),
                     permissions=self._names(rest[1]), span=self._span(tree))

    def policy_decl(self, tree: Tree[Token]) -> ir.PolicyDecl:
        doc, rest = self._split(tree)
        rules = []
        for rule in rest[1:]:
            assert isinstance(rule, Tree)
            rule_doc, parts = self._split(rule)
            rules.append(_node(ir.PolicyRule, doc=rule_doc, action=self._name(parts[0]),
                               rule=self.expr(parts[1]), span=self._span(rule)))
        return _node(ir.PolicyDecl, doc=doc, entity=self._name(rest[0]), rules=tuple(rules),
                     span=self._span(tree))

    # ---- operations and events --------------------------------------------------------
    def operation_decl(self, tree: Tree[Token]) -> ir.OperationDecl:
        doc, rest = self._split(tree)
        kind = str(cast(Tree[Token], rest[0]).children[0])
        version = None
        members = rest[2:]
        if members and isinstance(members[0], Tree) and members[0].data == "version":
            version = self._version(members[0])
            members = members[1:]
        groups = self._members(
            members, f"{kind} `{rest[1]}`",
            ("input_block", "op_output", "op_policy", "op_errors", "op_behind"),
        )
        output = self._first(groups, "op_output")
        policy = self._first(groups, "op_policy")
        behind = self._first(groups, "op_behind")
        errors = self._first(groups, "op_errors")
        return _node(
            ir.OperationDecl,
            **self._decl(tree, rest[1], doc),
            kind=cast(Any, kind),
            version=version,
            input=self._block_fields(groups, "input_block"),
            output=self.type_expr(cast(Tree[Token], output[-1])) if output else None,
            policy=self.expr(policy[-1]) if policy else None,
            emits=tuple(self.event_ref(cast(Tree[Token], e)) for t in groups.get("op_emits", [])
                        for e in self._split(t)[1]),
            errors=tuple(self.error_item(cast(Tree[Token], e)) for e in (errors or [])),
            meters=tuple(n for t in groups.get("op_meters", []) for n in
                         self._names(self._split(t)[1][0])),
            behind=self._name(behind[0]) if behind else None,
        )

    def _first(self, groups: dict[str, list[Tree[Token]]], rule: str) -> list[Child] | None:
        """The children (doc stripped) of the first member of a kind, if any."""
        trees = groups.get(rule)
        return self._split(trees[0])[1] if trees else None

    def _block_fields(
        self, groups: dict[str, list[Tree[Token]]], rule: str
    ) -> tuple[ir.FieldDecl, ...]:
        children = self._first(groups, rule)
        return self._fields(children) if children else ()

    def error_item(self, tree: Tree[Token]) -> ir.ErrorDecl:
        doc, rest = self._split(tree)
        status = self._tokens(rest, "INT")
        return _node(ir.ErrorDecl, **self._decl(tree, rest[0], doc),
                     status=int(status[0]) if status else None,
                     message=self._string(rest))

    def event_ref(self, tree: Tree[Token]) -> ir.EventRef:
        name = self._name(tree.children[0])
        version = self._version(tree.children[1]) if len(tree.children) > 1 else None
        return _node(ir.EventRef, name=name.name, version=version, span=self._span(tree))

    def event_decl(self, tree: Tree[Token]) -> ir.EventDecl:
        doc, rest = self._split(tree)
        version = None
        members = rest[1:]
        if members and isinstance(members[0], Tree) and members[0].data == "version":
            version = self._version(members[0])
            members = members[1:]
        groups = self._members(
            members, f"event `{self._name(rest[0]).name}`",
            ("payload_block", "event_severity", "event_retention", "event_audit"),
        )
        severity = self._first(groups, "event_severity")
        retention = self._first(groups, "event_retention")
        return _node(
            ir.EventDecl,
            **self._decl(tree, rest[0], doc),
            version=version,
            payload=self._block_fields(groups, "payload_block"),
            severity=self._name(severity[0]) if severity else None,
            retention=parse_duration(str(retention[0])) if retention else None,
            audit="event_audit" in groups,
        )

    # ---- workflows --------------------------------------------------------------------
    def workflow_decl(self, tree: Tree[Token]) -> ir.WorkflowDecl:
        doc, rest = self._split(tree)
        groups = self._members(rest[2:], f"workflow `{rest[0]}`", ("wf_initial",))
        initial = self._first(groups, "wf_initial")
        return _node(
            ir.WorkflowDecl,
            **self._decl(tree, rest[0], doc),
            subject=self._name(rest[1]),
            initial=self._name(initial[0]) if initial else None,
            transitions=tuple(self.wf_transition(t) for t in groups.get("wf_transition", [])),
            finals=tuple(self._name(n) for t in groups.get("wf_final", [])
                         for n in self._split(t)[1]),
            migrations=tuple(self.wf_migrate(t) for t in groups.get("wf_migrate", [])),
        )

    def wf_transition(self, tree: Tree[Token]) -> ir.Transition:
        doc, rest = self._split(tree)
        clauses = self._members(rest[3:], f"transition `{rest[0]}`",
                                ("wf_by", "wf_when", "wf_emits"))
        by = clauses.get("wf_by")
        when = clauses.get("wf_when")
        emits = clauses.get("wf_emits")
        return _node(
            ir.Transition,
            **self._decl(tree, rest[0], doc),
            sources=self._names(rest[1]),
            target=self._name(rest[2]),
            by=self.expr(by[0].children[0]) if by else None,
            when=self.expr(when[0].children[0]) if when else None,
            emits=self.event_ref(cast(Tree[Token], emits[0].children[0])) if emits else None,
        )

    def wf_migrate(self, tree: Tree[Token]) -> ir.StateMigration:
        _, rest = self._split(tree)
        return _node(ir.StateMigration, source=self._name(rest[0]), target=self._name(rest[1]),
                     span=self._span(tree))

    # ---- jobs -------------------------------------------------------------------------
    def job_decl(self, tree: Tree[Token]) -> ir.JobDecl:
        doc, rest = self._split(tree)
        groups = self._members(rest[1:], f"job `{rest[0]}`",
                               ("input_block", "job_retries", "job_backoff", "job_timeout"))
        retries = self._first(groups, "job_retries")
        backoff = groups.get("job_backoff")
        timeout = self._first(groups, "job_timeout")
        return _node(
            ir.JobDecl,
            **self._decl(tree, rest[0], doc),
            input=self._block_fields(groups, "input_block"),
            retries=int(str(retries[0])) if retries else None,
            backoff=self.job_backoff(backoff[0]) if backoff else None,
            timeout=parse_duration(str(timeout[0])) if timeout else None,
        )

    def job_backoff(self, tree: Tree[Token]) -> ir.Backoff:
        _, rest = self._split(tree)
        args = tuple(self.expr(a) for a in cast(Tree[Token], rest[1]).children) if len(
            rest) > 1 else ()
        return _node(ir.Backoff, strategy=str(rest[0]), args=args, span=self._span(tree))

    def trigger_decl(self, tree: Tree[Token]) -> ir.TriggerDecl:
        doc, rest = self._split(tree)
        return _node(ir.TriggerDecl, doc=doc, event=self.event_ref(cast(Tree[Token], rest[0])),
                     job=self._name(rest[1]), span=self._span(tree))

    def schedule_decl(self, tree: Tree[Token]) -> ir.ScheduleDecl:
        doc, rest = self._split(tree)
        when = cast(Tree[Token], rest[1])
        value = str(when.children[0])
        return _node(
            ir.ScheduleDecl,
            **self._decl(tree, rest[0], doc),
            cron=unescape(value) if when.data == "schedule_cron" else None,
            every=parse_duration(value) if when.data == "schedule_every" else None,
            job=self._name(rest[2]),
        )

    # ---- notifications ----------------------------------------------------------------
    def notification_decl(self, tree: Tree[Token]) -> ir.NotificationDecl:
        doc, rest = self._split(tree)
        groups = self._members(rest[1:], f"notification `{rest[0]}`",
                               ("notify_on", "notify_subject", "notify_template"))
        on = self._first(groups, "notify_on")
        subject = self._first(groups, "notify_subject")
        template = self._first(groups, "notify_template")
        recipients = []
        for member in groups.get("notify_to", []):
            for rec in self._split(member)[1]:
                assert isinstance(rec, Tree)
                kind = "role" if rec.data == "role_recipient" else "path"
                name = self._name(rec.children[0])
                recipients.append(_node(ir.Recipient, kind=kind, name=name.name,
                                        span=self._span(rec)))
        return _node(
            ir.NotificationDecl,
            **self._decl(tree, rest[0], doc),
            on=self.event_ref(cast(Tree[Token], on[0])) if on else None,
            recipients=tuple(recipients),
            channels=tuple(n for t in groups.get("notify_via", [])
                           for n in self._names(self._split(t)[1][0])),
            subject=unescape(str(subject[0])) if subject else None,
            template=unescape(str(template[0])) if template else None,
            template_span=self._span(template[0]) if template else None,
        )

    # ---- flags and experiments --------------------------------------------------------
    def flag_decl(self, tree: Tree[Token]) -> ir.FlagDecl:
        doc, rest = self._split(tree)
        groups = self._members(rest[1:], f"flag `{rest[0]}`", ("flag_default", "flag_rollout"))
        default = self._first(groups, "flag_default")
        rollout = self._first(groups, "flag_rollout")
        targets = []
        for member in groups.get("flag_target", []):
            parts = self._split(member)[1]
            targets.append(_node(ir.FlagTarget, dimension=self._name(parts[0]),
                                 values=tuple(self._name(p) for p in parts[1:]),
                                 span=self._span(member)))
        return _node(
            ir.FlagDecl,
            **self._decl(tree, rest[0], doc),
            description=self._string(rest[1:2]),
            default=str(cast(Tree[Token], default[0]).children[0]) == "on" if default else None,
            rollout=_node(ir.Rollout, percent=float(str(rollout[0]).rstrip("%")),
                          by=self._name(rollout[1]),
                          span=self._span(groups["flag_rollout"][0])) if rollout else None,
            targets=tuple(targets),
        )

    def experiment_decl(self, tree: Tree[Token]) -> ir.ExperimentDecl:
        doc, rest = self._split(tree)
        groups = self._members(rest[1:], f"experiment `{rest[0]}`", ("exp_variants", "exp_metric"))
        variants = self._first(groups, "exp_variants") or []
        metric = self._first(groups, "exp_metric")
        return _node(
            ir.ExperimentDecl,
            **self._decl(tree, rest[0], doc),
            description=self._string(rest[1:2]),
            variants=tuple(
                _node(ir.Variant, name=str(v.children[0]),
                      percent=float(str(v.children[1]).rstrip("%")), span=self._span(v))
                for v in variants if isinstance(v, Tree)
            ),
            metric=self.event_ref(cast(Tree[Token], metric[0])) if metric else None,
        )

    def critical_decl(self, tree: Tree[Token]) -> ir.CriticalDecl:
        doc, rest = self._split(tree)
        return _node(ir.CriticalDecl, doc=doc, operations=self._names(rest[0]),
                     span=self._span(tree))

    # ---- files ------------------------------------------------------------------------
    def attachments_decl(self, tree: Tree[Token]) -> ir.AttachmentsDecl:
        doc, rest = self._split(tree)
        groups = self._members(rest[1:], "attachments", ("att_kinds", "att_max", "att_retention"))
        kinds = self._first(groups, "att_kinds") or []
        size = self._first(groups, "att_max")
        retention = self._first(groups, "att_retention")
        rules = []
        for member in groups.get("att_permission", []):
            parts = self._split(member)[1]
            rules.append(_node(ir.AttachmentRule, action=self._name(parts[0]),
                               rule=self.expr(parts[1]), span=self._span(member)))
        return _node(
            ir.AttachmentsDecl,
            doc=doc, entity=self._name(rest[0]),
            kinds=tuple(unescape(str(k)) for k in kinds),
            max_size=parse_size(str(size[0])) if size else None,
            rules=tuple(rules),
            retention=parse_duration(str(retention[0])) if retention else None,
            span=self._span(tree),
        )

    # ---- metering ---------------------------------------------------------------------
    def metric_decl(self, tree: Tree[Token]) -> ir.MetricDecl:
        doc, rest = self._split(tree)
        groups = self._members(rest[1:], f"metric `{rest[0]}`",
                               ("metric_unit", "metric_aggregate", "metric_from"))
        unit = self._first(groups, "metric_unit")
        aggregate = self._first(groups, "metric_aggregate")
        source = self._first(groups, "metric_from")
        return _node(
            ir.MetricDecl,
            **self._decl(tree, rest[0], doc),
            description=self._string(rest[1:2]),
            unit=self._name(unit[0]) if unit else None,
            aggregate=self._name(aggregate[0]) if aggregate else None,
            period=self._name(aggregate[1]) if aggregate and len(aggregate) > 1 else None,
            source=self.event_ref(cast(Tree[Token], source[0])) if source else None,
        )

    def plan_decl(self, tree: Tree[Token]) -> ir.PlanDecl:
        doc, rest = self._split(tree)
        groups = self._members(rest[1:], f"plan `{rest[0]}`")
        limits = []
        for member in groups.get("plan_limit", []):
            parts = self._split(member)[1]
            limits.append(_node(ir.PlanLimit, metric=self._name(parts[0]),
                                amount=int(str(parts[1])), period=self._name(parts[2]),
                                span=self._span(member)))
        return _node(
            ir.PlanDecl,
            **self._decl(tree, rest[0], doc),
            description=self._string(rest[1:2]),
            limits=tuple(limits),
            flags=tuple(n for t in groups.get("plan_flags", [])
                        for n in self._names(self._split(t)[1][0])),
        )

    # ---- learning journeys ------------------------------------------------------------
    def track_decl(self, tree: Tree[Token]) -> ir.TrackDecl:
        doc, rest = self._split(tree)
        units = tuple(self.track_unit(t) for t in rest[1:] if isinstance(t, Tree))
        return _node(ir.TrackDecl, **self._decl(tree, rest[0], doc), title=self._string(rest[1:2]),
                     units=units)

    def track_unit(self, tree: Tree[Token]) -> ir.UnitDecl:
        doc, rest = self._split(tree)
        steps = tuple(self.track_step(t) for t in rest[1:] if isinstance(t, Tree))
        return _node(ir.UnitDecl, **self._decl(tree, rest[0], doc), title=self._string(rest[1:2]),
                     steps=steps)

    def track_step(self, tree: Tree[Token]) -> ir.StepDecl:
        doc, rest = self._split(tree)
        groups = self._members(rest[1:], f"step `{rest[0]}`", ("step_completes", "step_content"))
        completes = self._first(groups, "step_completes")
        content = self._first(groups, "step_content")
        return _node(
            ir.StepDecl,
            **self._decl(tree, rest[0], doc),
            title=self._string(rest[1:2]),
            completes_on=self.event_ref(cast(Tree[Token], completes[0])) if completes else None,
            when=self.expr(completes[1]) if completes and len(completes) > 1 else None,
            content=unescape(str(content[0])) if content else None,
        )

    # ---- views and agents -------------------------------------------------------------
    def view_decl(self, tree: Tree[Token]) -> ir.ViewDecl:
        doc, rest = self._split(tree)
        kind = str(cast(Tree[Token], rest[1]).children[0])
        group_by = next((c for c in rest[3:] if isinstance(c, Token)), None)
        options: dict[str, list[ir.NameRef]] = {}
        for member in rest[3:]:
            if isinstance(member, Tree):
                parts = self._split(member)[1]
                option = str(cast(Tree[Token], parts[0]).children[0])
                options.setdefault(option, []).extend(self._names(parts[1]))
        return _node(
            ir.ViewDecl,
            **self._decl(tree, rest[0], doc),
            kind=cast(Any, kind),
            entity=self._name(rest[2]),
            group_by=self._name(group_by) if group_by is not None else None,
            columns=tuple(options.get("columns", ())),
            filters=tuple(options.get("filter", ())),
            search=tuple(options.get("search", ())),
            card=tuple(options.get("card", ())),
            fields=tuple(options.get("fields", ())),
            actions=tuple(options.get("actions", ())),
        )

    def agent_decl(self, tree: Tree[Token]) -> ir.AgentDecl:
        doc, rest = self._split(tree)
        groups = self._members(rest[1:], f"agent `{rest[0]}`",
                               ("agent_model", "agent_policy", "agent_limits",
                                "agent_instructions"))
        model = self._first(groups, "agent_model")
        policy = self._first(groups, "agent_policy")
        limits = self._first(groups, "agent_limits") or []
        instructions = self._first(groups, "agent_instructions")
        limit_nodes = []
        for item in limits:
            assert isinstance(item, Tree)
            value = cast(Token, item.children[1])
            limit_nodes.append(_node(
                ir.AgentLimit,
                name=str(item.children[0]),
                value=int(value) if value.type == "INT" else None,
                duration=parse_duration(str(value)) if value.type == "DURATION" else None,
                span=self._span(item),
            ))
        return _node(
            ir.AgentDecl,
            **self._decl(tree, rest[0], doc),
            description=self._string(rest[1:2]),
            model=unescape(str(model[0])) if model else None,
            tools=tuple(n for t in groups.get("agent_tools", [])
                        for n in self._names(self._split(t)[1][0])),
            policy=self.expr(policy[0]) if policy else None,
            limits=tuple(limit_nodes),
            instructions=unescape(str(instructions[0])) if instructions else None,
        )

    # ---- expressions ------------------------------------------------------------------
    def expr(self, item: Child, depth: int = 0) -> ir.Expr:
        """An expression whose root sits `depth` levels down in the IR (an operator chain
        `a or b or c` nests to the left: its first operand is deepest)."""
        if depth > MAX_EXPRESSION_DEPTH:
            raise TooDeep
        span = self._span(item)
        if isinstance(item, Token):  # a bare literal token inlined by `?text`
            return _node(ir.LiteralExpr, type="string", text=str(item), value=unescape(str(item)),
                         span=span)
        rule = str(item.data)
        kids = item.children
        if rule == "path":
            return _node(ir.PathExpr, parts=tuple(intern(str(k)) for k in kids), span=span)
        if rule == "call":
            args = tuple(self.expr(a, depth + 1) for a in cast(Tree[Token], kids[1]).children)
            return _node(ir.CallExpr, name=str(kids[0]), args=args, span=span)
        if rule == "list_expr":
            return _node(ir.ListExpr, items=tuple(self.expr(k, depth + 1) for k in kids),
                         span=span)
        if rule == "unary":
            return _node(ir.UnaryExpr, op=cast(Any, str(kids[0])),
                         operand=self.expr(kids[1], depth + 1), span=span)
        if rule in _BINARY_RULES:
            operators = len(kids) // 2
            left = self.expr(kids[0], depth + operators)
            for i in range(1, len(kids), 2):
                right = self.expr(kids[i + 1], depth + operators - i // 2)
                left = _node(ir.BinaryExpr, op=cast(Any, str(kids[i])), left=left, right=right,
                             span=self.source.span(left.span.start_offset,
                                                           right.span.end_offset))
            return left
        return self._literal(rule, kids, span)

    @staticmethod
    def _literal(rule: str, kids: Sequence[Child], span: Span) -> ir.LiteralExpr:
        text = str(kids[0]) if kids else rule
        value: str | int | float | bool | None
        kind = rule
        if rule == "string":
            value = unescape(text)
        elif rule == "int":
            value = int(text)
        elif rule == "decimal":
            value = text
        elif rule == "duration":
            value = parse_duration(text).seconds
        elif rule == "size":
            value = parse_size(text).bytes
        elif rule == "percent":
            value = float(text.rstrip("%"))
        elif rule in ("true", "false"):
            kind, value = "bool", rule == "true"
        else:
            kind, value = "null", None
        return _node(ir.LiteralExpr, type=cast(Any, kind), text=text, value=value, span=span)


_BINARY_RULES = frozenset({"or_expr", "and_expr", "cmp_expr", "sum_expr", "product"})
_MEMBER_KEYWORDS = {
    "input_block": "input", "op_output": "output", "op_policy": "policy", "op_errors": "errors",
    "op_behind": "behind", "payload_block": "payload", "event_severity": "severity",
    "event_retention": "retention", "event_audit": "audit", "wf_initial": "initial",
    "wf_by": "by", "wf_when": "when", "wf_emits": "emits", "job_retries": "retries",
    "job_backoff": "backoff", "job_timeout": "timeout", "notify_on": "on",
    "notify_subject": "subject", "notify_template": "template", "flag_default": "default",
    "flag_rollout": "rollout", "exp_variants": "variants", "exp_metric": "metric",
    "att_kinds": "kinds", "att_max": "max", "att_retention": "retention", "metric_unit": "unit",
    "metric_aggregate": "aggregate", "metric_from": "from", "step_completes": "completes",
    "step_content": "content", "agent_model": "model", "agent_policy": "policy",
    "agent_limits": "limits", "agent_instructions": "instructions",
}


def lower_file(source: SourceFile, chunks: Iterable[ParsedChunk]) -> LoweredFile:
    with gc_paused():
        return Lowerer(source).lower(chunks)
