"""Events (CS501-CS506): references, producers, personal data, severities, durations,
critical operations and learning steps."""

from __future__ import annotations

from contractspec.check.rules.events import COMMAND, EVENT, ORDER, SHOP
from tests.conftest import codes, diagnostics

EVENT_RETAINED = EVENT.replace("  }\n}", "  }\n  retention 30d\n}")


def only(code: str, text: str | dict[str, str]) -> list[str]:
    return [d.message for d in diagnostics(text) if d.code == code]


# ---- references (CS201 / CS203) --------------------------------------------------------------


def test_unknown_emitted_event_suggests_the_closest() -> None:
    spec = SHOP.replace("emits order.placed", "emits order.plced") + EVENT
    found = [d for d in diagnostics(spec) if d.code == "CS201"]
    assert [d.message for d in found] == ["unknown event `order.plced`"]
    assert found[0].help == "did you mean `order.placed`?"
    assert found[0].fixes[0].replacement == "order.placed"
    assert found[0].span.start_line == found[0].span.end_line


def test_unknown_event_version() -> None:
    spec = SHOP.replace("emits order.placed", "emits order.placed v2") + EVENT
    found = [d for d in diagnostics(spec) if d.code == "CS201"]
    assert [d.message for d in found] == ["event `order.placed` has no version v2"]
    assert found[0].help == "declared versions: v1"


def test_every_kind_of_event_reference_is_resolved() -> None:
    spec = SHOP + EVENT + (
        "\njob work {\n  timeout 1m\n}\n\non order.lost run work\n\n"
        "notification n {\n  on order.gone\n  to role admin\n  via email\n  template \"x\"\n}\n\n"
        "experiment e {\n  variants a 50%, b 50%\n  metric order.missing\n}\n\n"
        "metric m {\n  unit order\n  aggregate count monthly\n  from order.nope\n}\n\n"
        "track t {\n  unit u {\n    step s {\n      completes on order.never\n    }\n  }\n}\n"
    )
    assert sorted(only("CS201", spec)) == [
        "unknown event `order.gone`", "unknown event `order.lost`", "unknown event "
        "`order.missing`", "unknown event `order.never`", "unknown event `order.nope`"]


def test_event_declared_in_two_used_modules_is_ambiguous() -> None:
    files = {
        "shop.cspec": "module shop\n\nuse a\nuse b\n\njob work {\n  timeout 1m\n}\n\n"
                      "on thing.done run work\n",
        "a.cspec": "module a\n\nevent thing.done v1 {\n}\n",
        "b.cspec": "module b\n\nevent thing.done v1 {\n}\n",
    }
    assert only("CS203", files) == [
        "event `thing.done` is ambiguous: it could be a.thing.done, b.thing.done"]


# ---- CS501 ------------------------------------------------------------------------------------


def test_event_emitted_by_a_workflow_transition_counts() -> None:
    spec = ORDER.replace("  total: money\n", "  total: money\n  status: Status = open\n") + (
        "enum Status {\n  open\n  paid\n}\n\n"
        "workflow Flow on Order.status {\n  initial open\n"
        "  transition pay: open -> paid by admin emits order.paid\n  final paid\n}\n\n"
        "event order.paid v1 {\n  payload {\n    order: ref Order\n  }\n}\n")
    assert "CS501" not in codes(spec)


def test_event_emitted_by_another_module_counts() -> None:
    files = {
        "events.cspec": "module events\n\nevent thing.done v1 {\n}\n",
        "ops.cspec": "module ops\n\nuse identity\nuse events\n\n"
                     "command doThing v1 {\n  policy admin\n  emits thing.done\n}\n",
    }
    assert "CS501" not in codes(files)


def test_an_older_version_nobody_emits_is_reported() -> None:
    spec = SHOP + EVENT + "\nevent order.placed v2 {\n  payload {\n    order: ref Order\n  }\n}\n"
    assert only("CS501", spec) == ["nothing emits the event `order.placed v1`"]


def test_unemitted_event_can_be_suppressed_with_a_reason() -> None:
    spec = "module shop\n\n// cspec-ignore CS501: emitted by a handler\nevent tick v1 {\n}\n"
    assert codes(spec) == []


# ---- CS502 ------------------------------------------------------------------------------------


def test_pii_field_inside_an_embedded_type() -> None:
    spec = SHOP + "type Contact {\n  phone: string @pii\n}\n\n" + EVENT.replace(
        "    order: ref Order\n", "    order: ref Order\n    contact: Contact\n")
    assert only("CS502", spec) == [
        "the event `order.placed v1` holds personal data (`contact.phone` is `@pii`) but has "
        "no `retention`"]


def test_reference_to_an_entity_with_pii() -> None:
    spec = SHOP + EVENT.replace("    order: ref Order\n", "    by: ref identity.User\n")
    assert only("CS502", spec) == [
        "the event `order.placed v1` holds personal data (`by` refers to `User`, whose "
        "`email` is `@pii`) but has no `retention`"]


def test_pii_with_retention_and_events_without_pii_are_fine() -> None:
    with_retention = SHOP + EVENT_RETAINED.replace("    order: ref Order\n",
                                                   "    by: ref identity.User\n")
    assert "CS502" not in codes(with_retention)
    assert "CS502" not in codes(SHOP + EVENT)


# ---- CS503, CS504 -----------------------------------------------------------------------------


def test_unknown_severity_offers_the_closest_level() -> None:
    spec = SHOP + EVENT.replace("  }\n}", "  }\n  severity warn\n}")
    [found] = [d for d in diagnostics(spec) if d.code == "CS503"]
    assert found.fixes[0].replacement == "warning"
    assert "CS503" not in codes(SHOP + EVENT.replace("  }\n}", "  }\n  severity info\n}"))


def test_zero_durations_of_jobs_and_schedules() -> None:
    spec = ("module shop\n\njob work {\n  timeout 0s\n  backoff fixed(0s)\n}\n\n"
            "schedule often every 0m run work\n")
    assert only("CS504", spec) == [
        "job `work` has `timeout 0s`: it must be longer than zero",
        "the backoff delay `0s` must be longer than zero",
        "schedule `often` runs `every 0m`: the interval must be longer than zero"]
    fine = "module shop\n\njob work {\n  timeout 1s\n}\n\nschedule often every 5m run work\n"
    assert "CS504" not in codes(fine)


# ---- CS505 ------------------------------------------------------------------------------------


def test_critical_operation_behind_an_experiment_points_at_behind() -> None:
    spec = (ORDER + COMMAND.format("  behind copy\n") + EVENT
            + "\nexperiment copy {\n  variants a 50%, b 50%\n  metric order.placed\n}\n\n"
              "critical placeOrder\n")
    [found] = [d for d in diagnostics(spec) if d.code == "CS505"]
    assert spec[found.span.start_offset:found.span.end_offset] == "copy"
    assert spec.splitlines()[found.span.start_line - 1] == "  behind copy"
    assert found.related[0].message == "marked critical here"


def test_critical_query_and_experiment_without_critical_are_fine() -> None:
    spec = (ORDER + COMMAND.format("  behind copy\n") + EVENT
            + "\nexperiment copy {\n  variants a 50%, b 50%\n  metric order.placed\n}\n\n"
              "query listOrders v1 {\n  output page<Order>\n  policy admin\n}\n\n"
              "critical listOrders\n")
    assert "CS505" not in codes(spec)


# ---- CS506 ------------------------------------------------------------------------------------


def test_every_step_needs_completes_on() -> None:
    spec = SHOP + EVENT + (
        "\ntrack t {\n  unit u {\n    step a {\n      completes on order.placed\n    }\n"
        "    step b {\n      content \"Read\"\n    }\n  }\n}\n")
    assert only("CS506", spec) == ["step `b` has no `completes on`: it can never be completed"]
