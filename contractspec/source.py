"""Source files and positions: offsets, 1-based lines and columns, spans."""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import BaseModel, ConfigDict

# the grammar's whitespace (its WS token): Unicode's other spaces are not whitespace to it
GRAMMAR_WHITESPACE = " \t\r\n\f\ufeff"


class Span(BaseModel):
    """A range of source text. Lines and columns are 1-based; columns count code points.

    `end_line`/`end_col` point one past the last character, like offsets.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    file: str
    start_line: int
    start_col: int
    end_line: int
    end_col: int
    start_offset: int
    end_offset: int

    def contains(self, offset: int) -> bool:
        return self.start_offset <= offset <= self.end_offset


# Every span `SourceFile.span` builds shares this fields-set (all fields are set). That is
# safe: spans are frozen, and pydantic copies the set before changing it (`model_copy`).
_SPAN_FIELDS = set(Span.model_fields)
_new = object.__new__
_set = object.__setattr__


@dataclass
class SourceFile:
    """The text of one spec file with a line index for offset/position conversions."""

    path: str
    text: str
    _line_starts: list[int] = field(default_factory=list, repr=False)

    def __post_init__(self) -> None:
        starts = [0]
        find = self.text.find
        pos = find("\n")
        while pos != -1:
            starts.append(pos + 1)
            pos = find("\n", pos + 1)
        self._line_starts = starts

    @property
    def line_count(self) -> int:
        return len(self._line_starts)

    def position(self, offset: int) -> tuple[int, int]:
        """1-based (line, column) of a code-point offset."""
        offset = max(0, min(offset, len(self.text)))
        line = bisect_right(self._line_starts, offset) - 1
        return line + 1, offset - self._line_starts[line] + 1

    def offset(self, line: int, col: int) -> int:
        """Code-point offset of a 1-based (line, column), clamped to the text."""
        if line < 1:
            return 0
        if line > len(self._line_starts):
            return len(self.text)
        start = self._line_starts[line - 1]
        end = self._line_starts[line] - 1 if line < len(self._line_starts) else len(self.text)
        return min(start + max(col, 1) - 1, end)

    def line_text(self, line: int) -> str:
        """The text of a 1-based line, without its newline."""
        if not 1 <= line <= len(self._line_starts):
            return ""
        start = self._line_starts[line - 1]
        end = self._line_starts[line] - 1 if line < len(self._line_starts) else len(self.text)
        return self.text[start:end].rstrip("\r")

    def span(self, start: int, end: int) -> Span:
        """A span between two code-point offsets.

        Built without validation (the values are computed here): equal to `Span(...)` with
        the same values (tests/test_performance_paths.py), in half the time and a third of
        the memory, which counts when a workspace holds hundreds of thousands of spans.
        """
        starts = self._line_starts
        size = len(self.text)
        first = start if 0 <= start <= size else max(0, min(start, size))
        last = end if 0 <= end <= size else max(0, min(end, size))
        start_line = bisect_right(starts, first)
        end_line = start_line if last == first else bisect_right(
            starts, last, start_line - 1 if last > first else 0)
        if end_line == start_line:
            end_line = start_line  # one int object for both: most spans sit on one line
        span = _new(Span)
        _set(span, "__dict__", {
            "file": self.path, "start_line": start_line,
            "start_col": first - starts[start_line - 1] + 1, "end_line": end_line,
            "end_col": last - starts[end_line - 1] + 1, "start_offset": start, "end_offset": end,
        })
        _set(span, "__pydantic_fields_set__", _SPAN_FIELDS)
        _set(span, "__pydantic_extra__", None)
        _set(span, "__pydantic_private__", None)
        return span


def display_path(path: Path, root: Path | None = None) -> str:
    """A stable, readable path: relative to `root` when inside it, POSIX separators."""
    if root is not None:
        try:
            return path.resolve().relative_to(root.resolve()).as_posix()
        except ValueError:
            pass
    return path.as_posix()
