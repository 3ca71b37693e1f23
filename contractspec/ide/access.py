"""Who can do what: the operation-by-role matrix of a module, from grants and policies.

Each access expression (an operation's `policy`, an entity policy rule, an attachment rule,
a workflow transition's `by`) is evaluated for each role with three values: `yes` (the role
alone is enough), `no`, and `conditional` (it depends on the record, as in
`self.owner == actor`).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from contractspec.ide.index import (
    ACTOR,
    AUTHENTICATED,
    SELF,
    Definition,
    Index,
    Key,
    Occurrence,
)
from contractspec.ir import nodes as ir
from contractspec.ir.text import expr_text
from contractspec.source import Span


class Access(StrEnum):
    YES = "yes"
    CONDITIONAL = "conditional"
    NO = "no"
    OPEN = "no policy"

    @property
    def mark(self) -> str:
        return {"yes": "✓", "conditional": "◐", "no": "✗", "no policy": "⚠"}[self.value]


_RANK = {Access.NO: 0, Access.CONDITIONAL: 1, Access.YES: 2}


@dataclass(frozen=True)
class AccessRow:
    kind: str  # command, query, policy, attachments, transition, agent
    name: str  # `createDeal v1`, `Deal: update`
    span: Span
    rule: str | None  # the expression as text; None when there is no policy at all
    cells: tuple[Access, ...]


@dataclass(frozen=True)
class AccessMatrix:
    module: str
    roles: tuple[str, ...]
    rows: tuple[AccessRow, ...]

    def to_json(self) -> dict[str, object]:
        return {
            "module": self.module,
            "roles": list(self.roles),
            "rows": [{"kind": r.kind, "name": r.name, "rule": r.rule,
                      "line": r.span.start_line, "file": r.span.file,
                      "access": dict(zip(self.roles, (c.value for c in r.cells), strict=True))}
                     for r in self.rows],
        }

    def text(self) -> str:
        """A plain-text table, for editors that show messages without Markdown."""
        if not self.rows:
            return f"Module `{self.module}` declares nothing that needs access rules."
        names = [f"{r.kind} {r.name}" for r in self.rows]
        width = max(len(n) for n in names)
        widths = [max(len(role), 3) for role in self.roles]
        head = " " * width + "  " + "  ".join(r.ljust(w) for r, w in zip(self.roles, widths,
                                                                         strict=True))
        lines = [f"Who can do what in {self.module}", head.rstrip()]
        for name, row in zip(names, self.rows, strict=True):
            marks = "  ".join(c.mark.ljust(w) for c, w in zip(row.cells, widths, strict=True))
            lines.append(f"{name.ljust(width)}  {marks}  {row.rule or 'no policy'}")
        lines.append("✓ allowed  ◐ depends on the record  ✗ denied  ⚠ no policy")
        return "\n".join(lines)

    def markdown(self) -> str:
        if not self.rows:
            return f"Module `{self.module}` declares nothing that needs access rules."
        head = "| | " + " | ".join(f"`{r}`" for r in self.roles) + " | rule |"
        lines = [f"**Who can do what** in `{self.module}`", "", head,
                 "|---|" + "---|" * (len(self.roles) + 1)]
        for row in self.rows:
            rule = f"`{row.rule}`" if row.rule else "*no policy*"
            lines.append(f"| {row.kind} `{row.name}` | "
                         + " | ".join(c.mark for c in row.cells) + f" | {rule} |")
        lines += ["", "✓ allowed · ◐ depends on the record · ✗ denied · ⚠ no policy"]
        return "\n".join(lines)


class _Evaluator:
    def __init__(self, index: Index) -> None:
        self.index = index
        self.held: dict[Key, set[Key]] = {}  # role -> permissions granted to it
        for definition in index.all_definitions():
            if definition.kind == "module":
                self._grants(definition.decl)

    def _grants(self, module: ir.Module) -> None:
        for grant in module.grants:
            roles = [self._resolved(r.span) for r in grant.roles]
            perms = [self._resolved(p.span) for p in grant.permissions]
            for role in roles:
                if role is not None:
                    self.held.setdefault(role.key, set()).update(
                        p.key for p in perms if p is not None)

    def _resolved(self, span: Span) -> Definition | None:
        """The definition named by a name written at `span` (its last segment)."""
        found = self.index.at(span.file, max(span.end_offset - 1, span.start_offset))
        return found.target if isinstance(found, Occurrence) else None

    def holds(self, role: Definition, permission: Definition) -> bool:
        return permission.key in self.held.get(role.key, set())

    def permissions_of(self, role: Definition) -> list[Definition]:
        keys = self.held.get(role.key, set())
        return [self.index.definitions[k] for k in sorted(keys) if k in self.index.definitions]

    def evaluate(self, expr: ir.Expr, role: Definition) -> Access:
        if isinstance(expr, ir.BinaryExpr) and expr.op in ("or", "and"):
            left, right = self.evaluate(expr.left, role), self.evaluate(expr.right, role)
            pick = max if expr.op == "or" else min
            return pick(left, right, key=lambda a: _RANK[a])
        if isinstance(expr, ir.UnaryExpr) and expr.op == "not":
            inner = self.evaluate(expr.operand, role)
            return {Access.YES: Access.NO, Access.NO: Access.YES}.get(inner, inner)
        if isinstance(expr, ir.PathExpr):
            head = expr.parts[0]
            if expr.parts == (AUTHENTICATED,):
                return Access.YES
            if head in (SELF, ACTOR):
                return Access.CONDITIONAL
            target = self._resolved(expr.span)
            if target is None:
                return Access.NO
            if target.kind == "role":
                return Access.YES if target.key == role.key else Access.NO
            return Access.YES if self.holds(role, target) else Access.NO
        if isinstance(expr, ir.LiteralExpr):
            return Access.YES if expr.value is True else Access.NO
        return Access.CONDITIONAL


def roles_visible(index: Index, module: str, visible: list[str]) -> list[Definition]:
    return [d for d in index.all_definitions() if d.kind == "role" and d.module in visible]


def access_matrix(index: Index, module: ir.Module, visible: list[str]) -> AccessMatrix:
    """The matrix of `module`; `visible` is the module and the modules it uses."""
    evaluator = _Evaluator(index)
    roles = roles_visible(index, module.name, visible)
    rows: list[AccessRow] = []

    def row(kind: str, name: str, span: Span, expr: ir.Expr | None) -> None:
        cells = tuple(evaluator.evaluate(expr, r) if expr is not None else Access.OPEN
                      for r in roles)
        rows.append(AccessRow(kind, name, span, expr_text(expr) if expr else None, cells))

    for op in module.operations:
        label = f"{op.name} {op.version}" if op.version else op.name
        row(op.kind, label, op.name_span, op.policy)
    for policy in module.policies:
        for rule in policy.rules:
            row("policy", f"{policy.entity.name}: {rule.action.name}", rule.span, rule.rule)
    for attachments in module.attachments:
        for att in attachments.rules:
            row("attachments", f"{attachments.entity.name}: {att.action.name}", att.span,
                att.rule)
    for flow in module.workflows:
        for t in flow.transitions:
            row("transition", f"{flow.name}.{t.name}", t.name_span, t.by)
    for agent in module.agents:
        row("agent", agent.name, agent.name_span, agent.policy)
    return AccessMatrix(module.name, tuple(r.name for r in roles), tuple(rows))


def who_holds(index: Index, permission: Definition) -> list[Definition]:
    """The roles granted a permission (anywhere in the workspace)."""
    evaluator = _Evaluator(index)
    roles = [d for d in index.all_definitions() if d.kind == "role"]
    return [r for r in roles if evaluator.holds(r, permission)]


def permissions_held(index: Index, role: Definition) -> list[Definition]:
    return _Evaluator(index).permissions_of(role)


def allowed_roles(index: Index, expr: ir.Expr, visible: list[str]) -> dict[str, Access]:
    evaluator = _Evaluator(index)
    return {r.name: evaluator.evaluate(expr, r)
            for r in index.all_definitions() if r.kind == "role" and r.module in visible}
