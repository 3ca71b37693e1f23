"""Releases (CS601, CS602, CS604): the specs compared with the lock of the last release."""

from __future__ import annotations

from pathlib import Path

from contractspec.analysis import analyze_texts
from contractspec.diagnostics import Diagnostic, Severity
from contractspec.evolve.lock import write_lock
from contractspec.evolve.restore import next_version
from contractspec.workspace.config import load_config

RELEASED = """module shop version 1.0.0

use identity

entity Order {
  id: uuid @id
  org: ref identity.Org @tenant
  total: money
}

/// Place an order.
command placeOrder v1 {
  input {
    total: money
  }
  output Order
  policy admin
  emits order.placed
}

event order.placed v1 {
  payload {
    order: ref Order
  }
}
"""


def check_after_release(tmp_path: Path, released: str | dict[str, str],
                        now: str | dict[str, str]) -> list[Diagnostic]:
    """Release `released`, then analyse `now` against that lock."""
    before = released if isinstance(released, dict) else {"shop.cspec": released}
    after = now if isinstance(now, dict) else {"shop.cspec": now}
    write_lock(tmp_path, analyze_texts(before, root=tmp_path).program, "1.0.0")
    return [d for d in analyze_texts(after, root=tmp_path).diagnostics
            if d.code.startswith("CS6")]


def test_unchanged_release_is_clean(tmp_path: Path) -> None:
    assert check_after_release(tmp_path, RELEASED, RELEASED) == []


def test_changed_operation_input(tmp_path: Path) -> None:
    now = RELEASED.replace("    total: money\n  }\n  output", "    total: int\n  }\n  output")
    [diag] = check_after_release(tmp_path, RELEASED, now)
    assert diag.code == "CS601" and diag.severity is Severity.ERROR
    assert diag.message == ("the released operation `placeOrder v1` breaks its clients (input "
                            "field `total`: field-retyped (CX110))")
    assert diag.help == "keep `placeOrder v1` as released and add `placeOrder v2` beside it"
    assert now[diag.span.start_offset:diag.span.end_offset] == "placeOrder"


def test_changed_event_payload_and_several_changes(tmp_path: Path) -> None:
    now = RELEASED.replace("    order: ref Order\n", "    order: ref Order?\n    total: money\n")
    now = now.replace("  output Order\n  policy admin\n", "  policy owner\n")
    messages = [d.message for d in check_after_release(tmp_path, RELEASED, now)]
    assert messages == [
        "the released operation `placeOrder v1` breaks its clients (output-changed (CX111), "
        "access-narrowed (CX402))",
        "the released event `order.placed v1` breaks its clients (payload field `order`: "
        "payload-field-retyped (CX305))",
    ]


def test_a_new_version_beside_the_released_one_is_the_safe_path(tmp_path: Path) -> None:
    v2 = RELEASED.replace("command placeOrder v1", "command placeOrder v2").replace(
        "    total: money\n  }\n  output", "    total: int\n  }\n  output")
    now = RELEASED + "\n" + v2[v2.index("/// Place"):v2.index("event order.placed")]
    assert check_after_release(tmp_path, RELEASED, now) == []


def test_docs_and_formatting_do_not_count(tmp_path: Path) -> None:
    now = RELEASED.replace("/// Place an order.", "/// Place an order, now documented.")
    now = now.replace("    total: money\n  }\n  output", "    total:   money\n  }\n  output")
    assert check_after_release(tmp_path, RELEASED, now) == []


def test_removed_version_is_a_warning_on_the_module(tmp_path: Path) -> None:
    now = RELEASED[:RELEASED.index("event order.placed")].replace("  emits order.placed\n", "")
    [diag] = check_after_release(tmp_path, RELEASED, now)
    assert diag.code == "CS602" and diag.severity is Severity.WARNING
    assert diag.message == "the released event `order.placed v1` was removed from module `shop`"
    assert now[diag.span.start_offset:diag.span.end_offset] == "shop"


def test_a_module_left_out_of_the_analysis_is_not_reported(tmp_path: Path) -> None:
    released = {"shop.cspec": RELEASED, "other.cspec": "module other\n\nquery q v1 {\n}\n"}
    assert check_after_release(tmp_path, released, RELEASED) == []


def test_unversioned_operation(tmp_path: Path) -> None:
    released = RELEASED.replace("command placeOrder v1", "command placeOrder")
    now = released.replace("  policy admin\n", "  policy owner\n")
    [diag] = check_after_release(tmp_path, released, now)
    assert diag.message == ("the released operation `placeOrder` breaks its clients "
                            "(access-narrowed (CX402))")
    assert diag.help == "keep `placeOrder` as released and add `placeOrder v2` beside it"


def test_the_rule_severity_can_be_lowered(tmp_path: Path) -> None:
    write_lock(tmp_path, analyze_texts({"shop.cspec": RELEASED}, root=tmp_path).program)
    (tmp_path / "cspec.toml").write_text('[rules]\nCS601 = "warning"\n', encoding="utf-8")
    now = RELEASED.replace("  policy admin\n", "  policy owner\n")
    analysis = analyze_texts({"shop.cspec": now}, config=load_config(tmp_path))
    assert [(d.code, d.severity) for d in analysis.diagnostics if d.code.startswith("CS6")] == [
        ("CS601", Severity.WARNING)]


def testnext_version() -> None:
    assert next_version(["v1"]) == "v2"
    assert next_version(["v1", "v3"]) == "v4"
    assert next_version(["unversioned"]) == "v2"
    assert next_version(["1.4.0"]) == "2.0.0"


def test_compatible_changes_are_allowed_in_place(tmp_path: Path) -> None:
    now = RELEASED.replace("    total: money\n  }\n  output",
                           "    total: money\n    note: string?\n  }\n  output")
    now = now.replace("    order: ref Order\n", "    order: ref Order\n    total: money\n")
    assert check_after_release(tmp_path, RELEASED, now) == []


def test_an_approved_break_is_a_warning(tmp_path: Path) -> None:
    now = RELEASED.replace("    total: money\n  }\n  output",
                           '    total: int @allowBreaking("amounts are whole euros")\n  }\n'
                           "  output")
    [diag] = check_after_release(tmp_path, RELEASED, now)
    assert diag.code == "CS604" and diag.severity is Severity.WARNING
    assert diag.message == ("the released operation `placeOrder v1` breaks its clients, "
                            "approved: amounts are whole euros (input field `total`: "
                            "field-retyped (CX110))")


def test_a_comment_approves_a_removed_field(tmp_path: Path) -> None:
    released = RELEASED.replace("    total: money\n  }\n  output",
                                "    total: money\n    note: string?\n  }\n  output")
    now = RELEASED.replace("command placeOrder v1 {",
                           "// cspec-allow-breaking CX105: notes moved to the order\n"
                           "command placeOrder v1 {")
    assert [d.code for d in check_after_release(tmp_path, released, now)] == ["CS604"]
    unapproved = RELEASED
    assert [d.code for d in check_after_release(tmp_path, released, unapproved)] == ["CS601"]


def test_breaking_an_entity_returned_by_a_released_operation(tmp_path: Path) -> None:
    now = RELEASED.replace("  total: money\n}", "}")
    [diag] = check_after_release(tmp_path, RELEASED, now)
    assert diag.message == ("the released operation `placeOrder v1` breaks its clients (output "
                            "field `total`: output-field-removed (CX112))")


def test_changes_summary_is_short(tmp_path: Path) -> None:
    released = RELEASED.replace("    total: money\n  }\n  output", "".join(
        f"    f{i}: int\n" for i in range(6)) + "  }\n  output")
    [diag] = check_after_release(tmp_path, released, RELEASED)
    assert diag.message.endswith("input field `f2`: input-removed (CX105), …)")
