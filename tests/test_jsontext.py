"""The fast JSON writer of generated files prints exactly what `json.dumps(indent=2,
sort_keys=True, ensure_ascii=False)` prints."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from contractspec.generators import jsontext

LEAVES = st.none() | st.booleans() | st.integers() | st.floats() | st.text()
DOCUMENTS = st.recursive(
    LEAVES, lambda inner: st.lists(inner) | st.dictionaries(st.text(), inner), max_leaves=40)


@settings(max_examples=500, deadline=None)
@given(DOCUMENTS)
def test_same_text_as_the_standard_library(value: Any) -> None:
    expected = json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    assert jsontext.dumps(value) == expected


def test_non_string_keys_tuples_and_errors() -> None:
    for value in ({2: "b", 1: [1.5, None]}, {"b": (1, 2), "a": "é\u2028"}, {True: 1}):
        expected = json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
        assert jsontext.dumps(value) == expected
    with pytest.raises(TypeError):
        jsontext.dumps({"x": object()})
