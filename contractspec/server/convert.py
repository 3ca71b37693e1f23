"""Conversions between the IDE layer (code points, spans, display paths) and LSP
(positions in the negotiated encoding, ranges, URIs)."""

from __future__ import annotations

import re
from pathlib import Path

from lsprotocol import types as lsp
from pygls.uris import from_fs_path, to_fs_path

from contractspec.diagnostics import Diagnostic, Severity
from contractspec.ide.host import Host
from contractspec.source import SourceFile, Span

SEVERITIES = {
    Severity.ERROR: lsp.DiagnosticSeverity.Error,
    Severity.WARNING: lsp.DiagnosticSeverity.Warning,
    Severity.INFO: lsp.DiagnosticSeverity.Information,
    Severity.HINT: lsp.DiagnosticSeverity.Hint,
}
UNNECESSARY = frozenset({"CS121"})  # shown faded by editors
_LINE_END = re.compile(r"\r\n|\r|\n")  # LSP's line ends (not Unicode's other separators)


class Positions:
    """Columns in the client's units: UTF-16 code units (the default), UTF-8 bytes or
    code points (UTF-32)."""

    def __init__(self, encoding: str = "utf-16") -> None:
        self.encoding = encoding  # "utf-8", "utf-16" or "utf-32"

    def units(self, text: str) -> int:
        if self.encoding == "utf-8":
            return len(text.encode("utf-8", errors="surrogatepass"))
        if self.encoding == "utf-32":
            return len(text)
        return len(text) + sum(1 for c in text if ord(c) > 0xFFFF)

    def position(self, source: SourceFile, line: int, col: int) -> lsp.Position:
        """1-based line and code-point column -> LSP position."""
        text = source.line_text(line)
        return lsp.Position(line=max(line - 1, 0), character=self.units(text[:max(col - 1, 0)]))

    def range(self, source: SourceFile | None, span: Span) -> lsp.Range:
        if source is None:  # no text to measure: code points are the best guess
            return lsp.Range(lsp.Position(line=span.start_line - 1, character=span.start_col - 1),
                             lsp.Position(line=span.end_line - 1, character=span.end_col - 1))
        return lsp.Range(self.position(source, span.start_line, span.start_col),
                         self.position(source, span.end_line, span.end_col))

    def offset(self, source: SourceFile, position: lsp.Position) -> int:
        """LSP position -> code-point offset, clamped to the text."""
        line = position.line + 1
        if line > source.line_count:
            return len(source.text)
        text = source.line_text(line)
        units = 0
        col = 0
        for char in text:
            if units >= position.character:
                break
            units += self.units(char)
            col += 1
        return source.offset(line, col + 1)


def edit_offset(text: str, position: lsp.Position, positions: Positions) -> int:
    """The code-point offset of an LSP position in `text`, as the protocol says: lines end at
    `\n`, `\r\n` or `\r`; past the end of a line means its end (before the line end), past
    the last line the end of the text; inside a character (half a surrogate pair, part of a
    UTF-8 sequence) rounds to after it."""
    start = 0
    for _ in range(position.line):
        found = _LINE_END.search(text, start)
        if found is None:
            return len(text)
        start = found.end()
    found = _LINE_END.search(text, start)
    end = found.start() if found is not None else len(text)
    units = 0
    for k in range(start, end):
        if units >= position.character:
            return k
        units += positions.units(text[k])
    return end


def apply_change(text: str, change: lsp.TextDocumentContentChangeEvent,
                 positions: Positions) -> str:
    """`text` after one `didChange` content change (a range given backwards is reordered)."""
    if not isinstance(change, lsp.TextDocumentContentChangePartial):
        return change.text
    a = edit_offset(text, change.range.start, positions)
    b = edit_offset(text, change.range.end, positions)
    a, b = min(a, b), max(a, b)
    return text[:a] + change.text + text[b:]


class Paths:
    """URIs <-> the display paths the analysis uses."""

    def __init__(self, host: Host) -> None:
        self.host = host

    def uri(self, name: str) -> str:
        return from_fs_path(str(self.host.disk_path(name))) or f"file://{name}"

    def name(self, uri: str) -> str | None:
        path = to_fs_path(uri)
        if path is None:
            return None
        return self.host.display(Path(path))


def diagnostic(d: Diagnostic, source: SourceFile | None, positions: Positions,
               paths: Paths, sources: dict[str, SourceFile]) -> lsp.Diagnostic:
    message = d.message + (f"\nhelp: {d.help}" if d.help else "")
    related = [lsp.DiagnosticRelatedInformation(
        location=lsp.Location(uri=paths.uri(r.span.file),
                              range=positions.range(sources.get(r.span.file), r.span)),
        message=r.message) for r in d.related]
    return lsp.Diagnostic(
        range=positions.range(source, d.span),
        message=message,
        severity=SEVERITIES[d.severity],
        code=d.code,
        source="cspec",
        related_information=related or None,
        tags=[lsp.DiagnosticTag.Unnecessary] if d.code in UNNECESSARY else None,
    )
