"""`cspec fmt`: golden layouts, the repository's own specs, syntax errors, hostile input."""

from __future__ import annotations

from pathlib import Path

import pytest

from contractspec.analysis import analyze_texts
from contractspec.format import FormatError, format_text
from tests.test_format_properties import (
    REPO,
    SPECS,
    assert_formats_well,
    comment_texts,
    ir_without_spans,
)

GOLDEN = Path(__file__).resolve().parent / "data" / "format"
CASES = sorted(p.stem for p in GOLDEN.glob("*.in"))


def test_golden_cases_exist() -> None:
    assert {"declarations", "comments", "expressions", "blank_lines"} <= set(CASES)


@pytest.mark.parametrize("case", CASES)
def test_golden(case: str) -> None:
    messy = (GOLDEN / f"{case}.in").read_text(encoding="utf-8")
    expected = (GOLDEN / f"{case}.cspec").read_text(encoding="utf-8")
    assert format_text(messy) == expected
    assert_formats_well(messy)


def test_golden_declarations_cover_every_declaration_kind() -> None:
    ir = ir_without_spans((GOLDEN / "declarations.cspec").read_text(encoding="utf-8"))
    kinds = {
        "uses", "enums", "types", "entities", "permissions", "roles", "grants", "policies",
        "operations", "events", "workflows", "jobs", "triggers", "schedules", "notifications",
        "flags", "experiments", "criticals", "attachments", "metrics", "plans", "tracks",
        "views", "agents",
    }
    assert ir["header"] is not None
    assert kinds <= set(ir["declarations"])


def test_the_repository_has_specs_to_check() -> None:
    names = set(SPECS)
    assert "tests/data/full/spec/crm.cspec" in names
    assert {"contractspec/std/identity.cspec", "contractspec/std/audit.cspec"} <= names


@pytest.mark.parametrize("name", sorted(SPECS))
def test_every_repository_spec_is_already_formatted(name: str) -> None:
    text = SPECS[name]
    assert format_text(text, name) == text, f"run `cspec fmt {name}`"


def test_comments_are_counted_over_every_repository_spec() -> None:
    before = [c for text in SPECS.values() for c in comment_texts(text)]
    after = [c for text in SPECS.values() for c in comment_texts(format_text(text))]
    assert after == before
    assert len(before) > 20


def test_the_full_workspace_analyses_the_same_after_formatting() -> None:
    path = REPO / "tests/data/full/spec/crm.cspec"
    text = path.read_text(encoding="utf-8")
    formatted = format_text(text)

    def findings(spec: str) -> list[tuple[str, str, str]]:
        analysis = analyze_texts({"crm.cspec": spec})
        return sorted((d.code, d.severity.value, d.message) for d in analysis.diagnostics)

    assert findings(formatted) == findings(text)
    assert ir_without_spans(formatted) == ir_without_spans(text)


# ---- layout rules ------------------------------------------------------------------------
def test_short_blocks_become_one_member_per_line() -> None:
    assert format_text("enum X { a b c }") == "enum X {\n  a\n  b\n  c\n}\n"
    assert format_text("job j { input { a: string  b: int } retries 3 }") == (
        "job j {\n  input {\n    a: string\n    b: int\n  }\n  retries 3\n}\n"
    )


def test_spacing_of_punctuation_and_operators() -> None:
    text = ("entity E{a:string( 1 .. 80 )?@pii b : decimal(12,2)=-1 c:page < E > [] "
            "@@index( a,b ) }\npolicy E { read: not(a)and b.c*2>=- -1 or x in[1,2,] }\n"
            "plan p { limit m 10 / month }")
    assert format_text(text) == (
        "entity E {\n"
        "  a: string(1..80)? @pii\n"
        "  b: decimal(12, 2) = -1\n"
        "  c: page<E>[]\n"
        "  @@index(a, b)\n"
        "}\n\n"
        "policy E {\n"
        "  read: not (a) and b.c * 2 >= - -1 or x in [1, 2]\n"
        "}\n\n"
        "plan p {\n"
        "  limit m 10/month\n"
        "}\n"
    )


def test_parentheses_stay_as_written() -> None:
    text = "policy E { read: ((a or b)) and (c) }"
    assert format_text(text) == "policy E {\n  read: ((a or b)) and (c)\n}\n"


def test_strings_and_literals_are_printed_as_written() -> None:
    text = ('notification n { on e template """\n   Hi {{ x }}\n     there  \n"""\n'
            'subject "a\\"b  c" }\nexperiment x { variants a 12.5%, b 87.5% }')
    formatted = format_text(text)
    assert '"""\n   Hi {{ x }}\n     there  \n"""' in formatted
    assert '"a\\"b  c"' in formatted and "a 12.5%, b 87.5%" in formatted


def test_blank_lines() -> None:
    text = ("\n\nmodule m\nuse a\n\n\n\nuse b\nuse c\nentity E {\n\n  a: int\n\n\n  b: int\n\n}\n"
            "/// Doc.\n\nenum F { x }\n\n\n")
    assert format_text(text) == (
        "module m\n\nuse a\n\nuse b\nuse c\n\nentity E {\n  a: int\n\n  b: int\n}\n\n"
        "/// Doc.\nenum F {\n  x\n}\n"
    )


def test_comment_positions() -> None:
    text = (
        "entity E { // head\n  a: int   // trailing  \n\n     // own line\n  b: int\n"
        "  // last\n}\npolicy E { read: a or // why\n b }\n// end\n"
    )
    assert format_text(text) == (
        "entity E { // head\n  a: int // trailing\n\n  // own line\n  b: int\n  // last\n}\n\n"
        "policy E {\n  read: a or // why\n    b\n}\n// end\n"
    )


def test_a_triple_slash_comment_where_no_doc_can_go_stays_a_comment() -> None:
    text = "agent a { limits { steps 10 /// not a doc\n tokens 5 } }"
    formatted = assert_formats_well(text)
    assert "    steps 10 /// not a doc\n    tokens 5\n" in formatted


def test_doc_comments_lose_only_trailing_whitespace() -> None:
    text = "///  Two  spaces kept.   \n///\t\n/// b\t\nenum E { a }\n"
    formatted = assert_formats_well(text)
    assert formatted.startswith("///  Two  spaces kept.\n///\n/// b\nenum E {")


def test_windows_line_endings_tabs_and_byte_order_mark() -> None:
    text = "\ufeffmodule m\r\n\r\n// note\r\nenum E {\r\n\ta\t// x \r\n}\r\n"
    assert assert_formats_well(text) == "module m\n\n// note\nenum E {\n  a // x\n}\n"


def test_empty_and_comment_only_files() -> None:
    assert format_text("") == ""
    assert format_text(" \n\t\n") == ""
    assert format_text("\n// a\n\n\n// b  \n") == "// a\n\n// b\n"


# ---- errors and hostile input ------------------------------------------------------------
def test_syntax_errors_raise_format_error_with_every_diagnostic() -> None:
    with pytest.raises(FormatError) as caught:
        format_text("entity E {\n  a:\n}\nentity F {\n  b c\n}\n", "bad.cspec")
    diagnostics = caught.value.diagnostics
    assert [d.code for d in diagnostics] == ["CS101", "CS101"]
    assert {d.span.file for d in diagnostics} == {"bad.cspec"}
    assert str(caught.value).startswith("bad.cspec:")


@pytest.mark.parametrize("text", ["foo bar", "}", "{" * 10_000, '"unclosed', "entity E { a: ref }"],
                         ids=["words", "brace", "10000-braces", "unclosed-string", "no-type"])
def test_text_that_does_not_parse_raises_format_error(text: str) -> None:
    with pytest.raises(FormatError) as caught:
        format_text(text)
    assert caught.value.diagnostics
    assert all(d.code == "CS101" for d in caught.value.diagnostics)


@pytest.mark.parametrize("nested", [
    "(" * 10_000 + "a" + ")" * 10_000,
    "not " * 10_000 + "a",
    "-" * 10_000 + "1",
    "[" * 3_000 + "]" * 3_000,
], ids=["parentheses", "not", "signs", "lists"])
def test_deeply_nested_expressions_format_without_recursion_errors(nested: str) -> None:
    formatted = format_text(f"policy E {{ read: {nested} }}")
    assert format_text(formatted) == formatted
    assert formatted.count("\n") == 3
