"""`cspec fmt`: rewrite spec files in the canonical layout, or show what would change."""

from __future__ import annotations

import argparse
import contextlib
import difflib
import os
import stat
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from contractspec.cli.common import (
    EXIT_ERRORS,
    EXIT_OK,
    EXIT_USAGE,
    UsageError,
    add_color_option,
    add_command,
    err,
    shown_path,
    use_color,
)
from contractspec.cli.render import TextRenderer, plural
from contractspec.diagnostics import Diagnostic, Severity
from contractspec.format import FormatError, format_text
from contractspec.source import SourceFile
from contractspec.workspace.config import find_root, load_config
from contractspec.workspace.loader import SPEC_SUFFIX, read_spec, spec_files_under

if TYPE_CHECKING:
    from contractspec.cli.common import Subparsers

DESCRIPTION = """
Format .cspec files in the one canonical layout (comments are kept, the meaning never
changes). Files are rewritten in place, atomically. A folder stands for every .cspec file
under it; without a path, the current folder.

With --check nothing is written: the files that would change are listed and the exit code
is 1 if there is any. --diff prints what would change as unified diffs (and writes nothing).
Files with syntax errors are reported and left alone (exit code 1).
"""

EXAMPLES = [
    ("cspec fmt", "format every spec under the current folder"),
    ("cspec fmt --check", "in CI: fail if a file is not formatted"),
    ("cspec fmt --diff spec/crm.cspec", "show the changes without writing them"),
]


def register(subparsers: Subparsers) -> None:
    parser = add_command(subparsers, "fmt", "format spec files", DESCRIPTION, EXAMPLES)
    parser.add_argument("paths", nargs="*", type=Path, metavar="PATH",
                        help="spec files or folders (default: the current folder)")
    parser.add_argument("--check", action="store_true",
                        help="write nothing; list files that would change, exit 1 if any")
    parser.add_argument("--diff", action="store_true",
                        help="write nothing; print unified diffs of what would change")
    add_color_option(parser)
    parser.set_defaults(handler=run)


def spec_files(paths: list[Path]) -> list[Path]:
    """The spec files that `paths` stand for; a usage error if one is missing or none found."""
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files.extend(spec_files_under(path))
        elif path.exists():
            files.append(path)
        else:
            raise UsageError(f"no such file or directory: {path}")
    if not files:
        raise UsageError(f"no {SPEC_SUFFIX} files found in {', '.join(map(str, paths))}")
    return list(dict.fromkeys(files))


def write_atomically(path: Path, text: str) -> None:
    """Replace a file's content through a temporary file in the same folder."""
    target = path.resolve()
    mode = stat.S_IMODE(target.stat().st_mode)
    handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.",
                                         suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as stream:
            stream.write(text)
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(temporary, mode)
        os.replace(temporary, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


def unified_diff(before: str, after: str, shown: str) -> str:
    lines = []
    for line in difflib.unified_diff(before.splitlines(keepends=True),
                                     after.splitlines(keepends=True),
                                     f"a/{shown}", f"b/{shown}"):
        lines.append(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n")
    return "".join(lines)


def run(args: argparse.Namespace) -> int:
    files = spec_files(args.paths or [Path(".")])
    root = find_root(files[0]) or files[0].parent
    max_bytes = load_config(root).max_file_bytes
    color = use_color(args.color, sys.stderr)
    dry = args.check or args.diff
    messages = sys.stderr if args.diff else sys.stdout
    changed = unchanged = failed = 0
    for path in files:
        shown = shown_path(path)
        read = read_spec(path, shown, max_bytes)
        problems = [d for d in read.diagnostics if d.severity is Severity.ERROR]
        if not read.ok:
            if problems:
                failed += 1
                _report(problems, read.source, color)
            else:
                unchanged += 1  # an empty file stays empty
            continue
        try:
            formatted = format_text(read.source.text, shown)
        except FormatError as error:
            failed += 1
            _report(error.diagnostics, read.source, color)
            continue
        if formatted == read.source.text:
            unchanged += 1
            continue
        changed += 1
        if args.diff:
            sys.stdout.write(unified_diff(read.source.text, formatted, shown))
        if args.check:
            print(f"would reformat {shown}", file=messages)
        elif not dry:
            try:
                write_atomically(path, formatted)
            except OSError as error:
                err(f"cannot write {shown}: {error.strerror or error}")
                return EXIT_USAGE
            print(f"reformatted {shown}", file=messages)
    print(_summary(changed, unchanged, failed, dry), file=messages)
    if failed or (dry and changed):
        return EXIT_ERRORS
    return EXIT_OK


def _report(diagnostics: list[Diagnostic], source: SourceFile, color: bool) -> None:
    renderer = TextRenderer({source.path: source}, lambda file: file, color)
    for diag in diagnostics:
        print(renderer.diagnostic(diag) + "\n", file=sys.stderr)
    print(f"skipped {source.path}: fix the errors above first", file=sys.stderr)


def _summary(changed: int, unchanged: int, failed: int, dry: bool) -> str:
    verb = "would be reformatted" if dry else "reformatted"
    parts = [f"{plural(changed, 'file')} {verb}", f"{unchanged} already formatted"]
    if failed:
        parts.append(f"{failed} skipped because of errors")
    return ", ".join(parts)
