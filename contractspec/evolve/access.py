"""Who may do what, per role, as the release lock records it for the change analysis.

Every access expression of a module (operation policies, entity policy rules, workflow
transitions' `by`) is evaluated for each role the module sees, with the values `yes` (the
role alone is enough), `conditional` (it depends on the record or the user, as in
`self.owner == actor`), `no`, and `open` (an operation without any policy). The semantics
are those of the editor's who-can-do-what matrix (contractspec/ide/access.py).
"""

from __future__ import annotations

from contractspec.check.access import ACTOR, AUTHENTICATED, SELF
from contractspec.check.symbols import Symbol, SymbolTable
from contractspec.ir import nodes as ir

YES, CONDITIONAL, NO, OPEN = "yes", "conditional", "no", "open"
RANK = {NO: 0, CONDITIONAL: 1, YES: 2, OPEN: 3}  # how much each value lets through
_ACCESS = frozenset({"role", "permission"})


class Evaluator:
    """Evaluates access expressions per role, with the grants of the whole program."""

    def __init__(self, program: ir.Program, symbols: SymbolTable) -> None:
        self.symbols = symbols
        self.held: dict[str, set[str]] = {}  # qualified role -> qualified permissions
        for module in program.modules:
            for grant in module.grants:
                perms = {s.qualified for p in grant.permissions
                         if (s := self._access(module.name, p.name)) is not None}
                for role in grant.roles:
                    found = self._access(module.name, role.name)
                    if found is not None:
                        self.held.setdefault(found.qualified, set()).update(perms)

    def _access(self, module: str, name: str) -> Symbol | None:
        return self.symbols.lookup(module, name, "access", _ACCESS).symbol

    def evaluate(self, module: str, expr: ir.Expr, role: str) -> str:
        if isinstance(expr, ir.BinaryExpr) and expr.op in ("or", "and"):
            left, right = (self.evaluate(module, e, role) for e in (expr.left, expr.right))
            pick = max if expr.op == "or" else min
            return pick(left, right, key=RANK.__getitem__)
        if isinstance(expr, ir.UnaryExpr) and expr.op == "not":
            inner = self.evaluate(module, expr.operand, role)
            return {YES: NO, NO: YES}.get(inner, inner)
        if isinstance(expr, ir.PathExpr):
            if expr.parts == (AUTHENTICATED,):
                return YES
            if expr.parts[0] in (SELF, ACTOR):
                return CONDITIONAL
            found = self._access(module, ".".join(expr.parts))
            if found is None:
                return NO
            if found.kind == "role":
                return YES if found.qualified == role else NO
            return YES if found.qualified in self.held.get(role, set()) else NO
        if isinstance(expr, ir.LiteralExpr):
            return YES if expr.value is True else NO
        return CONDITIONAL


def _label(name: str, version: str | None) -> str:
    return f"{name} {version}" if version else name


def access_rows(evaluator: Evaluator, module: ir.Module) -> dict[str, dict[str, str]]:
    """`{"operation createDeal v1": {"identity.admin": "yes", ...}, "policy Deal update":
    ..., "transition DealFlow.win": ...}` for one module."""
    symbols = evaluator.symbols
    roles = sorted(s.qualified for name in symbols.visible_modules(module.name)
                   for s in symbols.symbols(name) if s.kind == "role")
    rows: dict[str, dict[str, str]] = {}

    def row(label: str, expr: ir.Expr | None) -> None:
        rows[label] = {role: OPEN if expr is None else evaluator.evaluate(module.name, expr, role)
                       for role in roles}

    for op in module.operations:
        row(f"operation {_label(op.name, op.version)}", op.policy)
    for policy in module.policies:
        for rule in policy.rules:
            row(f"policy {policy.entity.name} {rule.action.name}", rule.rule)
    for flow in module.workflows:
        for transition in flow.transitions:
            if transition.by is not None:
                row(f"transition {flow.name}.{transition.name}", transition.by)
    return rows
