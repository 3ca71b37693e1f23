"""The `jobs` provider: enqueueing by hand, the dead letters, schedules, and the purge job.

`<app>/services/jobs.py` implements `enqueueJob` (the payload checked against the job's
input model by the worker target's `enqueue`: `UnknownJobType`, `BadPayload`, `Duplicate`
for a dedupe key still queued or running), `cancelJob` (a queued or failed run, by an
operator or whoever enqueued it; `job.cancelled`), `retryJob` (a dead run queued again
with fresh attempts), `listDeadJobs`, `listSchedules` and
`setSchedulePaused`; `getJob` and `listJobs` are plain CRUD. The job `purgeFinishedJobs`
deletes succeeded and cancelled runs older than its `olderThan`.
"""

from __future__ import annotations

from typing import ClassVar

from contractspec.generators.services.base import ServiceInput, ServiceProvider
from contractspec.generators.services.common import fill, names

OPERATIONS = frozenset({
    ("enqueueJob", "v1"), ("cancelJob", "v1"), ("retryJob", "v1"), ("listDeadJobs", "v1"),
    ("listSchedules", "v1"), ("setSchedulePaused", "v1"),
})


class JobsProvider(ServiceProvider):
    module: ClassVar[str] = "jobs"
    operations: ClassVar[frozenset[tuple[str, str]]] = OPERATIONS

    def files(self, given: ServiceInput) -> dict[str, str]:
        return {"services/jobs.py": fill(TEMPLATE, names(given, self.module, self.operations))}


TEMPLATE = '''${top}"""The standard `jobs` module's operations and jobs (docs/std/jobs.md): runs
queued by hand (checked like `jobs.queue.enqueue`), the dead letters, the schedules, and the
purge of finished runs."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any, TypeVar

import sqlalchemy as sa
from pydantic import JsonValue, ValidationError
from sqlalchemy.orm import Session

from ${app} import enums
from ${app}.api import errors, schemas
from ${app}.api.context import Context
from ${app}.db import models
from ${app}.events import models as events
from ${app}.jobs import definitions
from ${app}.jobs.definitions import JobContext
from ${app}.jobs.queue import UnknownJobType, enqueue

R = TypeVar("R")
P = TypeVar("P")
_LIVE = (enums.${enum_JobStatus}.queued, enums.${enum_JobStatus}.running)


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


def _page(session: Session, query: sa.Select[Any], order: Any, page: int, size: int,
          read: Callable[[Any], R], model: Callable[..., P]) -> P:
    """One page of the query's rows as the output's page model."""
    total = session.scalar(sa.select(sa.func.count()).select_from(query.subquery()))
    rows = session.scalars(query.order_by(*order).limit(size).offset((page - 1) * size)).all()
    return model(items=[read(r) for r in rows], total=total or 0, page=page, size=size)


def ${f_enqueueJob_v1}(ctx: Context, data: ${in_enqueueJob_v1}) -> ${out_enqueueJob_v1}:
    """Queue a run for the caller's organisation, due at `runAt` (now when absent)."""
    job = models.${m_Job}
    if data.dedupeKey is not None and ctx.session.scalar(sa.select(job.id).where(
            job.dedupe_key == data.dedupeKey, job.status.in_(_LIVE))) is not None:
        raise errors.${e_enqueueJob_v1_Duplicate}()
    now = _now()
    delay = max(data.runAt - now, datetime.timedelta()) if data.runAt is not None else None
    try:
        row = enqueue(ctx.session, data.type, data.payload, org_id=ctx.actor.org_id,
                      delay=delay, dedupe_key=data.dedupeKey, now=now, actor=ctx.actor)
    except UnknownJobType as error:
        raise errors.${e_enqueueJob_v1_UnknownJobType}(details=str(error)) from error
    except ValidationError as error:
        details: list[JsonValue] = [
            {"path": ".".join(str(p) for p in e["loc"]), "message": e["msg"]}
            for e in error.errors()]
        raise errors.${e_enqueueJob_v1_BadPayload}(details=details) from error
    row.enqueued_by_id = ctx.actor.user_id  # enqueue emitted job.enqueued
    ctx.session.flush()
    result = schemas.${r_Job}.from_row(row)
    ctx.commit()
    return result


def ${f_cancelJob_v1}(ctx: Context, data: ${in_cancelJob_v1}) -> ${out_cancelJob_v1}:
    """Cancel a queued run or one waiting for its retry: an operator's, or the caller's own."""
    job = models.${m_Job}
    row: models.${m_Job} | None = ctx.session.scalar(
        ctx.select(job).where(job.id == data.id).with_for_update())
    if row is None or not (ctx.actor.can("manage_jobs")
                           or row.enqueued_by_id == ctx.actor.user_id):
        raise errors.${e_cancelJob_v1_NotFound}()
    if row.status not in (enums.${enum_JobStatus}.queued, enums.${enum_JobStatus}.failed):
        raise errors.${e_cancelJob_v1_NotCancellable}(details=f"the job is {row.status}")
    row.status = enums.${enum_JobStatus}.cancelled
    row.finished_at = _now()
    ctx.session.flush()
    ctx.emit(events.${ev_job_cancelled_v1}, events.${ev_job_cancelled_v1}Payload(job=row.id))
    result = schemas.${r_Job}.from_row(row)
    ctx.commit()
    return result


def ${f_retryJob_v1}(ctx: Context, data: ${in_retryJob_v1}) -> ${out_retryJob_v1}:
    """Queue a dead run again, due now, with its attempts counted afresh."""
    job = models.${m_Job}
    row: models.${m_Job} | None = ctx.session.scalar(
        ctx.select(job).where(job.id == data.id).with_for_update())
    if row is None:
        raise errors.${e_retryJob_v1_NotFound}()
    if row.status != enums.${enum_JobStatus}.dead:
        raise errors.${e_retryJob_v1_NotRetryable}(details=f"the job is {row.status}")
    row.status = enums.${enum_JobStatus}.queued
    row.attempts = 0
    row.scheduled_at = _now()
    row.started_at = row.finished_at = None
    result = schemas.${r_Job}.from_row(row)
    ctx.commit()
    return result


def ${f_listDeadJobs_v1}(ctx: Context, data: ${in_listDeadJobs_v1}) -> ${out_listDeadJobs_v1}:
    """Dead-lettered runs, oldest first."""
    job = models.${m_Job}
    query = ctx.select(job).where(job.status == enums.${enum_JobStatus}.dead)
    if data.type is not None:
        query = query.where(job.type == data.type)
    return _page(ctx.session, query, (job.finished_at, job.id), data.page, data.size,
                 schemas.${r_Job}.from_row, ${out_listDeadJobs_v1})


def ${f_listSchedules_v1}(ctx: Context,
                          data: ${in_listSchedules_v1}) -> ${out_listSchedules_v1}:
    schedule = models.${m_JobSchedule}
    return _page(ctx.session, ctx.select(schedule), (schedule.name,), data.page, data.size,
                 schemas.${r_JobSchedule}.from_row, ${out_listSchedules_v1})


def ${f_setSchedulePaused_v1}(
        ctx: Context, data: ${in_setSchedulePaused_v1}) -> ${out_setSchedulePaused_v1}:
    """Pause or resume a schedule (the worker keeps the pause when it syncs the schedules)."""
    schedule = models.${m_JobSchedule}
    row: models.${m_JobSchedule} | None = ctx.session.scalar(
        ctx.select(schedule).where(schedule.name == data.name))
    if row is None:
        raise errors.${e_setSchedulePaused_v1_NotFound}()
    row.paused = data.paused
    ctx.session.flush()
    ctx.emit(events.${ev_job_schedule_changed_v1}, events.${ev_job_schedule_changed_v1}Payload(
        schedule=row.id, paused=data.paused, by=ctx.actor.user_id))
    result = schemas.${r_JobSchedule}.from_row(row)
    ctx.commit()
    return result


# ---- jobs -------------------------------------------------------------------------------------


def ${job_purgeFinishedJobs}(ctx: JobContext, data: definitions.${jobin_purgeFinishedJobs}) -> None:
    """Delete succeeded and cancelled runs finished before `olderThan` ago; dead runs stay."""
    job = models.${m_Job}
    ctx.session.execute(sa.delete(job).where(
        job.status.in_((enums.${enum_JobStatus}.succeeded, enums.${enum_JobStatus}.cancelled)),
        job.finished_at < _now() - data.olderThan))
'''
