"""The fixed parts of the generated worker; `{app}` stands for the application package."""

DEFINITIONS_DOC = '''"""The spec's job types, triggers and schedules.

A job type has an input model (checked when a run is queued and again before it runs),
`retries` (a run gets `retries + 1` attempts), a `backoff` between attempts and a `timeout`;
its handler is the function `<job>_job(ctx, data)` of the `handlers/jobs.py` module.
Cron schedules are read in UTC.
"""'''

DEFINITIONS_TYPES = '''
BackoffStrategy = Literal["fixed", "linear", "exponential"]


@dataclass(frozen=True)
class Backoff:
    """The wait before a retry: `fixed(delay)`, `linear(step, max)` or
    `exponential(base, max)`."""

    strategy: BackoffStrategy
    first: datetime.timedelta
    limit: datetime.timedelta | None = None

    def delay(self, attempt: int) -> datetime.timedelta:
        """The wait after the failed attempt number `attempt` (1 for the first)."""
        first = self.first.total_seconds()
        if self.strategy == "fixed":
            seconds = first
        elif self.strategy == "linear":
            seconds = first * attempt
        else:
            seconds = first * 2.0 ** min(attempt - 1, 64)
        if self.limit is not None:
            seconds = min(seconds, self.limit.total_seconds())
        return datetime.timedelta(seconds=seconds)


@dataclass(frozen=True)
class JobType:
    """A `job` declaration."""

    name: str
    input: type[BaseModel]
    retries: int
    backoff: Backoff
    timeout: datetime.timedelta | None
    handler: str  # the function's name in handlers/jobs.py

    @property
    def max_attempts(self) -> int:
        return self.retries + 1


@dataclass
class JobContext:
    """What a handler gets besides its input: a session of its own (the worker commits it
    when the handler returns, rolls it back when it raises or times out) and the run."""

    session: Session
    job_id: uuid.UUID
    job_type: str
    attempt: int
    org_id: uuid.UUID | None


@dataclass(frozen=True)
class Trigger:
    """`on <event> run <job>` (any version of the event when `version` is None)."""

    event: str
    version: str | None
    job: str


@dataclass(frozen=True)
class Cron:
    """A cron expression as the values each of its fields allows (weekday 0 is Sunday)."""

    text: str
    minutes: frozenset[int]
    hours: frozenset[int]
    days: frozenset[int]
    months: frozenset[int]
    weekdays: frozenset[int]
    any_day: bool
    any_weekday: bool

    def matches_day(self, day: datetime.date) -> bool:
        """Cron's rule: when both day fields are restricted, either may match."""
        in_month = day.day in self.days
        in_week = day.isoweekday() % 7 in self.weekdays
        if self.any_day or self.any_weekday:
            return in_month and in_week
        return in_month or in_week

    def next_after(self, moment: datetime.datetime) -> datetime.datetime:
        """The first matching minute after `moment` (UTC)."""
        at = moment.astimezone(datetime.UTC).replace(second=0, microsecond=0)
        at += datetime.timedelta(minutes=1)
        limit = at + datetime.timedelta(days=366 * 8)
        while at < limit:
            if at.month not in self.months:
                at = (at.replace(day=1, hour=0, minute=0) + datetime.timedelta(days=32)
                      ).replace(day=1)
            elif not self.matches_day(at.date()):
                at = at.replace(hour=0, minute=0) + datetime.timedelta(days=1)
            elif at.hour not in self.hours:
                at = at.replace(minute=0) + datetime.timedelta(hours=1)
            elif at.minute not in self.minutes:
                at += datetime.timedelta(minutes=1)
            else:
                return at
        raise ValueError(f"the cron expression {self.text!r} never matches")


@dataclass(frozen=True)
class Schedule:
    """A `schedule` declaration: `cron` or `every`."""

    name: str
    job: str
    cron: Cron | None
    every: datetime.timedelta | None

    def next_after(self, moment: datetime.datetime) -> datetime.datetime:
        if self.cron is not None:
            return self.cron.next_after(moment)
        return moment + (self.every or datetime.timedelta(hours=1))
'''

JOBS_INIT = '"""Background jobs: the job types, the queue and the worker."""\n'

QUEUE = '''"""The job queue: `enqueue` writes a `Job` row in the caller's transaction (the run
exists once that commits). The spec's `on <event> run <job>` triggers are outbox
subscribers, registered when this module is imported: dispatching the event enqueues the
job with the event's payload fields named like the job's input fields.
"""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Mapping
from functools import partial
from typing import Any, cast

import sqlalchemy as sa
from pydantic import BaseModel
from sqlalchemy.orm import Session

from {app}.auth import Actor
from {app}.db import models
from {app}.enums import JobStatus, JobTrigger
from {app}.events import outbox
from {app}.events.models import EVENT_MODELS
from {app}.jobs.definitions import JOB_TYPES, TRIGGERS, Trigger


class UnknownJobType(ValueError):
    """No `job` of this name is declared in the spec."""


def enqueue(session: Session, job_type: str,
            payload: Mapping[str, Any] | BaseModel | None = None, *,
            org_id: uuid.UUID | None = None, delay: datetime.timedelta | None = None,
            dedupe_key: str | None = None, trigger: JobTrigger = JobTrigger.manual,
            now: datetime.datetime | None = None, actor: Actor | None = None) -> models.Job:
    """Queue a run of `job_type` in the caller's transaction, due after `delay`.

    The payload is checked against the job's input model (pydantic's ValidationError when it
    does not fit). With a `dedupe_key`, the run with that key that is still queued or running
    is returned instead of a new one. A new run emits `job.enqueued` (by `actor`, or the
    system) in the same transaction.
    """
    definition = JOB_TYPES.get(job_type)
    if definition is None:
        known = ", ".join(JOB_TYPES) or "none"
        raise UnknownJobType(f"no job is named {job_type!r} (known: {known})")
    raw = payload.model_dump(by_alias=True) if isinstance(payload, BaseModel) else payload
    data = definition.input.model_validate(dict(raw or {}))
    if dedupe_key is not None:
        existing = session.scalar(sa.select(models.Job).where(
            models.Job.dedupe_key == dedupe_key,
            models.Job.status.in_((JobStatus.queued, JobStatus.running))))
        if existing is not None:
            return existing
    due = (now or datetime.datetime.now(datetime.UTC)) + (delay or datetime.timedelta())
    job = models.Job(type=job_type, payload=data.model_dump(mode="json", by_alias=True),
                     status=JobStatus.queued, trigger=trigger, org_id=org_id, attempts=0,
                     max_attempts=definition.max_attempts, scheduled_at=due,
                     dedupe_key=dedupe_key)
    session.add(job)
    session.flush()
    event = EVENT_MODELS[("job.enqueued", "v1")]
    shape = cast(type[BaseModel], event.model_fields["payload"].annotation)
    outbox.emit(session, actor, event, shape(job=job.id, type=job_type), org_id=org_id)
    return job


def _on_event(trigger: Trigger, session: Session, event: dict[str, Any]) -> None:
    """Enqueue the trigger's job from an event of the outbox."""
    if trigger.version is not None and event.get("version") != trigger.version:
        return
    fields = JOB_TYPES[trigger.job].input.model_fields
    names = {field.alias or name for name, field in fields.items()}
    payload = {k: v for k, v in dict(event.get("payload") or {}).items() if k in names}
    org = event.get("orgId")
    enqueue(session, trigger.job, payload, org_id=uuid.UUID(str(org)) if org else None,
            trigger=JobTrigger.event)


for _trigger in TRIGGERS:
    outbox.subscribe(_trigger.event)(partial(_on_event, _trigger))
'''

WORKER = '''"""The worker: runs due job runs with their handlers and queues the spec's schedules.

    python -m {app}.jobs.worker             # run until stopped, polling every second
    python -m {app}.jobs.worker --once      # one pass: due schedules, then every due run

Several workers may run at once, on several machines: on PostgreSQL a run is claimed with
`SELECT ... FOR UPDATE SKIP LOCKED`; on SQLite (one machine) a claim is one statement
holding the database's write lock. A run's handler is `<job>_job(ctx, data)` in
`{app}/handlers/jobs.py`; it gets a session of its own, committed when it returns. A run
that raises, times out or has no handler fails: it is retried after the job's backoff
until its attempts are used up, then it is dead (dead-lettered) for an operator.
Each change of a run's status writes its event (`job.started`, `job.succeeded`,
`job.failed`, `job.dead_lettered`) to the outbox in the same transaction, and the worker
dispatches the outbox after its transactions, so subscribers and triggers run without
waiting for a request to the API. Uses `DATABASE_URL` like the app.
"""

from __future__ import annotations

import argparse
import datetime
import logging
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as HandlerTimeout
from typing import Any, cast

import sqlalchemy as sa
from pydantic import BaseModel, ValidationError
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from {app}.db import models
from {app}.db.session import SessionLocal
from {app}.enums import JobStatus, JobTrigger
from {app}.events import outbox
from {app}.events.models import EVENT_MODELS
from {app}.handlers import jobs as job_handlers
from {app}.jobs.definitions import JOB_TYPES, SCHEDULES, JobContext, JobType
from {app}.jobs.queue import enqueue

Clock = Callable[[], datetime.datetime]
Sessions = sessionmaker[Session]
log = logging.getLogger(__name__)
FAILED = "job %s (%s, attempt %d) failed"  # with the handler's traceback
_WAITING = (JobStatus.queued, JobStatus.failed)
# the standard modules' generated job functions, looked up before handlers/jobs.py
GENERATED: tuple[object, ...] = ()


def utcnow() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


def sync_schedules(session: Session, now: datetime.datetime) -> None:
    """Make the `JobSchedule` rows match the spec's schedules; pausing is kept."""
    rows = {row.name: row for row in session.scalars(sa.select(models.JobSchedule))}
    declared = {schedule.name for schedule in SCHEDULES}
    for name, row in rows.items():
        if name not in declared:
            session.delete(row)
    for schedule in SCHEDULES:
        cron = schedule.cron.text if schedule.cron is not None else None
        existing = rows.get(schedule.name)
        if existing is None:
            row = models.JobSchedule(name=schedule.name, paused=False)
            session.add(row)
        elif (existing.type, existing.cron, existing.every) == (
                schedule.job, cron, schedule.every):
            continue
        else:
            row = existing
        row.type, row.cron, row.every = schedule.job, cron, schedule.every
        row.next_run_at = schedule.next_after(now)
    try:
        session.commit()
    except (IntegrityError, OperationalError):  # another worker is syncing them
        session.rollback()


def enqueue_due_schedules(session: Session, now: datetime.datetime) -> int:
    """Queue one run of each schedule that is due and not paused; how many were queued.
    Moving `nextRunAt` on is a conditional update, so one worker only queues each run."""
    declared = {schedule.name: schedule for schedule in SCHEDULES}
    due = session.execute(sa.select(
        models.JobSchedule.id, models.JobSchedule.name, models.JobSchedule.next_run_at,
    ).where(models.JobSchedule.paused.is_(False), models.JobSchedule.next_run_at <= now)).all()
    session.commit()  # each run is queued by a write that checks what it read
    queued = 0
    for schedule_id, name, next_run_at in due:
        schedule = declared.get(name)
        if schedule is None:
            continue
        moved = _rowcount(session.execute(
            sa.update(models.JobSchedule)
            .where(models.JobSchedule.id == schedule_id,
                   models.JobSchedule.next_run_at == next_run_at)
            .values(last_run_at=now, next_run_at=schedule.next_after(now))))
        if moved == 1:
            enqueue(session, schedule.job, {}, trigger=JobTrigger.schedule, now=now)
            queued += 1
        session.commit()
    return queued


def emit(session: Session, event: str, org_id: uuid.UUID | None, **payload: Any) -> None:
    """Write the lifecycle event `event` (v1) to the outbox in the session's transaction,
    acted by the system."""
    model = EVENT_MODELS[(event, "v1")]
    data = cast(type[BaseModel], model.model_fields["payload"].annotation)
    outbox.emit(session, None, model, data.model_validate(payload), org_id=org_id)


def claim(session: Session, now: datetime.datetime) -> uuid.UUID | None:
    """Take the oldest due run (queued, or failed and due for its retry): it is running,
    its attempt counted, `job.started` emitted. None when no run is due. On PostgreSQL the
    run is picked with `FOR UPDATE SKIP LOCKED`, so concurrent workers take different runs."""
    due = (sa.select(models.Job.id)
           .where(models.Job.status.in_(_WAITING), models.Job.scheduled_at <= now)
           .order_by(models.Job.scheduled_at, models.Job.id).limit(1))
    if session.get_bind().dialect.name == "postgresql":
        due = due.with_for_update(skip_locked=True)
    # One statement: SQLite takes its write lock before reading, so claims are serialised.
    claimed = session.execute(
        sa.update(models.Job)
        .where(models.Job.id == due.scalar_subquery(), models.Job.status.in_(_WAITING))
        .values(status=JobStatus.running, attempts=models.Job.attempts + 1,
                started_at=now, finished_at=None)
        .returning(models.Job.id, models.Job.attempts, models.Job.org_id)
        .execution_options(synchronize_session=False)).first()
    if claimed is None:
        session.commit()
        return None
    job_id, attempt, org_id = claimed
    emit(session, "job.started", org_id, job=job_id, attempt=attempt)
    session.commit()
    return job_id


def recover_lost(session: Session, now: datetime.datetime) -> int:
    """Runs left `running` by a worker that stopped (longer than their timeout, or an hour,
    plus a minute) count as a failed attempt, with its events; how many were recovered."""
    lost = "the worker running it stopped before it finished"
    job = models.Job
    found = (job.id, job.attempts, job.org_id, job.type)
    recovered = 0
    for name, limit in _running_limits():
        old = job.started_at <= now - limit - datetime.timedelta(minutes=1)
        stale = (job.status == JobStatus.running, old, name)
        dead = session.execute(
            sa.update(job).where(*stale, job.attempts >= job.max_attempts)
            .values(status=JobStatus.dead, finished_at=now, last_error=lost)
            .returning(*found).execution_options(synchronize_session=False)).all()
        failed = session.execute(
            sa.update(job).where(*stale).values(
                status=JobStatus.failed, scheduled_at=now, last_error=lost)
            .returning(*found).execution_options(synchronize_session=False)).all()
        for job_id, attempt, org_id, _ in (*dead, *failed):
            emit(session, "job.failed", org_id, job=job_id, attempt=attempt, error=lost)
        for job_id, _, org_id, job_type in dead:
            emit(session, "job.dead_lettered", org_id, job=job_id, type=job_type, error=lost)
        recovered += len(dead) + len(failed)
    session.commit()
    return recovered


def _running_limits() -> list[tuple[sa.ColumnElement[bool], datetime.timedelta]]:
    """(which runs, how long they may run) per job type, and for types the spec lacks."""
    default = datetime.timedelta(hours=1)
    limits: list[tuple[sa.ColumnElement[bool], datetime.timedelta]] = [
        (models.Job.type == name, definition.timeout or default)
        for name, definition in JOB_TYPES.items()]
    limits.append((models.Job.type.not_in(list(JOB_TYPES)), default))
    return limits


def run_job(job_id: uuid.UUID, *, sessions: Sessions = SessionLocal,
            handlers: object = job_handlers, now: Clock = utcnow) -> JobStatus:
    """Run a claimed run's handler and record the outcome with its events: succeeded; failed,
    due again after the backoff; or failed and dead (dead-lettered) after the last attempt."""
    with sessions() as session:
        job = session.get_one(models.Job, job_id)
        context = JobContext(session, job.id, job.type, job.attempts, job.org_id)
        payload = dict(job.payload)
    definition = JOB_TYPES.get(context.job_type)
    error = _execute(definition, context, payload, sessions, handlers)
    with sessions() as session:
        job = session.get_one(models.Job, job_id)
        finished = now()
        if error is None:
            job.status = JobStatus.succeeded
            job.finished_at = finished
            started = job.started_at or finished  # SQLite gives it back without its zone
            took = finished - started.replace(tzinfo=started.tzinfo or datetime.UTC)
            emit(session, "job.succeeded", job.org_id, job=job.id, attempt=job.attempts,
                 duration=max(took, datetime.timedelta()))
        else:
            job.last_error = error
            emit(session, "job.failed", job.org_id, job=job.id, attempt=job.attempts,
                 error=error)
            if definition is None or job.attempts >= job.max_attempts:
                job.status = JobStatus.dead
                job.finished_at = finished
                emit(session, "job.dead_lettered", job.org_id, job=job.id, type=job.type,
                     error=error)
            else:
                job.status = JobStatus.failed
                job.scheduled_at = finished + definition.backoff.delay(job.attempts)
        session.commit()
        return job.status


def _execute(definition: JobType | None, context: JobContext, payload: dict[str, Any],
             sessions: Sessions, handlers: object) -> str | None:
    """Run the handler; why it failed, or None when it succeeded."""
    if definition is None:
        return f"unknown job type {context.job_type!r}: no job of this name in the spec"
    handler = next((getattr(module, definition.handler) for module in (*GENERATED, handlers)
                    if hasattr(module, definition.handler)), None)
    if handler is None:
        return (f"no handler for the job {definition.name!r}: define "
                f"{definition.handler}(ctx, data) in {app}/handlers/jobs.py")
    try:
        data = definition.input.model_validate(payload)
    except ValidationError as error:
        return f"the payload does not fit the input of {definition.name!r}: {error}"
    abandoned = threading.Event()

    def call() -> None:
        with sessions() as session:
            handler(JobContext(session, context.job_id, context.job_type, context.attempt,
                               context.org_id), data)
            if abandoned.is_set():
                session.rollback()
            else:
                session.commit()

    if definition.timeout is None:
        try:
            call()
        except Exception as error:
            log.exception(FAILED, context.job_id, context.job_type, context.attempt)
            return _describe(error)
        return None
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"job-{definition.name}")
    try:
        pool.submit(call).result(timeout=definition.timeout.total_seconds())
    except HandlerTimeout:
        abandoned.set()
        return f"timed out after {definition.timeout} (the job's timeout)"
    except Exception as error:
        log.exception(FAILED, context.job_id, context.job_type, context.attempt)
        return _describe(error)
    finally:
        pool.shutdown(wait=False)
    return None


def _describe(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"


def _rowcount(result: Any) -> int:
    return int(cast(sa.CursorResult[Any], result).rowcount)


def run_once(*, sessions: Sessions = SessionLocal, handlers: object = job_handlers,
             now: Clock = utcnow, limit: int | None = None) -> int:
    """One pass: sync and queue the due schedules, recover lost runs, then run due runs
    until none is left (at most `limit`); how many runs were run."""
    with sessions() as session:
        sync_schedules(session, now())
        enqueue_due_schedules(session, now())
        recover_lost(session, now())
        outbox.dispatch_pending(session)
    ran = 0
    while limit is None or ran < limit:
        with sessions() as session:
            job_id = claim(session, now())
        if job_id is None:
            break
        run_job(job_id, sessions=sessions, handlers=handlers, now=now)
        with sessions() as session:
            outbox.dispatch_pending(session)  # subscribers and triggers of its events
        ran += 1
    return ran


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m {app}.jobs.worker", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--once", action="store_true", help="one pass, then exit")
    parser.add_argument("--poll", type=float, default=1.0,
                        help="seconds to wait when no run is due (default: 1.0)")
    args = parser.parse_args(argv)
    try:
        while True:
            ran = run_once()
            if args.once:
                return 0
            if not ran:
                time.sleep(args.poll)
    except KeyboardInterrupt:
        return 0


if __name__ == "__main__":
    raise SystemExit(main())
'''

HANDLERS = '''"""Hand-written job handlers: one function per `job` of the spec, named `<job>_job` in
snake case. The worker (`python -m {app}.jobs.worker`) calls it with a context and the
job's input, for example:

    from {app}.db import models
    from {app}.jobs.definitions import JobContext, SendReminderInput

    def send_reminder_job(ctx: JobContext, data: SendReminderInput) -> None:
        task = ctx.session.get_one(models.Task, data.task)
        ...                                 # the worker commits ctx.session afterwards

Raise to fail the attempt: it is retried after the job's backoff, then dead-lettered.
Until a job's handler is defined its runs fail with a message naming the function.
`cspec gen` created this file once and never overwrites or deletes it: it is yours.

Job types when this file was created:{jobs}
"""
'''
