"""`cspec diff`: what changed since the last release (or a git ref), classified."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from contractspec.analysis import analyze_workspace
from contractspec.cli.common import (
    EXIT_ERRORS,
    EXIT_OK,
    UsageError,
    add_color_option,
    add_command,
    disk_path,
    path_shower,
    shown_path,
    use_color,
)
from contractspec.cli.render import TextRenderer, plural
from contractspec.evolve.base import BaseError, default_base, git_base, lock_base
from contractspec.evolve.catalog import Level
from contractspec.evolve.changes import analyse_changes
from contractspec.evolve.lock import LOCK_NAME, Json
from contractspec.evolve.report import json_report, markdown_report, sarif_report, text_report

if TYPE_CHECKING:
    from contractspec.cli.common import Subparsers

DESCRIPTION = f"""
List what changed in the specs since the last release ({LOCK_NAME}, the default), since a
git ref (`--base main`: the specs as they were there), or since another lock file (`--base
old.lock`). Each change has a stable code (docs/evolution.md), a surface (api, database,
events, policy, workflows, meaning, flags, jobs) and a level: breaking (clients, consumers
or data break), dangerous (data-dependent or a change of meaning: review it), or safe.

A change is approved in the specs with `@allowBreaking("why")` on its field,
`@@allowBreaking("why")` on its entity, or `// cspec-allow-breaking CX204: why` on (or
just before) the line it points at. Approved changes are listed but never fail.
`@renamedFrom(old)` makes a rename out of a removal and an addition, and `migrate state
a -> b` makes a removed workflow state safe.

Exit codes: 0 nothing at or above --fail-on (default: breaking) that is not approved,
1 some change fails (or the specs have errors), 2 usage or I/O error (no lock, bad ref).
"""

EXAMPLES = [
    ("cspec diff", f"the workspace of the current folder against its {LOCK_NAME}"),
    ("cspec diff --base main", "against the specs on branch main"),
    ("cspec diff --base origin/main --format markdown", "a pull-request comment"),
    ("cspec diff --fail-on dangerous --format sarif", "for code scanning, stricter"),
]
FAIL_ON = {"breaking": Level.BREAKING, "dangerous": Level.DANGEROUS, "safe": Level.SAFE,
           "none": None}


def register(subparsers: Subparsers) -> None:
    parser = add_command(subparsers, "diff", "classify spec changes since a release or ref",
                         DESCRIPTION, EXAMPLES)
    parser.add_argument("path", nargs="?", type=Path, default=Path("."), metavar="PATH",
                        help="a spec file or folder of the workspace (default: .)")
    parser.add_argument("--base", metavar="REF|LOCKFILE",
                        help=f"a git ref or a lock file to compare with (default: {LOCK_NAME})")
    parser.add_argument("--format", choices=("text", "json", "sarif", "markdown"),
                        default="text", help="output format (default: text)")
    parser.add_argument("--fail-on", choices=tuple(FAIL_ON), default="breaking",
                        help="exit 1 on an unapproved change of this level or worse "
                             "(default: breaking)")
    add_color_option(parser)
    parser.set_defaults(handler=run)


def _base(root: Path, base: str | None) -> tuple[Json, str]:
    """The base lock and how to name it."""
    try:
        if base is None:
            return default_base(root), LOCK_NAME
        if Path(base).is_file():
            return lock_base(Path(base), shown_path(Path(base))), shown_path(Path(base))
        return git_base(root, base), base
    except BaseError as error:
        raise UsageError(str(error)) from error


def run(args: argparse.Namespace) -> int:
    analysis = analyze_workspace([args.path])
    errors = [d for d in analysis.errors if not d.code.startswith("CS6")]  # lock checks aside
    if errors:
        renderer = TextRenderer(analysis.sources, path_shower(analysis),
                                use_color(args.color, sys.stderr))
        for diag in errors:
            print(renderer.diagnostic(diag) + "\n", file=sys.stderr)
        print(f"{plural(len(errors), 'error')} in the specs: fix them before comparing",
              file=sys.stderr)
        return EXIT_ERRORS
    root = analysis.config.root
    base, name = _base(root, args.base)
    changes = analyse_changes(base, analysis.program, analysis.sources)
    threshold = FAIL_ON[args.fail_on]
    show = path_shower(analysis)
    if args.format == "json":
        output = json_report(changes, threshold, name, show)
    elif args.format == "sarif":
        output = sarif_report(changes, root, lambda file: disk_path(analysis, file))
    elif args.format == "markdown":
        output = markdown_report(changes, threshold, name, show)
    else:
        output = text_report(changes, threshold, show, use_color(args.color, sys.stdout))
    sys.stdout.write(output + "\n")
    return EXIT_ERRORS if any(c.fails(threshold) for c in changes) else EXIT_OK
