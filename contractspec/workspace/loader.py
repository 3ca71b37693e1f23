"""Finding and reading spec files: workspace folders, `use … from` paths, the standard library.

Reading never raises on bad input: unreadable, binary, non-UTF-8, oversized and empty files
become diagnostics on that file.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from contractspec.diagnostics import Diagnostic, Severity
from contractspec.source import GRAMMAR_WHITESPACE, SourceFile, display_path

SPEC_SUFFIX = ".cspec"
STD_DIR = Path(__file__).resolve().parent.parent / "std"
_BINARY_PROBE = 8192


class WorkspaceError(Exception):
    """A usage or I/O problem that stops analysis before it starts (exit code 2)."""


@dataclass
class ReadResult:
    source: SourceFile
    diagnostics: list[Diagnostic]
    ok: bool


def file_diagnostic(path: str, code: str, message: str, severity: Severity = Severity.ERROR,
                    source: SourceFile | None = None, offset: int = 0) -> Diagnostic:
    src = source or SourceFile(path, "")
    return Diagnostic(code=code, severity=severity, message=message,
                      span=src.span(offset, offset))


def read_spec(path: Path, display: str, max_bytes: int) -> ReadResult:
    """Read one spec file, turning every kind of bad input into a diagnostic."""
    empty = SourceFile(display, "")
    try:
        size = path.stat().st_size
        if size > max_bytes:
            message = (f"file is too large to check ({size / 1_048_576:.1f} MB; the limit is "
                       f"{max_bytes / 1_048_576:.1f} MB, set by `max_file_bytes` in cspec.toml)")
            return ReadResult(empty, [file_diagnostic(display, "CS113", message)], False)
        data = path.read_bytes()
    except OSError as error:
        message = f"cannot read file: {error.strerror or error}"
        return ReadResult(empty, [file_diagnostic(display, "CS110", message)], False)
    return decode_spec(data, display)


def decode_spec(data: bytes, display: str) -> ReadResult:
    empty = SourceFile(display, "")
    if b"\x00" in data[:_BINARY_PROBE]:
        message = "file looks binary (it contains NUL bytes), not like a .cspec text file"
        return ReadResult(empty, [file_diagnostic(display, "CS111", message)], False)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        good = SourceFile(display, data[: error.start].decode("utf-8", errors="replace"))
        message = (f"file is not valid UTF-8 (byte 0x{data[error.start]:02x} at offset "
                   f"{error.start}); save it as UTF-8")
        return ReadResult(good, [file_diagnostic(display, "CS112", message, source=good,
                                                 offset=len(good.text))], False)
    if text.startswith("\ufeff"):
        text = " " + text[1:]  # keep offsets; the byte-order mark is whitespace to the parser
    blank = empty_file(display, text)
    return ReadResult(SourceFile(display, text), [blank] if blank else [], blank is None)


def empty_file(display: str, text: str) -> Diagnostic | None:
    """CS114 when `text` holds nothing but the grammar's whitespace (space, tab, CR, LF, form
    feed, byte-order mark); other characters, Unicode's other spaces included, are parsed
    (and refused there)."""
    if text.strip(GRAMMAR_WHITESPACE):
        return None
    return file_diagnostic(display, "CS114", "file is empty: start it with `module <name>`",
                           Severity.WARNING)


def spec_files_under(folder: Path) -> list[Path]:
    """Every `.cspec` file below a folder, in a stable order, skipping hidden folders (which
    are not walked at all: a `.venv` or `.git` costs nothing)."""
    found = []
    for top, folders, files in os.walk(folder):
        folders[:] = [name for name in folders if not name.startswith(".")]
        found += [Path(top, name) for name in files if name.endswith(SPEC_SUFFIX)]
    return sorted(path for path in found if path.is_file())


def std_modules() -> dict[str, Path]:
    """Standard-library module name -> file."""
    return {p.stem: p for p in sorted(STD_DIR.glob(f"*{SPEC_SUFFIX}"))}


def std_display(path: Path) -> str:
    return f"<std>/{path.name}"


def display(path: Path, root: Path) -> str:
    return display_path(path, root)
