"""`cspec check`: analyse a workspace and report its diagnostics as text, JSON or SARIF."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

from contractspec.analysis import Analysis, analyze_workspace
from contractspec.cli.common import (
    EXIT_ERRORS,
    EXIT_OK,
    add_color_option,
    add_command,
    disk_path,
    path_shower,
    use_color,
)
from contractspec.cli.render import TextRenderer, plural, summary_line
from contractspec.cli.report import json_report, sarif_report, summary
from contractspec.diagnostics import Diagnostic, Severity

if TYPE_CHECKING:
    from contractspec.cli.common import Subparsers

DESCRIPTION = """
Check .cspec files: syntax, names and types, the policy and tenancy lint, workflows,
events and the rest of the rule catalog (docs/rules.md).

A folder checks its whole workspace (the nearest cspec.toml above it) and reports every
problem. A file is checked within its workspace, and only its own problems are reported.
Without a path, the current folder is checked.

Text output goes to stdout; --stats goes to stderr, so JSON and SARIF stay parseable.
Exit codes: 0 no errors (warnings allowed), 1 errors found, 2 usage or I/O error.
"""

EXAMPLES = [
    ("cspec check", "the workspace of the current folder"),
    ("cspec check spec/crm.cspec", "one file, within its workspace"),
    ("cspec check . --format sarif > cspec.sarif", "SARIF 2.1.0 for code scanning"),
    ("cspec check . --format json --stats", "JSON on stdout, timings on stderr"),
]


def register(subparsers: Subparsers) -> None:
    parser = add_command(subparsers, "check", "check specs and report problems",
                         DESCRIPTION, EXAMPLES)
    parser.add_argument("paths", nargs="*", type=Path, metavar="PATH",
                        help="spec files or folders (default: the current folder)")
    parser.add_argument("--format", choices=("text", "json", "sarif"), default="text",
                        help="output format (default: text)")
    parser.add_argument("--stats", action="store_true",
                        help="print time per phase and counts to stderr")
    add_color_option(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    started = time.perf_counter()
    paths: list[Path] = args.paths or [Path(".")]
    analysis = analyze_workspace(paths)
    analysed = time.perf_counter()
    diagnostics, files = in_scope(analysis, paths)
    if args.format == "json":
        output = json_report(diagnostics, files, path_shower(analysis))
    elif args.format == "sarif":
        output = sarif_report(diagnostics, analysis.config.root,
                              lambda file: disk_path(analysis, file))
    else:
        output = render_text(analysis, diagnostics, files,
                             use_color(args.color, sys.stdout))
    sys.stdout.write(output + "\n")
    sys.stdout.flush()
    if args.stats:
        print(stats_text(analysis, diagnostics, analysed - started,
                         time.perf_counter() - analysed), file=sys.stderr)
    errors = any(d.severity is Severity.ERROR for d in diagnostics)
    return EXIT_ERRORS if errors else EXIT_OK


def user_files(analysis: Analysis) -> list[str]:
    """The workspace's own files (not the standard library's)."""
    return [name for name in analysis.sources if not name.startswith("<")]


def in_scope(analysis: Analysis, paths: list[Path]) -> tuple[list[Diagnostic], int]:
    """The diagnostics to report and the number of files they cover: everything when a
    folder was given, else only the given files'."""
    if any(path.is_dir() for path in paths):
        return analysis.diagnostics, len(user_files(analysis))
    wanted = {path.resolve() for path in paths}
    return [d for d in analysis.diagnostics
            if disk_path(analysis, d.span.file).resolve() in wanted], len(wanted)


def render_text(analysis: Analysis, diagnostics: list[Diagnostic], files: int,
                color: bool) -> str:
    renderer = TextRenderer(analysis.sources, path_shower(analysis), color)
    blocks = [renderer.diagnostic(d) + "\n" for d in diagnostics]
    return "\n".join([*blocks, summary_line(diagnostics, files, color)])


def stats_text(analysis: Analysis, diagnostics: list[Diagnostic], analysis_seconds: float,
               output_seconds: float) -> str:
    """Time per phase (milliseconds) and counts, for `--stats`."""
    stats = analysis.stats
    phases = [*stats.seconds.items(), ("output", output_seconds)]
    name_width = max(len("total"), *(len(name) for name, _ in phases))
    lines = ["phase".ljust(name_width) + "   time (ms)"]
    lines += [f"{name.ljust(name_width)} {seconds * 1000:11.1f}" for name, seconds in phases]
    total = analysis_seconds + output_seconds
    lines.append(f"{'total'.ljust(name_width)} {total * 1000:11.1f}")
    std = stats.files - len(user_files(analysis))
    counts = summary(diagnostics, stats.files)
    lines.append(f"files: {stats.files} ({std} from the standard library), "
                 f"lines: {stats.lines}, declarations: {stats.declarations}")
    lines.append("diagnostics: " + ", ".join(
        plural(counts[key], word) for key, word in
        (("errors", "error"), ("warnings", "warning"), ("info", "info"), ("hints", "hint"))))
    return "\n".join(lines)
