"""Regeneration preview: what `cspec gen` would change in the output folder, for the
current analysis (unsaved buffers included), generated in memory, and the reviewable plan
of `cspec gen --plan` (contractspec/generators/review.py).

The generators see the whole program, so a preview is always the workspace's. Nothing is
generated while the specs have errors: the preview is then a refusal with the reason.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, replace
from pathlib import Path

from contractspec.analysis import Analysis
from contractspec.evolve.base import BaseError
from contractspec.generators.base import GeneratorError, Output
from contractspec.generators.migration_sql import DIALECTS, Migration, migration_sql, revision_files
from contractspec.generators.pipeline import default_out_dir, generate, summary
from contractspec.generators.review import FileDiff, file_diffs, resolve_base, review
from contractspec.generators.review_report import markdown_plan, text_plan
from contractspec.generators.writer import (
    ConflictError,
    Plan,
    Status,
    WriterError,
    apply,
    plan,
    recover,
)

PLAN_FORMATS = ("text", "markdown")


class RegenerationError(Exception):
    """Regeneration cannot be done; the message says why, for the user."""


@dataclass(frozen=True)
class Preview:
    plan: Plan
    files: tuple[FileDiff, ...]
    review: str | None = None  # the reviewable plan, rendered (see Regenerator.review)

    @property
    def summary(self) -> str:
        pending = "; an interrupted `cspec gen` is unfinished" if self.plan.pending else ""
        return summary(self.plan) + pending

    @property
    def title(self) -> str:
        """The code lens: `Regenerate: 3 files change` or `Regenerate: up to date`."""
        count = len(self.files)
        if count == 0 and not self.plan.pending:
            return "Regenerate: up to date"
        return f"Regenerate: {count} file{'' if count == 1 else 's'} change"

    def to_json(self) -> dict[str, object]:
        result: dict[str, object] = {"summary": self.summary, "outDir": str(self.plan.out_dir),
                                     "files": [f.to_json() for f in self.files]}
        if self.review is not None:
            result["plan"] = self.review
        return result


def preview_of(the_plan: Plan) -> Preview:
    return Preview(the_plan, file_diffs(the_plan))


@dataclass(frozen=True)
class PlanOptions:
    """What `cspec gen --plan`'s options say: the base, the SQL dialect, the format."""

    base: str | None = None  # a git ref or lock file (relative to the workspace root)
    dialect: str = "sqlite"
    format: str = "text"

    def __post_init__(self) -> None:
        if self.dialect not in DIALECTS:
            raise RegenerationError(f"unknown dialect {self.dialect!r}: one of "
                                    f"{', '.join(DIALECTS)}")
        if self.format not in PLAN_FORMATS:
            raise RegenerationError(f"unknown plan format {self.format!r}: one of "
                                    f"{', '.join(PLAN_FORMATS)}")


class Regenerator:
    """Previews and applies regeneration; generates once per analysis (the output folder
    is read again every time: it may have changed on disk)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._last: tuple[Analysis, Output] | None = None
        self._sql: tuple[tuple[object, ...], tuple[Migration, ...]] | None = None

    def output(self, analysis: Analysis) -> Output:
        """The generated files of a clean analysis, in memory. Raises RegenerationError."""
        errors = analysis.errors
        if errors:
            first = errors[0]
            where = f"{first.span.file}:{first.span.start_line}:{first.span.start_col}"
            raise RegenerationError(
                f"nothing to regenerate: the specs have {len(errors)} "
                f"error{'' if len(errors) == 1 else 's'} (first: {where}: {first.code} "
                f"{first.message}); fix them first")
        with self._lock:
            if self._last is not None and self._last[0] is analysis:
                return self._last[1]
            try:
                output = generate(analysis, out_dir=out_dir(analysis))
            except GeneratorError as error:
                raise RegenerationError(f"cannot generate: {error}") from error
            self._last = (analysis, output)
            return output

    def preview(self, analysis: Analysis) -> Preview:
        """What regenerating would change on disk. Raises RegenerationError."""
        output = self.output(analysis)
        try:
            return preview_of(plan(out_dir(analysis), output))
        except WriterError as error:
            raise RegenerationError(str(error)) from error

    def review(self, analysis: Analysis, options: PlanOptions) -> Preview:
        """The preview with the reviewable plan of `cspec gen --plan` rendered in it.
        Raises RegenerationError (also for a base that cannot be read)."""
        preview = self.preview(analysis)
        root = analysis.config.root
        base = options.base
        if base is not None and (root / base).is_file():
            base = str(root / base)
        try:
            reviewed = review(analysis, preview.plan, resolve_base(root, base),
                              options.dialect, self._migration_sql)
        except BaseError as error:
            raise RegenerationError(str(error)) from error
        render = markdown_plan if options.format == "markdown" else text_plan
        return replace(preview, review=render(reviewed, str))

    def _migration_sql(self, the_plan: Plan, dialect: str) -> tuple[Migration, ...]:
        """The migrations' SQL, rendered again only when the added revisions change."""
        added = tuple((c.path, c.new) for c in revision_files(the_plan, Status.ADDED))
        key = (dialect, added)
        with self._lock:
            if self._sql is not None and self._sql[0] == key:
                return self._sql[1]
        migrations = migration_sql(the_plan, dialect)
        with self._lock:
            self._sql = (key, migrations)
        return migrations

    def write(self, analysis: Analysis) -> Preview:
        """Regenerate through the writer, as `cspec gen` does (an interrupted run is finished
        first; hand-edited files are never overwritten); returns what was written."""
        output = self.output(analysis)
        folder = out_dir(analysis)
        try:
            recover(folder)
            the_plan = plan(folder, output)
            apply(the_plan)
        except ConflictError as error:
            raise RegenerationError(_conflict_message(error.paths)) from error
        except WriterError as error:
            raise RegenerationError(str(error)) from error
        return preview_of(the_plan)

    @staticmethod
    def record(the_plan: Plan) -> None:
        """After the editor has written a plan's files itself: record the new manifest
        through the writer, deleting the files no longer generated (if still there)."""
        removed = the_plan.by_status(Status.REMOVED)
        try:
            apply(Plan(the_plan.out_dir, tuple(removed), the_plan.manifest))
        except WriterError as error:
            raise RegenerationError(str(error)) from error


def out_dir(analysis: Analysis) -> Path:
    folder = default_out_dir(analysis)
    if folder.exists() and not folder.is_dir():
        raise RegenerationError(f"{folder} is not a folder")
    return folder


def conflicts_message(the_plan: Plan) -> str | None:
    """Why a plan cannot be applied without overwriting hand edits, if it cannot."""
    paths = [c.path for c in the_plan.conflicts]
    return _conflict_message(paths) if paths else None


def _conflict_message(paths: list[str]) -> str:
    shown = ", ".join(paths[:5]) + (" …" if len(paths) > 5 else "")
    return (f"{len(paths)} generated file{'' if len(paths) == 1 else 's'} edited by hand "
            f"would be overwritten ({shown}): nothing written; move the changes into a "
            "handler or the spec, or run `cspec gen --force`")
