"""Diagnostics as JSON (a stable shape of our own) and as SARIF 2.1.0 for CI systems.

JSON shape (version 1)::

    {"version": 1,
     "diagnostics": [{"code", "severity", "message", "file",
                      "range": {"start": {"line", "column"}, "end": {"line", "column"}},
                      "help", "related": [{"message", "file", "range"}],
                      "fixes": [{"title", "file", "range", "replacement"}]}],
     "summary": {"files", "errors", "warnings", "info", "hints"}}

Lines and columns are 1-based, columns count code points, and `end` is one past the last
character. `file` is the path as given on the command line (relative to the current folder).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote

from contractspec import __version__
from contractspec.check.registry import Rule, all_rules
from contractspec.diagnostics import Diagnostic, Severity
from contractspec.source import Span

JSON_VERSION = 1
PROJECT_URL = "https://github.com/contractspec/contractspec"
RULES_URL = f"{PROJECT_URL}/blob/main/docs/rules.md"
SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
WORKSPACE_BASE = "WORKSPACE"
_SARIF_LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning",
                Severity.INFO: "note", Severity.HINT: "note"}


def _range(span: Span) -> dict[str, Any]:
    return {"start": {"line": span.start_line, "column": span.start_col},
            "end": {"line": span.end_line, "column": span.end_col}}


def summary(diagnostics: Sequence[Diagnostic], files: int) -> dict[str, int]:
    def n(severity: Severity) -> int:
        return sum(1 for d in diagnostics if d.severity is severity)

    return {"files": files, "errors": n(Severity.ERROR), "warnings": n(Severity.WARNING),
            "info": n(Severity.INFO), "hints": n(Severity.HINT)}


def json_report(diagnostics: Sequence[Diagnostic], files: int,
                path_of: Callable[[str], str]) -> str:
    """The `--format json` document."""
    items = [{
        "code": d.code,
        "severity": d.severity.value,
        "message": d.message,
        "file": path_of(d.span.file),
        "range": _range(d.span),
        "help": d.help,
        "related": [{"message": r.message, "file": path_of(r.span.file),
                     "range": _range(r.span)} for r in d.related],
        "fixes": [{"title": f.title, "file": path_of(f.span.file), "range": _range(f.span),
                   "replacement": f.replacement} for f in d.fixes],
    } for d in diagnostics]
    document = {"version": JSON_VERSION, "diagnostics": items,
                "summary": summary(diagnostics, files)}
    return json.dumps(document, indent=2, ensure_ascii=False)


def _sarif_rule(rule: Rule) -> dict[str, Any]:
    return {
        "id": rule.code,
        "name": rule.name,
        "shortDescription": {"text": rule.summary},
        "fullDescription": {"text": rule.explanation},
        "defaultConfiguration": {"level": _SARIF_LEVEL[rule.severity]},
        "helpUri": f"{RULES_URL}#{rule.code.lower()}",
    }


def _region(span: Span) -> dict[str, int]:
    return {"startLine": span.start_line, "startColumn": span.start_col,
            "endLine": span.end_line, "endColumn": span.end_col}


class _Artifacts:
    """SARIF artifact locations: relative to the workspace root when inside it."""

    def __init__(self, root: Path, disk_path_of: Callable[[str], Path]) -> None:
        self.root = root
        self.disk_path_of = disk_path_of

    def location(self, file: str) -> dict[str, str]:
        path = self.disk_path_of(file)
        try:
            relative = path.relative_to(self.root)
        except ValueError:
            return {"uri": path.as_uri()}
        return {"uri": quote(relative.as_posix()), "uriBaseId": WORKSPACE_BASE}

    def physical(self, span: Span) -> dict[str, Any]:
        return {"artifactLocation": self.location(span.file), "region": _region(span)}


def sarif_report(diagnostics: Sequence[Diagnostic], root: Path,
                 disk_path_of: Callable[[str], Path]) -> str:
    """The `--format sarif` document: one run, the rule catalog, one result per diagnostic."""
    rules = list(all_rules().values())
    index = {rule.code: i for i, rule in enumerate(rules)}
    artifacts = _Artifacts(root, disk_path_of)
    results = []
    for d in diagnostics:
        text = f"{d.message}\nhelp: {d.help}" if d.help else d.message
        result: dict[str, Any] = {
            "ruleId": d.code,
            "level": _SARIF_LEVEL[d.severity],
            "message": {"text": text},
            "locations": [{"physicalLocation": artifacts.physical(d.span)}],
        }
        if d.code in index:
            result["ruleIndex"] = index[d.code]
        if d.related:
            result["relatedLocations"] = [
                {"id": i, "message": {"text": r.message},
                 "physicalLocation": artifacts.physical(r.span)}
                for i, r in enumerate(d.related)]
        if d.fixes:
            result["fixes"] = [{
                "description": {"text": f.title},
                "artifactChanges": [{
                    "artifactLocation": artifacts.location(f.span.file),
                    "replacements": [{"deletedRegion": _region(f.span),
                                      "insertedContent": {"text": f.replacement}}],
                }],
            } for f in d.fixes]
        results.append(result)
    run = {
        "tool": {"driver": {"name": "cspec", "version": __version__,
                            "informationUri": PROJECT_URL,
                            "rules": [_sarif_rule(rule) for rule in rules]}},
        "originalUriBaseIds": {WORKSPACE_BASE: {"uri": root.as_uri().rstrip("/") + "/"}},
        "columnKind": "unicodeCodePoints",
        "results": results,
    }
    document = {"$schema": SARIF_SCHEMA, "version": "2.1.0", "runs": [run]}
    return json.dumps(document, indent=2, ensure_ascii=False)
