"""The defects the fuzzers found, one test each (docs/reliability.md lists them)."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest

from contractspec.analysis import analyze_texts
from contractspec.cli.main import main
from contractspec.format import FormatError, format_text
from contractspec.grammar.parser import parse_source
from contractspec.source import SourceFile
from tests.fuzz.properties import check_text, check_valid, ruff_problems

HEADER = "module deep\nuse identity\npermission p\ngrant admin: p\n"


def codes(text: str) -> list[str]:
    return [d.code for d in analyze_texts({"a.cspec": text}).diagnostics]


def test_a_doc_comment_with_no_declaration_is_a_syntax_error() -> None:
    """It was silently accepted by the parser while `cspec fmt` refused it."""
    for text in ("/// Invoices, in a m", "/// one\n/// two\n",
                 # after a lone CR, a form feed or indentation (the 100,000-case run): the
                 # grammar's DOC follows any whitespace, the scanner looked at column 1 only
                 "\r/// one", "\r\n\r/// one\r\n\r/// two `", "\f/// one", "  /// one\n"):
        assert codes(text) == ["CS101"]
        with pytest.raises(FormatError):
            format_text(text)
    assert codes("// a plain comment\n") == []


@pytest.mark.parametrize("space", ["\u2029", "\u00a0", "\u2003", "\x85", "\x1c"])
def test_a_unicode_space_the_grammar_does_not_take_is_a_syntax_error(space: str) -> None:
    """Only `[ \\t\\r\\n\\f]` and a BOM are whitespace to the grammar; a text of other
    Unicode spaces passed the parser silently while `cspec fmt` refused it."""
    text = f"{space}{space}\n"
    parsed = parse_source(SourceFile("a.cspec", text))
    assert [(d.code, d.span.start_col) for d in parsed.diagnostics] == [("CS101", 1)]
    # the analysis called such a file empty (CS114, Python's str.strip), found by the
    # 100,000-case run once the properties read CS101 from the analysis
    assert codes(text) == ["CS101"] and codes(f"\r{space}") == ["CS101"]
    with pytest.raises(FormatError):
        format_text(text)


@pytest.mark.parametrize("expression", [
    " or ".join(["p"] * 3000),
    " + ".join(["1"] * 400) + " > 0",
    "not " * 400 + "p",
    "f(" * 400 + ")" * 400,
    "[" * 400 + "]" * 400,
], ids=["or-chain", "sum-chain", "not", "calls", "lists"])
def test_a_very_long_or_deep_expression_is_too_deeply_nested(
        expression: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A 3000-term `or` chain crashed `cspec check` (RecursionError in the access checks,
    exit 3) and `cspec ir` (pydantic refuses to serialise models nested ~250 deep)."""
    (tmp_path / "spec").mkdir()
    (tmp_path / "cspec.toml").write_text('[workspace]\nspecs = ["spec"]\n', encoding="utf-8")
    text = f"{HEADER}query q v1 {{\n  policy {expression}\n}}\n"
    (tmp_path / "spec" / "a.cspec").write_text(text, encoding="utf-8")
    assert main(["check", str(tmp_path)]) == 1
    assert "error[CS105]: this declaration is nested too deeply" in capsys.readouterr().out
    assert main(["ir", str(tmp_path)]) == 1
    check_text(text)


def test_a_deeply_nested_generic_type_is_too_deeply_nested() -> None:
    text = f"{HEADER}query q v1 {{\n  output {'page<' * 300}X{'>' * 300}\n  policy p\n}}\n"
    assert "CS105" in codes(text)
    check_text(text)


def test_a_too_deep_declaration_in_a_file_without_header() -> None:
    """It left an empty declaration list behind, and CS115 then crashed on `min([])`."""
    text = "policy Deal {\n  read: " + " or ".join(["x"] * 500) + "\n}\n"
    assert sorted(set(codes(text))) == ["CS105"]


def test_a_use_path_too_long_for_the_file_system_is_not_found() -> None:
    """`use m from "<5000 characters>"` crashed the analysis with OSError (name too long)."""
    text = f'module a\nuse m from "{"x" * 5000}"\n'
    assert codes(text) == ["CS210"]


def test_a_lone_surrogate_in_an_editor_buffer_is_an_error() -> None:
    """Half a surrogate pair (an editor's buffer can hold one, a UTF-8 file cannot) passed
    the checks, then crashed the generators with UnicodeEncodeError."""
    text = "/// A stag\ude00e.\nmodule a\n"
    found = analyze_texts({"a.cspec": text}).diagnostics
    assert [(d.code, d.span.start_line, d.span.start_col) for d in found] == [("CS112", 1, 11)]
    assert "lone surrogate (U+DE00)" in found[0].message
    check_text(text)


def test_generated_imports_match_their_use() -> None:
    """routes.py imported `Session` with no CRUD route to use it (F401), and schemas.py
    used `Any` for a `json` field of a value type without importing it (F821)."""
    text = """module m
use identity
type Shape {
  state: json?
}
entity Deal {
  id: uuid @id
  org: ref identity.Org @tenant
  shape: Shape
}
permission p
grant admin: p
query checkAll v1 {
  policy p
}
"""
    with tempfile.TemporaryDirectory(prefix="cspec-ruff-") as folder:
        assert ruff_problems(check_valid(text), Path(folder)) == ""


@pytest.mark.parametrize("text", [
    # keyword-named input fields (`pass_` with an alias) whose constrained annotation and
    # `= Field(alias=...)` passed 100 columns together: E501 (the 100,000-case run)
    HEADER.replace("deep", "h") + """command makeThing v1 {
  input {
    pass: email
    from: email?
    global: url
    data: string(1..80)? @pattern("^[a-z]+$")
    lambda: decimal(19, 4)?
  }
  policy p
}
""",
    # no operation at all: routes.py imported Annotated, errors and SessionDep unused (F401)
    "module h\n\nentity Thing {\n  id: uuid @id\n}\n",
], ids=["aliased-long-fields", "no-operations"])
def test_generated_api_passes_ruff(text: str) -> None:
    with tempfile.TemporaryDirectory(prefix="cspec-ruff-") as folder:
        assert ruff_problems(check_valid(text), Path(folder)) == ""
