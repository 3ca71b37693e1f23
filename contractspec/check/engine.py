"""Running every registered check over a program."""

from __future__ import annotations

from typing import Any

from contractspec.check.context import CheckContext
from contractspec.check.registry import REGISTRY, all_rules
from contractspec.check.symbols import SymbolTable
from contractspec.diagnostics import Diagnostic
from contractspec.ir import nodes as ir


def run_checks(program: ir.Program, symbols: SymbolTable,
               lock: dict[str, Any] | None = None) -> list[Diagnostic]:
    all_rules()
    context = CheckContext(program, symbols, lock)
    for _rule, check in REGISTRY.checks:
        check(context)
    return context.diagnostics
