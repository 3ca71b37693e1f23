"""The change list as text, JSON, SARIF 2.1.0 and Markdown (a pull-request comment).

JSON shape (version 1)::

    {"version": 1, "base": "cspec.lock" | "<git ref>" | "<lock file>",
     "changes": [{"code", "name", "surface", "level", "module", "subject", "message",
                  "approved", "file", "range": {"start": {"line", "column"}, "end": …}}],
     "summary": {"breaking", "dangerous", "safe", "approved", "failing"}}

`file` and `range` are null for a change with no place left in the specs (a removed module).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote

from contractspec import __version__
from contractspec.evolve.catalog import KINDS, Level
from contractspec.evolve.differ import Change

JSON_VERSION = 1
PROJECT_URL = "https://github.com/contractspec/contractspec"
CODES_URL = f"{PROJECT_URL}/blob/main/docs/evolution.md"
SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
_SARIF_LEVEL = {Level.BREAKING: "error", Level.DANGEROUS: "warning", Level.SAFE: "note"}
_MARK = {Level.BREAKING: "🔴", Level.DANGEROUS: "🟠", Level.SAFE: "🟢"}
_STYLE = {Level.BREAKING: "1;31", Level.DANGEROUS: "1;33", Level.SAFE: "32"}


def summary(changes: Sequence[Change], threshold: Level | None) -> dict[str, int]:
    counts = {level.value: sum(1 for c in changes if c.level is level) for level in Level}
    return {**counts, "approved": sum(1 for c in changes if c.approved is not None),
            "failing": sum(1 for c in changes if c.fails(threshold))}


def summary_text(changes: Sequence[Change], threshold: Level | None) -> str:
    """`3 changes: 1 breaking (1 approved), 0 dangerous, 2 safe`."""
    if not changes:
        return "no changes"
    counts = summary(changes, threshold)
    approved = counts["approved"]
    parts = ", ".join(f"{counts[level.value]} {level.value}" for level in Level)
    tail = f"; {approved} approved" if approved else ""
    noun = "change" if len(changes) == 1 else "changes"
    return f"{len(changes)} {noun}: {parts}{tail}"


def _where(change: Change, path_of: Callable[[str], str]) -> str:
    span = change.span
    return f"{path_of(span.file)}:{span.start_line}:{span.start_col}" if span else \
        f"module {change.module}"


def text_report(changes: Sequence[Change], threshold: Level | None,
                path_of: Callable[[str], str], color: bool) -> str:
    lines: list[str] = []
    for c in changes:
        level = f"\x1b[{_STYLE[c.level]}m{c.level.value}\x1b[0m" if color else c.level.value
        lines.append(f"{_where(c, path_of)}: {level} {c.code} {c.kind.name}: {c.message}")
        if c.approved is not None:
            lines.append(f"  approved: {c.approved}")
    lines.append(summary_text(changes, threshold))
    return "\n".join(lines)


def json_report(changes: Sequence[Change], threshold: Level | None, base: str,
                path_of: Callable[[str], str]) -> str:
    document = {"version": JSON_VERSION, "base": base,
                "changes": [c.to_json(path_of) for c in changes],
                "summary": summary(changes, threshold)}
    return json.dumps(document, indent=2, ensure_ascii=False)


def sarif_report(changes: Sequence[Change], root: Path,
                 disk_path_of: Callable[[str], Path]) -> str:
    """One run: the change codes as rules, one result per change (approved ones carry a
    suppression, so code scanning shows them as dismissed)."""
    index = {code: i for i, code in enumerate(KINDS)}
    results = []
    for c in changes:
        result: dict[str, Any] = {"ruleId": c.code, "ruleIndex": index[c.code],
                                  "level": _SARIF_LEVEL[c.level],
                                  "message": {"text": c.message}}
        if c.span is not None:
            path = disk_path_of(c.span.file)
            try:
                location = {"uri": quote(path.relative_to(root).as_posix()),
                            "uriBaseId": "WORKSPACE"}
            except ValueError:
                location = {"uri": path.as_uri()}
            result["locations"] = [{"physicalLocation": {
                "artifactLocation": location,
                "region": {"startLine": c.span.start_line, "startColumn": c.span.start_col,
                           "endLine": c.span.end_line, "endColumn": c.span.end_col}}}]
        if c.approved is not None:
            result["suppressions"] = [{"kind": "inSource", "justification": c.approved}]
        results.append(result)
    rules = [{"id": k.code, "name": k.name, "shortDescription": {"text": k.summary},
              "defaultConfiguration": {"level": _SARIF_LEVEL[k.level]},
              "properties": {"surface": k.surface.value, "level": k.level.value},
              "helpUri": f"{CODES_URL}#{k.code.lower()}-{k.name}"} for k in KINDS.values()]
    run = {"tool": {"driver": {"name": "cspec diff", "version": __version__,
                               "informationUri": PROJECT_URL, "rules": rules}},
           "originalUriBaseIds": {"WORKSPACE": {"uri": root.as_uri().rstrip("/") + "/"}},
           "columnKind": "unicodeCodePoints", "results": results}
    return json.dumps({"$schema": SARIF_SCHEMA, "version": "2.1.0", "runs": [run]}, indent=2,
                      ensure_ascii=False)


def markdown_report(changes: Sequence[Change], threshold: Level | None, base: str,
                    path_of: Callable[[str], str]) -> str:
    """A pull-request comment: a verdict, the counts, and one table row per change."""
    failing = summary(changes, threshold)["failing"]
    if failing:
        verdict = (f"❌ **{failing} unapproved change{'s' if failing > 1 else ''} at or above "
                   f"`{threshold.value if threshold else 'none'}`**")
    else:
        verdict = "✅ **Nothing to block**"
    lines = [f"### Spec changes against `{base}`", "",
             f"{verdict} — {summary_text(changes, threshold)}"]
    if changes:
        lines += ["", "| | Code | Change | Where |", "|---|---|---|---|"]
        for c in changes:
            note = f"<br>approved: {_cell(c.approved)}" if c.approved is not None else ""
            where = f"`{_where(c, path_of)}`"
            lines.append(f"| {_MARK[c.level]} {c.level.value} | `{c.code}` {c.kind.name} | "
                         f"{_cell(c.message)}{note} | {where} |")
    return "\n".join(lines)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")
