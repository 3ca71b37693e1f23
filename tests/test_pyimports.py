"""Generated import lines: wrapped past 88 columns so ruff's isort accepts them under any
line length (tests of contractspec.generators.pyimports)."""

from __future__ import annotations

from contractspec.generators.pyimports import IMPORT_WIDTH, wrap_imports
from contractspec.generators.pyoutput import encode_sources

LONG = ("from storefront.jobs.definitions import CheckThresholdsInput, JobContext, "
        "SummarizeUsageInput")


def test_a_long_import_is_wrapped_one_name_per_line_with_a_trailing_comma() -> None:
    assert len(LONG) > IMPORT_WIDTH
    assert wrap_imports(f"x = 1\n{LONG}\n") == (
        "x = 1\nfrom storefront.jobs.definitions import (\n    CheckThresholdsInput,\n"
        "    JobContext,\n    SummarizeUsageInput,\n)\n")


def test_an_indented_import_keeps_its_indentation() -> None:
    wrapped = wrap_imports(f"def f() -> None:\n    {LONG}\n")
    assert wrapped.splitlines()[1:3] == ["    from storefront.jobs.definitions import (",
                                         "        CheckThresholdsInput,"]
    assert wrapped.splitlines()[-1] == "    )"


def test_short_imports_and_other_long_lines_are_left_alone() -> None:
    text = ("from shop import a, b\nimport sqlalchemy as sa\n"
            f"x = '{'y' * 100}'\nfrom shop import (\n    a,\n)\n# {LONG}\n")
    assert wrap_imports(text) == text


def test_wrapping_is_idempotent() -> None:
    once = wrap_imports(LONG)
    assert wrap_imports(once) == once


def test_only_python_sources_are_rewritten() -> None:
    files = encode_sources({"b.py": LONG, "a.md": LONG})
    assert list(files) == ["a.md", "b.py"]
    assert files["a.md"] == LONG.encode() and files["b.py"] != LONG.encode()
