"""Long keyword-argument strings of generated Python wrapped between words within 100
columns, the value unchanged (tests of contractspec.generators.pystrings)."""

from __future__ import annotations

import ast
import json

from hypothesis import given
from hypothesis import strategies as st

from contractspec.analysis import analyze_texts
from contractspec.generators.db.naming import py_str
from contractspec.generators.pipeline import generate
from contractspec.generators.pystrings import LINE_WIDTH, wrap_strings

DOC = ("A platform operator's token: it acts with the `operator` role, not the member's role "
       "in the organisation of the token.")


def value(source: str) -> str:
    """The string a wrapped or unwrapped `name=…` assignment holds."""
    tree = ast.parse(source.strip().rstrip(","))
    assign = tree.body[0]
    assert isinstance(assign, ast.Assign)
    result = ast.literal_eval(assign.value)
    assert isinstance(result, str)
    return result


def test_a_long_comment_is_wrapped_between_words() -> None:
    line = f"            comment={py_str(DOC)},"
    wrapped = wrap_strings(f"x = (\n{line}\n)\n")
    lines = wrapped.split("\n")
    assert lines[1] == "            comment=("
    assert lines[2].startswith('                "A platform operator')
    assert lines[-3] == "            ),"
    assert all(len(text) <= LINE_WIDTH for text in lines)
    assert value("\n".join(lines[1:-2]).replace("comment=", "comment = ", 1)) == DOC


def test_a_literal_that_fits_on_its_own_line_moves_there_whole() -> None:
    text = DOC[:85]
    assert wrap_strings(f"        comment={py_str(text)},") == (
        f"        comment=(\n            {py_str(text)}\n        ),")


def test_short_lines_and_other_lines_are_left_alone() -> None:
    source = (f'    comment="{DOC[:40]}",\n'
              f"    x = f({py_str(DOC)}, {py_str(DOC)})\n"  # not a keyword argument alone
              f'    name="{"x" * 120}",\n')  # no space to split at
    assert wrap_strings(source) == source


@given(st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)),
               min_size=0, max_size=400),
       st.integers(min_value=0, max_value=12))
def test_the_value_is_unchanged_and_lines_fit_where_words_do(text: str, depth: int) -> None:
    indent = "    " * depth
    literal = py_str(text)
    wrapped = wrap_strings(f"{indent}comment={literal},")
    joined = wrapped.replace(f"{indent}comment=", "comment = ", 1)
    assert value("\n".join(line.strip() for line in joined.split("\n"))) == text
    words = json.dumps(text, ensure_ascii=False).split(" ")
    if wrapped.count("\n") and max(len(w) for w in words) < LINE_WIDTH - len(indent) - 10:
        assert all(len(line) <= LINE_WIDTH for line in wrapped.split("\n"))


SPEC = """\
module notes

use identity

/// A note kept by a member of the organisation; its text is private to the organisation and
/// is never shown to anyone outside it, whatever the role they hold in their own.
entity Note {
  id: uuid @id
  org: ref identity.Org @tenant
  /// The note's text, as its author wrote it: Markdown, rendered by the client, never by the
  /// server, and searched by `listNotes` with the organisation's full-text configuration.
  text: text
}
"""


def test_generated_modules_keep_long_docs_within_the_line_length() -> None:
    """Two-line doc comments become one-line column comments: wrapped in every target."""
    analysis = analyze_texts({"notes.cspec": SPEC})
    assert not analysis.errors, analysis.diagnostics
    files = generate(analysis).files
    long = [(path, line) for path, data in files.items() if path.endswith(".py")
            for line in data.decode().split("\n") if len(line) > LINE_WIDTH and " " in line.strip()]
    assert long == []
    assert any("comment=(" in data.decode() for path, data in files.items()
               if path.endswith("db/models.py"))
