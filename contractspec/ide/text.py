"""Small text helpers shared by the IDE features: words, name segments, sub-spans."""

from __future__ import annotations

import re

from contractspec.source import SourceFile, Span

WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_DOTTED_TAIL = re.compile(r"[A-Za-z0-9_.]*\Z")


def segments(source: SourceFile, span: Span, count: int | None = None,
             skip: int = 0) -> list[Span]:
    """The spans of the words inside `span` (after skipping `skip` words), at most `count`."""
    found: list[Span] = []
    pos = span.start_offset
    text = source.text
    while pos < span.end_offset:
        match = WORD.search(text, pos, span.end_offset)
        if match is None:
            break
        pos = match.end()
        if skip:
            skip -= 1
            continue
        found.append(source.span(match.start(), match.end()))
        if count is not None and len(found) == count:
            break
    return found


def join(first: Span, last: Span) -> Span:
    """The span from the start of `first` to the end of `last`."""
    return first.model_copy(update={"end_line": last.end_line, "end_col": last.end_col,
                                    "end_offset": last.end_offset})


def word_before(text: str, offset: int) -> str:
    """The dotted word (`identity.Us`, `self.`) that ends at `offset`."""
    match = _DOTTED_TAIL.search(text, 0, offset)
    word = match.group(0) if match else ""
    while word and not (word[0].isalpha() or word[0] == "_"):
        word = word[1:]
    return word


def word_at(text: str, offset: int) -> tuple[int, int] | None:
    """The (start, end) of the word touching `offset`, if any."""
    start = offset
    while start > 0 and (text[start - 1].isalnum() or text[start - 1] == "_"):
        start -= 1
    end = offset
    while end < len(text) and (text[end].isalnum() or text[end] == "_"):
        end += 1
    return (start, end) if start < end else None
