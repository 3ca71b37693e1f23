"""Jobs and schedules (CS512-CS516) and the cron validator."""

from __future__ import annotations

import pytest

from contractspec.check.cron import cron_error
from contractspec.check.rules.events import EVENT, SHOP
from contractspec.check.rules.stdlib import using
from tests.conftest import codes, diagnostics


def only(code: str, text: str) -> list[str]:
    return [d.message for d in diagnostics(text) if d.code == code]


def job(body: str, run: str = "schedule nightly every 1d run work\n") -> str:
    return f"module shop\n\nuse jobs\n\njob work {{\n{body}}}\n\n{run}"


# ---- cron -------------------------------------------------------------------------------------


@pytest.mark.parametrize("expression", [
    "0 3 * * *", "*/15 9-17 * * MON-FRI", "0 0 1,15 * *", "5 4 * jan-mar,dec sun",
    "0-30/10 * * * 7", "30 2 1 * *", "@daily", "@Hourly", "5/15 * * * *",
])
def test_valid_cron_expressions(expression: str) -> None:
    assert cron_error(expression) is None


@pytest.mark.parametrize(("expression", "message"), [
    ("0 3 * *", "a cron expression has 5 fields (minute hour day-of-month month day-of-week), "
                "this one has 4"),
    ("60 * * * *", "field 1 (minute): `60` is out of range 0-59"),
    ("0 0 0 * *", "field 3 (day of month): `0` is out of range 1-31"),
    ("0 0 * 13 *", "field 4 (month): `13` is out of range 1-12"),
    ("0 0 * * 8", "field 5 (day of week): `8` is out of range 0-7"),
    ("0 0 * foo *", "field 4 (month): `foo` is not a number or a month name such as `jan`"),
    ("0 12-6 * * *", "field 2 (hour): the range `12-6` runs backwards"),
    ("*/0 * * * *", "field 1 (minute): the step `/0` must be a whole number of at least 1"),
    ("*/90 * * * *", "field 1 (minute): the step `/90` is larger than the field's range (59)"),
    ("0 0 1,,2 * *", "field 3 (day of month): a list has an empty item"),
    ("0 0 ? * *", "field 3 (day of month): `?`: `?`, `L`, `W` and `#` are not supported"),
    ("x * * * *", "field 1 (minute): `x` is not a number"),
    ("@reboot", "unknown macro `@reboot`: use one of `@yearly`, `@annually`, `@monthly`, "
                "`@weekly`, `@daily`, `@midnight`, `@hourly`"),
])
def test_invalid_cron_expressions(expression: str, message: str) -> None:
    assert cron_error(expression) == message


def test_bad_cron_is_reported_on_the_schedule_name() -> None:
    text = job("  timeout 1m\n", "schedule nightly cron \"0 3 * *\" run work\n")
    [diag] = [d for d in diagnostics(text) if d.code == "CS514"]
    assert diag.message.startswith("schedule `nightly`: a cron expression has 5 fields")
    assert text[diag.span.start_offset:diag.span.end_offset] == "nightly"


# ---- CS512, CS513 -----------------------------------------------------------------------------


def test_retries_up_to_the_limit_are_fine() -> None:
    assert "CS512" not in codes(job("  retries 100\n"))
    assert only("CS512", job("  retries 101\n")) == [
        "job `work` retries 101 times (more than 100)"]


@pytest.mark.parametrize(("backoff", "message"), [
    ("random(1s)", "unknown backoff `random`: use `exponential`, `fixed`, `linear`"),
    ("fixed", "`fixed(delay)` takes 1 argument, not 0"),
    ("linear(1s, 2s, 3s)", "`linear(step, max)` takes 2 arguments, not 3"),
    ("fixed(5)", "`delay` of `fixed(delay)` must be a duration such as `30s`"),
    ("exponential(1h, 30s)", "`max` (30s) is shorter than `base` (1h)"),
])
def test_bad_backoffs(backoff: str, message: str) -> None:
    assert only("CS513", job(f"  backoff {backoff}\n")) == [f"job `work`: {message}"]


@pytest.mark.parametrize("backoff", ["fixed(1m)", "linear(10s, 10s)", "exponential(1s, 1d)"])
def test_good_backoffs(backoff: str) -> None:
    assert codes(job(f"  backoff {backoff}\n")) == []


# ---- CS515, CS516 -----------------------------------------------------------------------------


def test_job_run_from_another_module_is_not_reported() -> None:
    files = {"jobs.cspec": "module jobs\n\njob work {\n  timeout 1m\n}\n",
             "ops.cspec": "module ops\n\nuse jobs\n\nschedule nightly every 1d run work\n"}
    assert "CS515" not in codes(files)
    assert only("CS515", job("  timeout 1m\n", "")) == ["nothing runs the job `work`"]


def trigger(job_input: str, payload: str = "    order: ref Order\n") -> str:
    return (using(SHOP, "jobs") + EVENT.replace("    order: ref Order\n", payload)
            + f"\njob work {{\n  input {{\n{job_input}  }}\n}}\n\non order.placed run work\n")


def test_trigger_input_matches_payload_by_name_and_type() -> None:
    assert codes(trigger("    order: ref Order\n    note: string?\n")) == []
    assert only("CS516", trigger("    order: ref shop.Order\n")) == []
    assert only("CS516", trigger("    order: string\n")) == [
        "job `work` takes `order: string`, but `order.placed v1` gives `order: ref Order`"]


def test_optional_payload_field_cannot_fill_a_required_input() -> None:
    assert only("CS516", trigger("    order: ref Order\n", "    order: ref Order?\n")) == [
        "`order` is optional in `order.placed v1` but required by job `work`"]


def test_scheduled_job_with_required_input() -> None:
    text = job("  input {\n    day: date\n    note: string?\n    n: int = 1\n  }\n")
    assert only("CS516", text) == [
        "the scheduled job `work` needs input `day` that a schedule cannot give"]
