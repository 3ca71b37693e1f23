"""Render the rule catalog as `docs/rules.md` (`python -m contractspec.check.docs`)."""

from __future__ import annotations

import sys
from pathlib import Path

from contractspec.check.registry import Examples, Rule, all_rules

DOC_PATH = Path(__file__).resolve().parents[2] / "docs" / "rules.md"

_FAMILIES = {
    "1": "Syntax and files",
    "2": "Names and types",
    "3": "Policy and tenancy",
    "4": "Workflows",
    "5": "Events, jobs, notifications, flags, metering, learning",
    "6": "Releases",
}

_INTRO = """\
# Diagnostic rules

Every diagnostic `cspec check` (and the language server) reports has a stable code. This page
is generated from the rule catalog in `contractspec/check/rules/` by
`python -m contractspec.check.docs`; a test keeps it current.

**Changing a severity.** In `cspec.toml`:

```toml
[rules]
CS403 = "warning"   # error | warning | info | hint | off
```

**Suppressing one occurrence.** Put a comment on the line, or on its own line just above it;
the reason is required, and a suppression that silences nothing is itself reported (CS121):

```cspec
// cspec-ignore CS301: lookup table shared by every tenant
entity Currency {
```

"""


def _example(examples: Examples) -> str:
    if isinstance(examples, str):
        return f"```cspec\n{examples.rstrip()}\n```\n"
    return "".join(f"`{name}`:\n\n```cspec\n{text.rstrip() or '// (empty file)'}\n```\n\n"
                   for name, text in examples.items()).rstrip() + "\n"


def _rule(rule: Rule) -> str:
    lines = [
        f"### {rule.code}: {rule.name}",
        "",
        f"Default severity: **{rule.severity.value}**. {rule.summary}",
        "",
        rule.explanation,
        "",
    ]
    if rule.fix:
        lines += [f"Quick fix: {rule.fix}", ""]
    if rule.bad is not None:
        lines += ["Reported:", "", _example(rule.bad)]
    if rule.good is not None:
        lines += ["Clean:", "", _example(rule.good)]
    return "\n".join(lines).rstrip() + "\n"


def render() -> str:
    rules = all_rules()
    out = [_INTRO, "| code | name | severity | summary |", "| --- | --- | --- | --- |"]
    out += [f"| [{r.code}](#{r.code.lower()}-{r.name}) | {r.name} | {r.severity.value} | "
            f"{r.summary} |" for r in rules.values()]
    for digit, title in _FAMILIES.items():
        family = [r for r in rules.values() if r.code[2] == digit]
        if family:
            out += ["", f"## CS{digit}xx: {title}", ""]
            out += [_rule(r) for r in family]
    return "\n".join(out).rstrip() + "\n"


def main() -> int:
    DOC_PATH.parent.mkdir(parents=True, exist_ok=True)
    DOC_PATH.write_text(render(), encoding="utf-8")
    sys.stderr.write(f"wrote {DOC_PATH}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
