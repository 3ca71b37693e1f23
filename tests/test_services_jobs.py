"""The generated `jobs` services end to end, on SQLite and PostgreSQL: runs enqueued by hand
(checked against the job's input), cancelled and retried, the queue, dead letters and
schedules for operators, the lifecycle events the worker writes to the outbox and
dispatches, and `purgeFinishedJobs` run by the worker, which finds the standard jobs' generated
implementations. Also: jobs of the same name in two modules do not clash."""

from __future__ import annotations

import datetime
import importlib
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from contractspec.analysis import analyze_texts
from contractspec.generators.api import ApiGenerator
from contractspec.generators.base import GeneratorOptions
from contractspec.generators.worker import WorkerGenerator
from tests.databases import temporary_database
from tests.test_services_identity import APP, App, error, join, running_app, sign_up
from tests.test_services_identity import project as project  # the fixture


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def app(request: pytest.FixtureRequest, project: Path,
        tmp_path_factory: pytest.TempPathFactory) -> Iterator[App]:
    with temporary_database(request.param, tmp_path_factory.mktemp(request.param),
                            "jobs") as url:
        yield from running_app(project, url)


def operator_token(app: App, email: str) -> str:
    """A platform operator's token, as `python -m <app>.dev create-token --operator` issues
    it: a member of the staff organisation whose token acts with the `operator` role."""
    with app.session() as db:
        return str(app.modules["dev"].create_token(db, "Staff", email, "member", "Ops",
                                                   operator=True))


@pytest.fixture
def operator(app: App) -> str:
    return operator_token(app, f"ops-{uuid.uuid4().hex[:8]}@staff.example")


def test_the_dev_command_issues_an_operator_token(app: App,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    email = f"ops-{uuid.uuid4().hex[:8]}@staff.example"
    assert app.modules["dev"].main(["create-token", "--org", "Staff", "--email", email,
                                    "--role", "member", "--operator"]) == 0
    token = capsys.readouterr().out.strip()
    with app.session() as db:
        assert app.modules["auth"].actor_for_token(db, token).role == "operator"
    assert app.get(token, "/v1/list-dead-jobs").status_code == 200


def test_the_operator_role_comes_from_the_token(app: App) -> None:
    """An operator's token acts as `operator`; the same person's ordinary token acts with
    their role; the operator's token stops working when their membership ends or it is
    revoked."""
    email = f"ops-{uuid.uuid4().hex[:8]}@staff.example"
    token = operator_token(app, email)
    assert app.get(token, "/v1/list-jobs").status_code == 200
    with app.session() as db:
        plain = app.modules["dev"].create_token(db, "Staff", email, "member", "Ops")
        actor = app.modules["auth"].actor_for_token(db, token)
        assert (actor.role, "manage_jobs" in actor.permissions) == ("operator", True)
    assert app.get(plain, "/v1/list-jobs").status_code == 403
    with app.session() as db:
        assert app.modules["auth"].revoke_token(db, token)
        db.commit()
    assert app.get(token, "/v1/list-jobs").status_code == 401
    again = operator_token(app, email)
    models = app.modules["models"]
    with app.session() as db:
        user = db.scalar(sa.select(models.User).where(models.User.email == email))
        db.execute(sa.delete(models.OrgMembership).where(models.OrgMembership.user_id == user.id))
        db.commit()
    assert app.get(again, "/v1/list-jobs").status_code == 401


def enqueue(app: App, token: str, body: dict[str, Any]) -> Any:
    return app.post(token, "/v1/enqueue-job", body)


def test_enqueue_checks_the_type_and_the_payload(app: App) -> None:
    ada = sign_up(app)
    member = join(app, ada)
    queued = enqueue(app, ada["token"], {"type": "purgeFinishedJobs",
                                         "payload": {"olderThan": "P7D"}})
    assert queued.status_code == 200, queued.text
    job = queued.json()
    assert (job["status"], job["enqueuedBy"], job["org"]) == ("queued", ada["user"], ada["org"])
    assert job["maxAttempts"] == 4 and job["payload"] == {"olderThan": "P7D"}
    [enqueued] = [e for e in app.events("job.enqueued") if e["payload"]["job"] == job["id"]]
    assert enqueued["actor"] == {"kind": "user", "id": ada["user"]}
    assert app.get(ada["token"], "/v1/get-job", id=job["id"]).status_code == 200
    unknown = enqueue(app, ada["token"], {"type": "nope", "payload": {}})
    assert unknown.status_code == 422 and error(unknown) == "UnknownJobType"
    bad = enqueue(app, ada["token"], {"type": "purgeFinishedJobs",
                                      "payload": {"olderThan": "soon"}})
    assert bad.status_code == 422 and error(bad) == "BadPayload"
    assert bad.json()["error"]["details"][0]["path"] == "olderThan"
    keyed = {"type": "purgeAuditEntries", "payload": {}, "dedupeKey": f"k{uuid.uuid4().hex}"}
    assert enqueue(app, ada["token"], keyed).status_code == 200
    duplicate = enqueue(app, ada["token"], keyed)
    assert duplicate.status_code == 409 and error(duplicate) == "Duplicate"
    later = datetime.datetime.now(datetime.UTC) + datetime.timedelta(days=1)
    delayed = enqueue(app, ada["token"], {"type": "purgeAuditEntries", "payload": {},
                                          "runAt": later.isoformat()}).json()
    assert delayed["scheduledAt"] > job["scheduledAt"]
    assert enqueue(app, member["token"], {"type": "purgeAuditEntries",
                                          "payload": {}}).status_code == 403
    assert app.get(ada["token"], "/v1/list-jobs").status_code == 403  # operators only


def test_operators_see_the_queue_and_the_dead_letters(app: App, operator: str) -> None:
    models, enums = app.modules["models"], app.modules["enums"]
    kind = f"gone{uuid.uuid4().hex[:6]}"
    with app.session() as db:
        db.add(models.Job(type=kind, payload={}, status=enums.JobStatus.dead, attempts=3,
                          max_attempts=3, last_error="boom",
                          finished_at=datetime.datetime.now(datetime.UTC)))
        db.commit()
    dead = app.get(operator, "/v1/list-dead-jobs", type=kind).json()
    assert [(j["type"], j["lastError"]) for j in dead["items"]] == [(kind, "boom")]
    every = app.get(operator, "/v1/list-dead-jobs").json()
    assert every["total"] >= 1 and {j["status"] for j in every["items"]} == {"dead"}
    listed = app.get(operator, "/v1/list-jobs", status="dead").json()
    assert kind in {j["type"] for j in listed["items"]}


def test_schedules_are_listed_and_paused(app: App, operator: str) -> None:
    worker = importlib.import_module(f"{APP}.jobs.worker")
    worker.run_once()  # syncs the schedules with the spec
    schedules = app.get(operator, "/v1/list-schedules").json()
    names = [s["name"] for s in schedules["items"]]
    assert names == sorted(names) and {"dailyJobPurge", "nightlyAuditPurge"} <= set(names)
    paused = app.post(operator, "/v1/set-schedule-paused",
                      {"name": "dailyJobPurge", "paused": True})
    assert paused.status_code == 200 and paused.json()["paused"] is True
    [event] = [e for e in app.events("job.schedule_changed")
               if e["payload"]["schedule"] == paused.json()["id"]]
    assert event["payload"]["paused"] is True
    worker.run_once()
    again = app.get(operator, "/v1/list-schedules").json()["items"]
    assert next(s for s in again if s["name"] == "dailyJobPurge")["paused"] is True
    missing = app.post(operator, "/v1/set-schedule-paused", {"name": "nope", "paused": True})
    assert missing.status_code == 404 and error(missing) == "NotFound"
    assert app.post(operator, "/v1/set-schedule-paused",
                    {"name": "dailyJobPurge", "paused": False}).json()["paused"] is False


def test_the_worker_runs_the_generated_purge(app: App) -> None:
    ada = sign_up(app)
    models, enums = app.modules["models"], app.modules["enums"]
    now = datetime.datetime.now(datetime.UTC)
    fates = {}
    with app.session() as db:
        for status, days, fate in (("succeeded", 40, "gone"), ("cancelled", 40, "gone"),
                                   ("succeeded", 2, "kept"), ("dead", 90, "kept")):
            kind = f"old{uuid.uuid4().hex[:6]}"
            fates[kind] = fate
            db.add(models.Job(type=kind, payload={}, status=getattr(enums.JobStatus, status),
                              finished_at=now - datetime.timedelta(days=days)))
        db.commit()
    purge = enqueue(app, ada["token"], {"type": "purgeFinishedJobs",
                                        "payload": {"olderThan": "P30D"}}).json()
    assert importlib.import_module(f"{APP}.jobs.worker").run_once() >= 1
    done = app.rows("Job", models.Job.id == uuid.UUID(purge["id"]))
    assert [str(j.status) for j in done] == ["succeeded"], [j.last_error for j in done]
    left = {j.type for j in app.rows("Job", models.Job.type.in_(list(fates)))}
    assert left == {kind for kind, fate in fates.items() if fate == "kept"}


def cancel(app: App, token: str, job_id: str) -> Any:
    return app.post(token, "/v1/cancel-job", {"id": job_id})


def add_job(app: App, status: str, **fields: Any) -> str:
    """A run written straight to the table; its id."""
    models, enums = app.modules["models"], app.modules["enums"]
    with app.session() as db:
        row = models.Job(type=fields.pop("type", "purgeFinishedJobs"),
                         payload=fields.pop("payload", {}),
                         status=getattr(enums.JobStatus, status), **fields)
        db.add(row)
        db.commit()
        return str(row.id)


def test_cancel_a_queued_or_failed_run(app: App) -> None:
    ada = sign_up(app)
    later = (datetime.datetime.now(datetime.UTC) + datetime.timedelta(days=1)).isoformat()
    job = enqueue(app, ada["token"], {"type": "purgeAuditEntries", "payload": {},
                                      "runAt": later}).json()
    assert cancel(app, sign_up(app)["token"], job["id"]).status_code == 404  # another org
    assert cancel(app, join(app, ada)["token"], job["id"]).status_code == 403  # no permission
    cancelled = cancel(app, ada["token"], job["id"])
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["status"] == "cancelled" and cancelled.json()["finishedAt"]
    [event] = [e for e in app.events("job.cancelled") if e["payload"]["job"] == job["id"]]
    assert event["actor"] == {"kind": "user", "id": ada["user"]}
    again = cancel(app, ada["token"], job["id"])
    assert again.status_code == 409 and error(again) == "NotCancellable"
    user = uuid.UUID(ada["user"])
    for status in ("running", "succeeded", "dead"):
        busy = cancel(app, ada["token"], add_job(app, status, enqueued_by_id=user))
        assert busy.status_code == 409 and error(busy) == "NotCancellable", status
    failed = add_job(app, "failed", enqueued_by_id=user)
    assert cancel(app, ada["token"], failed).json()["status"] == "cancelled"
    assert cancel(app, ada["token"], add_job(app, "queued")).status_code == 404  # not theirs
    assert app.post(ada["token"], "/v1/retry-job", {"id": failed}).status_code == 403


def test_operators_cancel_any_run_and_retry_dead_ones(app: App, operator: str) -> None:
    theirs = add_job(app, "queued")  # enqueued by no one: only an operator cancels it
    assert cancel(app, operator, theirs).json()["status"] == "cancelled"
    assert cancel(app, operator, str(uuid.uuid4())).status_code == 404
    dead = add_job(app, "dead", attempts=4, max_attempts=4, last_error="boom",
                   scheduled_at=datetime.datetime.now(datetime.UTC) + datetime.timedelta(days=1))
    retried = app.post(operator, "/v1/retry-job", {"id": dead})
    assert retried.status_code == 200, retried.text
    body = retried.json()
    assert (body["status"], body["attempts"], body["finishedAt"]) == ("queued", 0, None)
    again = app.post(operator, "/v1/retry-job", {"id": dead})
    assert again.status_code == 409 and error(again) == "NotRetryable"
    assert app.post(operator, "/v1/retry-job", {"id": str(uuid.uuid4())}).status_code == 404


def lifecycle(app: App, job_id: str) -> list[tuple[str, dict[str, Any]]]:
    """The run's lifecycle events in the order they occurred; all dispatched by the worker."""
    models = app.modules["models"]
    rows = [row for row in app.rows("OutboxEvent", models.OutboxEvent.event.like("job.%"))
            if row.body["payload"].get("job") == job_id]
    assert all(row.dispatched_at is not None for row in rows)
    rows.sort(key=lambda row: row.body["occurredAt"])
    return [(row.event, {k: v for k, v in row.body["payload"].items() if k != "job"})
            for row in rows]


def test_the_worker_writes_the_lifecycle_events(app: App) -> None:
    worker = importlib.import_module(f"{APP}.jobs.worker")
    ada = sign_up(app)
    done = enqueue(app, ada["token"], {"type": "purgeFinishedJobs",
                                       "payload": {"olderThan": "P400D"}}).json()["id"]
    broken = add_job(app, "queued", payload={"olderThan": "soon"}, max_attempts=2)
    worker.run_once()
    assert [name for name, _ in lifecycle(app, done)] == [
        "job.enqueued", "job.started", "job.succeeded"]
    succeeded = dict(lifecycle(app, done))["job.succeeded"]
    assert succeeded["attempt"] == 1 and succeeded["duration"].startswith("P")
    assert lifecycle(app, broken)[0] == ("job.started", {"attempt": 1})
    failed = lifecycle(app, broken)[1]
    assert failed[0] == "job.failed" and failed[1]["attempt"] == 1
    assert "does not fit the input" in failed[1]["error"]
    models = app.modules["models"]
    with app.session() as db:  # the backoff is over
        db.get(models.Job, uuid.UUID(broken)).scheduled_at = datetime.datetime.now(
            datetime.UTC) - datetime.timedelta(seconds=1)
        db.commit()
    worker.run_once()
    events = lifecycle(app, broken)
    assert [name for name, _ in events] == ["job.started", "job.failed", "job.started",
                                            "job.failed", "job.dead_lettered"]
    assert events[4][1]["type"] == "purgeFinishedJobs"
    assert events[4][1]["error"] == events[3][1]["error"] and events[3][1]["attempt"] == 2
    [row] = app.rows("Job", models.Job.id == uuid.UUID(broken))
    assert str(row.status) == "dead"


def test_a_run_lost_by_a_stopped_worker_gets_its_events(app: App) -> None:
    ago = datetime.datetime.now(datetime.UTC) - datetime.timedelta(days=1)
    lost = add_job(app, "running", attempts=1, max_attempts=1, started_at=ago)
    again = add_job(app, "running", attempts=1, max_attempts=2, started_at=ago,
                    payload={"olderThan": "soon"})
    importlib.import_module(f"{APP}.jobs.worker").run_once()
    stopped = "the worker running it stopped before it finished"
    assert lifecycle(app, lost) == [
        ("job.failed", {"attempt": 1, "error": stopped}),
        ("job.dead_lettered", {"type": "purgeFinishedJobs", "error": stopped})]
    assert lifecycle(app, again)[:2] == [("job.failed", {"attempt": 1, "error": stopped}),
                                         ("job.started", {"attempt": 2})]


# ---- the worker target ------------------------------------------------------------------------


CLASH = {
    "a.cspec": "module a\n\nuse jobs\n\n/// Cleans a.\njob cleanup {\n  input {\n"
               "    days: int?\n  }\n}\n\nschedule nightlyA cron \"0 1 * * *\" run cleanup\n",
    "b.cspec": "module b\n\nuse jobs\n\n/// Cleans b.\njob cleanup {\n  retries 2\n}\n\n"
               "schedule nightlyB cron \"0 2 * * *\" run cleanup\n",
}


def test_jobs_of_the_same_name_in_two_modules_do_not_clash() -> None:
    analysis = analyze_texts(CLASH)
    assert not analysis.errors, analysis.diagnostics
    files = WorkerGenerator().generate(analysis.program, GeneratorOptions(app="two"))
    definitions = bytes(files["two/jobs/definitions.py"]).decode()
    for module in ("a", "b"):
        assert f'"{module}.cleanup": JobType(' in definitions
        assert f"class {module.upper()}CleanupInput(BaseModel)" in definitions
        assert f'handler="{module}_cleanup_job"' in definitions
    assert 'job="a.cleanup"' in definitions and 'job="b.cleanup"' in definitions
    assert '"purgeFinishedJobs": JobType(' in definitions  # no clash: the plain name
    compile(definitions, "definitions.py", "exec")


SCAN_CLASH = {"mine.cspec": """\
module mine

use identity
use jobs
use files

job scanFile {
  input {
    path: string
  }
}
""", "other.cspec": "module other\n\nuse jobs\nuse learning\n\njob sendLearningNudges {\n}\n"}


def test_a_std_job_named_like_a_workspace_job_keeps_its_generated_implementation() -> None:
    """The std services name their job functions as the worker does: with the module when
    a workspace module declares a job of the same name."""
    analysis = analyze_texts(SCAN_CLASH)
    assert not analysis.errors, analysis.diagnostics
    options = GeneratorOptions(app="two")
    definitions = bytes(WorkerGenerator().generate(analysis.program, options)[
        "two/jobs/definitions.py"]).decode()
    services = ApiGenerator().generate(analysis.program, options)
    files, learning = (bytes(services[f"two/services/{m}.py"]).decode()
                       for m in ("files", "learning"))
    for module, job, text in (("files", "scan_file", files),
                              ("learning", "send_learning_nudges", learning)):
        assert f'handler="{module}_{job}_job"' in definitions
        assert f"def {module}_{job}_job(" in text
