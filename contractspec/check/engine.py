"""Running every registered check over a program, whole or for some modules only.

A per-module check (`@rule(..., per_module=True)`) reads a module and the modules it uses
(directly or through them) and reports while checking that module, so its findings for a
module stand as long as neither the module nor anything it uses changed. `check_program`
runs those checks only for the modules in `only` and takes the other modules' findings
from the previous run; every other check always runs over the whole program.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from contractspec.check.context import CheckContext
from contractspec.check.registry import REGISTRY, all_rules
from contractspec.check.symbols import SymbolTable
from contractspec.diagnostics import Diagnostic
from contractspec.ir import nodes as ir
from contractspec.source import SourceFile

# per check, in registry order: its findings (whole-program checks) or its findings by
# the module it was checking (per-module checks)
Findings = list[Diagnostic] | dict[str, list[Diagnostic]]


@dataclass
class CheckResult:
    modules: list[str]  # the user modules, in program order
    findings: list[Findings] = field(default_factory=list)

    @property
    def diagnostics(self) -> list[Diagnostic]:
        """Every finding, in the order a whole run reports them."""
        out: list[Diagnostic] = []
        for found in self.findings:
            if isinstance(found, list):
                out.extend(found)
            else:
                for module in self.modules:
                    out.extend(found.get(module, ()))
        return out


def run_checks(program: ir.Program, symbols: SymbolTable,
               lock: dict[str, Any] | None = None) -> list[Diagnostic]:
    return check_program(program, symbols, lock).diagnostics


def check_program(program: ir.Program, symbols: SymbolTable, lock: dict[str, Any] | None = None,
                  only: frozenset[str] | None = None,
                  previous: CheckResult | None = None,
                  sources: dict[str, SourceFile] | None = None) -> CheckResult:
    """Run the checks; with `only` (and the `previous` result of the same program but for
    those modules), per-module checks run for the modules in `only` alone."""
    all_rules()
    modules = [m.name for m in program.modules if not m.std]
    result = CheckResult(modules)
    context = CheckContext(program, symbols, lock, sources=sources or {})
    for index, (_rule, check) in enumerate(REGISTRY.checks):
        if check not in REGISTRY.per_module:
            result.findings.append(_run(context, check, None))
            continue
        before = previous.findings[index] if previous is not None and only is not None else {}
        assert isinstance(before, dict)
        found: dict[str, list[Diagnostic]] = {}
        for name in modules:
            if name in before and only is not None and name not in only:
                found[name] = before[name]
            else:
                found[name] = _run(context, check, frozenset({name}))
        result.findings.append(found)
    return result


def _run(context: CheckContext, check: Callable[[CheckContext], None],
         only: frozenset[str] | None) -> list[Diagnostic]:
    context.only = only
    context.diagnostics = []
    check(context)
    return context.diagnostics
