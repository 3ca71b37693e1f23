"""The parser: every construct parses, errors are worded for people, recovery keeps going."""

from __future__ import annotations

from contractspec.grammar.lower import lower_file
from contractspec.grammar.parser import parse_source
from contractspec.source import SourceFile
from tests.conftest import DATA


def parse(text: str) -> tuple[list[tuple[int, int, str]], dict[str, list[object]]]:
    source = SourceFile("t.cspec", text)
    result = parse_source(source)
    lowered = lower_file(source, result.chunks)
    errors = [(d.span.start_line, d.span.start_col, d.message) for d in result.diagnostics]
    return errors, lowered.declarations


def test_full_workspace_parses_without_errors() -> None:
    text = (DATA / "full" / "spec" / "crm.cspec").read_text()
    errors, decls = parse(text)
    assert errors == []
    kinds = set(decls)
    assert {"entities", "operations", "events", "workflows", "jobs", "triggers", "schedules",
            "notifications", "flags", "experiments", "criticals", "attachments", "metrics",
            "plans", "tracks", "views", "agents", "grants", "policies", "permissions",
            "enums", "types", "uses"} <= kinds


def test_keywords_are_contextual() -> None:
    errors, decls = parse(
        "module m\n\nentity E {\n  id: uuid @id\n  status: string\n  by: string\n"
        "  input: int\n  policy: bool = false\n  view: string\n  when: datetime?\n}\n"
    )
    assert errors == []
    fields = [f.name for f in decls["entities"][0].fields]  # type: ignore[attr-defined]
    assert fields == ["id", "status", "by", "input", "policy", "view", "when"]


def test_comparison_after_path_is_not_a_generic_close() -> None:
    errors, _ = parse(
        "module m\n\nworkflow F on E.s {\n  initial a\n"
        "  transition t: a -> b by x when self.n > 0 and self.m < 3\n  final b\n}\n"
    )
    assert errors == []


def test_several_errors_each_reported_with_span_and_words() -> None:
    text = (
        "module x\n"                     # 1
        "\n"                             # 2
        "entity Deal {\n"                # 3
        "  id: uuid @id\n"               # 4
        "  title:\n"                     # 5  missing type
        "  amount: money\n"              # 6
        "}\n"                            # 7
        "\n"                             # 8
        "command foo v1 {\n"             # 9
        "  policy manage or\n"           # 10 dangling `or`
        "  output Deal\n"                # 11
        "}\n"                            # 12
        "\n"                             # 13
        "enum E {\n"                     # 14
        "  a b c\n"                      # 15
        "}\n"                            # 16
    )
    errors, decls = parse(text)
    assert [(line, col) for line, col, _ in errors] == [(5, 9), (10, 19)]
    assert "expected a field type such as `string` or `ref Entity`" in errors[0][2]
    assert "found the end of the line" in errors[0][2]
    assert "expected a value or expression" in errors[1][2]
    # Everything else still lowers.
    entity = decls["entities"][0]
    assert [f.name for f in entity.fields] == ["id", "amount"]  # type: ignore[attr-defined]
    assert decls["operations"][0].output.name == "Deal"  # type: ignore[attr-defined]
    assert [v.name for v in decls["enums"][0].values] == ["a", "b", "c"]  # type: ignore[attr-defined]


def test_messages_never_show_token_names() -> None:
    text = "module x\n\nentity {\n}\n\nevent e v1 {\n  payload {\n    a: ;\n  }\n}\n"
    errors, _ = parse(text)
    assert errors
    for _, _, message in errors:
        assert "NAME" not in message and "LBRACE" not in message and "__ANON" not in message


def test_unclosed_block_reports_once_and_keeps_fields() -> None:
    errors, decls = parse("module x\n\nentity A {\n  id: uuid @id\n  n: int\n")
    assert len(errors) == 1
    assert "unexpected end" in errors[0][2]
    assert [f.name for f in decls["entities"][0].fields] == ["id", "n"]  # type: ignore[attr-defined]


def test_stray_characters_are_named() -> None:
    errors, _ = parse("module x\n\nentity A {\n  id: uuid @id;\n}\n")
    assert len(errors) == 1
    assert "`;`" in errors[0][2] or "';'" in errors[0][2]


def test_unterminated_string_is_explained() -> None:
    errors, _ = parse('module x\n\npermission p "never closed\n')
    assert errors and "never closed" in errors[0][2]


def test_deep_nesting_does_not_crash() -> None:
    errors, _ = parse("module x\n" + "{" * 10_000 + "}" * 10_000)
    assert errors
    deep = "module x\n\nentity A {\n  id: uuid @id\n  n: int = " + "(" * 5000 + "1" + ")" * 5000
    errors, _ = parse(deep + "\n}\n")
    assert isinstance(errors, list)


def test_doc_comments_attach_to_next_declaration_and_member() -> None:
    errors, decls = parse(
        "module x\n\n/// An order.\n/// Second line.\nentity Order {\n  /// Its id.\n"
        "  id: uuid @id\n  //// not a doc comment\n  n: int\n}\n"
    )
    assert errors == []
    order = decls["entities"][0]
    assert order.doc == "An order.\nSecond line."  # type: ignore[attr-defined]
    assert [f.doc for f in order.fields] == ["Its id.", None]  # type: ignore[attr-defined]


def test_literals_lower_to_typed_values() -> None:
    errors, decls = parse(
        'module x\n\njob j {\n  retries 3\n  backoff exponential(30s, 1h)\n  timeout 2m\n}\n'
        'attachments on A {\n  kinds "a/b"\n  max 10MB\n  retention 7y\n}\n'
    )
    assert errors == []
    job = decls["jobs"][0]
    assert job.timeout.seconds == 120  # type: ignore[attr-defined]
    assert [a.value for a in job.backoff.args] == [30, 3600]  # type: ignore[attr-defined]
    att = decls["attachments"][0]
    assert att.max_size.bytes == 10 * 1024 * 1024  # type: ignore[attr-defined]
    assert att.retention.seconds == 7 * 365 * 86400  # type: ignore[attr-defined]


def test_string_escapes_keep_regex_backslashes() -> None:
    errors, decls = parse(
        'module x\n\ntype T {\n  code: string @pattern("^\\d{3}\\"$")\n}\n'
    )
    assert errors == []
    attr = decls["types"][0].fields[0].attributes[0]  # type: ignore[attr-defined]
    assert attr.args[0].value == '^\\d{3}"$'


def test_text_without_any_declaration_is_reported() -> None:
    for text in ("foo bar\n", "}\n", "{" * 10_000):
        errors, decls = parse(text)
        assert len(errors) == 1, text[:20]
        assert "expected a declaration" in errors[0][2]
        assert decls == {}
    assert parse("// only a comment\n") == ([], {})


def test_type_suffixes_have_one_order() -> None:
    errors, decls = parse("module x\n\ntype T {\n  a: string[]?\n  b: int?\n}\n")
    assert errors == []
    a, b = decls["types"][0].fields  # type: ignore[attr-defined]
    assert (a.type.is_list, a.type.optional, b.type.optional) == (True, True, True)
    errors, _ = parse("module x\n\ntype T {\n  a: string?[]\n}\n")
    assert len(errors) == 1


def test_doc_comment_on_a_member_without_docs_is_an_ordinary_comment() -> None:
    errors, decls = parse(
        "module x\n\ncommand c v1 {\n  /// what it returns\n  output E\n  policy p\n}\n"
    )
    assert errors == []
    assert decls["operations"][0].output.name == "E"  # type: ignore[attr-defined]


def test_dangling_ref_before_closing_brace_keeps_the_entity() -> None:
    errors, decls = parse("module x\n\nentity A {\n  id: uuid @id\n  payer: ref\n}\n")
    assert [(line, col) for line, col, _ in errors] == [(5, 13)]
    assert errors[0][2] == "expected a name, found the end of the line"
    assert [f.name for f in decls["entities"][0].fields] == ["id"]  # type: ignore[attr-defined]


def test_numbers_are_described_once() -> None:
    errors, _ = parse("module x\n\ntype T {\n  a: string(x)\n}\n")
    assert [e[2] for e in errors] == ["expected `..` or a number, found `x`"]


def test_dotted_module_names_are_refused() -> None:
    errors, _ = parse("module a.b\n")
    assert len(errors) == 1


def test_type_bounds_may_be_negative() -> None:
    errors, decls = parse("module x\n\ntype T {\n  a: int(-10..10)\n  b: decimal(5, 2, -1..)\n}\n")
    assert errors == []
    a, b = decls["types"][0].fields  # type: ignore[attr-defined]
    assert (a.type.args[0].min, a.type.args[0].max) == ("-10", "10")
    assert b.type.args[2].min == "-1"


def test_absurdly_deep_expression_is_cs105_not_a_crash() -> None:
    from tests.conftest import codes

    deep = "[" * 3000 + "1" + "]" * 3000
    spec = f"module x\n\ntype T {{\n  n: json = {deep}\n}}\n"
    assert codes(spec) == ["CS105"]
    assert "CS105" not in codes("module x\n\ntype T {\n  n: json = [[1]]\n}\n")
