"""The `metering` provider: usage recording, plan limits and thresholds
(`<app>/metering/usage.py`) and the std operations of `metering` (`<app>/services/metering.py`).

An operation that `meters` a metric records one unit of it in its own transaction (the `api`
target's routes call `usage.meter`), after checking the organisation's plan: past the limit
for the period it answers 429 `limit_exceeded`. Reaching 80% and 100% of a limit emits
`usage.threshold_reached` once per period, made unique by a `ThresholdCrossing` row.
"""

from __future__ import annotations

from typing import ClassVar

from contractspec.generators.db.naming import py_str
from contractspec.generators.services.base import ServiceInput, ServiceProvider
from contractspec.ir import nodes as ir


def _metering_data(program: ir.Program) -> tuple[str, str, str]:
    """The METRICS, PLANS and SOURCES literals of usage.py."""
    metrics = [
        f"    {py_str(m.name)}: Metric({py_str(m.description or m.name)}, "
        f"{py_str(m.unit.name if m.unit else '')}, "
        f"{py_str(m.aggregate.name if m.aggregate else 'sum')}, "
        f"{py_str(m.period.name if m.period else 'monthly')}),"
        for module in program.modules for m in module.metrics]
    plans = []
    for module in program.modules:
        for plan in module.plans:
            limits = [f"{py_str(limit.metric.name.rsplit('.', 1)[-1])}: "
                      f"({limit.amount}, {py_str(limit.period.name)})" for limit in plan.limits]
            one = f"    {py_str(plan.name)}: {{{', '.join(limits)}}},"
            plans.append(one if len(one) <= 100 else f"    {py_str(plan.name)}: {{\n"
                         + "".join(f"        {limit},\n" for limit in limits) + "    },")
    sources = [f"    {py_str(m.name)}: {py_str(m.source.name)},"
               for module in program.modules for m in module.metrics if m.source is not None]
    return (("{\n" + "\n".join(metrics) + "\n}") if metrics else "{}",
            ("{\n" + "\n".join(plans) + "\n}") if plans else "{}",
            ("{\n" + "\n".join(sources) + "\n}") if sources else "{}")


USAGE = '''"""Usage metering at run time (see docs/generators.md, "Metering").

`meter` records one unit of a metric for the actor's organisation in the caller's
transaction, after checking its plan's limit for the period (429 `limit_exceeded`, nothing
recorded); reaching 80% and 100% of a limit emits `usage.threshold_reached` once per period
(a unique `ThresholdCrossing` row per org, metric, period and threshold). The plan of an
organisation is its `Subscription` row; without one, nothing is limited.
"""

from __future__ import annotations

import datetime
import decimal
import uuid
from dataclasses import dataclass
from functools import partial
from typing import Any

import sqlalchemy as sa
from pydantic import JsonValue
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from {app}.api import errors
from {app}.auth import Actor
from {app}.db import models
from {app}.enums import {UsagePeriod}
from {app}.events import models as events
from {app}.events import outbox

UTC = datetime.UTC


@dataclass(frozen=True)
class Metric:
    """A `metric` declaration: its name, unit, aggregation and summary period."""

    name: str
    unit: str
    aggregate: str  # sum, count, max, min, avg
    period: str  # hourly, daily, weekly, monthly, yearly


METRICS: dict[str, Metric] = {metrics}
# plan -> metric -> (limit, period: hour, day, week, month or year)
PLANS: dict[str, dict[str, tuple[int, str]]] = {plans}
# metric -> the event it counts (`metric … from <event>`)
SOURCES: dict[str, str] = {sources}
THRESHOLDS = (80, 100)
_PERIODS = {{"hour": "hourly", "day": "daily", "week": "weekly", "month": "monthly",
            "year": "yearly"}}


class LimitReached(errors.ApiError):
    """The plan's limit of a metric for the period is reached."""

    status = 429
    code = "limit_exceeded"
    message = "The plan's limit for this period is reached."


def now() -> datetime.datetime:
    return datetime.datetime.now(UTC)


def utc(at: datetime.datetime) -> datetime.datetime:
    """An aware UTC time (SQLite gives naive ones back)."""
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


def period_start(period: str, at: datetime.datetime) -> datetime.datetime:
    """The start of the calendar period (UTC) `at` is in; weeks start on Monday."""
    name = _PERIODS.get(period, period)
    at = utc(at)
    if name == "hourly":
        return at.replace(minute=0, second=0, microsecond=0)
    day = at.replace(hour=0, minute=0, second=0, microsecond=0)
    if name == "daily":
        return day
    if name == "weekly":
        return day - datetime.timedelta(days=day.weekday())
    return day.replace(day=1) if name == "monthly" else day.replace(month=1, day=1)


def period_end(period: str, start: datetime.datetime) -> datetime.datetime:
    """The start of the next period."""
    name = _PERIODS.get(period, period)
    if name == "hourly":
        return start + datetime.timedelta(hours=1)
    if name in ("daily", "weekly"):
        return start + datetime.timedelta(days=1 if name == "daily" else 7)
    if name == "monthly":
        return (start.replace(day=28) + datetime.timedelta(days=4)).replace(day=1)
    return start.replace(year=start.year + 1)


def plan_of(session: Session, org_id: uuid.UUID, lock: bool = False) -> str | None:
    """The organisation's plan; `lock` serialises the organisation's limited usage."""
    query = sa.select(models.{Subscription}.plan).where(models.{Subscription}.org_id == org_id)
    return session.scalar(query.with_for_update() if lock else query)


def used(session: Session, org_id: uuid.UUID, metric: str, since: datetime.datetime,
         until: datetime.datetime | None = None) -> decimal.Decimal:
    """The metric's usage by the organisation from `since`, aggregated as declared."""
    record = models.{UsageRecord}
    how = METRICS[metric].aggregate if metric in METRICS else "sum"
    function = how if how in ("max", "min", "avg") else "sum"
    value: sa.ColumnElement[Any] = sa.func.count(record.id) if how == "count" else getattr(
        sa.func, function)(record.quantity)
    query = sa.select(value).where(record.org_id == org_id, record.metric == metric,
                                   record.at >= since)
    if until is not None:
        query = query.where(record.at < until)
    return decimal.Decimal(session.scalar(query) or 0)


def number(value: decimal.Decimal) -> JsonValue:
    """A JSON number: an int when whole."""
    return int(value) if value == value.to_integral_value() else float(value)


def record(session: Session, actor: Actor, metric: str, quantity: decimal.Decimal,
           source: str, idempotency_key: str | None = None) -> models.{UsageRecord}:
    """Add a usage record in the caller's transaction; 429 past the plan's limit."""
    at = now()
    plan = plan_of(session, actor.org_id, lock=True)
    limit = PLANS.get(plan, {{}}).get(metric) if plan is not None else None
    row = models.{UsageRecord}(org_id=actor.org_id, user_id=actor.user_id, metric=metric,
                              quantity=quantity, at=at, source=source,
                              idempotency_key=idempotency_key)
    if limit is None:
        session.add(row)
        session.flush()
        return row
    amount, period = limit
    start = period_start(period, at)
    before = used(session, actor.org_id, metric, start)
    with session.begin_nested():  # rolled back with the error past the limit
        session.add(row)
        session.flush()
        after = used(session, actor.org_id, metric, start)
        if after > amount:
            raise LimitReached(details={{"metric": metric, "limit": amount, "period": period,
                                        "used": number(before)}})
    for percent in THRESHOLDS:
        if after * 100 >= amount * percent:
            crossing(session, actor, actor.org_id, metric, start, percent, after, amount)
    return row


def meter(session: Session, actor: Actor, metric: str, source: str) -> None:
    """One unit of `metric` for an operation that `meters` it."""
    record(session, actor, metric, decimal.Decimal(1), source)


def crossing(session: Session, actor: Actor | None, org_id: uuid.UUID, metric: str,
             start: datetime.datetime, percent: int, value: decimal.Decimal,
             limit: int) -> models.{ThresholdCrossing} | None:
    """Record that usage reached `percent` of the limit in the period starting at `start` and
    emit `usage.threshold_reached`; None when it was already recorded (the unique row keeps
    it to once, also when concurrent requests reach it together)."""
    crossed = models.{ThresholdCrossing}
    if session.scalar(sa.select(crossed.id).where(
            crossed.org_id == org_id, crossed.metric == metric,
            crossed.period_start == start, crossed.percent == percent)) is not None:
        return None
    row = crossed(org_id=org_id, metric=metric, period_start=start, percent=percent, at=now())
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:
        return None
    payload = events.{Reached}Payload.model_validate({{
        "org": org_id, "metric": metric, "percent": percent, "value": value, "limit": limit}})
    outbox.emit(session, actor, events.{Reached}, payload, org_id=org_id)
    return row


def check_thresholds(session: Session, org_id: uuid.UUID | None = None,
                     metric: str | None = None) -> int:
    """Record and announce every threshold the current periods' usage reached (usage
    recorded from events or imports included); how many were new."""
    query = sa.select(models.{Subscription}.org_id, models.{Subscription}.plan)
    if org_id is not None:
        query = query.where(models.{Subscription}.org_id == org_id)
    new = 0
    for org, plan in session.execute(query).all():
        for key, (amount, period) in PLANS.get(plan, {{}}).items():
            if metric is not None and key != metric:
                continue
            start = period_start(period, now())
            value = used(session, org, key, start)
            for percent in THRESHOLDS:
                if value * 100 >= amount * percent and crossing(
                        session, None, org, key, start, percent, value, amount) is not None:
                    new += 1
    return new


def count_event(session: Session, event: dict[str, Any], metric: str) -> None:
    """Record one unit of `metric` for a dispatched event of an organisation; once per event
    (its id is the record's idempotency key), so a replayed event is not counted again."""
    org = event.get("orgId")
    if org is None:
        return
    org_id, key = uuid.UUID(str(org)), f"event:{{event['id']}}"
    if session.scalar(sa.select(models.{UsageRecord}.id).where(
            models.{UsageRecord}.org_id == org_id,
            models.{UsageRecord}.idempotency_key == key)) is not None:
        return
    actor = event.get("actor") or {{}}
    user = uuid.UUID(str(actor["id"])) if actor.get("kind") == "user" else None
    session.add(models.{UsageRecord}(
        org_id=org_id, user_id=user, metric=metric, quantity=decimal.Decimal(1), at=now(),
        source=f"event {{event['type']}} {{event['version']}}", idempotency_key=key))
    session.flush()
    check_thresholds(session, org_id, metric)


for _metric, _event in SOURCES.items():
    outbox.subscribe(_event)(partial(count_event, metric=_metric))


def summarize(session: Session, org_id: uuid.UUID) -> None:
    """Fold the organisation's usage records into one summary per metric and period."""
    plan = plan_of(session, org_id)
    limits = PLANS.get(plan, {{}}) if plan is not None else {{}}
    summary = models.{UsageSummary}
    for key, metric in METRICS.items():
        buckets: dict[datetime.datetime, list[decimal.Decimal]] = {{}}
        for at, quantity in session.execute(sa.select(
                models.{UsageRecord}.at, models.{UsageRecord}.quantity).where(
                models.{UsageRecord}.org_id == org_id,
                models.{UsageRecord}.metric == key)):
            buckets.setdefault(period_start(metric.period, at), []).append(quantity)
        period = {UsagePeriod}(metric.period)
        for start, values in buckets.items():
            value = _aggregate(metric.aggregate, values)
            row = session.scalar(sa.select(summary).where(
                summary.org_id == org_id, summary.metric == key, summary.period == period,
                summary.period_start == start))
            if row is None:
                row = summary(org_id=org_id, metric=key, period=period, period_start=start,
                              value=value)
                try:
                    with session.begin_nested():
                        session.add(row)
                except IntegrityError:  # written by a concurrent request
                    continue
            row.value = value
            row.limit = limits[key][0] if key in limits else None
            row.updated_at = now()
    session.flush()


def _aggregate(how: str, values: list[decimal.Decimal]) -> decimal.Decimal:
    if how == "count":
        return decimal.Decimal(len(values))
    if how in ("max", "min"):
        return max(values) if how == "max" else min(values)
    total = sum(values, decimal.Decimal(0))
    return total / len(values) if how == "avg" else total
'''

SERVICE = '''"""The operations of the standard module `metering` (see docs/std/metering.md)."""

from __future__ import annotations

import sqlalchemy as sa

from {app}.api import errors, schemas
from {app}.api.context import Context
from {app}.db import models
from {app}.enums import {SubscriptionStatus}, {UsagePeriod}
from {app}.events import models as events
from {app}.jobs.definitions import CheckThresholdsInput, JobContext, SummarizeUsageInput
from {app}.metering import usage


def {record_usage}(ctx: Context, data: schemas.{record_usage_in}) -> schemas.UsageRecord:
    if data.metric not in usage.METRICS:
        raise errors.UnknownMetric()
    if data.idempotencyKey is not None:
        known = ctx.session.scalar(sa.select(models.{UsageRecord}).where(
            models.{UsageRecord}.org_id == ctx.actor.org_id,
            models.{UsageRecord}.idempotency_key == data.idempotencyKey))
        if known is not None:  # a retry: counted once
            return schemas.UsageRecord.from_row(known)
    row = usage.record(ctx.session, ctx.actor, data.metric, data.quantity,
                       "recordUsage v1", data.idempotencyKey)
    ctx.emit(events.{Recorded}, events.{Recorded}Payload.model_validate(
        {{"record": row.id, "metric": row.metric, "quantity": row.quantity}}))
    ctx.commit()
    ctx.session.refresh(row)
    return schemas.UsageRecord.from_row(row)


def {list_metrics}(ctx: Context,
                 data: schemas.{list_metrics_in}) -> list[schemas.MetricDefinition]:
    definition = models.{MetricDefinition}
    known = set(ctx.session.scalars(sa.select(definition.key)).all())
    for key, metric in usage.METRICS.items():
        if key not in known:
            ctx.session.add(definition(key=key, name=metric.name, unit=metric.unit or "unit",
                                       aggregation=metric.aggregate,
                                       period={UsagePeriod}(metric.period)))
    ctx.commit()
    rows = ctx.session.scalars(ctx.select(definition).order_by(definition.key)).all()
    return [schemas.MetricDefinition.from_row(r) for r in rows]


def {get_usage}(ctx: Context, data: schemas.{get_usage_in}) -> schemas.UsageSummaryPage:
    usage.summarize(ctx.session, ctx.actor.org_id)
    ctx.commit()
    summary = models.{UsageSummary}
    query = ctx.select(summary).order_by(summary.metric, summary.period_start)
    if data.metric is not None:
        query = query.where(summary.metric == data.metric)
    if data.period is not None:
        query = query.where(summary.period == data.period)
    if data.from_ is not None:
        query = query.where(summary.period_start >= data.from_)
    if data.to is not None:
        query = query.where(summary.period_start < data.to)
    rows = ctx.session.scalars(query).all()  # the input has no paging: one page of all
    return schemas.UsageSummaryPage(items=[schemas.UsageSummary.from_row(r) for r in rows],
                                    total=len(rows), page=1, size=len(rows))


def _subscription(ctx: Context) -> models.{Subscription} | None:
    return ctx.session.scalar(sa.select(models.{Subscription}).where(
        models.{Subscription}.org_id == ctx.actor.org_id))


def {get_subscription}(ctx: Context,
                     data: schemas.{get_subscription_in}) -> schemas.Subscription:
    row = _subscription(ctx)
    if row is None:
        raise errors.NotFound("The organisation has no plan yet")
    return schemas.Subscription.from_row(row)


def {change_plan}(ctx: Context, data: schemas.{change_plan_in}) -> schemas.Subscription:
    if data.plan not in usage.PLANS:
        raise errors.UnknownPlan()
    at = usage.now()
    for metric, (amount, period) in usage.PLANS[data.plan].items():
        if usage.used(ctx.session, ctx.actor.org_id, metric,
                      usage.period_start(period, at)) > amount:
            raise errors.OverLimit(details={{"metric": metric, "limit": amount}})
    row = _subscription(ctx)
    before = row.plan if row is not None else ""
    start = usage.period_start("month", at)
    if row is None:
        row = models.{Subscription}(org_id=ctx.actor.org_id, plan=data.plan,
                                    status={SubscriptionStatus}.active,
                                    current_period_start=start,
                                    current_period_end=usage.period_end("month", start))
        ctx.session.add(row)
    row.plan = data.plan
    row.updated_at = at
    ctx.session.flush()
    ctx.emit(events.{Changed}, events.{Changed}Payload.model_validate({{
        "subscription": row.id, "from": before, "to": data.plan, "by": ctx.actor.user_id}}))
    ctx.commit()
    ctx.session.refresh(row)
    return schemas.Subscription.from_row(row)


def {record_crossing}(ctx: Context,
                      data: schemas.{record_crossing_in}) -> schemas.ThresholdCrossing:
    plan = usage.plan_of(ctx.session, ctx.actor.org_id)
    limit = usage.PLANS.get(plan, {{}}).get(data.metric) if plan is not None else None
    amount = limit[0] if limit is not None else 0
    start = usage.utc(data.periodStart)
    end = usage.period_end(limit[1], start) if limit is not None else None
    value = usage.used(ctx.session, ctx.actor.org_id, data.metric, start, end)
    row = usage.crossing(ctx.session, ctx.actor, ctx.actor.org_id, data.metric, start,
                         data.percent, value, amount)
    if row is None:
        raise errors.AlreadyRecorded()
    ctx.commit()
    ctx.session.refresh(row)
    return schemas.ThresholdCrossing.from_row(row)
'''

SERVICE_JOBS = '''

def summarize_usage_job(ctx: JobContext, data: SummarizeUsageInput) -> None:
    """The `summarizeUsage` job: fold usage records into the summaries (one organisation,
    or every one with usage)."""
    orgs = [data.org] if data.org is not None else list(ctx.session.scalars(
        sa.select(models.{UsageRecord}.org_id).distinct()).all())
    for org in orgs:
        usage.summarize(ctx.session, org)


def check_thresholds_job(ctx: JobContext, data: CheckThresholdsInput) -> None:
    """The `checkThresholds` job: announce every threshold reached in the current periods."""
    usage.check_thresholds(ctx.session)
'''

_OPERATIONS = {
    "recordUsage": "record_usage", "listMetrics": "list_metrics", "getUsage": "get_usage",
    "getSubscription": "get_subscription", "changePlan": "change_plan",
    "recordThresholdCrossing": "record_crossing",
}


class MeteringProvider(ServiceProvider):
    """Generated usage recording, limits, thresholds, summaries and the `metering` operations."""

    module: ClassVar[str] = "metering"
    operations: ClassVar[frozenset[tuple[str, str]]] = frozenset(
        (name, "v1") for name in _OPERATIONS)

    def files(self, given: ServiceInput) -> dict[str, str]:
        names = {n: given.orm("metering", n) for n in (
            "MetricDefinition", "UsageRecord", "UsageSummary", "Subscription",
            "ThresholdCrossing")}
        names.update({n: given.enum("metering", n) for n in (
            "UsagePeriod", "SubscriptionStatus")})
        names.update(Reached="UsageThresholdReachedV1", Recorded="UsageRecordedV1",
                     Changed="PlanChangedV1")
        metrics, plans, sources = _metering_data(given.program)
        ops: dict[str, str] = {}
        for name, slot in _OPERATIONS.items():
            op = given.operation("metering", name)
            ops[slot], ops[f"{slot}_in"] = op.function, op.input.name
        return {
            "metering/__init__.py": given.top + '"""Usage metering, plans and limits."""\n',
            "metering/usage.py": given.top + USAGE.format(
                app=given.app, metrics=metrics, plans=plans, sources=sources, **names),
            "services/metering.py": given.top + (SERVICE + SERVICE_JOBS).format(
                app=given.app, **names, **ops),
        }
