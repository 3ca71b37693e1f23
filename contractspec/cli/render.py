"""Diagnostics as text, the way rustc and ruff show them: a header, the location, a code
frame with line numbers and the span underlined, then help and notes.

Columns are code points; the frame expands tabs and counts wide (East Asian) characters as
two cells and combining marks as none, so the carets sit under the right characters.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from contractspec.diagnostics import Diagnostic, Severity
from contractspec.source import SourceFile, Span

TAB_WIDTH = 4
MAX_FRAME_LINES = 4  # a longer span shows its first lines, `...`, and its last line
MAX_LINE_CHARS = 200  # a longer line is cut to a window around the span

_RESET = "\x1b[0m"
_BOLD = "1"
_SEVERITY_STYLE = {
    Severity.ERROR: "1;31",
    Severity.WARNING: "1;33",
    Severity.INFO: "1;36",
    Severity.HINT: "1;36",
}
_GUTTER_STYLE = "1;34"


def char_width(ch: str) -> int:
    """Terminal cells taken by one code point (tabs are expanded by the caller)."""
    if ch == "\t":
        return TAB_WIDTH
    if unicodedata.combining(ch) or unicodedata.category(ch) in ("Mn", "Me", "Cf"):
        return 0
    return 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1


def printable(text: str) -> str:
    """A line as it is shown: tabs expanded, control characters replaced."""
    out = []
    for ch in text:
        if ch == "\t":
            out.append(" " * TAB_WIDTH)
        elif unicodedata.category(ch) == "Cc":
            out.append("\ufffd")
        else:
            out.append(ch)
    return "".join(out)


def width(text: str) -> int:
    return sum(char_width(ch) for ch in text)


@dataclass(frozen=True)
class _Row:
    """One frame line: its number, its text, and the 1-based columns to underline."""

    number: int
    text: str
    start: int
    end: int
    underline: bool = True


class TextRenderer:
    """Renders diagnostics of one analysis; `path_of` turns a span's file into what to show."""

    def __init__(self, sources: Mapping[str, SourceFile], path_of: Callable[[str], str],
                 color: bool) -> None:
        self.sources = sources
        self.path_of = path_of
        self.color = color

    def paint(self, text: str, style: str) -> str:
        return f"\x1b[{style}m{text}{_RESET}" if self.color and text else text

    def location(self, span: Span) -> str:
        return f"{self.path_of(span.file)}:{span.start_line}:{span.start_col}"

    def diagnostic(self, diag: Diagnostic) -> str:
        style = _SEVERITY_STYLE[diag.severity]
        header = (self.paint(f"{diag.severity.value}[{diag.code}]", style)
                  + self.paint(f": {diag.message}", _BOLD))
        rows = self._rows(diag.span)
        gutter = len(str(max((r.number for r in rows), default=diag.span.start_line)))
        pad = " " * gutter
        lines = [header, f"{pad}{self.paint('-->', _GUTTER_STYLE)} {self.location(diag.span)}"]
        bar = self.paint("|", _GUTTER_STYLE)
        if rows:
            lines.append(f"{pad} {bar}")
            previous = None
            for row in rows:
                if previous is not None and row.number > previous + 1:
                    lines.append(self.paint("...", _GUTTER_STYLE))
                previous = row.number
                number = self.paint(str(row.number).rjust(gutter), _GUTTER_STYLE)
                lines.append(f"{number} {bar} {printable(row.text)}".rstrip())
                if not row.underline:
                    continue
                lead = width(row.text[: row.start - 1]) + max(0, row.start - 1 - len(row.text))
                carets = max(1, width(row.text[row.start - 1: row.end - 1]))
                lines.append(f"{pad} {bar} {' ' * lead}{self.paint('^' * carets, style)}")
        notes = []
        if diag.help:
            notes.append(f"{self.paint('help', _BOLD)}: {diag.help}")
        elif diag.fixes:
            notes.append(f"{self.paint('fix', _BOLD)}: {diag.fixes[0].title}")
        for related in diag.related:
            notes.append(f"{self.paint('note', _BOLD)}: {related.message} "
                         f"{self.paint('-->', _GUTTER_STYLE)} {self.location(related.span)}")
        lines.extend(f"{pad} {self.paint('=', _GUTTER_STYLE)} {note}" for note in notes)
        return "\n".join(lines)

    def _rows(self, span: Span) -> list[_Row]:
        source = self.sources.get(span.file)
        if source is None or not source.text:
            return []
        first, last = span.start_line, span.end_line
        if last > first and span.end_col == 1:  # the span stops at a line break
            last -= 1
        last = max(first, min(last, source.line_count))
        numbers = list(range(first, last + 1))
        if len(numbers) > MAX_FRAME_LINES:
            numbers = [*numbers[: MAX_FRAME_LINES - 1], last]
        rows = []
        for number in numbers:
            text = source.line_text(number)
            indent = len(text) - len(text.lstrip()) + 1
            start = span.start_col if number == first else min(indent, len(text) + 1)
            end = span.end_col if number == span.end_line else len(text) + 1
            inner = first < number < span.end_line
            rows.append(_window(_Row(number, text, start, max(start, end),
                                     underline=not (inner and not text.strip()))))
        return rows


def _window(row: _Row) -> _Row:
    """Cut an overlong line to a window around the underlined columns."""
    if len(row.text) <= MAX_LINE_CHARS:
        return row
    begin = max(0, row.start - 1 - MAX_LINE_CHARS // 4)
    stop = begin + MAX_LINE_CHARS
    text = row.text[begin:stop]
    prefix = "…" if begin else ""
    suffix = "…" if stop < len(row.text) else ""
    shift = begin - len(prefix)
    end = min(row.end - shift, len(prefix) + len(text) + 1)
    return _Row(row.number, prefix + text + suffix, row.start - shift,
                max(row.start - shift, end), row.underline)


def count(diagnostics: Iterable[Diagnostic]) -> dict[Severity, int]:
    counts = dict.fromkeys(Severity, 0)
    for diag in diagnostics:
        counts[diag.severity] += 1
    return counts


_PLURALS = {"error": "errors", "warning": "warnings", "info": "info", "hint": "hints",
            "file": "files"}


def plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {_PLURALS.get(word, word + 's')}"


def summary_line(diagnostics: Iterable[Diagnostic], files: int, color: bool) -> str:
    """`2 errors, 1 warning in 3 files`, or `no problems in 3 files`."""
    counts = count(diagnostics)
    parts = [plural(counts[s], s.value) for s in Severity if counts[s]]
    where = plural(files, "file")
    if not parts:
        text = f"no problems in {where}"
        return f"\x1b[1;32m{text}{_RESET}" if color else text
    text = f"{', '.join(parts)} in {where}"
    style = _SEVERITY_STYLE[Severity.ERROR] if counts[Severity.ERROR] else _BOLD
    return f"\x1b[{style}m{text}{_RESET}" if color else text
