"""A regeneration plan (contractspec/generators/review.py) as text, Markdown or JSON.

JSON shape (version 1)::

    {"version": 1, "outDir", "base": str | null, "dialect", "specDiff": str | null,
     "changes": [cspec diff's change objects] | null, "files": [{"path", "status", "added",
     "removed", "diff", "edited"}], "kept": [path], "summary", "pending",
     "migrations": [{"path", "revision", "downRevision", "sql", "problem"}],
     "revisionsChangedInPlace": [path]}
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable

from contractspec.evolve.catalog import Level
from contractspec.evolve.report import markdown_report, text_report
from contractspec.generators.review import ReviewPlan

JSON_VERSION = 1
THRESHOLD = Level.BREAKING  # what the verdict of the change list counts as failing
_DIFF_STYLE = {"+": "32", "-": "31", "@": "36"}


def _no_spec_diff(plan: ReviewPlan) -> str:
    if plan.base is None:
        return "spec diff: give --base REF (a git ref) to see the spec changes"
    return f"spec diff: give --base REF (a git ref): {plan.base} holds no spec texts"


NO_CHANGES = ("change list: no cspec.lock to compare with: run `cspec release`, or give "
              "--base REF (a git ref or a lock file)")


def _migration_notes(plan: ReviewPlan) -> list[str]:
    notes = [f"{path}: changed in place, not a new revision (its SQL is not shown)"
             for path in plan.in_place]
    if not plan.migrations:
        notes.insert(0, "no migration: the regeneration adds no Alembic revision")
    return notes


def _file_line(path: str, status: str, added: int, removed: int, edited: bool) -> str:
    note = "  (edited by hand: applying needs --force)" if edited and status == "changed" \
        else ""
    return f"{status:<9} {path}  +{added} \N{MINUS SIGN}{removed}{note}"


def text_plan(plan: ReviewPlan, path_of: Callable[[str], str], color: bool = False,
              out_name: str | None = None) -> str:
    """The plan for a terminal: one `== section ==` after the other (`out_name`: how to show
    the output folder)."""
    against = f" (against {plan.base})" if plan.base else ""
    out = [f"== Spec changes{against} =="]
    if plan.spec_diff is None:
        out.append(_no_spec_diff(plan))
    else:
        out.append(_colored(plan.spec_diff, color).rstrip("\n") if plan.spec_diff
                   else "no spec file changed")
    out += ["", f"== Change list{against} =="]
    out.append(NO_CHANGES if plan.changes is None
               else text_report(plan.changes, THRESHOLD, path_of, color))
    out += ["", f"== Generated files ({out_name or plan.out_dir}) =="]
    if plan.pending:
        out.append("an interrupted `cspec gen` is unfinished: the next run finishes it first")
    out += [_file_line(f.path, f.status, f.added, f.removed, f.edited) for f in plan.files]
    out += [f"kept      {path}  (no longer generated, but edited by hand)"
            for path in plan.kept]
    out.append(f"would write: {plan.summary}")
    for file in plan.files:
        out += ["", _colored(file.diff, color).rstrip("\n")]
    out += ["", f"== Migration SQL ({plan.dialect}) =="]
    out += _migration_notes(plan)
    for migration in plan.migrations:
        span = f"{migration.down_revision or '<base>'} -> {migration.revision or '?'}"
        out += ["", f"-- {migration.path} ({span})"]
        out.append(migration.sql.rstrip("\n") if migration.sql is not None
                   else f"-- no SQL: {migration.problem}")
    return "\n".join(out)


def _colored(diff: str, color: bool) -> str:
    if not color:
        return diff
    lines = []
    for line in diff.splitlines(keepends=True):
        style = None if line.startswith(("+++", "---")) else _DIFF_STYLE.get(line[:1])
        lines.append(f"\x1b[{style}m{line.rstrip(chr(10))}\x1b[0m\n" if style else line)
    return "".join(lines)


def markdown_plan(plan: ReviewPlan, path_of: Callable[[str], str],
                  out_name: str | None = None) -> str:
    """The plan as a pull-request comment or a document: sections, fenced diffs and SQL."""
    against = f" against `{plan.base}`" if plan.base else ""
    out = [f"## Spec changes{against}", ""]
    if plan.spec_diff is None:
        out.append(_no_spec_diff(plan))
    else:
        out.append(_fenced(plan.spec_diff, "diff") if plan.spec_diff
                   else "No spec file changed.")
    out += ["", f"## Change list{against}", ""]
    out.append(NO_CHANGES if plan.changes is None else _without_heading(
        markdown_report(plan.changes, THRESHOLD, plan.base or "", path_of)))
    out += ["", f"## Generated files (`{out_name or plan.out_dir}`)", "",
            f"Would write: {plan.summary}."]
    if plan.pending:
        out += ["", "An interrupted `cspec gen` is unfinished: the next run finishes it first."]
    if plan.files or plan.kept:
        out += ["", "| File | Status | + | \N{MINUS SIGN} |", "|---|---|---|---|"]
        out += [f"| `{f.path}` | {f.status}{' (edited by hand)' if f.edited else ''} | "
                f"{f.added} | {f.removed} |" for f in plan.files]
        out += [f"| `{path}` | kept (edited by hand) | | |" for path in plan.kept]
    for file in plan.files:
        out += ["", f"<details><summary><code>{file.path}</code> ({file.status}, "
                    f"+{file.added} \N{MINUS SIGN}{file.removed})</summary>", "",
                _fenced(file.diff, "diff"), "", "</details>"]
    out += ["", f"## Migration SQL ({plan.dialect})", ""]
    out += [f"- {note}" for note in _migration_notes(plan)]
    for migration in plan.migrations:
        span = f"{migration.down_revision or 'base'} → {migration.revision or '?'}"
        out += ["", f"`{migration.path}` ({span})", ""]
        out.append(_fenced(migration.sql, "sql") if migration.sql is not None
                   else f"No SQL: {migration.problem}")
    return "\n".join(out)


def _without_heading(report: str) -> str:
    """`cspec diff`'s Markdown report without its own `### …` heading."""
    lines = report.split("\n")
    return "\n".join(lines[2:] if lines[0].startswith("### ") else lines)


def _fenced(text: str, language: str) -> str:
    """A code block whose fence is longer than any run of backticks in `text`."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}{language}\n{text.rstrip(chr(10))}\n{fence}"


def json_plan(plan: ReviewPlan, path_of: Callable[[str], str]) -> str:
    document = {
        "version": JSON_VERSION, "outDir": str(plan.out_dir), "base": plan.base,
        "dialect": plan.dialect, "specDiff": plan.spec_diff,
        "changes": None if plan.changes is None else [c.to_json(path_of) for c in plan.changes],
        "files": [f.to_json() for f in plan.files], "kept": list(plan.kept),
        "summary": plan.summary, "pending": plan.pending,
        "migrations": [m.to_json() for m in plan.migrations],
        "revisionsChangedInPlace": list(plan.in_place),
    }
    return json.dumps(document, indent=2, ensure_ascii=False)
