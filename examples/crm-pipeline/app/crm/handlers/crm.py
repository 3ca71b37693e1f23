"""Hand-written behaviour for the spec module `crm`.

`cspec gen` created this file once and never overwrites or deletes it: it is yours.
Generated routes call the handlers defined here for operations that need custom behaviour;
plain create/read/update/delete needs none.
"""

from __future__ import annotations

import datetime

import sqlalchemy as sa

from crm import enums
from crm.api import errors, schemas
from crm.api.context import Context
from crm.db import models
from crm.events import models as events


def aware(moment: datetime.datetime | None) -> datetime.datetime | None:
    """A stored time as an aware UTC time (SQLite gives back naive times)."""
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=datetime.UTC)


def list_companies_v1(ctx: Context, data: schemas.ListCompaniesV1Input) -> schemas.CompanyPage:
    """Companies of the organisation by name, filtered by industry, searched by name or
    domain (case-insensitive)."""
    query = ctx.select(models.Company)
    if data.industry is not None:
        query = query.where(models.Company.industry == data.industry)
    if data.q:
        text = data.q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        pattern = f"%{text}%"
        query = query.where(sa.or_(models.Company.name.ilike(pattern, escape="\\"),
                                   models.Company.domain.ilike(pattern, escape="\\")))
    total = ctx.session.scalar(sa.select(sa.func.count()).select_from(query.subquery()))
    rows = ctx.session.scalars(query.order_by(models.Company.name, models.Company.id)
                               .limit(data.size).offset((data.page - 1) * data.size)).all()
    return schemas.CompanyPage(items=[schemas.Company.from_row(row) for row in rows],
                               total=total or 0, page=data.page, size=data.size)


def remind_task_v1(ctx: Context, data: schemas.RemindTaskV1Input) -> schemas.Task:
    """Request a reminder of an open task now (`task.reminder_requested`)."""
    task = ctx.get(models.Task, data.id)  # 404 unless the actor may read it
    if task.status == enums.TaskStatus.done:
        raise errors.AlreadyDone(details={"id": str(task.id)})
    ctx.emit(events.TaskReminderRequestedV1, events.TaskReminderRequestedV1Payload(
        task=task.id, title=task.title, assignee=task.assignee_id, dueAt=aware(task.due_at)))
    ctx.commit()
    return schemas.Task.from_row(task)
