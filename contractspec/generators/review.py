"""One reviewable plan of a regeneration, as `cspec gen --plan` prints it and the editor's
regeneration preview returns it: the spec changes (a unified diff against a git ref), the
classified change list (as `cspec diff`), the generated files that change (with their diffs)
and the SQL of the new migrations (contractspec/generators/migration_sql.py). Rendered by
contractspec/generators/review_report.py.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from contractspec.analysis import Analysis
from contractspec.evolve.base import default_base, git_snapshot, lock_base
from contractspec.evolve.changes import Change, analyse_changes
from contractspec.evolve.lock import LOCK_NAME, Json
from contractspec.generators.migration_sql import Migration, migration_sql, revision_files
from contractspec.generators.pipeline import summary
from contractspec.generators.writer import Plan, Status

SHOWN = (Status.ADDED, Status.CHANGED, Status.REMOVED)
MigrationSql = Callable[[Plan, str], tuple[Migration, ...]]


@dataclass(frozen=True)
class Base:
    """What the specs are compared with."""

    name: str | None  # cspec.lock, a lock file or a git ref; None: nothing to compare with
    lock: Json | None
    texts: dict[str, str] | None  # the spec texts by file name (a git ref only)


NO_BASE = Base(None, None, None)


def resolve_base(root: Path, base: str | None, shown: Callable[[Path], str] = str) -> Base:
    """`base` (a lock file, else a git ref) or, without one, the workspace's cspec.lock when
    there is one. Raises BaseError when an explicit base (or the lock) cannot be read."""
    if base is None:
        return Base(LOCK_NAME, default_base(root), None) if (root / LOCK_NAME).is_file() \
            else NO_BASE
    if Path(base).is_file():
        return Base(shown(Path(base)), lock_base(Path(base), shown(Path(base))), None)
    lock, texts = git_snapshot(root, base)
    return Base(base, lock, texts)


@dataclass(frozen=True)
class FileDiff:
    """A generated file the regeneration adds, changes or removes."""

    path: str  # relative to the output folder
    status: str  # added, changed or removed
    added: int
    removed: int
    diff: str
    edited: bool  # edited by hand since cspec wrote it: applying would overwrite it

    def to_json(self) -> dict[str, object]:
        return {"path": self.path, "status": self.status, "added": self.added,
                "removed": self.removed, "diff": self.diff, "edited": self.edited}


def file_diffs(the_plan: Plan) -> tuple[FileDiff, ...]:
    """The files `the_plan` adds, changes or removes, with line counts and diffs."""
    files = []
    for change in the_plan.by_status(*SHOWN):
        added, removed = change.line_counts()
        files.append(FileDiff(change.path, change.status.value, added, removed, change.diff(),
                              change.edited))
    return tuple(files)


@dataclass(frozen=True)
class ReviewPlan:
    out_dir: Path
    base: str | None
    spec_diff: str | None  # None: the base has no spec texts (a lock) or there is no base
    changes: tuple[Change, ...] | None  # None: no base to compare with
    files: tuple[FileDiff, ...]
    kept: tuple[str, ...]  # no longer generated but edited by hand: left in place
    summary: str  # `2 added, 1 changed, 0 removed, 5 unchanged`
    pending: bool  # an interrupted `cspec gen` is unfinished in the output folder
    dialect: str
    migrations: tuple[Migration, ...]  # the added revisions
    in_place: tuple[str, ...]  # revision files rewritten rather than added


def review(analysis: Analysis, the_plan: Plan, base: Base, dialect: str,
           sql: MigrationSql = migration_sql) -> ReviewPlan:
    """The plan of applying `the_plan` (generated from the clean `analysis`)."""
    texts = {name: source.text for name, source in analysis.sources.items()
             if not name.startswith("<")}
    changes = None if base.lock is None else tuple(
        analyse_changes(base.lock, analysis.program, analysis.sources))
    return ReviewPlan(
        out_dir=the_plan.out_dir, base=base.name,
        spec_diff=None if base.texts is None else spec_diff(base.texts, texts),
        changes=changes, files=file_diffs(the_plan),
        kept=tuple(c.path for c in the_plan.by_status(Status.KEPT)),
        summary=summary(the_plan), pending=the_plan.pending, dialect=dialect,
        migrations=sql(the_plan, dialect),
        in_place=tuple(c.path for c in revision_files(the_plan, Status.CHANGED)))


def spec_diff(old: dict[str, str], new: dict[str, str]) -> str:
    """A unified diff of every spec file that differs (empty: none does)."""
    parts = []
    for name in sorted(set(old) | set(new)):
        before, after = old.get(name), new.get(name)
        if before != after:
            parts.append(unified(before, after, "/dev/null" if before is None else f"a/{name}",
                                 "/dev/null" if after is None else f"b/{name}"))
    return "".join(parts)


def unified(old: str | None, new: str | None, old_name: str, new_name: str) -> str:
    lines = difflib.unified_diff((old or "").splitlines(keepends=True),
                                 (new or "").splitlines(keepends=True), old_name, new_name)
    return "".join(_terminated(lines))


def _terminated(lines: Iterable[str]) -> Iterable[str]:
    for line in lines:
        yield line if line.endswith("\n") else line + "\n\\ No newline at end of file\n"
