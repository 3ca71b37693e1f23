"""`cspec gen`: generate the application from a checked workspace, or show or check the drift."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

from contractspec.analysis import Analysis, analyze_workspace
from contractspec.cli.check import render_text, user_files
from contractspec.cli.common import (
    EXIT_ERRORS,
    EXIT_INTERNAL,
    EXIT_OK,
    UsageError,
    add_color_option,
    add_command,
    err,
    path_shower,
    shown_path,
    use_color,
)
from contractspec.cli.render import plural
from contractspec.evolve.base import BaseError
from contractspec.evolve.lock import LOCK_NAME
from contractspec.generators.base import (
    GeneratorError,
    GeneratorFailure,
    builtin_registry,
)
from contractspec.generators.migration_sql import DIALECTS
from contractspec.generators.pipeline import default_out_dir, generate, summary
from contractspec.generators.review import Base, resolve_base, review
from contractspec.generators.review_report import json_plan, markdown_plan, text_plan
from contractspec.generators.writer import (
    ConflictError,
    Plan,
    Status,
    WriterError,
    apply,
    plan,
    recover,
    writing,
)
from contractspec.workspace.config import ConfigError, find_root, load_config
from contractspec.workspace.loader import SPEC_SUFFIX, WorkspaceError

if TYPE_CHECKING:
    from contractspec.cli.common import Subparsers

DESCRIPTION = """
Generate the application from the workspace's specs: the database models and migrations,
the events and the package skeleton (docs/generators.md lists every target and its options).
The specs are checked first; with errors nothing is generated (exit code 1).

Files go to --out (default: [output] dir of cspec.toml, else `generated`), with a manifest
in .cspec/manifest.json. A generated file edited by hand is never overwritten (the run stops
and lists it; --force overwrites), files no longer generated are deleted only if unmodified,
and handler modules are created once and then belong to you. Writing is atomic: an
interrupted run leaves the previous tree intact.

--check writes nothing and exits 1 when the output folder differs from a fresh generation
(a CI drift gate); --dry-run prints what would change with line counts; --watch regenerates
whenever a spec file or cspec.toml is saved (Ctrl-C stops it).

--plan writes nothing and prints one reviewable plan: the spec changes (a unified diff
against --base REF, a git ref), the classified change list of `cspec diff` (against
--base, else cspec.lock), the generated files that change with their diffs, and the SQL of
the new Alembic revisions for --dialect (on a temporary copy of the new output: Alembic
offline mode for postgresql, a rehearsal on a scratch database for sqlite), as --format
text, markdown or json.

Exit codes: 0 done (or no drift; --dry-run and --plan always), 1 spec errors, drift or
hand-edited files, 2 usage, I/O or configuration error (or a --base that cannot be read),
3 a generator failed (a bug in it).
"""

EXAMPLES = [
    ("cspec gen", "generate every target into ./generated"),
    ("cspec gen --dry-run", "show what would change, with +added -removed lines"),
    ("cspec gen --check", "in CI: fail if the committed output is stale"),
    ("cspec gen --target db --out build", "only the database target, into build/"),
    ("cspec gen --watch", "regenerate on every saved spec change"),
    ("cspec gen --plan --base main", "everything a reviewer needs, against branch main"),
    ("cspec gen --plan --format markdown", "the plan as a pull-request comment"),
]
PLAN_OPTIONS = ("base", "dialect", "format")

WATCH_INTERVAL = 0.3  # seconds between two looks at the specs' modification times
PROGRESS_AFTER = 1.0  # a run longer than this reports progress on stderr


def register(subparsers: Subparsers) -> None:
    parser = add_command(subparsers, "gen", "generate the application from the specs",
                         DESCRIPTION, EXAMPLES)
    parser.add_argument("path", nargs="?", type=Path, default=Path("."), metavar="PATH",
                        help="a spec file or folder of the workspace (default: .)")
    parser.add_argument("--target", nargs="+", default=[], metavar="NAME",
                        help="generate only these targets (default: every built-in and "
                             "installed target)")
    parser.add_argument("--out", type=Path, metavar="DIR",
                        help="output folder (default: [output] dir of cspec.toml, "
                             "else `generated`, under the workspace root)")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--check", action="store_true",
                      help="write nothing; exit 1 if the output differs from a fresh generation")
    mode.add_argument("--dry-run", action="store_true",
                      help="write nothing; print what would be added, changed and removed")
    mode.add_argument("--watch", action="store_true",
                      help="regenerate on every saved change of a spec file or cspec.toml")
    mode.add_argument("--plan", action="store_true",
                      help="write nothing; print the spec changes, the change list, the file "
                           "diffs and the migration SQL")
    parser.add_argument("--base", metavar="REF|LOCKFILE",
                        help=f"with --plan: a git ref or lock file to compare the specs with "
                             f"(default: {LOCK_NAME}, when there is one)")
    parser.add_argument("--dialect", choices=tuple(DIALECTS),
                        help="with --plan: the database of the migration SQL (default: sqlite)")
    parser.add_argument("--format", choices=("text", "markdown", "json"),
                        help="with --plan: output format (default: text)")
    parser.add_argument("--force", action="store_true",
                        help="overwrite generated files even if they were edited by hand")
    parser.add_argument("--list", action="store_true",
                        help="list the available targets and exit")
    add_color_option(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    try:
        if args.list:
            return _list_targets()
        given = [f"--{name}" for name in PLAN_OPTIONS if getattr(args, name) is not None]
        if given and not args.plan:
            raise UsageError(f"{', '.join(given)}: only with --plan")
        if args.watch:
            return _watch(args)
        return _generate(args)
    except GeneratorFailure as error:
        err(f"{error}\nThis is a bug in that generator: please report it.")
        return EXIT_INTERNAL
    except (GeneratorError, WriterError) as error:
        raise UsageError(str(error)) from error


def _list_targets() -> int:
    for name, generator in builtin_registry().targets().items():
        print(f"{name}: {generator.description}")
    return EXIT_OK


class _Progress:
    """Progress lines on stderr, once a run has lasted longer than PROGRESS_AFTER."""

    def __init__(self) -> None:
        self.started = time.perf_counter()

    def __call__(self, message: str) -> None:
        elapsed = time.perf_counter() - self.started
        if elapsed >= PROGRESS_AFTER:
            print(f"cspec gen: {message} ({elapsed:.1f} s)", file=sys.stderr)


def _generate(args: argparse.Namespace) -> int:
    progress = _Progress()
    analysis = analyze_workspace([args.path])
    if analysis.errors:
        files = len(user_files(analysis))
        print(render_text(analysis, analysis.errors, files, use_color(args.color, sys.stderr)),
              file=sys.stderr)
        err("nothing generated: fix the errors above first")
        return EXIT_ERRORS
    progress(f"checked {plural(len(user_files(analysis)), 'file')}")
    base = _plan_base(analysis, args.base) if args.plan else None
    out_dir = _out_dir(analysis, args.out)
    if args.check or args.dry_run or args.plan:  # read-only
        return _generate_into(args, analysis, out_dir, progress, base)
    with writing(out_dir, lambda: err(f"waiting for another `cspec gen` writing "
                                      f"{shown_path(out_dir)} to finish")):
        if recover(out_dir):
            print(f"finished the interrupted previous run in {shown_path(out_dir)}",
                  file=sys.stderr)
        return _generate_into(args, analysis, out_dir, progress, base)


def _generate_into(args: argparse.Namespace, analysis: Analysis, out_dir: Path,
                   progress: _Progress, base: Base | None) -> int:
    """Generate, compare with `out_dir`, then report or write (under the lock) the plan."""
    output = generate(analysis, args.target, progress, builtin_registry(), out_dir)
    the_plan = plan(out_dir, output, scope=args.target or None)
    progress("compared with the output folder")
    if args.check:
        return _report_check(the_plan)
    if args.dry_run:
        _report_dry_run(the_plan)
        return EXIT_OK
    if base is not None:
        _report_plan(args, analysis, the_plan, base)
        return EXIT_OK
    try:
        apply(the_plan, force=args.force)
    except ConflictError as error:
        for path in error.paths:
            print(f"edited by hand: {_shown(the_plan, path)}", file=sys.stderr)
        err(f"{plural(len(error.paths), 'generated file')} edited by hand would be "
            "overwritten: nothing written (move your changes into a handler or the spec, "
            "or use --force to overwrite)")
        return EXIT_ERRORS
    _report_written(the_plan)
    return EXIT_OK


def _out_dir(analysis: Analysis, out: Path | None) -> Path:
    folder = out if out is not None else default_out_dir(analysis)
    if folder.exists() and not folder.is_dir():
        raise UsageError(f"{shown_path(folder)} is not a folder")
    return folder


def _shown(the_plan: Plan, path: str) -> str:
    return shown_path(the_plan.out_dir / path)


def _report_check(the_plan: Plan) -> int:
    if the_plan.pending:
        print(f"{shown_path(the_plan.out_dir)}: an interrupted `cspec gen` is unfinished")
    for change in the_plan.by_status(Status.ADDED, Status.CHANGED, Status.REMOVED):
        edited = " (edited by hand)" if change.edited else ""
        print(f"{_VERBS[change.status]} {_shown(the_plan, change.path)}{edited}")
    if the_plan.differs:
        err("the generated files are out of date: run `cspec gen`")
        return EXIT_ERRORS
    print(f"{plural(len(the_plan.changes), 'file')} up to date")
    return EXIT_OK


_VERBS = {Status.ADDED: "missing", Status.CHANGED: "differs", Status.REMOVED: "stale"}


def _report_dry_run(the_plan: Plan) -> None:
    for change in the_plan.by_status(Status.ADDED, Status.CHANGED, Status.REMOVED, Status.KEPT):
        added, removed = change.line_counts()
        notes = []
        if change.edited and change.status is Status.CHANGED:
            notes.append("edited by hand: needs --force")
        if change.status is Status.KEPT:
            notes.append("edited by hand: would be kept")
        if change.user_owned:
            notes.append("yours once created")
        note = f"  ({'; '.join(notes)})" if notes else ""
        print(f"{change.status.value:<9} {_shown(the_plan, change.path)}  "
              f"+{added} \N{MINUS SIGN}{removed}{note}")
    print("would write: " + summary(the_plan))


def _plan_base(analysis: Analysis, base: str | None) -> Base:
    try:
        return resolve_base(analysis.config.root, base, shown_path)
    except BaseError as error:
        raise UsageError(str(error)) from error


def _report_plan(args: argparse.Namespace, analysis: Analysis, the_plan: Plan,
                 base: Base) -> None:
    review_plan = review(analysis, the_plan, base, args.dialect or "sqlite")
    show, out_name = path_shower(analysis), shown_path(the_plan.out_dir)
    if args.format == "json":
        text = json_plan(review_plan, show)
    elif args.format == "markdown":
        text = markdown_plan(review_plan, show, out_name)
    else:
        text = text_plan(review_plan, show, use_color(args.color, sys.stdout), out_name)
    sys.stdout.write(text + "\n")


def _report_written(the_plan: Plan) -> None:
    for change in the_plan.by_status(Status.KEPT):
        print(f"kept {_shown(the_plan, change.path)}: no longer generated, but edited by hand",
              file=sys.stderr)
    print(f"{shown_path(the_plan.out_dir)}: {summary(the_plan)}")


def _spec_times(path: Path) -> dict[Path, tuple[int, int]]:
    """Modification time and size of every spec file and of cspec.toml."""
    root = find_root(path) or (path if path.is_dir() else path.parent)
    config = load_config(root)
    files = [root / "cspec.toml"]
    for folder in config.spec_dirs():
        files.extend(folder.rglob(f"*{SPEC_SUFFIX}") if folder.is_dir() else [])
    times: dict[Path, tuple[int, int]] = {}
    for file in files:
        try:
            info = file.stat()
        except OSError:
            continue
        times[file] = (info.st_mtime_ns, info.st_size)
    return times


def _watch(args: argparse.Namespace) -> int:
    """Generate, then again after every change of the specs, until interrupted."""
    seen: dict[Path, tuple[int, int]] | None = None
    try:
        while True:
            try:
                current = _spec_times(args.path)
                if current != seen:
                    if seen is not None:
                        print("specs changed: generating", file=sys.stderr)
                    seen = current
                    _generate(args)
                    print(f"watching {shown_path(args.path)} (Ctrl-C to stop)", file=sys.stderr)
            except (UsageError, WorkspaceError, ConfigError, GeneratorError,
                    WriterError) as error:
                err(str(error))
            sys.stdout.flush()
            sys.stderr.flush()
            time.sleep(WATCH_INTERVAL)
    except KeyboardInterrupt:
        return EXIT_OK
