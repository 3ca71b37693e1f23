"""The generated `<app>/services/notifications.py`: one function per operation of the std
`notifications` module (called by the routes after the policy check) and the module's jobs
(found by the worker). Tokens: `<<fn:op>>` (function), `<<in:op>>` (input model),
`<<out:op>>` (output model), `<<err:op.Error>>` (error class); then `notifications.py` fills
`{app}` and the ORM classes."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the api package imports the providers
    from contractspec.generators.api.model import Operation

PAGE = 100  # the service queries answer the first PAGE items (their inputs have no paging)

TEXT = '''"""The operations and jobs of the standard `notifications` module (generated): the
signed-in user's inbox and preferences, the organisation's deliveries, templates and
channels; `deliverNotification` and `purgeDeliveries` run by the worker."""

from __future__ import annotations

import datetime
from typing import Any

import sqlalchemy as sa

import {app}.notifications.rules  # noqa: F401  (registers the rules' outbox subscribers)
from {app}.api import errors, schemas
from {app}.api.context import Context
from {app}.db import models
from {app}.enums import Channel, DeliveryStatus
from {app}.events import models as events
from {app}.jobs.definitions import (
    JOB_TYPES,
    DeliverNotificationInput,
    JobContext,
    PurgeDeliveriesInput,
)
from {app}.notifications import delivery
from {app}.notifications.catalog import NAMES, RULES
from {app}.notifications.render import template_problem, variables

<<rows>>

PAGE = <<page>>


def _page(ctx: Context, query: sa.Select[Any]) -> tuple[list[Any], int]:
    total = ctx.session.scalar(sa.select(sa.func.count()).select_from(query.subquery()))
    return list(ctx.session.scalars(query.limit(PAGE)).all()), int(total or 0)


def _inbox(ctx: Context) -> sa.Select[Any]:
    return ctx.select(DeliveryRow).where(
        DeliveryRow.recipient_id == ctx.actor.user_id,
        DeliveryRow.channel == Channel.in_app,
        DeliveryRow.status == DeliveryStatus.sent)


def <<fn:listInbox>>(ctx: Context, data: schemas.<<in:listInbox>>) -> schemas.<<out:listInbox>>:
    """The signed-in user's in-app messages, newest first."""
    query = _inbox(ctx)
    if data.unreadOnly:
        query = query.where(DeliveryRow.read_at.is_(None))
    rows, total = _page(ctx, query.order_by(DeliveryRow.created_at.desc(),
                                            DeliveryRow.id))
    items = [schemas.<<out:retryDelivery>>.from_row(r) for r in rows]
    return schemas.<<out:listInbox>>(items=items, total=total, page=1, size=PAGE)


def <<fn:markRead>>(ctx: Context, data: schemas.<<in:markRead>>) -> None:
    """Mark the user's in-app messages read: those listed, or all of them."""
    query = _inbox(ctx).where(DeliveryRow.read_at.is_(None))
    if data.deliveries:
        wanted = set(data.deliveries)
        mine = ctx.session.scalars(_inbox(ctx).where(DeliveryRow.id.in_(wanted))).all()
        if {row.id for row in mine} != wanted:
            raise errors.<<err:markRead.NotFound>>()
        query = query.where(DeliveryRow.id.in_(wanted))
    now = datetime.datetime.now(datetime.UTC)
    for row in ctx.session.scalars(query):
        row.read_at = now
    ctx.commit()


def <<fn:listDeliveries>>(ctx: Context,
                      data: schemas.<<in:listDeliveries>>) -> schemas.<<out:listDeliveries>>:
    """The organisation's deliveries, newest first, filtered."""
    query = ctx.select(DeliveryRow)
    if data.status is not None:
        query = query.where(DeliveryRow.status == data.status)
    if data.channel is not None:
        query = query.where(DeliveryRow.channel == data.channel)
    if data.notification is not None:
        query = query.where(DeliveryRow.notification == data.notification)
    rows, total = _page(ctx, query.order_by(DeliveryRow.created_at.desc(),
                                            DeliveryRow.id))
    items = [schemas.<<out:retryDelivery>>.from_row(r) for r in rows]
    return schemas.<<out:listDeliveries>>(items=items, total=total, page=1, size=PAGE)


def <<fn:retryDelivery>>(ctx: Context,
                     data: schemas.<<in:retryDelivery>>) -> schemas.<<out:retryDelivery>>:
    """Queue a failed or bounced delivery again (`notification.queued` enqueues its job)."""
    row = ctx.session.scalar(ctx.select(DeliveryRow).where(
        DeliveryRow.id == data.delivery))
    if row is None:
        raise errors.<<err:retryDelivery.NotFound>>()
    if row.status not in (DeliveryStatus.failed, DeliveryStatus.bounced):
        raise errors.<<err:retryDelivery.NotRetryable>>()
    row.status = DeliveryStatus.queued
    ctx.emit(events.NotificationQueuedV1, events.NotificationQueuedV1Payload(delivery=row.id))
    ctx.commit()
    return schemas.<<out:retryDelivery>>.from_row(row)


def <<fn:listMyPreferences>>(ctx: Context, data: schemas.<<in:listMyPreferences>>
                         ) -> schemas.<<out:listMyPreferences>>:
    """The signed-in user's channel preferences."""
    query = ctx.select(PreferenceRow).where(
        PreferenceRow.user_id == ctx.actor.user_id).order_by(
        PreferenceRow.channel, PreferenceRow.id)
    rows, total = _page(ctx, query)
    items = [schemas.<<out:setPreference>>.from_row(r) for r in rows]
    return schemas.<<out:listMyPreferences>>(items=items, total=total, page=1, size=PAGE)


def <<fn:setPreference>>(ctx: Context,
                     data: schemas.<<in:setPreference>>) -> schemas.<<out:setPreference>>:
    """Opt in or out of a channel, for every notification or one of them."""
    if data.notification is not None and data.notification not in NAMES:
        raise errors.<<err:setPreference.UnknownNotification>>()
    model = PreferenceRow
    row = ctx.session.scalar(sa.select(model).where(
        model.org_id == ctx.actor.org_id, model.user_id == ctx.actor.user_id,
        model.channel == data.channel, model.notification.is_(None)
        if data.notification is None else model.notification == data.notification))
    if row is None:
        row = model(org_id=ctx.actor.org_id, user_id=ctx.actor.user_id, channel=data.channel,
                    notification=data.notification, enabled=data.enabled)
        ctx.session.add(row)
    row.enabled = data.enabled
    ctx.commit()
    return schemas.<<out:setPreference>>.from_row(row)


def <<fn:saveTemplate>>(ctx: Context,
                    data: schemas.<<in:saveTemplate>>) -> schemas.<<out:saveTemplate>>:
    """Override a notification's template for one channel and language."""
    rule = next((r for r in RULES if r.name == data.notification), None)
    if rule is None:
        raise errors.<<err:saveTemplate.UnknownNotification>>()
    for text in (data.subject or "", data.body):
        problem = template_problem((rule.event, rule.version), text)
        if problem is not None:
            raise errors.<<err:saveTemplate.UnknownVariable>>(details=problem)
    model = TemplateRow
    row = ctx.session.scalar(sa.select(model).where(
        model.org_id == ctx.actor.org_id, model.notification == data.notification,
        model.channel == data.channel, model.locale == data.locale))
    if row is None:
        row = model(org_id=ctx.actor.org_id, notification=data.notification,
                    channel=data.channel, locale=data.locale, body=data.body, variables=[])
        ctx.session.add(row)
    row.subject, row.body = data.subject, data.body
    row.variables = variables((rule.event, rule.version), f"{data.subject or ''} {data.body}")
    row.updated_at = datetime.datetime.now(datetime.UTC)
    ctx.commit()
    return schemas.<<out:saveTemplate>>.from_row(row)


def <<fn:setOrgChannel>>(ctx: Context,
                     data: schemas.<<in:setOrgChannel>>) -> schemas.<<out:setOrgChannel>>:
    """Switch a channel on or off for the organisation (the webhook channel needs a URL)."""
    model = OrgSettingRow
    row = ctx.session.scalar(sa.select(model).where(
        model.org_id == ctx.actor.org_id, model.channel == data.channel))
    url = str(data.webhookUrl) if data.webhookUrl is not None else (
        row.webhook_url if row is not None else None)
    if data.channel == Channel.webhook and data.enabled and not url:
        raise errors.<<err:setOrgChannel.WebhookUrlRequired>>()
    if row is None:
        row = model(org_id=ctx.actor.org_id, channel=data.channel, enabled=data.enabled)
        ctx.session.add(row)
    row.enabled, row.webhook_url = data.enabled, url
    ctx.commit()
    return schemas.<<out:setOrgChannel>>.from_row(row)


def deliver_notification_job(ctx: JobContext, data: DeliverNotificationInput) -> None:
    """Send one delivery; a failure is recorded and raised, so the worker retries the run
    after the job's backoff (the last attempt bounces the delivery)."""
    last = ctx.attempt >= JOB_TYPES["deliverNotification"].max_attempts
    delivery.attempt(ctx.session, data.delivery, last)


def purge_deliveries_job(ctx: JobContext, data: PurgeDeliveriesInput) -> None:
    """Delete finished deliveries (sent, bounced, suppressed) older than `olderThan`."""
    before = datetime.datetime.now(datetime.UTC) - data.olderThan
    ctx.session.execute(sa.delete(DeliveryRow).where(
        DeliveryRow.created_at < before,
        DeliveryRow.status.in_((DeliveryStatus.sent, DeliveryStatus.bounced,
                                      DeliveryStatus.suppressed))))
'''

_TOKEN = re.compile(r"<<(fn|in|out|err):([A-Za-z.]+)>>")


def module_text(ops: dict[str, Operation], errors: dict[str, str]) -> str:
    """The module with its operations' names filled in."""
    def value(match: re.Match[str]) -> str:
        kind, key = match.groups()
        if kind == "err":
            return errors[key]
        op = ops[key]
        return {"fn": op.function, "in": op.input.name, "out": op.output.py}[kind]

    return _TOKEN.sub(value, TEXT.replace("<<page>>", str(PAGE)))
