"""Severity overrides from `cspec.toml` and inline suppressions.

`// cspec-ignore CS301: reason` silences the named codes on its own line (as a trailing
comment) or on the next line that is not a comment. The reason is required; a suppression
that silences nothing is reported, so stale ones do not pile up.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from contractspec.diagnostics import Diagnostic, Severity
from contractspec.source import SourceFile

_SUPPRESSION = re.compile(
    r"//\s*cspec-ignore\b\s*(?P<codes>(?:CS\d+[\s,]*)*)(?::\s*(?P<reason>.*))?$")
_CODE = re.compile(r"CS\d+")


@dataclass
class Suppression:
    line: int  # the 1-based line it applies to
    comment_line: int
    column: int
    codes: set[str]
    used: set[str] = field(default_factory=set)


def find_suppressions(source: SourceFile) -> tuple[list[Suppression], list[Diagnostic]]:
    found: list[Suppression] = []
    problems: list[Diagnostic] = []
    lines = source.text.split("\n")
    for index, text in enumerate(lines):
        if "cspec-ignore" not in text:
            continue
        match = _SUPPRESSION.search(text)
        if match is None:
            continue
        line = index + 1
        column = match.start() + 1
        offset = source.offset(line, column)
        span = source.span(offset, offset + len(match.group(0)))
        codes = set(_CODE.findall(match.group("codes") or ""))
        reason = (match.group("reason") or "").strip()
        if not codes or not reason:
            problems.append(Diagnostic(
                code="CS120", severity=Severity.WARNING, span=span,
                message="a suppression names the codes it silences and says why: "
                "`// cspec-ignore CS301: reason`"))
            continue
        target = line
        if not text[: match.start()].strip():  # a comment on its own line: the next code line
            target = next((k + 1 for k in range(index + 1, len(lines))
                           if lines[k].strip() and not lines[k].strip().startswith("//")), line)
        found.append(Suppression(target, line, column, codes))
    return found, problems


def apply_suppressions(diagnostics: Iterable[Diagnostic], sources: dict[str, SourceFile],
                       overrides: dict[str, str]) -> list[Diagnostic]:
    """Apply `[rules]` severities, then inline suppressions; report unused suppressions."""
    by_file: dict[str, list[Suppression]] = {}
    result: list[Diagnostic] = []
    for path, source in sources.items():
        if "cspec-ignore" in source.text:
            by_file[path], problems = find_suppressions(source)
            result.extend(problems)
    for diagnostic in diagnostics:
        override = overrides.get(diagnostic.code)
        if override == "off":
            continue
        if override is not None:
            diagnostic = diagnostic.model_copy(update={"severity": Severity(override)})
        suppressed = False
        for sup in by_file.get(diagnostic.span.file, ()):
            if sup.line == diagnostic.span.start_line and diagnostic.code in sup.codes:
                sup.used.add(diagnostic.code)
                suppressed = True
        if not suppressed:
            result.append(diagnostic)
    for path, sups in by_file.items():
        source = sources[path]
        for sup in sups:
            for code in sorted(sup.codes - sup.used):
                offset = source.offset(sup.comment_line, sup.column)
                result.append(Diagnostic(
                    code="CS121", severity=Severity.WARNING,
                    span=source.span(offset, offset + len("// cspec-ignore")),
                    message=f"this suppression of {code} silences nothing; remove it"))
    return result
