"""Hand-written job handlers: one function per `job` of the spec, named `<job>_job` in
snake case. The worker (`python -m crm.jobs.worker`) calls it with a context and the job's
input; it commits `ctx.session` afterwards. Raise to fail the attempt: it is retried after
the job's backoff, then dead-lettered. `cspec gen` created this file once and never
overwrites or deletes it: it is yours.

The standard modules' jobs (`deliverNotification`, `purgeFinishedJobs`, ...) are implemented
by the generated services once those exist; until then their runs fail with a message naming
the function to write here.
"""

from __future__ import annotations

import datetime

import sqlalchemy as sa

from crm import enums
from crm.db import models
from crm.events import models as events
from crm.events import outbox
from crm.handlers.crm import aware
from crm.jobs.definitions import JobContext, RecordReminderInput, ScanDueTasksInput


def record_reminder_job(ctx: JobContext, data: RecordReminderInput) -> None:
    """Mark the task as reminded (the `taskReminder` notification sends the message)."""
    task = ctx.session.get(models.Task, data.task)
    if task is not None and task.reminded_at is None:
        task.reminded_at = datetime.datetime.now(datetime.UTC)


def scan_due_tasks_job(ctx: JobContext, data: ScanDueTasksInput) -> None:
    """Request a reminder of every open task that is due and was never reminded."""
    now = datetime.datetime.now(datetime.UTC)
    due = ctx.session.scalars(sa.select(models.Task).where(
        models.Task.status == enums.TaskStatus.open, models.Task.due_at <= now,
        models.Task.reminded_at.is_(None)).order_by(models.Task.due_at)).all()
    for task in due:
        payload = events.TaskReminderRequestedV1Payload(
            task=task.id, title=task.title, assignee=task.assignee_id, dueAt=aware(task.due_at))
        outbox.emit(ctx.session, None, events.TaskReminderRequestedV1, payload,
                    org_id=task.org_id)
