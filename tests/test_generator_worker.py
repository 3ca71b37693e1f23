"""The `worker` target: job types, the queue, outbox triggers, schedules and the worker of a
generated app, driven end to end on SQLite (and on PostgreSQL when CSPEC_TEST_POSTGRES_URL
is set: two workers claiming at once never run a run twice).

The sales workspace of the app tests gains `use jobs`, a job run `on deal.created`, a job
with a short timeout and two schedules. The worker is driven with an injected clock and
handler module, so retries and schedules are tested without waiting.
"""

from __future__ import annotations

import datetime
import importlib
import os
import shutil
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType, SimpleNamespace
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from contractspec.analysis import analyze_workspace
from contractspec.generators.base import GeneratorOptions, UserOwned, builtin_registry
from contractspec.generators.pipeline import generate
from contractspec.generators.worker import WorkerGenerator
from contractspec.generators.worker.model import compile_cron
from tests.conftest import DATA, analyse
from tests.databases import temporary_database

APP = "sales"
NOW = datetime.datetime(2030, 3, 4, 12, 0, tzinfo=datetime.UTC)  # a Monday, after real time
JOBS_SPEC = """
job scoreNewDeal {
  input {
    deal: ref Deal
    amount: money
    note: string?
  }
  retries 2
  backoff fixed(1m)
  timeout 30s
}

on deal.created run scoreNewDeal

job slowJob {
  retries 0
  timeout 1s
}

job tidyUp {
  timeout 1m
}

// cspec-ignore CS515: enqueued by the tests
schedule tidyHourly every 1h run tidyUp
schedule tidyNightly cron "0 3 * * *" run slowJob
"""


def _workspace(tmp: Path) -> Path:
    root = tmp / "workspace"
    shutil.copytree(DATA / "gen" / "app", root)
    spec = root / "spec" / "sales.cspec"
    text = spec.read_text().replace("use audit\n", "use audit\nuse jobs\n", 1)
    spec.write_text(text + JOBS_SPEC)
    return root


@dataclass
class App:
    client: TestClient
    modules: dict[str, ModuleType]
    token: str

    def session(self) -> Any:
        return self.modules["session"].SessionLocal()

    def jobs(self, job_type: str | None = None) -> list[Any]:
        model = self.modules["models"].Job
        query = sa.select(model).order_by(model.created_at, model.id)
        if job_type is not None:
            query = query.where(model.type == job_type)
        with self.session() as db:
            return list(db.scalars(query).all())

    def enqueue(self, job_type: str, payload: dict[str, Any] | None = None,
                **options: Any) -> uuid.UUID:
        with self.session() as db:
            job = self.modules["queue"].enqueue(db, job_type, payload, now=NOW, **options)
            db.commit()
            return uuid.UUID(str(job.id))

    def run(self, handlers: object, at: datetime.datetime = NOW, **options: Any) -> int:
        return int(self.modules["worker"].run_once(handlers=handlers, now=lambda: at,
                                                   **options))

    def job(self, job_id: uuid.UUID) -> Any:
        with self.session() as db:
            return db.get_one(self.modules["models"].Job, job_id)


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("worker_app")
    analysis = analyze_workspace([_workspace(tmp)])
    assert not analysis.errors, [d.message for d in analysis.errors]
    root = tmp / "project"
    for path, content in generate(analysis).files.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_bytes(content)
    return root


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def app(request: pytest.FixtureRequest, project: Path,
        tmp_path_factory: pytest.TempPathFactory) -> Iterator[App]:
    with temporary_database(request.param, tmp_path_factory.mktemp(request.param),
                            "worker") as url:
        yield from _app(project, url)


def _app(project: Path, url: str) -> Iterator[App]:
    migrated = subprocess.run([sys.executable, "-m", "alembic", "-c", f"{APP}/alembic.ini",
                               "upgrade", "head"], cwd=project, capture_output=True,
                              env={**os.environ, "DATABASE_URL": url}, text=True, check=False)
    assert migrated.returncode == 0, migrated.stderr
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DATABASE_URL", url)
        mp.syspath_prepend(str(project))
        modules = {name: importlib.import_module(f"{APP}.{path}") for name, path in (
            ("main", "main"), ("session", "db.session"), ("dev", "dev"), ("models", "db.models"),
            ("queue", "jobs.queue"), ("worker", "jobs.worker"),
            ("definitions", "jobs.definitions"))}
        with modules["session"].SessionLocal() as db:
            token = modules["dev"].create_token(db, "Org a", "owner@a.example", "owner", "O")
        with TestClient(modules["main"].app) as client:
            yield App(client, modules, token)
        modules["session"].engine.dispose()
        for name in [m for m in sys.modules if m == APP or m.startswith(f"{APP}.")]:
            del sys.modules[name]


def _deal(app: App) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {app.token}"}
    stage = app.client.post("/v1/create-stage", headers=headers,
                            json={"name": f"Stage {uuid.uuid4().hex[:6]}"})
    assert stage.status_code == 201, stage.text
    deal = app.client.post("/v1/create-deal", headers=headers, json={
        "title": f"Deal {uuid.uuid4().hex[:8]}", "amount": "250.50",
        "stage": stage.json()["id"]})
    assert deal.status_code == 201, deal.text
    return dict(deal.json())


def _clear(app: App) -> None:
    """Leave no waiting run behind (tests share the database)."""
    with app.session() as db:
        db.execute(sa.delete(app.modules["models"].Job))
        db.commit()


# ---- the queue ------------------------------------------------------------------------------


def test_an_event_trigger_queues_the_job_from_the_event_payload(app: App) -> None:
    deal = _deal(app)
    [job] = app.jobs("scoreNewDeal")
    assert job.status.value == "queued" and job.trigger.value == "event"
    assert job.payload == {"deal": deal["id"], "amount": "250.50", "note": None}
    assert job.max_attempts == 3 and job.attempts == 0 and job.org_id is not None
    _clear(app)


def test_enqueue_checks_the_type_and_payload_and_dedupes(app: App) -> None:
    queue = app.modules["queue"]
    with app.session() as db, pytest.raises(queue.UnknownJobType, match="nope"):
        queue.enqueue(db, "nope", {})
    with app.session() as db, pytest.raises(ValueError, match="deal"):
        queue.enqueue(db, "scoreNewDeal", {"amount": "1"})
    first = app.enqueue("tidyUp", dedupe_key="k1")
    assert app.enqueue("tidyUp", dedupe_key="k1") == first
    assert len(app.jobs("tidyUp")) == 1
    delayed = app.enqueue("tidyUp", delay=datetime.timedelta(minutes=5))
    assert app.run(SimpleNamespace(tidy_up_job=lambda ctx, data: None)) == 1
    assert app.job(delayed).status.value == "queued"  # not due yet
    _clear(app)


# ---- the worker -----------------------------------------------------------------------------


def test_a_run_that_succeeds_is_succeeded_and_its_session_committed(app: App) -> None:
    deal = _deal(app)
    seen: list[tuple[str, int, str]] = []

    def score_new_deal_job(ctx: Any, data: Any) -> None:
        seen.append((str(data.deal), ctx.attempt, str(data.amount)))
        row = ctx.session.get(app.modules["models"].Deal, data.deal)
        row.title = "scored"

    assert app.run(SimpleNamespace(score_new_deal_job=score_new_deal_job)) == 1
    assert seen == [(deal["id"], 1, "250.50")]
    [job] = app.jobs("scoreNewDeal")
    assert job.status.value == "succeeded" and job.attempts == 1 and job.finished_at
    with app.session() as db:
        assert db.get(app.modules["models"].Deal, uuid.UUID(deal["id"])).title == "scored"
    assert app.run(SimpleNamespace()) == 0  # nothing left to run
    _clear(app)


def test_a_failing_run_is_retried_after_its_backoff_then_dead(app: App) -> None:
    _deal(app)
    calls: list[int] = []

    def score_new_deal_job(ctx: Any, data: Any) -> None:
        calls.append(ctx.attempt)
        row = ctx.session.get(app.modules["models"].Deal, data.deal)
        row.title = "never committed"
        raise RuntimeError(f"scoring service down ({ctx.attempt})")

    handlers = SimpleNamespace(score_new_deal_job=score_new_deal_job)
    assert app.run(handlers) == 1
    [job] = app.jobs("scoreNewDeal")
    assert job.status.value == "failed" and job.attempts == 1
    assert job.last_error == "RuntimeError: scoring service down (1)"
    assert app.run(handlers, NOW + datetime.timedelta(seconds=59)) == 0  # backoff fixed(1m)
    assert app.run(handlers, NOW + datetime.timedelta(seconds=61)) == 1
    assert app.job(job.id).status.value == "failed" and app.job(job.id).attempts == 2
    assert app.run(handlers, NOW + datetime.timedelta(minutes=3)) == 1
    dead = app.job(job.id)
    assert dead.status.value == "dead" and dead.attempts == 3 == dead.max_attempts
    assert dead.last_error.endswith("(3)") and dead.finished_at is not None
    assert calls == [1, 2, 3]
    assert app.run(handlers, NOW + datetime.timedelta(minutes=10)) == 0  # dead stays dead
    with app.session() as db:
        titles = set(db.scalars(sa.select(app.modules["models"].Deal.title)))
    assert "never committed" not in titles
    _clear(app)


def test_a_missing_handler_fails_the_run_with_a_clear_error(app: App) -> None:
    job_id = app.enqueue("slowJob")
    assert app.run(SimpleNamespace()) == 1
    job = app.job(job_id)
    assert job.status.value == "dead"  # retries 0: one attempt
    assert "define slow_job_job(ctx, data) in sales/handlers/jobs.py" in job.last_error
    _clear(app)


def test_a_run_over_its_timeout_fails(app: App) -> None:
    release = threading.Event()

    def slow_job_job(ctx: Any, data: Any) -> None:
        release.wait(10)

    job_id = app.enqueue("slowJob")
    try:
        assert app.run(SimpleNamespace(slow_job_job=slow_job_job)) == 1
    finally:
        release.set()
    job = app.job(job_id)
    assert job.status.value == "dead" and "timed out" in job.last_error
    _clear(app)


def test_the_generated_handler_module_is_used_by_default(app: App) -> None:
    job_id = app.enqueue("tidyUp")
    assert app.modules["worker"].run_once(now=lambda: NOW) == 1
    assert "define tidy_up_job(ctx, data)" in app.job(job_id).last_error
    _clear(app)


def test_runs_left_running_by_a_stopped_worker_are_recovered(app: App) -> None:
    handlers = SimpleNamespace(score_new_deal_job=lambda ctx, data: None)
    payload = {"deal": str(uuid.uuid4()), "amount": "1"}
    retried = app.enqueue("scoreNewDeal", payload)  # 3 attempts, timeout 30s
    last = app.enqueue("slowJob")  # 1 attempt, timeout 1s
    with app.session() as db:
        claim = app.modules["worker"].claim
        assert {claim(db, NOW), claim(db, NOW)} == {retried, last}
    assert app.run(handlers, NOW + datetime.timedelta(seconds=30)) == 0  # not lost yet
    assert app.job(retried).status.value == app.job(last).status.value == "running"
    assert app.run(handlers, NOW + datetime.timedelta(minutes=1, seconds=2)) == 0
    assert app.job(last).status.value == "dead" and "stopped" in app.job(last).last_error
    assert app.job(retried).status.value == "running"
    assert app.run(handlers, NOW + datetime.timedelta(minutes=2)) == 1  # failed, run again
    assert app.job(retried).status.value == "succeeded" and app.job(retried).attempts == 2
    _clear(app)


# ---- schedules ------------------------------------------------------------------------------


def test_schedules_are_synced_and_due_ones_queued_once(app: App) -> None:
    models = app.modules["models"]
    handlers = SimpleNamespace(tidy_up_job=lambda ctx, data: None,
                               slow_job_job=lambda ctx, data: None)
    assert app.run(handlers) == 0
    with app.session() as db:
        rows = {r.name: r for r in db.scalars(sa.select(models.JobSchedule))}
    assert set(rows) == {"tidyHourly", "tidyNightly", "dailyJobPurge", "nightlyAuditPurge"}
    assert rows["tidyHourly"].every == datetime.timedelta(hours=1)
    assert rows["tidyNightly"].cron == "0 3 * * *"
    assert app.run(handlers, NOW + datetime.timedelta(minutes=59)) == 0
    later = NOW + datetime.timedelta(minutes=61)
    assert app.run(handlers, later) == 1
    [job] = app.jobs("tidyUp")
    assert job.trigger.value == "schedule" and job.status.value == "succeeded"
    assert app.run(handlers, later) == 0  # queued once per due time
    with app.session() as db:
        hourly = db.scalar(sa.select(models.JobSchedule).where(
            models.JobSchedule.name == "tidyHourly"))
        hourly.paused = True
        db.commit()
    next_day = NOW + datetime.timedelta(hours=16)  # past 03:00 the next day
    app.run(handlers, next_day)  # the nightly ones are due; tidyHourly is paused
    assert sorted(j.type for j in app.jobs()) == [
        "purgeAuditEntries", "purgeFinishedJobs", "slowJob", "tidyUp"]
    _clear(app)


def test_generated_cron_next_run() -> None:
    definitions_cron = compile_cron("*/15 9-17 * * MON-FRI")
    assert definitions_cron.minutes == (0, 15, 30, 45)
    assert definitions_cron.hours == tuple(range(9, 18))
    assert definitions_cron.weekdays == (1, 2, 3, 4, 5)
    assert compile_cron("@daily").minutes == (0,) and compile_cron("0 0 * * 7").weekdays == (0,)


def test_cron_next_run_in_the_generated_code(app: App) -> None:
    definitions = app.modules["definitions"]

    def cron(text: str) -> Any:
        c = compile_cron(text)
        return definitions.Cron(text, frozenset(c.minutes), frozenset(c.hours),
                                frozenset(c.days), frozenset(c.months), frozenset(c.weekdays),
                                c.any_day, c.any_weekday)

    def at(year: int, month: int, day: int, hour: int, minute: int) -> datetime.datetime:
        return datetime.datetime(year, month, day, hour, minute, tzinfo=datetime.UTC)

    assert cron("0 3 * * *").next_after(NOW) == at(2030, 3, 5, 3, 0)
    assert cron("*/15 9-17 * * MON-FRI").next_after(at(2026, 3, 6, 17, 50)) == at(
        2026, 3, 9, 9, 0)  # Friday evening -> Monday morning
    assert cron("0 0 29 2 *").next_after(NOW) == at(2032, 2, 29, 0, 0)
    # both day fields restricted: either matches (the 13th, or a Friday)
    assert cron("0 12 13 * FRI").next_after(at(2026, 3, 2, 13, 0)) == at(2026, 3, 6, 12, 0)
    assert cron("30 * * * *").next_after(at(2026, 3, 2, 12, 30)) == at(2026, 3, 2, 13, 30)


# ---- several workers at once ----------------------------------------------------------------


def test_concurrent_workers_never_run_a_run_twice(app: App) -> None:
    ids = {app.enqueue("tidyUp") for _ in range(40)}
    ran: list[uuid.UUID] = []
    lock = threading.Lock()

    def tidy_up_job(ctx: Any, data: Any) -> None:
        with lock:
            ran.append(ctx.job_id)

    handlers = SimpleNamespace(tidy_up_job=tidy_up_job)
    counts: list[int] = []
    start = threading.Barrier(4)

    def work() -> None:
        start.wait()
        counts.append(app.run(handlers))

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(ran) == sorted(ids) and len(set(ran)) == len(ran) and sum(counts) == 40
    _clear(app)


# ---- the target itself ----------------------------------------------------------------------


def test_without_use_jobs_the_target_generates_nothing() -> None:
    analysis = analyse("module shop\n\nuse identity\n\nentity Thing {\n  id: uuid @id\n}\n")
    assert WorkerGenerator().generate(analysis.program, GeneratorOptions()) == {}
    assert isinstance(builtin_registry().targets()["worker"], WorkerGenerator)


def test_the_handler_module_is_user_owned_and_the_rest_generated(project: Path) -> None:
    analysis = analyze_workspace([project.parent / "workspace"])
    files = WorkerGenerator().generate(analysis.program, GeneratorOptions(app=APP))
    assert isinstance(files[f"{APP}/handlers/jobs.py"], UserOwned)
    assert "`scoreNewDeal`: `score_new_deal_job`" in files[f"{APP}/handlers/jobs.py"].decode()
    generated = [p for p, c in files.items() if not isinstance(c, UserOwned)]
    assert sorted(generated) == [f"{APP}/jobs/{name}.py" for name in
                                 ("__init__", "definitions", "queue", "worker")]
    for path in generated:
        assert b"contractspec" not in files[path].split(b"\n", 2)[2]


def test_the_worker_command_runs_once(app: App, project: Path) -> None:
    url = str(app.modules["session"].engine.url.render_as_string(hide_password=False))
    result = subprocess.run([sys.executable, "-m", f"{APP}.jobs.worker", "--once"],
                            cwd=project, capture_output=True, text=True, check=False,
                            env={**os.environ, "DATABASE_URL": url})
    assert result.returncode == 0, result.stderr
    help_text = subprocess.run([sys.executable, "-m", f"{APP}.jobs.worker", "--help"],
                               cwd=project, capture_output=True, text=True, check=False,
                               env={**os.environ, "DATABASE_URL": url})
    assert "--poll" in help_text.stdout and "SKIP LOCKED" in help_text.stdout


def test_the_api_process_registers_the_triggers(project: Path) -> None:
    """`uvicorn <app>.main:app` alone (no other import) enqueues jobs for trigger events."""
    script = (f"import {APP}.main\nfrom {APP}.events import outbox\n"
              "print(sorted(outbox._subscribers))")
    ran = subprocess.run([sys.executable, "-c", script], cwd=project, capture_output=True,
                         text=True, check=False,
                         env={**os.environ, "DATABASE_URL": "sqlite:///unused.db"})
    assert ran.returncode == 0, ran.stderr
    assert "deal.created" in ran.stdout
