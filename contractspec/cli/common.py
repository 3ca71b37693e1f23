"""What every command shares: exit codes, help layout, colour choice, path display."""

from __future__ import annotations

import argparse
import os
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from contractspec.analysis import Analysis

if TYPE_CHECKING:
    Subparsers = argparse._SubParsersAction[argparse.ArgumentParser]

EXIT_OK = 0  # clean (warnings allowed)
EXIT_ERRORS = 1  # errors found (or files that `fmt --check` would change)
EXIT_USAGE = 2  # usage or I/O error: bad arguments, missing path, bad cspec.toml
EXIT_INTERNAL = 3  # a bug in cspec: please report it


class UsageError(Exception):
    """A problem with what the user asked for (exit code 2)."""


def add_command(subparsers: Subparsers, name: str, summary: str, description: str,
                examples: list[tuple[str, str]]) -> argparse.ArgumentParser:
    """A subcommand parser whose help shows a description and worked examples."""
    width = max(len(cmd) for cmd, _ in examples)
    lines = [f"  {cmd.ljust(width)}  # {what}" for cmd, what in examples]
    return subparsers.add_parser(
        name, help=summary, description=textwrap.dedent(description).strip(),
        epilog="examples:\n" + "\n".join(lines),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )


def add_color_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--color", choices=("auto", "always", "never"), default="auto",
        help="colour the output: auto (default) colours a terminal unless NO_COLOR is set",
    )


def use_color(choice: str, stream: TextIO) -> bool:
    """Whether to colour `stream`: `always`, `never`, or (auto) a terminal without NO_COLOR."""
    if choice != "auto":
        return choice == "always"
    if os.environ.get("NO_COLOR") or os.environ.get("TERM") == "dumb":
        return False
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


def shown_path(path: Path) -> str:
    """A path as the user would type it: relative to the current folder when inside it."""
    absolute = Path(os.path.abspath(path))
    try:
        return absolute.relative_to(Path.cwd()).as_posix()
    except ValueError:
        return absolute.as_posix()


def disk_path(analysis: Analysis, file: str) -> Path:
    """The file on disk behind a diagnostic's file name."""
    return analysis.paths.get(file) or analysis.config.root / file


def path_shower(analysis: Analysis) -> Callable[[str], str]:
    """Turns a diagnostic's file name into the path to show (the std library as `<std>/…`)."""

    def show(file: str) -> str:
        return file if file.startswith("<") else shown_path(disk_path(analysis, file))

    return show


def err(message: str) -> None:
    """Print a one-line problem to stderr."""
    print(f"cspec: {message}", file=sys.stderr)
