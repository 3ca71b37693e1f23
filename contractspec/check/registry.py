"""The rule catalog: every diagnostic code with its severity, explanation and examples.

`docs/rules.md` is generated from this catalog (`python -m contractspec.check.docs`), and
the test suite runs every rule's bad example (it must fire) and good example (it must not).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from contractspec.diagnostics import Severity

if TYPE_CHECKING:
    from contractspec.check.context import CheckContext

Examples = str | dict[str, str]


@dataclass(frozen=True)
class Rule:
    code: str
    name: str
    severity: Severity
    summary: str
    explanation: str
    bad: Examples | None = None  # a spec (or files) that triggers the rule
    good: Examples | None = None  # the same spec, corrected
    fix: str | None = None  # what the quick fix does, when there is one
    phase: str = "check"  # parse | load | check


@dataclass
class Registry:
    rules: dict[str, Rule] = field(default_factory=dict)
    checks: list[tuple[Rule, Callable[[CheckContext], None]]] = field(default_factory=list)
    per_module: set[Callable[[CheckContext], None]] = field(default_factory=set)

    def add(self, rule: Rule) -> Rule:
        if rule.code in self.rules:
            raise ValueError(f"rule {rule.code} declared twice")
        self.rules[rule.code] = rule
        return rule


REGISTRY = Registry()


def declare(code: str, name: str, severity: Severity, summary: str, explanation: str, *,
            bad: Examples | None = None, good: Examples | None = None, fix: str | None = None,
            phase: str = "check") -> Rule:
    """Declare a code reported outside the check phase (parser, loader) or by several checks."""
    return REGISTRY.add(Rule(code, name, severity, summary, explanation, bad, good, fix, phase))


def rule(code: str, name: str, severity: Severity, summary: str, explanation: str, *,
         bad: Examples | None = None, good: Examples | None = None,
         fix: str | None = None, per_module: bool = False,
         ) -> Callable[[Callable[[CheckContext], None]], Callable[[CheckContext], None]]:
    """Register a check function that reports `code`.

    `per_module=True` promises that the check only loops over `ctx.user_modules()`,
    reads nothing but that module and the modules it uses (directly or through them),
    and reports only while checking it: the language server then re-runs it only for the
    modules an edit can affect. Leave it False for checks that gather facts across modules.
    """
    declared = declare(code, name, severity, summary, explanation, bad=bad, good=good, fix=fix)

    def register(check: Callable[[CheckContext], None]) -> Callable[[CheckContext], None]:
        REGISTRY.checks.append((declared, check))
        if per_module:
            REGISTRY.per_module.add(check)
        return check

    return register


def all_rules() -> dict[str, Rule]:
    """Every rule, with the rule modules imported."""
    import contractspec.check.rules  # noqa: F401  (registers the rules)

    return dict(sorted(REGISTRY.rules.items()))
