"""Feature flags, experiments, metrics and plans (CS517-CS522)."""

from __future__ import annotations

import difflib
from collections.abc import Sequence

from contractspec.check.context import CheckContext
from contractspec.check.registry import rule
from contractspec.check.rules.events import EVENT, SHOP, replace_with
from contractspec.check.rules.stdlib import using
from contractspec.diagnostics import Related, Severity
from contractspec.ir import nodes as ir
from contractspec.source import Span

E, W = Severity.ERROR, Severity.WARNING
_SHOP = using(SHOP, "flags")
ROLLOUT_UNITS = ("org", "user")
TARGET_DIMENSIONS = ("plan", "org", "user", "segment")
AGGREGATES = ("sum", "count", "max", "min", "avg")
METRIC_PERIODS = ("hourly", "daily", "weekly", "monthly", "yearly")
LIMIT_PERIODS = ("hour", "day", "week", "month", "year")


def _choose(ctx: CheckContext, code: str, message: str, ref: ir.NameRef,
            allowed: Sequence[str]) -> None:
    """Report `ref` as not among `allowed`, suggesting the closest allowed word."""
    close = difflib.get_close_matches(ref.name, allowed, n=1, cutoff=0.5)
    ctx.report(code, message, ref.span,
               help="use " + ", ".join(f"`{a}`" for a in allowed)
               + (f": did you mean `{close[0]}`?" if close else ""),
               fixes=replace_with(ref.span, close[0]) if close else ())


@rule(
    "CS517", "bad-rollout", E, "A flag's rollout is not a percentage of orgs or users.",
    "`rollout 25% by org` turns the flag on for a stable 25% of organisations (`by user`: of "
    "users). The percentage is between 0% and 100%.",
    bad="module shop\n\nuse flags\n\n"
        "flag newCheckout {\n  default off\n  rollout 150% by team\n}\n",
    good="module shop\n\nuse flags\n\nflag newCheckout {\n  default off\n  rollout 50% by org\n}\n",
    fix="Replace the unit with the closest of `org` and `user`.",
    per_module=True,
)
def check_rollouts(ctx: CheckContext) -> None:
    for module in ctx.user_modules():
        for flag in module.flags:
            rollout = flag.rollout
            if rollout is None:
                continue
            if not 0 <= rollout.percent <= 100:
                ctx.report("CS517", f"flag `{flag.name}` rolls out to {rollout.percent:g}%: a "
                           "rollout is between 0% and 100%", rollout.span)
            if rollout.by.name not in ROLLOUT_UNITS:
                _choose(ctx, "CS517", f"a rollout is `by org` or `by user`, not "
                        f"`by {rollout.by.name}`", rollout.by, ROLLOUT_UNITS)


@rule(
    "CS518", "bad-flag-target", E, "A flag targets an unknown dimension.",
    "`target plan pro, team` turns a flag on for the listed values of one dimension: "
    "`plan` (values must be declared plans, CS201 otherwise), `org`, `user` or `segment`.",
    bad="module shop\n\nuse flags\n\nflag newCheckout {\n  default off\n  target country fr\n}\n",
    good="module shop\n\nuse flags\n\n"
         "flag newCheckout {\n  default off\n  target segment beta\n}\n",
    fix="Replace with the closest dimension.",
    per_module=True,
)
def check_targets(ctx: CheckContext) -> None:
    for module in ctx.user_modules():
        for flag in module.flags:
            for target in flag.targets:
                dimension = target.dimension
                if dimension.name == "plan":
                    for value in target.values:
                        ctx.resolve(module.name, value, "plan", "plan")
                elif dimension.name not in TARGET_DIMENSIONS:
                    _choose(ctx, "CS518", f"unknown target dimension `{dimension.name}`",
                            dimension, TARGET_DIMENSIONS)


@rule(
    "CS519", "bad-variants", E, "An experiment's variants do not split everyone.",
    "An experiment compares at least two variants with distinct names, and their "
    "percentages add up to exactly 100%, so that every user sees exactly one variant.",
    bad=_SHOP + EVENT + "\nexperiment checkoutCopy {\n  variants control 50%, short 40%\n"
                       "  metric order.placed\n}\n",
    good=_SHOP + EVENT + "\nexperiment checkoutCopy {\n  variants control 50%, short 50%\n"
                        "  metric order.placed\n}\n",
    per_module=True,
)
def check_variants(ctx: CheckContext) -> None:
    for module in ctx.user_modules():
        for experiment in module.experiments:
            variants = experiment.variants
            if len(variants) < 2:
                ctx.report("CS519", f"experiment `{experiment.name}` needs at least two "
                           "variants to compare", experiment.name_span,
                           help="for example `variants control 50%, new 50%`")
            first: dict[str, Span] = {}
            for variant in variants:
                if variant.name in first:
                    ctx.report("CS519", f"variant `{variant.name}` is listed twice",
                               variant.span, related=(Related(span=first[variant.name],
                                                              message="first listed here"),))
                first.setdefault(variant.name, variant.span)
            total = sum(v.percent for v in variants)
            if variants and abs(total - 100) > 1e-9:
                ctx.report("CS519", f"the variants of `{experiment.name}` add up to {total:g}%, "
                           "not 100%", variants[0].span.model_copy(update={
                               k: getattr(variants[-1].span, k)
                               for k in ("end_line", "end_col", "end_offset")}))


@rule(
    "CS520", "experiment-without-metric", W, "An experiment measures nothing.",
    "An experiment is decided by comparing how often each variant leads to an event: name "
    "it with `metric deal.created`. Without a metric the experiment can never conclude.",
    bad="module shop\n\nuse flags\n\n"
        "experiment checkoutCopy {\n  variants control 50%, short 50%\n}\n",
    good=_SHOP + EVENT + "\nexperiment checkoutCopy {\n  variants control 50%, short 50%\n"
         "  metric order.placed\n}\n",
    per_module=True,
)
def check_experiment_metric(ctx: CheckContext) -> None:
    for module in ctx.user_modules():
        for experiment in module.experiments:
            if experiment.metric is None:
                ctx.report("CS520", f"experiment `{experiment.name}` has no `metric`",
                           experiment.name_span,
                           help="name the event that counts as success: `metric order.placed`")


@rule(
    "CS521", "bad-metric-aggregation", E, "A metric's aggregation or period is unknown.",
    "A metric says how its values are combined, `aggregate` followed by one of "
    + ", ".join(f"`{a}`" for a in AGGREGATES) + " (`count` counts occurrences, the others "
    "combine reported amounts), and optionally over which period: "
    + ", ".join(f"`{p}`" for p in METRIC_PERIODS) + " (no period: since the beginning).",
    bad="module shop\n\nuse metering\n\nmetric api_calls \"API calls\" {\n  unit call\n"
        "  aggregate total monthly\n}\n",
    good="module shop\n\nuse metering\n\nmetric api_calls \"API calls\" {\n  unit call\n"
         "  aggregate sum monthly\n}\n",
    fix="Replace with the closest aggregation or period.",
    per_module=True,
)
def check_metrics(ctx: CheckContext) -> None:
    for module in ctx.user_modules():
        for metric in module.metrics:
            if metric.aggregate is None:
                ctx.report("CS521", f"metric `{metric.name}` has no `aggregate`",
                           metric.name_span, help="for example `aggregate count monthly`")
            elif metric.aggregate.name not in AGGREGATES:
                _choose(ctx, "CS521", f"unknown aggregation `{metric.aggregate.name}`",
                        metric.aggregate, AGGREGATES)
            if metric.period is not None and metric.period.name not in METRIC_PERIODS:
                _choose(ctx, "CS521", f"unknown metric period `{metric.period.name}`",
                        metric.period, METRIC_PERIODS)


@rule(
    "CS522", "bad-limit-period", E, "A plan limit is per an unknown period.",
    "`limit api_calls 100000 / month` caps a declared metric per `hour`, `day`, `week`, "
    "`month` or `year`.",
    bad="module shop\n\nuse metering\n\n"
        "metric api_calls {\n  unit call\n  aggregate sum monthly\n}\n\n"
        "plan pro {\n  limit api_calls 100000 / monthly\n}\n",
    good="module shop\n\nuse metering\n\n"
         "metric api_calls {\n  unit call\n  aggregate sum monthly\n}\n\n"
         "plan pro {\n  limit api_calls 100000 / month\n}\n",
    fix="Replace with the closest period.",
    per_module=True,
)
def check_plans(ctx: CheckContext) -> None:
    for module in ctx.user_modules():
        for plan in module.plans:
            for limit in plan.limits:
                if limit.period.name not in LIMIT_PERIODS:
                    _choose(ctx, "CS522", f"unknown limit period `{limit.period.name}`",
                            limit.period, LIMIT_PERIODS)
