"""`cspec release`: record the public contracts of a workspace in `cspec.lock`."""

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
    path_shower,
    shown_path,
    use_color,
)
from contractspec.cli.render import TextRenderer, plural
from contractspec.evolve.lock import LOCK_NAME, build_lock, canonical, write_lock

if TYPE_CHECKING:
    from contractspec.cli.common import Subparsers

DESCRIPTION = f"""
Write {LOCK_NAME} at the workspace root: a snapshot of every public contract of the
workspace's own modules (operation and event versions, entities, workflows, permissions,
grants, policies, jobs), each with a hash. Commit it with the release. From then on,
`cspec check` reports a released operation or event version that changed in place (CS601)
or disappeared (CS602): add a new version beside it instead.

Nothing is written while the specs have errors (an unreadable old lock aside, which is
replaced). The file is canonical JSON, so releasing twice without changes rewrites nothing.
"""

EXAMPLES = [
    ("cspec release", "lock the workspace of the current folder"),
    ("cspec release spec --version 1.4.0", "label the lock with the release version"),
]


def register(subparsers: Subparsers) -> None:
    parser = add_command(subparsers, "release", f"record released contracts in {LOCK_NAME}",
                         DESCRIPTION, EXAMPLES)
    parser.add_argument("path", nargs="?", type=Path, default=Path("."), metavar="PATH",
                        help="a spec file or folder of the workspace (default: .)")
    parser.add_argument("--version", dest="release", metavar="X",
                        help="the release's version, recorded in the lock (e.g. 1.4.0)")
    add_color_option(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    if args.release is not None and not args.release.strip():
        raise UsageError("--version needs a value such as 1.4.0")
    analysis = analyze_workspace([args.path])
    errors = [d for d in analysis.errors if d.code != "CS603"]
    if errors:
        renderer = TextRenderer(analysis.sources, path_shower(analysis),
                                use_color(args.color, sys.stderr))
        for diag in errors:
            print(renderer.diagnostic(diag) + "\n", file=sys.stderr)
        print(f"{plural(len(errors), 'error')} in the specs: {LOCK_NAME} was not written",
              file=sys.stderr)
        return EXIT_ERRORS
    path = analysis.config.root / LOCK_NAME
    lock = build_lock(analysis.program, args.release)
    try:
        unchanged = path.is_file() and path.read_bytes() == canonical(lock).encode("utf-8")
        write_lock(analysis.config.root, analysis.program, args.release)
    except OSError as error:
        raise UsageError(f"cannot write {shown_path(path)}: {error.strerror or error}") from error
    modules = lock["modules"]
    operations = sum(len(v) for m in modules.values() for v in m["operations"].values())
    events = sum(len(v) for m in modules.values() for v in m["events"].values())
    verb = "is up to date" if unchanged else "written"
    print(f"{shown_path(path)} {verb}: {plural(len(modules), 'module')}, "
          f"{plural(operations, 'operation version')}, {plural(events, 'event version')}")
    return EXIT_OK
