"""A light scanner for error recovery: brace depth per line, declaration boundaries.

It knows just enough of the lexical grammar (strings, `\"\"\"` blocks, comments) to count
braces correctly; everything else is the parser's business.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from contractspec.source import GRAMMAR_WHITESPACE

DECLARATION_KEYWORDS = frozenset(
    {
        "module", "use", "enum", "type", "entity", "permission", "role", "grant", "policy",
        "command", "query", "event", "workflow", "job", "on", "schedule", "notification",
        "flag", "experiment", "critical", "attachments", "metric", "plan", "track", "view",
        "agent",
    }
)
_FIRST_WORD = re.compile(r"[ \t]*([A-Za-z_][A-Za-z0-9_]*)")
MAX_NESTING = 256
_WHITESPACE = frozenset(GRAMMAR_WHITESPACE)
_INDENT = _WHITESPACE - {"\n"}


@dataclass
class LineInfo:
    start: int  # offset of the line in the text
    end: int  # offset of its newline (or end of text)
    depth_before: int  # brace depth at the start of the line
    opens: int = 0
    closes: int = 0
    in_string: bool = False  # the line starts inside a `\"\"\"` block
    doc: bool = False  # the line is a `///` doc comment
    blank: bool = True  # only whitespace or comments


def scan_lines(text: str) -> list[LineInfo]:
    """Per-line brace counts, ignoring braces in strings and comments."""
    lines: list[LineInfo] = []
    depth = 0
    i = 0
    n = len(text)
    in_triple = False
    line = LineInfo(0, 0, 0)
    while True:
        line = LineInfo(i, i, depth, in_string=in_triple)
        k = i
        while k < n and text[k] in _INDENT:  # `\r///` too: the grammar's DOC follows any WS
            k += 1
        if not in_triple and text[k : k + 3] == "///" and text[k : k + 4] != "////":
            line.doc = True
        j = i
        while j < n and text[j] != "\n":
            c = text[j]
            if in_triple:
                if text.startswith('"""', j):
                    in_triple = False
                    j += 3
                    continue
                line.blank = False
            elif c == "/" and text.startswith("//", j):
                j = text.find("\n", j)
                j = n if j == -1 else j
                break
            elif c == '"':
                line.blank = False
                if text.startswith('"""', j):
                    in_triple = True
                    j += 3
                    continue
                j += 1
                while j < n and text[j] not in '"\n':
                    j += 2 if text[j] == "\\" else 1
            elif c == "{":
                line.blank = False
                line.opens += 1
                depth += 1
            elif c == "}":
                line.blank = False
                line.closes += 1
                depth = max(depth - 1, 0)
            elif c not in _WHITESPACE:
                line.blank = False
            j += 1
        line.end = min(j, n)
        lines.append(line)
        if j >= n:
            break
        i = j + 1
    return lines


@dataclass
class Chunk:
    """One top-level declaration's text range (with its doc comments)."""

    start: int
    end: int
    lines: list[LineInfo] = field(default_factory=list)
    blanked: set[int] = field(default_factory=set)

    def header_index(self) -> int:
        for k, line in enumerate(self.lines):
            if not line.blank and not line.doc:
                return k
        return 0

    def line_index(self, absolute: int) -> int:
        return next(
            (k for k, ln in enumerate(self.lines) if ln.start <= absolute <= ln.end),
            len(self.lines) - 1,
        )

    def previous_line_end(self, text: str, offset: int) -> int | None:
        """Chunk-relative end of the last non-blank line before the line of `offset`."""
        index = self.line_index(self.start + offset)
        for k in range(index - 1, self.header_index() - 1, -1):
            if not self.lines[k].blank and k not in self.blanked:
                return self.lines[k].end - self.start
        return None

    def repair(self, text: str, offset: int) -> str | None:
        """Blank the line holding `offset` (or the nested block it opens) and return the
        new chunk text; None when the declaration cannot be recovered."""
        index = self.line_index(self.start + offset)
        if offset >= len(text.rstrip()):
            # Ran out of text: close what is still open, once.
            depth = sum(ln.opens - ln.closes for k, ln in enumerate(self.lines)
                        if k not in self.blanked)
            if depth <= 0 or depth > MAX_NESTING or -1 in self.blanked:
                return None
            self.blanked.add(-1)
            return text + "\n" + "}" * depth
        if index <= self.header_index() or index in self.blanked:
            return None
        last = index
        line = self.lines[index]
        if line.opens > line.closes:
            for k in range(index + 1, len(self.lines)):
                after = self.lines[k].depth_before + self.lines[k].opens - self.lines[k].closes
                last = k
                if after <= line.depth_before:
                    break
        chars = list(text)
        for k in range(index, last + 1):
            ln = self.lines[k]
            self.blanked.add(k)
            for pos in range(ln.start - self.start, ln.end - self.start):
                if chars[pos] != "\n" and not (
                    index == last and chars[pos] == "}" and ln.closes > ln.opens
                ):
                    chars[pos] = " "
        return "".join(chars)


def split_declarations(text: str) -> list[Chunk]:
    """Cut a file into top-level declarations: a chunk starts at a line at brace depth 0
    whose first word is a declaration keyword (its `///` lines go with it)."""
    lines = scan_lines(text)
    starts: list[int] = []
    pending_doc: int | None = None
    for k, line in enumerate(lines):
        if line.doc and line.depth_before == 0:
            if pending_doc is None:
                pending_doc = k
            continue
        if line.blank:
            continue
        if line.depth_before == 0 and not line.in_string:
            match = _FIRST_WORD.match(text, line.start, line.end)
            if match and match.group(1) in DECLARATION_KEYWORDS:
                starts.append(pending_doc if pending_doc is not None else k)
        pending_doc = None
    if not any(not line.blank or line.doc for line in lines):
        return []  # nothing but whitespace and `//` comments (`///` needs a declaration)
    if not starts:
        starts = [0]  # no declaration at all: the whole text is one (broken) chunk
    starts[0] = 0
    chunks = []
    for a, b in zip(starts, [*starts[1:], len(lines)], strict=True):
        start = lines[a].start
        end = lines[b].start if b < len(lines) else len(text)
        chunks.append(Chunk(start, end, lines[a:b]))
    return chunks
