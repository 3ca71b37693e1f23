"""Flags, experiments, metrics and plans (CS517-CS522)."""

from __future__ import annotations

from contractspec.check.rules.events import EVENT, SHOP
from contractspec.check.rules.stdlib import using
from tests.conftest import codes, diagnostics


def only(code: str, text: str) -> list[str]:
    return [d.message for d in diagnostics(text) if d.code == code]


def flag(body: str) -> str:
    return (f"module shop\n\nuse flags\nuse metering\n\nflag beta {{\n  default off\n{body}}}\n\n"
            "plan pro {\n  flags beta\n}\n")


def experiment(variants: str) -> str:
    return (using(SHOP, "flags") + EVENT
            + f"\nexperiment copy {{\n  variants {variants}\n  metric order.placed\n}}\n")


def test_rollout_bounds_and_unit() -> None:
    assert codes(flag("  rollout 100% by user\n")) == []
    assert codes(flag("  rollout 0% by org\n")) == []
    assert only("CS517", flag("  rollout 100.5% by org\n")) == [
        "flag `beta` rolls out to 100.5%: a rollout is between 0% and 100%"]
    [diag] = [d for d in diagnostics(flag("  rollout 10% by usr\n")) if d.code == "CS517"]
    assert diag.fixes[0].replacement == "user"


def test_targets() -> None:
    assert codes(flag("  target plan pro\n  target org acme, globex\n  target segment b\n")) == []
    assert only("CS201", flag("  target plan enterprise\n")) == ["unknown plan `enterprise`"]
    [diag] = [d for d in diagnostics(flag("  target users alice\n")) if d.code == "CS518"]
    assert diag.message == "unknown target dimension `users`"
    assert diag.fixes[0].replacement == "user"


def test_variants() -> None:
    assert codes(experiment("a 25%, b 25%, c 50%")) == []
    assert codes(experiment("a 33.4%, b 33.3%, c 33.3%")) == []
    assert only("CS519", experiment("only 100%")) == [
        "experiment `copy` needs at least two variants to compare"]
    assert only("CS519", experiment("a 50%, a 50%")) == ["variant `a` is listed twice"]
    text = experiment("a 60%, b 60%")
    [diag] = [d for d in diagnostics(text) if d.code == "CS519"]
    assert diag.message == "the variants of `copy` add up to 120%, not 100%"
    assert text[diag.span.start_offset:diag.span.end_offset] == "a 60%, b 60%"


def test_experiment_without_metric() -> None:
    text = "module shop\n\nuse flags\n\nexperiment copy {\n  variants a 50%, b 50%\n}\n"
    assert only("CS520", text) == ["experiment `copy` has no `metric`"]


def metric(aggregate: str) -> str:
    return f"module shop\n\nuse metering\n\nmetric calls {{\n  unit call\n{aggregate}}}\n"


def test_metric_aggregations_and_periods() -> None:
    for aggregate in ("sum", "count", "max", "min", "avg"):
        assert codes(metric(f"  aggregate {aggregate} daily\n")) == []
    assert codes(metric("  aggregate count\n")) == []
    assert only("CS521", metric("")) == ["metric `calls` has no `aggregate`"]
    [diag] = [d for d in diagnostics(metric("  aggregate sum montly\n")) if d.code == "CS521"]
    assert diag.message == "unknown metric period `montly`"
    assert diag.fixes[0].replacement == "monthly"


def test_plan_limit_periods() -> None:
    base = metric("  aggregate sum monthly\n")
    for period in ("hour", "day", "week", "month", "year"):
        assert codes(base + f"\nplan pro {{\n  limit calls 10 / {period}\n}}\n") == []
    assert only("CS522", base + "\nplan pro {\n  limit calls 10 / fortnight\n}\n") == [
        "unknown limit period `fortnight`"]
