"""The `cspec` entry point: parse the arguments, run one command, turn problems into exit
codes. Nothing escapes as a traceback: an unexpected exception is an internal error (3)."""

from __future__ import annotations

import argparse
import gc
import importlib
import os
import sys
import traceback
from collections.abc import Callable, Sequence

from contractspec import __version__
from contractspec.cli.common import (
    EXIT_ERRORS,
    EXIT_INTERNAL,
    EXIT_OK,
    EXIT_USAGE,
    UsageError,
    err,
)
from contractspec.workspace.config import ConfigError
from contractspec.workspace.loader import WorkspaceError

# Every command: a module `contractspec.cli.<name>` with `register(subparsers)`.
COMMANDS = ("check", "fmt", "ir", "init", "release", "diff", "gen", "lsp")

DESCRIPTION = """\
cspec: the ContractSpec compiler for .cspec specs.

Run `cspec COMMAND --help` for a command's options and examples.
"""

EPILOG = f"""\
examples:
  cspec init myapp         # create a workspace with a starter spec
  cspec check              # check the workspace of the current folder
  cspec fmt --check        # fail if a spec is not formatted
  cspec ir > ir.json       # print the IR as JSON

exit codes:
  {EXIT_OK}  success (warnings allowed)
  {EXIT_ERRORS}  errors found (or, with fmt --check, files to reformat)
  {EXIT_USAGE}  usage or I/O error: bad arguments, missing path, bad cspec.toml
  {EXIT_INTERNAL}  internal error in cspec (please report it)

environment:
  NO_COLOR   set to turn colours off (see also --color)
"""

Handler = Callable[[argparse.Namespace], int]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cspec", description=DESCRIPTION, epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"cspec {__version__}")
    subparsers = parser.add_subparsers(title="commands", metavar="COMMAND")
    for name in COMMANDS:
        importlib.import_module(f"contractspec.cli.{name}").register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run `cspec` with `argv` (default: the process's arguments); the exit code."""
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            reconfigure(errors="backslashreplace")
    try:
        return _run(list(sys.argv[1:] if argv is None else argv))
    except KeyboardInterrupt:
        err("interrupted")
        return 130
    except BrokenPipeError:
        # The reader went away (`cspec ir | head`): stop quietly.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_USAGE
    except Exception as error:  # the last guard: never a bare traceback
        err(f"internal error: {type(error).__name__}: {error}")
        if os.environ.get("CSPEC_DEBUG"):
            traceback.print_exc()
        print("This is a bug in cspec: please report it with the command you ran "
              "(set CSPEC_DEBUG=1 to see the traceback).", file=sys.stderr)
        return EXIT_INTERNAL


BATCH_GC_THRESHOLD = (100_000, 50, 100)


def _run(argv: list[str]) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:  # --help, --version and argument errors
        return exit_.code if isinstance(exit_.code, int) else EXIT_USAGE
    handler: Handler | None = getattr(args, "handler", None)
    if handler is None:
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    if argv[:1] != ["lsp"]:
        # A one-shot run builds a large object graph that lives until exit: collect the
        # young generation far less often (as mypy does). `cspec gen` on 1000 entities
        # spends 40% less CPU in the generators (docs/performance.md).
        gc.set_threshold(*BATCH_GC_THRESHOLD)
    try:
        return handler(args)
    except (UsageError, WorkspaceError, ConfigError) as error:
        err(str(error))
        return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
