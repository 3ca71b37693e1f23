"""The `flags` provider: flag evaluation and experiment assignment (`<app>/flags/evaluate.py`)
and the std operations of `flags` (`<app>/services/flags.py`).

A flag's state is its declaration (default, rollout, targets, the plans that switch it on)
until an operator changes it: then a `FeatureFlag` row (and `FlagTarget` rows) override it.
Rollouts hash `"<flag>:<org or user id>"` with SHA-256 into 10 000 buckets, so an org or user
stays in or out of a rollout as long as its percentage does not shrink. An operation `behind`
a flag or an experiment answers 404, like an unknown route, to an actor it is off for (see
`gating.py`, called by the `api` target's routes).
"""

from __future__ import annotations

from typing import ClassVar

from contractspec.generators.db.naming import py_str
from contractspec.generators.services.base import ServiceInput, ServiceProvider
from contractspec.ir import nodes as ir


def _flags_data(program: ir.Program) -> tuple[str, str, str]:
    """The FLAGS, VARIANTS and PLANS literals of evaluate.py."""
    plan_flags: dict[str, set[str]] = {}
    plans: set[str] = set()
    for module in program.modules:
        for plan in module.plans:
            plans.add(plan.name)
            for ref in plan.flags:
                plan_flags.setdefault(ref.name.rsplit(".", 1)[-1], set()).add(plan.name)
    flags: list[str] = []
    for module in program.modules:
        for flag in module.flags:
            targets: dict[str, set[str]] = {}
            for target in flag.targets:
                targets.setdefault(target.dimension.name, set()).update(
                    v.name for v in target.values)
            if flag.name in plan_flags:
                targets.setdefault("plan", set()).update(plan_flags[flag.name])
            by = flag.rollout.by.name if flag.rollout is not None else "org"
            rollout = repr(float(flag.rollout.percent)) if flag.rollout is not None else "None"
            entries = [f"{py_str(k)}: frozenset({{{', '.join(map(py_str, sorted(v)))}}})"
                       for k, v in sorted(targets.items())]
            mapping = "{" + ", ".join(entries) + "}"
            if len(mapping) > 80:  # one dimension a line
                mapping = "{\n" + "".join(f"            {e},\n" for e in entries) + "        }"
            flags.append(f"    {py_str(flag.name)}: Flag(\n"
                         f"        default={bool(flag.default)}, rollout={rollout}, "
                         f"by={py_str(by)},\n        targets={mapping}),")
    variants = [f"    {py_str(e.name)}: ("
                + " ".join(f"({py_str(v.name)}, {float(v.percent)!r})," for v in e.variants)
                + "),"
                for module in program.modules for e in module.experiments]
    return (("{\n" + "\n".join(flags) + "\n}") if flags else "{}",
            ("{\n" + "\n".join(variants) + "\n}") if variants else "{}",
            f"frozenset({{{', '.join(map(py_str, sorted(plans)))}}})" if plans else "frozenset()")


EVALUATE = '''"""Feature flags and experiments at run time (see docs/generators.md, "Flags").

A flag is on for an actor when it is not killed and: its status is `on`; or the actor's org,
user, plan or segment is one of its targets (the spec's `target` lines, the plans whose `flags`
name it, and `FlagTarget` rows); or its status is `gradual` and the org (or user, for
`rollout … by user`) falls in the rollout: SHA-256 of `"<flag>:<id>"` into 10 000 buckets.
Without a `FeatureFlag` row the declaration decides (`default on` is `on`, a rollout is
`gradual`, else `off`). An experiment's variant comes from the same hash against the
cumulated split, and is recorded once (`Assignment`), so it never changes for a user.
"""

from __future__ import annotations

import datetime
import hashlib
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from fastapi import Depends, HTTPException
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from {app}.api.deps import ActorDep, SessionDep
from {app}.auth import Actor
from {app}.db import models
from {app}.enums import {ExperimentStatus}, {FlagStatus}

BUCKETS = 10000


@dataclass(frozen=True)
class Flag:
    """A `flag` declaration: its default, rollout (percent, `org` or `user`) and targets."""

    default: bool
    rollout: float | None
    by: str
    targets: Mapping[str, frozenset[str]]


FLAGS: dict[str, Flag] = {flags}
VARIANTS: dict[str, tuple[tuple[str, float], ...]] = {variants}
PLANS: frozenset[str] = {plans}


def bucket(key: str, subject: uuid.UUID | str) -> int:
    """A stable number in 0..9999 for a flag or experiment and an org or user id."""
    digest = hashlib.sha256(f"{{key}}:{{subject}}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % BUCKETS


def in_rollout(key: str, subject: uuid.UUID | str, percent: float) -> bool:
    """Whether `subject` falls in the first `percent` of the flag's buckets."""
    return bucket(key, subject) < round(percent * BUCKETS / 100)


def initial_status(flag: Flag) -> {FlagStatus}:
    """The status the declaration gives before any change."""
    if flag.default:
        return {FlagStatus}.on
    return {FlagStatus}.gradual if flag.rollout else {FlagStatus}.off


def flag_row(session: Session, key: str) -> models.{FeatureFlag} | None:
    """The flag's run-time row, if an operator ever changed it."""
    return session.scalar(sa.select(models.{FeatureFlag}).where(models.{FeatureFlag}.key == key))


def ensure_flag(session: Session, key: str) -> models.{FeatureFlag} | None:
    """The flag's row, created from its declaration when missing; None for an unknown key."""
    row = flag_row(session, key)
    spec = FLAGS.get(key)
    if row is not None or spec is None:
        return row
    try:
        with session.begin_nested():
            session.add(models.{FeatureFlag}(key=key, status=initial_status(spec),
                                            rollout_percent=spec.rollout or 0, killed=False))
    except IntegrityError:  # created by a concurrent request
        pass
    return flag_row(session, key)


def segments(session: Session, org_id: uuid.UUID) -> set[str]:
    """The keys of the segments the organisation is in."""
    return set(session.scalars(sa.select(models.{Segment}.key).join(
        models.{SegmentMember}, models.{SegmentMember}.segment_id == models.{Segment}.id).where(
        models.{SegmentMember}.org_id == org_id)).all())


def plan(session: Session, org_id: uuid.UUID) -> str | None:
    """The organisation's plan (metering's `Subscription`), if any."""
{plan_body}


def targeted(session: Session, actor: Actor, key: str, row: models.{FeatureFlag} | None) -> bool:
    """Whether the actor's org, user, plan or segment is a target of the flag."""
    wanted: dict[str, set[str]] = {{k: set(v) for k, v in
                                   (FLAGS[key].targets if key in FLAGS else {{}}).items()}}
    if row is not None:
        for kind, value in session.execute(sa.select(
                models.{FlagTarget}.kind, models.{FlagTarget}.value).where(
                models.{FlagTarget}.flag_id == row.id)):
            wanted.setdefault(str(kind), set()).add(value)
    if not wanted:
        return False
    if str(actor.org_id) in wanted.get("org", set()) or \\
            str(actor.user_id) in wanted.get("user", set()):
        return True
    if wanted.get("plan") and plan(session, actor.org_id) in wanted["plan"]:
        return True
    return bool(wanted.get("segment") and segments(session, actor.org_id) & wanted["segment"])


def flag_on(session: Session, actor: Actor, key: str) -> bool:
    """Whether the flag `key` is on for the actor (False for an unknown flag)."""
    spec, row = FLAGS.get(key), flag_row(session, key)
    if spec is None and row is None:
        return False
    if row is not None and row.killed:
        return False
    status = row.status if row is not None else initial_status(spec) if spec else None
    if status == {FlagStatus}.on or targeted(session, actor, key, row):
        return True
    if status != {FlagStatus}.gradual:
        return False
    percent = float(row.rollout_percent) if row is not None else (spec.rollout if spec else 0)
    subject = actor.user_id if spec is not None and spec.by == "user" else actor.org_id
    return in_rollout(key, subject, percent or 0)


def experiment_row(session: Session, key: str) -> models.{Experiment} | None:
    """The experiment's run-time row, created (as a draft) from its declaration when missing."""
    query = sa.select(models.{Experiment}).where(models.{Experiment}.key == key)
    row = session.scalar(query)
    if row is None and key in VARIANTS:
        try:
            with session.begin_nested():
                session.add(models.{Experiment}(key=key, status={ExperimentStatus}.draft))
        except IntegrityError:  # created by a concurrent request
            pass
        row = session.scalar(query)
    return row


def pick(key: str, user_id: uuid.UUID) -> str:
    """The variant the hash gives a user: its bucket against the cumulated split."""
    split = VARIANTS.get(key, ())
    point, total = bucket(key, user_id), 0.0
    for name, percent in split:
        total += percent
        if point < round(total * BUCKETS / 100):
            return name
    return split[-1][0] if split else "control"


def assignment(session: Session, actor: Actor,
               experiment: models.{Experiment}) -> models.{Assignment}:
    """The user's assignment in the experiment, recorded on first call, then never changed."""
    query = sa.select(models.{Assignment}).where(
        models.{Assignment}.experiment_id == experiment.id,
        models.{Assignment}.user_id == actor.user_id)
    row = session.scalar(query)
    if row is None:
        try:
            with session.begin_nested():
                session.add(models.{Assignment}(
                    org_id=actor.org_id, experiment_id=experiment.id, user_id=actor.user_id,
                    variant=pick(experiment.key, actor.user_id),
                    assigned_at=datetime.datetime.now(datetime.UTC)))
        except IntegrityError:  # assigned by a concurrent request
            pass
        row = session.scalar(query)
    assert row is not None
    return row


def experiment_on(session: Session, actor: Actor, key: str) -> bool:
    """An operation behind an experiment is served to the users given another variant than
    the first (the control) while it runs, and to everyone once it concluded with one (and
    after it is archived)."""
    split = VARIANTS.get(key, ())
    row = session.scalar(sa.select(models.{Experiment}).where(models.{Experiment}.key == key))
    if not split or row is None:
        return False
    control = split[0][0]
    if row.status in ({ExperimentStatus}.concluded, {ExperimentStatus}.archived):
        return row.winner is not None and row.winner != control
    if row.status != {ExperimentStatus}.running:
        return False
    given = session.scalar(sa.select(models.{Assignment}.variant).where(
        models.{Assignment}.experiment_id == row.id,
        models.{Assignment}.user_id == actor.user_id))
    return (given or pick(key, actor.user_id)) != control


def enabled(session: Session, actor: Actor, key: str) -> bool:
    """Whether the flag or experiment `key` lets the actor in."""
    if key in VARIANTS:
        return experiment_on(session, actor, key)
    return flag_on(session, actor, key)


def require(session: Session, actor: Actor, key: str) -> None:
    """Answer 404, exactly like an unknown route, when `key` is off for the actor."""
    if not enabled(session, actor, key):
        raise HTTPException(status_code=404, detail="Not Found")


def gated(key: str) -> Any:
    """The dependency of a route `behind` the flag or experiment `key`: 404 while it is off
    for the actor, before the policy's 403 and the input's 422 could reveal the route."""

    def check(session: SessionDep, actor: ActorDep) -> None:
        require(session, actor, key)

    return Depends(check)
'''

PLAN_BODY = '''    return session.scalar(sa.select(models.{Subscription}.plan).where(
        models.{Subscription}.org_id == org_id))'''

SERVICE = '''"""The operations of the standard module `flags` (see docs/std/flags.md)."""

from __future__ import annotations

import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from {app} import audit
from {app}.api import errors, schemas
from {app}.api.context import Context
from {app}.db import models
from {app}.enums import {ExperimentStatus}, {TargetKind}
from {app}.events import models as events
from {app}.flags import evaluate


def _sync(session: Session) -> None:
    """Create the rows of declared flags and experiments that have none yet."""
    for key in evaluate.FLAGS:
        evaluate.ensure_flag(session, key)
    for key in evaluate.VARIANTS:
        evaluate.experiment_row(session, key)


def _flag(ctx: Context, key: str) -> models.{FeatureFlag}:
    row = evaluate.ensure_flag(ctx.session, key)
    if row is None:
        raise errors.UnknownFlag()
    return row


def _all(query: sa.Select[Any], session: Session) -> tuple[list[Any], dict[str, int]]:
    """Every row of the query, and the page fields of one page holding them all (the
    operation's input has no paging)."""
    rows = list(session.scalars(query).all())
    return rows, {{"total": len(rows), "page": 1, "size": len(rows)}}


def _changed(ctx: Context, row: models.{FeatureFlag}, event: str, diff: dict[str, Any]) -> None:
    """Audit a change of a flag (a no-op without the `audit` module)."""
    audit.record(ctx.session, ctx.actor, org_id=ctx.actor.org_id, event=event,
                 target_type="FeatureFlag", target_id=str(row.id), diff=diff)


def {evaluate_flags}(ctx: Context,
                   data: schemas.{evaluate_flags_in}) -> list[schemas.FeatureFlag]:
    _sync(ctx.session)
    rows = ctx.session.scalars(sa.select(models.{FeatureFlag}).order_by(
        models.{FeatureFlag}.key)).all()
    answer = [schemas.FeatureFlag.from_row(r) for r in rows
              if evaluate.flag_on(ctx.session, ctx.actor, r.key)]
    ctx.commit()
    return answer


def {list_flags}(ctx: Context, data: schemas.{list_flags_in}) -> schemas.FeatureFlagPage:
    _sync(ctx.session)
    ctx.commit()
    query = ctx.select(models.{FeatureFlag}).order_by(models.{FeatureFlag}.key)
    if data.status is not None:
        query = query.where(models.{FeatureFlag}.status == data.status)
    rows, fields = _all(query, ctx.session)
    return schemas.FeatureFlagPage(items=[schemas.FeatureFlag.from_row(r) for r in rows], **fields)


def {update_flag}(ctx: Context, data: schemas.{update_flag_in}) -> schemas.FeatureFlag:
    row = _flag(ctx, data.key)
    before = [str(row.status), str(row.rollout_percent), row.killed]
    row.status = data.status
    if data.rolloutPercent is not None:
        row.rollout_percent = data.rolloutPercent
    row.killed = False  # an update revives a killed flag
    row.updated_at = datetime.datetime.now(datetime.UTC)
    ctx.session.flush()
    _changed(ctx, row, "flag.updated", {{"status, rolloutPercent, killed": [
        before, [str(row.status), str(row.rollout_percent), False]]}})
    ctx.emit(events.FlagChangedV1, events.FlagChangedV1Payload.model_validate(
        {{"flag": row.id, "status": row.status, "by": ctx.actor.user_id}}))
    ctx.commit()
    ctx.session.refresh(row)
    return schemas.FeatureFlag.from_row(row)


def {kill_flag}(ctx: Context, data: schemas.{kill_flag_in}) -> schemas.FeatureFlag:
    row = _flag(ctx, data.key)
    row.killed = True
    row.updated_at = datetime.datetime.now(datetime.UTC)
    ctx.session.flush()
    _changed(ctx, row, "flag.killed", {{"killed": [False, True], "reason": data.reason}})
    ctx.emit(events.FlagKilledV1, events.FlagKilledV1Payload.model_validate(
        {{"flag": row.id, "reason": data.reason, "by": ctx.actor.user_id}}))
    ctx.commit()
    ctx.session.refresh(row)
    return schemas.FeatureFlag.from_row(row)


def _target_exists(session: Session, kind: {TargetKind}, value: str) -> bool:
    if kind == {TargetKind}.plan:
        return value in evaluate.PLANS
    if kind == {TargetKind}.segment:
        return session.scalar(sa.select(models.{Segment}.id).where(
            models.{Segment}.key == value)) is not None
    model: Any = models.{Org} if kind == {TargetKind}.org else models.{User}
    try:
        key = uuid.UUID(value)
    except ValueError:
        return False
    return session.get(model, key) is not None


def {add_flag_target}(ctx: Context, data: schemas.{add_flag_target_in}) -> schemas.FlagTarget:
    row = _flag(ctx, data.key)
    if not _target_exists(ctx.session, data.kind, data.value):
        raise errors.UnknownTarget()
    target = models.{FlagTarget}(flag_id=row.id, kind=data.kind, value=data.value)
    ctx.session.add(target)
    _changed(ctx, row, "flag.target_added", {{"target": [None, f"{{data.kind}}:{{data.value}}"]}})
    ctx.emit(events.FlagChangedV1, events.FlagChangedV1Payload.model_validate(
        {{"flag": row.id, "status": row.status, "by": ctx.actor.user_id}}))
    ctx.commit()
    ctx.session.refresh(target)
    return schemas.FlagTarget.from_row(target)


def {add_to_segment}(ctx: Context, data: schemas.{add_to_segment_in}) -> schemas.SegmentMember:
    ctx.get(models.{Segment}, data.segment)
    if ctx.session.get(models.{Org}, data.org) is None:
        raise errors.NotFound()
    row = models.{SegmentMember}(org_id=data.org, segment_id=data.segment)
    ctx.session.add(row)
    ctx.commit()
    ctx.session.refresh(row)
    return schemas.SegmentMember.from_row(row)


def {remove_from_segment}(ctx: Context, data: schemas.{remove_from_segment_in}) -> None:
    row = ctx.session.scalar(sa.select(models.{SegmentMember}).where(
        models.{SegmentMember}.segment_id == data.segment,
        models.{SegmentMember}.org_id == data.org))
    if row is None:
        raise errors.NotInSegment()
    ctx.session.delete(row)
    ctx.commit()


def _running(ctx: Context, key: str) -> models.{Experiment}:
    row = evaluate.experiment_row(ctx.session, key)
    if row is None:
        raise errors.UnknownExperiment()
    return row


def {get_variant}(ctx: Context, data: schemas.{get_variant_in}) -> schemas.Assignment:
    experiment = _running(ctx, data.experiment)
    if experiment.status != {ExperimentStatus}.running:
        ctx.commit()
        raise errors.NotRunning()
    row = evaluate.assignment(ctx.session, ctx.actor, experiment)
    ctx.commit()
    ctx.session.refresh(row)
    return schemas.Assignment.from_row(row)


def {record_exposure}(ctx: Context, data: schemas.{record_exposure_in}) -> schemas.Assignment:
    experiment = _running(ctx, data.experiment)
    row = evaluate.assignment(ctx.session, ctx.actor, experiment)
    if row.exposed_at is None:  # the first exposure counts, and is announced once
        row.exposed_at = datetime.datetime.now(datetime.UTC)
        ctx.session.flush()
        ctx.emit(events.ExperimentExposedV1, events.ExperimentExposedV1Payload.model_validate(
            {{"assignment": row.id, "variant": row.variant}}))
    ctx.commit()
    ctx.session.refresh(row)
    return schemas.Assignment.from_row(row)


def _locked(ctx: Context, key: str) -> models.{Experiment}:
    """The experiment `key` (its row created as a draft from its declaration when missing),
    locked until the commit on PostgreSQL."""
    row = _running(ctx, key)
    ctx.session.refresh(row, with_for_update=True)
    return row


def {start_experiment}(ctx: Context, data: schemas.{start_experiment_in}) -> schemas.Experiment:
    """Start a drafted experiment: from now on each user gets their variant."""
    row = _locked(ctx, data.experiment)
    if row.status != {ExperimentStatus}.draft:
        raise errors.NotDraft(details={{"status": str(row.status)}})
    row.status = {ExperimentStatus}.running
    row.started_at = datetime.datetime.now(datetime.UTC)
    ctx.session.flush()
    ctx.emit(events.ExperimentStartedV1, events.ExperimentStartedV1Payload.model_validate(
        {{"experiment": row.id}}))
    ctx.commit()
    ctx.session.refresh(row)
    return schemas.Experiment.from_row(row)


def {conclude_experiment}(ctx: Context,
                        data: schemas.{conclude_experiment_in}) -> schemas.Experiment:
    """Conclude a running experiment with its winner, which every user gets from now on."""
    row = _locked(ctx, data.experiment)
    if row.status != {ExperimentStatus}.running:
        raise errors.NotRunning(details={{"status": str(row.status)}})
    variants = [name for name, _ in evaluate.VARIANTS.get(row.key, ())]
    if data.winner not in variants:
        raise errors.UnknownVariant(details={{"variants": [*variants]}})
    row.status = {ExperimentStatus}.concluded
    row.winner = data.winner
    row.ended_at = datetime.datetime.now(datetime.UTC)
    ctx.session.flush()
    ctx.emit(events.ExperimentConcludedV1, events.ExperimentConcludedV1Payload.model_validate(
        {{"experiment": row.id, "winner": data.winner}}))
    ctx.commit()
    ctx.session.refresh(row)
    return schemas.Experiment.from_row(row)


def {archive_experiment}(ctx: Context,
                       data: schemas.{archive_experiment_in}) -> schemas.Experiment:
    """Archive a concluded experiment; its winner stays served."""
    row = _locked(ctx, data.experiment)
    if row.status != {ExperimentStatus}.concluded:
        raise errors.NotConcluded(details={{"status": str(row.status)}})
    row.status = {ExperimentStatus}.archived
    ctx.commit()
    ctx.session.refresh(row)
    return schemas.Experiment.from_row(row)


def {list_experiments}(ctx: Context,
                     data: schemas.{list_experiments_in}) -> schemas.ExperimentPage:
    _sync(ctx.session)
    ctx.commit()
    query = ctx.select(models.{Experiment}).order_by(models.{Experiment}.key)
    if data.status is not None:
        query = query.where(models.{Experiment}.status == data.status)
    rows, fields = _all(query, ctx.session)
    return schemas.ExperimentPage(items=[schemas.Experiment.from_row(r) for r in rows], **fields)
'''

# (operation, the placeholder of its function, of its input model)
_OPERATIONS = {
    "evaluateFlags": "evaluate_flags", "listFlags": "list_flags", "updateFlag": "update_flag",
    "killFlag": "kill_flag", "addFlagTarget": "add_flag_target",
    "addToSegment": "add_to_segment", "getVariant": "get_variant",
    "recordExposure": "record_exposure", "listExperiments": "list_experiments",
    "startExperiment": "start_experiment", "concludeExperiment": "conclude_experiment",
    "archiveExperiment": "archive_experiment", "removeFromSegment": "remove_from_segment",
}


class FlagsProvider(ServiceProvider):
    """Generated flag evaluation, experiment assignment and the `flags` operations."""

    module: ClassVar[str] = "flags"
    operations: ClassVar[frozenset[tuple[str, str]]] = frozenset(
        (name, "v1") for name in _OPERATIONS)

    def files(self, given: ServiceInput) -> dict[str, str]:
        names = {n: given.orm("flags", n) for n in (
            "FeatureFlag", "FlagTarget", "Segment", "SegmentMember", "Experiment", "Assignment")}
        names.update({n: given.enum("flags", n) for n in (
            "FlagStatus", "TargetKind", "ExperimentStatus")})
        names["Org"], names["User"] = given.orm("identity", "Org"), given.orm("identity", "User")
        metering = given.program.module("metering") is not None
        plan_body = _fill(PLAN_BODY, Subscription=given.orm("metering", "Subscription")) \
            if metering else "    return None"
        flags, variants, plans = _flags_data(given.program)
        evaluate = _fill(EVALUATE, app=given.app, flags=flags, variants=variants, plans=plans,
                         plan_body=plan_body, **names)
        ops: dict[str, str] = {}
        for name, slot in _OPERATIONS.items():
            op = given.operation("flags", name)
            ops[slot], ops[f"{slot}_in"] = op.function, op.input.name
        service = _fill(SERVICE, app=given.app, **names, **ops)
        if "uuid." in service:
            service = service.replace("import datetime\n", "import datetime\nimport uuid\n", 1)
        return {
            "flags/__init__.py": given.top + '"""Feature flags and experiments."""\n',
            "flags/evaluate.py": given.top + evaluate,
            "services/flags.py": given.top + service,
        }


def _fill(template: str, **names: str) -> str:
    """`str.format` of a template (literal braces doubled)."""
    return template.format(**names)
