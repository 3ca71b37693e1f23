"""The fixed part of `<app>/services/learning.py`; names in braces are filled in by
`services/learning.py`."""

SERVICE = '''"""The `learning` module's operations and progress.

A step completes when its `completes on` event happens to the learner: the event's actor
(a user), in the event's organisation, enrolled and active in the step's track, with the
step's `when` condition true of the payload. The outbox subscribers below record it
(`StepCompletion`), count it on the enrolment, emit `learning.step_completed`, and complete
the track after its last step. Nothing a learner can call completes a step, and events
that happened before the enrolment do not count. The `sendLearningNudges` job reminds idle
learners of their next step (`learning.nudged`).
"""

from __future__ import annotations

import datetime
import decimal
import operator
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from {app} import enums
from {app}.api import errors, schemas
from {app}.api.context import Context
from {app}.db import models
from {app}.events import models as events
from {app}.events import outbox
from {app}.jobs.definitions import JobContext, {NudgeInput}

# The spec's `track` declarations.
TRACKS: tuple[schemas.TrackOutline, ...] = {tracks}


@dataclass(frozen=True)
class Step:
    """A step: its track, unit and name, the event (type and version) that completes it,
    and its `when` condition over the event's payload."""

    track: str
    unit: str
    name: str
    event: str
    version: str
    when: Callable[[dict[str, Any]], bool] | None


_ORDER: dict[str, Callable[[Any, Any], bool]] = {
    "==": operator.eq, "!=": operator.ne, "<": operator.lt, "<=": operator.le,
    ">": operator.gt, ">=": operator.ge,
}


def _field(payload: dict[str, Any], *path: str) -> Any:
    value: Any = payload
    for part in path:
        value = value.get(part) if isinstance(value, dict) else None
    return value


def _number(value: Any) -> Any:
    """Numbers (money and decimals travel as strings) as `Decimal`; others unchanged."""
    if isinstance(value, (int, float, str)) and not isinstance(value, bool):
        try:
            return decimal.Decimal(str(value))
        except decimal.InvalidOperation:
            return value
    return value


def _compare(left: Any, op: str, right: Any) -> bool:
    """A condition of a step's `when`; False when the values cannot be compared."""
    if op == "in":
        return isinstance(right, list) and any(_compare(left, "==", r) for r in right)
    if isinstance(left, decimal.Decimal) or isinstance(right, decimal.Decimal):
        left, right = _number(left), _number(right)
    try:
        return bool(_ORDER[op](left, right))
    except TypeError:
        return False


STEPS: tuple[Step, ...] = {steps}


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


def _paging(data: Any) -> tuple[int, int]:
    return int(getattr(data, "page", 1)), int(getattr(data, "size", 100))


def _learner(ctx: Context) -> models.{Learner}:
    """The signed-in user's learner in their organisation, created on first use."""
    row = ctx.session.scalar(sa.select(models.{Learner}).where(
        models.{Learner}.org_id == ctx.actor.org_id,
        models.{Learner}.user_id == ctx.actor.user_id))
    if row is None:
        row = models.{Learner}(org_id=ctx.actor.org_id, user_id=ctx.actor.user_id)
        ctx.session.add(row)
        ctx.session.flush()
    return row


def {listTracks}(ctx: Context, data: schemas.{listTracksInput}) -> {TracksOut}:
    """The tracks, with their units and steps."""
    return list(TRACKS)


def {enroll}(ctx: Context, data: schemas.{enrollInput}) -> schemas.{EnrollmentRead}:
    """Enrol the signed-in user in a track."""
    track = next((t for t in TRACKS if t.name == data.track), None)
    if track is None:
        raise {UnknownTrack}(details={"known": ", ".join(t.name for t in TRACKS)})
    learner = _learner(ctx)
    found = ctx.session.scalar(sa.select(models.{Enrollment}.id).where(
        models.{Enrollment}.learner_id == learner.id, models.{Enrollment}.track == track.name))
    if found is not None:
        raise {AlreadyEnrolled}()
    row = models.{Enrollment}(
        org_id=ctx.actor.org_id, learner_id=learner.id, user_id=ctx.actor.user_id,
        track=track.name, status=enums.{EnrollmentStatus}.active, completed_steps=0,
        total_steps=track.totalSteps, started_at=_now())
    ctx.session.add(row)
    ctx.session.flush()
    ctx.emit(events.{EnrolledEvent},
             events.{EnrolledEvent}Payload(enrollment=row.id, track=track.name))
    ctx.commit()
    return schemas.{EnrollmentRead}.from_row(row)


def {myEnrollments}(ctx: Context,
                    data: schemas.{myEnrollmentsInput}) -> schemas.{EnrollmentPage}:
    """The signed-in user's enrolments in their organisation."""
    page, size = _paging(data)
    query = sa.select(models.{Enrollment}).where(
        models.{Enrollment}.org_id == ctx.actor.org_id,
        models.{Enrollment}.user_id == ctx.actor.user_id)
    total = ctx.session.scalar(sa.select(sa.func.count()).select_from(query.subquery()))
    rows = ctx.session.scalars(query.order_by(models.{Enrollment}.started_at,
                                              models.{Enrollment}.id)
                               .limit(size).offset((page - 1) * size))
    return schemas.{EnrollmentPage}(items=[schemas.{EnrollmentRead}.from_row(r) for r in rows],
                                    total=total or 0, page=page, size=size)


def {myProgress}(ctx: Context, data: schemas.{myProgressInput}) -> schemas.{CompletionPage}:
    """The steps the signed-in user completed in one of their enrolments."""
    enrollment = ctx.session.scalar(sa.select(models.{Enrollment}).where(
        models.{Enrollment}.id == data.enrollment,
        models.{Enrollment}.org_id == ctx.actor.org_id,
        models.{Enrollment}.user_id == ctx.actor.user_id))
    if enrollment is None:
        raise {EnrollmentNotFound}()
    page, size = _paging(data)
    query = sa.select(models.{StepCompletion}).where(
        models.{StepCompletion}.enrollment_id == enrollment.id)
    total = ctx.session.scalar(sa.select(sa.func.count()).select_from(query.subquery()))
    rows = ctx.session.scalars(query.order_by(models.{StepCompletion}.completed_at,
                                              models.{StepCompletion}.id)
                               .limit(size).offset((page - 1) * size))
    return schemas.{CompletionPage}(items=[schemas.{CompletionRead}.from_row(r) for r in rows],
                                    total=total or 0, page=page, size=size)


def {setNudges}(ctx: Context, data: schemas.{setNudgesInput}) -> schemas.{LearnerRead}:
    """Switch the signed-in learner's nudges on or off."""
    row = _learner(ctx)
    row.nudges = data.enabled
    ctx.commit()
    return schemas.{LearnerRead}.from_row(row)


def _learner_of(event: dict[str, Any]) -> uuid.UUID | None:
    """The user an event happened to: its actor, when a user."""
    actor = event.get("actor")
    if not isinstance(actor, dict) or actor.get("kind") != "user":
        return None
    try:
        return uuid.UUID(str(actor.get("id")))
    except ValueError:
        return None


def _when(event: dict[str, Any]) -> datetime.datetime:
    """When the event happened (now, when it does not say)."""
    try:
        return datetime.datetime.fromisoformat(str(event.get("occurredAt")))
    except ValueError:
        return _now()


def advance(session: Session, event: dict[str, Any]) -> None:
    """Record the steps `event` completes for its learner (an outbox subscriber)."""
    user_id = _learner_of(event)
    payload = event.get("payload")
    if user_id is None or not isinstance(payload, dict):
        return
    steps = [s for s in STEPS if s.event == event.get("type")
             and s.version == event.get("version") and (s.when is None or s.when(payload))]
    if not steps:
        return
    query = sa.select(models.{Enrollment}).where(
        models.{Enrollment}.user_id == user_id,
        models.{Enrollment}.status == enums.{EnrollmentStatus}.active,
        models.{Enrollment}.track.in_(sorted({s.track for s in steps})),
        models.{Enrollment}.started_at <= _when(event))
    if event.get("orgId"):
        query = query.where(models.{Enrollment}.org_id == uuid.UUID(str(event["orgId"])))
    for enrollment in session.scalars(query.order_by(models.{Enrollment}.id)).all():
        for step in (s for s in steps if s.track == enrollment.track):
            _complete(session, enrollment, step, event)


def _complete(session: Session, enrollment: models.{Enrollment}, step: Step,
              event: dict[str, Any]) -> None:
    done = session.scalar(sa.select(models.{StepCompletion}.id).where(
        models.{StepCompletion}.enrollment_id == enrollment.id,
        models.{StepCompletion}.unit == step.unit, models.{StepCompletion}.step == step.name))
    if done is not None:
        return
    row = models.{StepCompletion}(
        id=uuid.uuid4(), org_id=enrollment.org_id, enrollment_id=enrollment.id,
        user_id=enrollment.user_id, unit=step.unit, step=step.name,
        event=f"{step.event} {step.version}", event_id=uuid.UUID(str(event["id"])),
        completed_at=_now())
    session.add(row)
    enrollment.completed_steps += 1
    enrollment.learner.last_active_at = _now()
    session.flush()
    payload = events.{StepEvent}Payload(completion=row.id, track=step.track,
                                         step=f"{step.unit}.{step.name}")
    outbox.emit(session, None, events.{StepEvent}, payload, org_id=enrollment.org_id)
    if enrollment.completed_steps >= enrollment.total_steps:
        enrollment.status = enums.{EnrollmentStatus}.completed
        enrollment.completed_at = _now()
        done_payload = events.{TrackEvent}Payload(enrollment=enrollment.id,
                                                  track=enrollment.track)
        outbox.emit(session, None, events.{TrackEvent}, done_payload,
                    org_id=enrollment.org_id)


def _next_step(session: Session, enrollment: models.{Enrollment}) -> str | None:
    """The enrolment's first step not done yet, `unit.step`."""
    query = sa.select(models.{StepCompletion}.unit, models.{StepCompletion}.step).where(
        models.{StepCompletion}.enrollment_id == enrollment.id)
    done = {(unit, step) for unit, step in session.execute(query)}
    track = next((t for t in TRACKS if t.name == enrollment.track), None)
    for unit in track.units if track is not None else ():
        for step in unit.steps:
            if (unit.name, step.name) not in done:
                return f"{unit.name}.{step.name}"
    return None


def {nudge_job}(ctx: JobContext, data: {NudgeInput}) -> None:
    """Nudge each learner with nudges on who was idle on an active track for `idleFor`
    (since the enrolment, their last step there and the last nudge): `learning.nudged`
    with the track's next step, once per idle period (`Enrollment.lastNudgedAt`)."""
    now = _now()
    since = now - data.idleFor
    last_step = sa.select(sa.func.max(models.{StepCompletion}.completed_at)).where(
        models.{StepCompletion}.enrollment_id == models.{Enrollment}.id).scalar_subquery()
    due = sa.select(models.{Enrollment}).join(models.{Enrollment}.learner).where(
        models.{Enrollment}.status == enums.{EnrollmentStatus}.active,
        models.{Learner}.nudges.is_(True),
        models.{Enrollment}.started_at <= since,
        sa.or_(last_step.is_(None), last_step <= since),
        sa.or_(models.{Enrollment}.last_nudged_at.is_(None),
               models.{Enrollment}.last_nudged_at <= since))
    for enrollment in ctx.session.scalars(due.order_by(models.{Enrollment}.id)).all():
        step = _next_step(ctx.session, enrollment)
        if step is None:
            continue
        enrollment.last_nudged_at = now
        payload = events.{NudgedEvent}Payload(enrollment=enrollment.id,
                                               learner=enrollment.user_id,
                                               track=enrollment.track, step=step)
        outbox.emit(ctx.session, None, events.{NudgedEvent}, payload,
                    org_id=enrollment.org_id)


for _event in sorted({s.event for s in STEPS}):
    outbox.subscribe(_event)(advance)
'''
