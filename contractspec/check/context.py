"""What a check function sees: the program, the symbol table, and a way to report."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from contractspec.check.registry import REGISTRY
from contractspec.check.symbols import Lookup, SymbolTable
from contractspec.diagnostics import Diagnostic, Fix, Related
from contractspec.ir import nodes as ir
from contractspec.source import SourceFile, Span


@dataclass
class CheckContext:
    program: ir.Program
    symbols: SymbolTable
    lock: dict[str, Any] | None = None  # the parsed `cspec.lock` of the last release, if any
    diagnostics: list[Diagnostic] = field(default_factory=list)
    only: frozenset[str] | None = None  # the modules `user_modules` yields (None: all)
    sources: dict[str, SourceFile] = field(default_factory=dict)  # the texts, by file name

    def report(self, code: str, message: str, span: Span, *, help: str | None = None,
               related: tuple[Related, ...] = (), fixes: tuple[Fix, ...] = ()) -> None:
        rule = REGISTRY.rules[code]
        self.diagnostics.append(Diagnostic(
            code=code, severity=rule.severity, message=message, span=span, help=help,
            related=related, fixes=fixes,
        ))

    def user_modules(self) -> Iterator[ir.Module]:
        """The modules to check: the workspace's own (the standard library is trusted),
        or those of them in `only`."""
        only = self.only
        return (m for m in self.program.modules
                if not m.std and (only is None or m.name in only))

    def resolve(self, module: str, ref: ir.NameRef, namespace: str, what: str,
                kinds: frozenset[str] | None = None, code: str = "CS201") -> Lookup:
        """Look a reference up and report CS201 (unknown) or CS203 (ambiguous)."""
        found = self.symbols.lookup(module, ref.name, namespace, kinds)
        if found.ambiguous:
            options = ", ".join(sorted(s.qualified for s in found.symbols))
            self.report("CS203", f"`{ref.name}` is ambiguous: it could be {options}", ref.span,
                        help="qualify it with its module name")
        elif not found.symbols:
            self.report_unknown(ref, what, found.suggestion, code)
        return found

    def report_unknown(self, ref: ir.NameRef | ir.EventRef, what: str,
                       suggestion: str | None, code: str = "CS201") -> None:
        help_text = f"did you mean `{suggestion}`?" if suggestion else None
        fixes = (Fix(title=f"Replace with `{suggestion}`", span=ref.span,
                     replacement=suggestion),) if suggestion else ()
        self.report(code, f"unknown {what} `{ref.name}`", ref.span, help=help_text, fixes=fixes)
