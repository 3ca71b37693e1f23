"""`cspec ir`: print the IR of a workspace as JSON."""

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
    use_color,
)
from contractspec.cli.render import TextRenderer, plural
from contractspec.ir.serialize import program_json

if TYPE_CHECKING:
    from contractspec.cli.common import Subparsers

DESCRIPTION = """
Print the IR of a workspace (every module, the standard-library ones it uses included) as
JSON with a stable key order; docs/ir.md describes it and docs/ir.schema.json is its schema.

The IR is printed even when the specs have errors (the broken parts are left out), so that
tools can still look at it; the errors go to stderr and the exit code is then 1.
"""

EXAMPLES = [
    ("cspec ir > ir.json", "the IR of the current folder's workspace"),
    ("cspec ir spec --module crm", "only the module `crm`"),
    ("cspec ir --no-spans", "without source positions, for diffs"),
]


def register(subparsers: Subparsers) -> None:
    parser = add_command(subparsers, "ir", "print the IR as JSON", DESCRIPTION, EXAMPLES)
    parser.add_argument("path", nargs="?", type=Path, default=Path("."), metavar="PATH",
                        help="a spec file or folder of the workspace (default: .)")
    parser.add_argument("--module", metavar="NAME", help="print only this module")
    parser.add_argument("--no-spans", action="store_true",
                        help="leave out source spans (file, lines, columns, offsets)")
    add_color_option(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    analysis = analyze_workspace([args.path])
    program = analysis.program
    if args.module is not None:
        module = program.module(args.module)
        if module is None:
            names = ", ".join(m.name for m in program.modules) or "none"
            raise UsageError(f"no module `{args.module}` in this workspace (modules: {names})")
        program = program.model_copy(update={"modules": (module,)})
    sys.stdout.write(program_json(program, spans=not args.no_spans) + "\n")
    sys.stdout.flush()
    errors = analysis.errors
    if errors:
        renderer = TextRenderer(analysis.sources, path_shower(analysis),
                                use_color(args.color, sys.stderr))
        for diag in errors:
            print(renderer.diagnostic(diag) + "\n", file=sys.stderr)
        print(f"{plural(len(errors), 'error')} in the specs: the IR was printed all the same "
              "(run `cspec check` to see warnings too)", file=sys.stderr)
    return EXIT_ERRORS if errors else EXIT_OK
