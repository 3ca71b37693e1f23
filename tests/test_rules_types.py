"""Types, values and attributes (CS205-CS209, CS212, CS213): firing and silent cases."""

from __future__ import annotations

import warnings

import pytest

from contractspec.diagnostics import Diagnostic
from tests.conftest import codes, diagnostics

HEAD = ("module shop\n\nuse identity\n\nenum Status {\n  open\n  closed\n}\n\n"
        "type Address {\n  city: string\n}\n\n")


def entity(*members: str) -> str:
    """A spec whose entity `Order` has a key, a tenant and the given members."""
    body = "".join(f"  {m}\n" for m in members)
    return (HEAD + "entity Order {\n  id: uuid @id\n  org: ref identity.Org @tenant\n"
            + body + "}\n")


def found(text: str, code: str) -> list[Diagnostic]:
    return [d for d in diagnostics(text) if d.code == code]


def one(text: str, code: str) -> Diagnostic:
    hits = found(text, code)
    assert len(hits) == 1, [(d.code, d.message) for d in diagnostics(text)]
    return hits[0]


def at(text: str, d: Diagnostic) -> str:
    return text[d.span.start_offset:d.span.end_offset]


# ---- CS205 constraints --------------------------------------------------------------------


@pytest.mark.parametrize("written", [
    "string(1..80)", "string(80)", "string(0..)", "string(..80)", "text(1..5000)",
    "email(254)", "int(0..)", "int(1..10)", "bigint(..100)", "decimal(12,2)",
    "decimal(10,0)", "decimal(0..)", "decimal(12,2,0..)", "money(0..)", "money(0.5..99.99)",
    "string(1..80)[]", "string(3..3)?",
])
def test_valid_constraints(written: str) -> None:
    assert "CS205" not in codes(entity(f"x: {written}"))


@pytest.mark.parametrize("written, message", [
    ("string(5..1)", "`string(5..1)`: the minimum length 5 is greater than the maximum 1"),
    ("string(0)", "`string(0)`: the maximum length must be at least 1"),
    ("string(0..0)", "`string(0..0)`: the maximum length must be at least 1"),
    ("string(..)", "`string(..)`: a range needs at least one bound"),
    ("string(1.5)", "`string(1.5)`: a length is a whole number of characters"),
    ("string(1, 2)", "`string(1,2)`: `string` takes one length"),
    ("int(5)", "`int(5)`: `int` takes value bounds, not a length"),
    ("int(10..1)", "`int(10..1)`: the minimum value 10 is greater than the maximum 1"),
    ("int(0.5..)", "`int(0.5..)`: the bounds of `int` are whole numbers"),
    ("money(12)", "`money(12)`: `money` takes value bounds, not a length"),
    ("decimal(2,12)", "`decimal(2,12)`: the scale 12 (digits after the point) is greater "
                      "than the precision 2 (all digits)"),
    ("decimal(0,0)", "`decimal(0,0)`: the precision (number of digits) must be 1 to 1000"),
    ("decimal(12)", "`decimal(12)`: `decimal` takes a precision and a scale, then optional "
                    "bounds"),
    ("decimal(1.5,1)", "`decimal(1.5,1)`: precision and scale are whole numbers"),
    ("decimal(0..,12,2)", "`decimal(0..,12,2)`: `decimal` takes a precision and a scale, "
                          "then optional bounds"),
    ("bool(3)", "`bool(3)`: `bool` takes no arguments"),
    ("uuid(1..2)", "`uuid(1..2)`: `uuid` takes no arguments"),
    ("Status(3)", "`Status(3)`: `Status` takes no arguments"),
    ("Address(1..2)", "`Address(1..2)`: `Address` takes no arguments"),
])
def test_bad_constraints(written: str, message: str) -> None:
    text = entity(f"x: {written}")
    d = one(text, "CS205")
    assert d.message == message
    assert at(text, d) == written
    assert d.help


def test_constraints_in_inputs_and_outputs() -> None:
    text = HEAD + ("permission p\n\ncommand c v1 {\n  input {\n    n: int(3..1)\n  }\n"
                   "  output list<string(0)>\n  policy p\n}\n")
    assert [at(text, d) for d in found(text, "CS205")] == ["int(3..1)", "string(0)"]


def test_negative_length_is_a_constraint_error() -> None:
    assert codes(entity("x: string(-1..5)")) == ["CS205"]
    assert codes(entity("x: int(-5..5)")) == []


# ---- CS206 values -------------------------------------------------------------------------


@pytest.mark.parametrize("member", [
    "status: Status = open", "done: bool = false", "n: int = -3", "n: int(0..10) = 10",
    "d: decimal = 1.5", "m: money(0..) = 0", "s: string = \"hi\"", "s: string(1..3) = \"abc\"",
    "at: datetime @default(now)", "day: date = now", "day: date = \"2024-01-31\"",
    "at: datetime = \"2024-01-31T09:00:00+00:00\"", "wait: duration = 30s",
    "key: uuid = \"6f1c2a7e-8d36-4c4f-9d0b-0d4c1c1d2e3f\"", "note: string? = null",
    "tags: string[] = []", "tags: string[] = [\"a\", \"b\"]", "states: Status[] = [open]",
    "extra: json = 3", "owner: ref identity.User? = null", "address: Address? = null",
])
def test_valid_defaults(member: str) -> None:
    assert "CS206" not in codes(entity(member))


@pytest.mark.parametrize("member, span, message", [
    ("status: Status = opne", "opne",
     "`opne` is not a value of enum `Status` (`open`, `closed`)"),
    ("status: Status = 3", "3",
     "field `status` is the enum `Status`: its value is one of `open`, `closed`"),
    ("done: bool = 0", "0",
     "field `done` is `bool`, so its value is `true` or `false`, not a whole number"),
    ("n: int = 1.5", "1.5",
     "field `n` is `int`, so its value is a whole number, not a decimal number"),
    ("s: string = 3", "3", "field `s` is `string`, so its value is a string, not a whole number"),
    ("s: string @default(now)", "now",
     "`now` is only a value of `date` and `datetime` fields; field `s` is `string`, so its "
     "value is a string"),
    ("day: date = \"2024-13-01\"", "\"2024-13-01\"",
     "\"2024-13-01\" is not a valid date: field `day` is `date`, so its value is `now` or a "
     "date string such as \"2024-01-31\""),
    ("key: uuid = \"nope\"", "\"nope\"",
     "\"nope\" is not a valid uuid: field `key` is `uuid`, so its value is a UUID string"),
    ("wait: duration = 30", "30",
     "field `wait` is `duration`, so its value is a duration such as `30s`, not a whole "
     "number"),
    ("n: int(0..10) = 11", "11", "the default 11 is out of range: field `n` is `int(0..10)`, "
                                 "0 to 10"),
    ("m: money(0..) = -2.5", "-2.5", "the default -2.5 is out of range: field `m` is "
                                     "`money(0..)`, at least 0"),
    ("s: string(1..80) = \"\"", "\"\"",
     "the default has 0 characters, but field `s` takes 1 to 80 characters"),
    ("s: string(3) = \"abcd\"", "\"abcd\"",
     "the default has 4 characters, but field `s` takes at most 3 characters"),
    ("tags: string[] = \"a\"", "\"a\"", "field `tags` is a list; its default is a list such as "
                                       "`[]`"),
    ("tags: string[] = [\"a\", 3]", "3",
     "an item of field `tags` is `string`, so its value is a string, not a whole number"),
    ("owner: ref identity.User = null", "null",
     "`null` is only the default of an optional field, and field `owner` is "
     "`ref identity.User`"),
    ("address: Address = null", "null",
     "`null` is only the default of an optional field, and field `address` is `Address`"),
    ("address: Address? = 3", "3",
     "field `address` is the type `Address`; it has no literal value"),
    ("n: int = size", "size",
     "a default is a literal, an enum value or `now`; field `n` is `int`, so its value is a "
     "whole number"),
    ("n: int = 1 + 2", "1 + 2",
     "a default is a literal, an enum value or `now`; field `n` is `int`, so its value is a "
     "whole number"),
])
def test_bad_defaults(member: str, span: str, message: str) -> None:
    text = entity(member)
    d = one(text, "CS206")
    assert d.message == message
    assert at(text, d) == span


def test_misspelled_enum_default_is_fixed() -> None:
    d = one(entity("status: Status = opne"), "CS206")
    assert d.help == "did you mean `open`?"
    assert [f.replacement for f in d.fixes] == ["open"]


def test_quoted_enum_default_is_unquoted() -> None:
    text = entity("status: Status = \"open\"")
    d = one(text, "CS206")
    assert d.message == "an enum value is written without quotes: `open`"
    assert d.fixes[0].replacement == "open" and at(text, d) == "\"open\""


def test_null_default_on_a_required_field_offers_to_make_it_optional() -> None:
    text = entity("note: string(1..5) = null")
    d = one(text, "CS206")
    fix = d.fixes[0]
    assert fix.replacement == "?"
    assert text[:fix.span.start_offset].endswith("note: string(1..5)")
    assert fix.span.start_offset == fix.span.end_offset


def test_defaults_in_inputs_and_payloads() -> None:
    text = HEAD + ("event order.placed v1 {\n  payload {\n    paid: bool = 1\n  }\n}\n\n"
                   "job remind {\n  input {\n    times: int(1..3) = 5\n  }\n}\n")
    assert [at(text, d) for d in found(text, "CS206")] == ["1", "5"]


POLICY = "permission p\n\npolicy Order {{\n  read: p or {rule}\n}}\n"


@pytest.mark.parametrize("rule, span, message", [
    ("self.amount == \"ten\"", "\"ten\"",
     "`self.amount` is `money`, so its value is a number, not a string"),
    ("self.done == 1", "1",
     "`self.done` is `bool`, so its value is `true` or `false`, not a whole number"),
    ("self.amount == null", "null", "`self.amount` is never null: its type `money` is not "
                                    "optional"),
    ("self.status == \"open\"", "\"open\"", "an enum value is written without quotes: `open`"),
    ("self.owner == \"x\"", "\"x\"",
     "`self.owner` is a reference to `identity.User`; it has no literal value"),
])
def test_comparisons_with_literals_in_rules(rule: str, span: str, message: str) -> None:
    text = entity("amount: money", "done: bool", "status: Status",
                  "owner: ref identity.User") + "\n" + POLICY.format(rule=rule)
    d = one(text, "CS206")
    assert d.message == message
    assert at(text, d) == span


@pytest.mark.parametrize("rule", [
    "self.done == true", "self.owner == actor", "self.note == null", "self.status == open",
    "self.title == \"x\"",
])
def test_fitting_comparisons_are_silent(rule: str) -> None:
    text = entity("done: bool", "owner: ref identity.User", "note: string?", "status: Status",
                  "title: string") + "\n" + POLICY.format(rule=rule)
    assert "CS206" not in codes(text)


def test_workflow_guard_compares_with_a_literal() -> None:
    text = entity("status: Status = open", "amount: money") + (
        "\npermission p\n\nworkflow Flow on Order.status {\n  initial open\n"
        "  transition close: open -> closed by p when self.amount > \"0\"\n}\n")
    assert at(text, one(text, "CS206")) == "\"0\""


# ---- CS207 unknown attributes -------------------------------------------------------------


def test_unknown_field_attribute() -> None:
    text = entity("email: email @uniqe")
    d = one(text, "CS207")
    assert at(text, d) == "uniqe"
    assert d.message.startswith("unknown attribute `@uniqe` on field `email`")
    assert "`@unique`" in d.message
    assert [f.replacement for f in d.fixes] == ["unique"]


def test_unknown_entity_attribute() -> None:
    text = entity("@@globl")
    d = one(text, "CS207")
    assert at(text, d) == "globl"
    assert d.fixes[0].replacement == "global"


def test_unknown_enum_value_attribute() -> None:
    text = "module shop\n\nenum Status {\n  open @lable(\"Open\")\n}\n"
    d = one(text, "CS207")
    assert d.message.startswith("unknown attribute `@lable` on an enum value")


def test_every_known_attribute_is_silent() -> None:
    text = entity(
        "code: string @unique @index @pii @secret @immutable @label(\"Code\") "
        "@deprecated(\"use ref\") @renamedFrom(oldCode) @pattern(\"^[A-Z]+$\") "
        "@allowBreaking(\"nobody reads it yet\")",
        "at: datetime @default(now)",
        "@@index(code, at)", "@@unique(org, code)",
    ) + ("\nenum Kind {\n  a @label(\"A\") @deprecated(\"old\")\n  b @renamedFrom(c)\n}\n\n"
         "entity Country {\n  id: string @id\n  @@global\n}\n")
    assert not {"CS207", "CS208", "CS209", "CS212", "CS213"} & set(codes(text))


# ---- CS208 attribute arguments ------------------------------------------------------------


@pytest.mark.parametrize("member, message", [
    ("name: string @label", "`@label` takes one argument: `@label(\"Title\")`"),
    ("name: string @label(3)", "`@label` takes a string: `@label(\"Title\")`"),
    ("name: string @deprecated(\"\")", "`@deprecated` needs a reason: `@deprecated(\"why\")`"),
    ("name: string @allowBreaking", "`@allowBreaking` takes one argument: "
                                    "`@allowBreaking(\"why\")`"),
    ("name: string @renamedFrom(\"old\")",
     "`@renamedFrom` takes the field's former name, without quotes: `@renamedFrom(oldName)`"),
    ("name: string? @pii(1)", "`@pii` takes no arguments"),
    ("n: int @default(1, 2)", "`@default` takes one argument: `@default(value)`"),
    ("@@index()", "`@@index` takes field names of the entity: `@@index(field, ...)`"),
    ("@@unique(\"org\")", "`@@unique` takes field names of the entity: `@@unique(field, ...)`"),
    ("@@global(1)", "`@@global` takes no arguments"),
])
def test_bad_attribute_arguments(member: str, message: str) -> None:
    d = one(entity(member), "CS208")
    assert d.message == message


def test_invalid_pattern_reports_the_regex_error() -> None:
    text = entity("code: string @pattern(\"[A-Z\")")
    d = one(text, "CS208")
    assert d.message.startswith("`@pattern` is not a valid regular expression: unterminated")
    assert at(text, d) == "\"[A-Z\""


@pytest.mark.parametrize("pattern", ["[[a-z]", "[a--z]", "[a&&b]"])
def test_an_ambiguous_pattern_is_reported_not_warned_about(pattern: str) -> None:
    """Python's FutureWarning ("possible nested set", found by the long fuzz run printed on
    stderr) becomes CS208: the pattern would change meaning in a future Python."""
    text = entity(f"code: string @pattern(\"{pattern}\")")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        d = one(text, "CS208")
    assert d.message.startswith("`@pattern` is ambiguous: possible set") or \
        d.message.startswith("`@pattern` is ambiguous: possible nested set")
    assert at(text, d) == f"\"{pattern}\""


def test_renamed_from_a_field_that_still_exists() -> None:
    text = entity("title: string", "name: string @renamedFrom(title)")
    d = one(text, "CS208")
    assert at(text, d) == "title"
    assert "still a field" in d.message


def test_index_of_an_unknown_field_suggests_one() -> None:
    text = entity("stage: string", "@@index(org, stagee)")
    d = one(text, "CS201")
    assert d.message == "entity `Order` has no field `stagee`"
    assert at(text, d) == "stagee" and d.fixes[0].replacement == "stage"


# ---- CS209 misplaced attributes -----------------------------------------------------------


@pytest.mark.parametrize("member, message", [
    ("owner: string @tenant", "`@tenant` goes on a required `ref` to the tenant entity "
                              "(usually `ref identity.Org`); `owner` is `string`"),
    ("amount: decimal @id", "`@id` goes on a required `uuid`, `int`, `bigint` or `string` "
                            "field; `amount` is `decimal`"),
    ("n: int @pattern(\"x\")", "`@pattern` goes on string fields; `n` is `int`"),
])
def test_misplaced_field_attributes(member: str, message: str) -> None:
    assert message in [d.message for d in found(entity(member), "CS209")]


def test_optional_tenant_is_misplaced() -> None:
    text = (HEAD + "entity Order {\n  id: uuid @id\n  org: ref identity.Org? @tenant\n}\n")
    d = one(text, "CS209")
    assert at(text, d) == "@tenant"


def test_entity_only_attribute_on_a_type() -> None:
    text = HEAD + "type Line {\n  sku: string @unique\n}\n"
    d = one(text, "CS209")
    assert d.message == "`@unique` applies to entity fields; type `Line` is not stored"


def test_global_entity_with_a_tenant_field() -> None:
    text = entity("@@global")
    d = one(text, "CS209")
    assert at(text, d) == "@@global"
    assert d.related and d.related[0].message == "the tenant field"


# ---- CS212 repeated -----------------------------------------------------------------------


@pytest.mark.parametrize("members, span, message", [
    (("code: string @unique @unique",), "@unique", "`@unique` is given twice on field `code`"),
    (("code: string @id",), "code", "entity `Order` has a second `@id` field `code`"),
    (("org2: ref identity.Org @tenant",), "org2",
     "entity `Order` has a second `@tenant` field `org2`"),
    (("n: int = 1 @default(2)",), "@default(2)",
     "field `n` has both `= value` and `@default(...)`"),
    (("a: string", "b: string", "@@unique(a, b)", "@@unique(b, a)"), "@@unique(b, a)",
     "the same `@@unique` is given twice"),
    (("a: string", "@@index(a, a)"), "a", "`a` is listed twice in `@@index`"),
])
def test_repeated(members: tuple[str, ...], span: str, message: str) -> None:
    text = entity(*members)
    d = one(text, "CS212")
    assert d.message == message
    assert at(text, d).startswith(span)


def test_several_different_indexes_are_fine() -> None:
    text = entity("a: string", "b: string", "@@index(a)", "@@index(b)", "@@unique(a, b)")
    assert "CS212" not in codes(text)


# ---- CS213 keys ---------------------------------------------------------------------------


def test_entity_without_key_gets_one_inserted() -> None:
    text = "module shop\n\nentity Order {\n  total: money\n}\n"
    d = one(text, "CS213")
    assert at(text, d) == "Order"
    fix = d.fixes[0]
    fixed = text[:fix.span.start_offset] + fix.replacement + text[fix.span.end_offset:]
    assert "CS213" not in codes(fixed)
    assert "  id: uuid @id\n  total: money" in fixed


def test_field_named_id_gets_marked() -> None:
    text = "module shop\n\nentity Order {\n  /// The key.\n  id: uuid\n}\n"
    fix = one(text, "CS213").fixes[0]
    fixed = text[:fix.span.start_offset] + fix.replacement + text[fix.span.end_offset:]
    assert "  id: uuid @id\n" in fixed
    assert not [c for c in codes(fixed) if c.startswith("CS2")]


def test_empty_entity_has_no_fix() -> None:
    d = one("module shop\n\nentity Order {\n}\n", "CS213")
    assert d.fixes == ()


def test_negative_value_bounds_are_fine_but_not_negative_lengths() -> None:
    spec = "module m\n\ntype T {\n  a: int(-10..10)\n  b: string(-1..5)\n}\n"
    found = [(d.code, d.span.start_line) for d in diagnostics(spec)]
    assert found == [("CS205", 5)]
