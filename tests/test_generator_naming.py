"""String literals written into generated Python read back as the same text."""

from __future__ import annotations

import ast

from hypothesis import given, settings
from hypothesis import strategies as st

from contractspec.generators.db.naming import py_str


@settings(max_examples=1000, deadline=None)
@given(st.text())
def test_py_str_reads_back_as_the_same_text(text: str) -> None:
    assert ast.literal_eval(py_str(text)) == text


def test_py_str_quotes() -> None:
    assert py_str("plain") == '"plain"'
    assert py_str('say "hi"') == "'say \"hi\"'"
    assert py_str('"\x00') == '"\\"\\u0000"'  # a control character: escaped, never raw
