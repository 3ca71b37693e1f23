"""Notifications (CS507-CS511): template variables, recipients, channels, completeness."""

from __future__ import annotations

from contractspec.check.rules.events import EVENT, SHOP
from contractspec.check.rules.notifications import parse_template
from contractspec.check.rules.stdlib import using
from contractspec.diagnostics import Diagnostic
from tests.conftest import codes, diagnostics

NOTIFIED = using(SHOP, "notifications")
PAYLOAD = EVENT.replace("    order: ref Order\n",
                        "    order: ref Order\n    note: string\n    tags: string[]\n")


def note(body: str) -> str:
    return NOTIFIED + PAYLOAD + "\nnotification placed {\n  on order.placed\n" + body + "}\n"


def found(code: str, text: str) -> list[Diagnostic]:
    return [d for d in diagnostics(text) if d.code == code]


# ---- parsing templates ------------------------------------------------------------------------


def test_parse_template_variables_and_filters() -> None:
    variables, errors = parse_template("Hi {{ a.b }} and {{c|upper}} {{ d | default('x') }}")
    assert errors == []
    assert [v.parts for v in variables] == [("a", "b"), ("c",), ("d",)]
    assert [v.starts for v in variables] == [(6, 8), (19,), (32,)]


def test_parse_template_errors() -> None:
    assert [e.message for e in parse_template("{{ a + b }}")[1]] == [
        "`{{ a + b }}` is not a path into the event payload such as `{{ deal.title }}`"]
    assert [e.message for e in parse_template("{{ a | }}")[1]] == [
        "`{{ a | }}` has an empty or malformed filter: write `{{ path | filter }}`"]
    assert [(e.start, e.end) for e in parse_template("x {{ a }} {{ b")[1]] == [(10, 12)]


# ---- CS507 ------------------------------------------------------------------------------------

RECIPIENTS = "  to role admin\n  via email\n"


def test_paths_through_refs_and_filters_resolve() -> None:
    text = note(RECIPIENTS + "  template \"{{ order.buyer.email | lower }} {{ note }}\"\n")
    assert codes(text) == []


def test_unknown_segment_points_into_the_string_with_a_fix() -> None:
    text = note(RECIPIENTS + "  template \"Order {{ order.totl }}\"\n")
    [diag] = found("CS507", text)
    assert diag.message == "`{{ order.totl }}` in the template: entity `Order` has no field `totl`"
    line = text.splitlines()[diag.span.start_line - 1]
    assert line[diag.span.start_col - 1:diag.span.end_col - 1] == "totl"
    assert text[diag.span.start_offset:diag.span.end_offset] == "totl"
    assert diag.fixes[0].replacement == "total"


def test_span_skips_escapes_before_the_variable() -> None:
    text = note(RECIPIENTS + "  template \"Say \\\"hi\\\" to {{ nobody }}\"\n")
    [diag] = found("CS507", text)
    assert text[diag.span.start_offset:diag.span.end_offset] == "nobody"
    assert "the payload of `order.placed v1` has no field `nobody`" in diag.message


def test_triple_quoted_template_reports_on_the_whole_string() -> None:
    text = note(RECIPIENTS + "  template \"\"\"\n    Hello {{ nobody }}\n  \"\"\"\n")
    [diag] = found("CS507", text)
    assert text[diag.span.start_offset:diag.span.end_offset].startswith('"""')
    assert diag.fixes == ()


def test_segments_into_scalars_and_lists_are_errors() -> None:
    text = note(RECIPIENTS
                + "  template \"{{ note.size }} {{ tags.first }} {{ order.total.x }}\"\n")
    assert [d.message.split(": ", 1)[1] for d in found("CS507", text)] == [
        "`note` is a `string` value: it has no field `size`",
        "`tags` is a list: it has no field `first`",
        "`order.total` is a `money` value: it has no field `x`"]


def test_subject_is_checked_too() -> None:
    text = note(RECIPIENTS + "  subject \"{{ order.nme }}\"\n  template \"x\"\n")
    assert [d.message for d in found("CS507", text)] == [
        "`{{ order.nme }}` in the subject: entity `Order` has no field `nme`"]


def test_recipient_path_must_start_at_a_payload_field() -> None:
    text = note("  to buyer\n  via email\n  template \"x\"\n")
    [diag] = found("CS507", text)
    assert diag.message == "recipient `buyer`: the payload of `order.placed v1` has no field " \
                           "`buyer`"


# ---- CS508 ------------------------------------------------------------------------------------


def test_malformed_template_points_at_the_variable() -> None:
    text = note(RECIPIENTS + "  template \"Total: {{ order.total * 2 }}\"\n")
    [diag] = found("CS508", text)
    assert text[diag.span.start_offset:diag.span.end_offset] == "{{ order.total * 2 }}"
    assert "CS507" not in codes(text)


# ---- CS509, CS510 -----------------------------------------------------------------------------


def test_incomplete_notification_lists_what_is_missing() -> None:
    text = NOTIFIED + EVENT + "\nnotification placed {\n  template \"x\"\n}\n"
    assert [d.message for d in found("CS509", text)] == [
        "notification `placed` has no `on` event and no recipient (`to`) and no channel (`via`)"]


def test_unknown_channel_without_a_close_match() -> None:
    [diag] = found("CS510", note("  to role admin\n  via pigeon\n  template \"x\"\n"))
    assert diag.message == "unknown channel `pigeon`" and diag.fixes == ()
    assert "CS510" not in codes(note("  to role admin\n  via webhook, in_app\n  template \"x\"\n"))


# ---- CS511 and roles --------------------------------------------------------------------------


def test_recipients_reachable_by_email_or_user() -> None:
    text = NOTIFIED + EVENT.replace("    order: ref Order\n", "    order: ref Order\n"
                                    "    contact: email @pii\n    by: ref identity.User\n").replace(
        "  }\n}", "  }\n  retention 30d\n}") + (
        "\nnotification placed {\n  on order.placed\n  to contact, by, order.buyer\n"
        "  via email\n  template \"x\"\n}\n")
    assert codes(text) == []


def test_recipient_that_is_a_record_without_email() -> None:
    text = note("  to order\n  via email\n  template \"x\"\n")
    assert [d.message for d in found("CS511", text)] == [
        "recipient `order` is neither a person nor an email address"]


def test_unknown_role_recipient_fix_replaces_the_name_only() -> None:
    text = note("  to role admn\n  via email\n  template \"x\"\n")
    [diag] = found("CS201", text)
    assert diag.message == "unknown role `admn`"
    assert text[diag.span.start_offset:diag.span.end_offset] == "admn"
    assert diag.fixes[0].replacement == "admin"
