"""Regeneration preview: what `cspec gen` would change in the output folder, for the
current analysis (unsaved buffers included), generated in memory.

The generators see the whole program, so a preview is always the workspace's. Nothing is
generated while the specs have errors: the preview is then a refusal with the reason.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

from contractspec.analysis import Analysis
from contractspec.generators.base import GeneratorError, Output
from contractspec.generators.pipeline import default_out_dir, generate, summary
from contractspec.generators.writer import (
    ConflictError,
    Plan,
    Status,
    WriterError,
    apply,
    plan,
    recover,
)

SHOWN = (Status.ADDED, Status.CHANGED, Status.REMOVED)


class RegenerationError(Exception):
    """Regeneration cannot be done; the message says why, for the user."""


@dataclass(frozen=True)
class FileDiff:
    path: str  # relative to the output folder
    status: str  # added, changed or removed
    added: int
    removed: int
    diff: str
    edited: bool  # edited by hand since cspec wrote it: applying would overwrite it

    def to_json(self) -> dict[str, object]:
        return {"path": self.path, "status": self.status, "added": self.added,
                "removed": self.removed, "diff": self.diff, "edited": self.edited}


@dataclass(frozen=True)
class Preview:
    plan: Plan
    files: tuple[FileDiff, ...]

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
        return {"summary": self.summary, "outDir": str(self.plan.out_dir),
                "files": [f.to_json() for f in self.files]}


def preview_of(the_plan: Plan) -> Preview:
    files = []
    for change in the_plan.by_status(*SHOWN):
        added, removed = change.line_counts()
        files.append(FileDiff(change.path, change.status.value, added, removed, change.diff(),
                              change.edited))
    return Preview(the_plan, tuple(files))


class Regenerator:
    """Previews and applies regeneration; generates once per analysis (the output folder
    is read again every time: it may have changed on disk)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._last: tuple[Analysis, Output] | None = None

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
