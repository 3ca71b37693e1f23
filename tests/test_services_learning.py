"""The generated `learning` service end to end, on SQLite and PostgreSQL (the workspace and
app fixtures of `test_services_files.py`): tracks listed from the spec, enrolment, and
progress advanced by the bound events for the learner they happened to only (the event's
actor), with `when` conditions; no route completes a step; learners drop and resume their
own enrolments (the `EnrollmentFlow` transitions served as routes)."""

from __future__ import annotations

import datetime
import importlib
import json
import uuid
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from contractspec.analysis import analyze_texts
from contractspec.generators.api import ApiGenerator
from contractspec.generators.base import GeneratorOptions
from tests import test_services_files as harness
from tests.test_services_files import App, note

project = harness.project
app = harness.app


def enroll(app: App, who: str, track: str = "onboarding") -> Any:
    return app.call(who, "POST", "/v1/enroll", json={"track": track})


def progress(app: App, who: str, enrollment: str) -> list[str]:
    response = app.call(who, "GET", "/v1/my-progress", params={"enrollment": enrollment})
    assert response.status_code == 200, response.text
    return [f"{c['unit']}.{c['step']}" for c in response.json()["items"]]


def mine(app: App, who: str) -> dict[str, Any]:
    response = app.call(who, "GET", "/v1/my-enrollments")
    assert response.status_code == 200, response.text
    return {e["track"]: e for e in response.json()["items"]}


def test_tracks_are_listed_with_units_and_steps(app: App) -> None:
    response = app.call("a:member", "GET", "/v1/list-tracks")
    assert response.status_code == 200, response.text
    assert response.json() == [{
        "name": "onboarding", "title": "Onboarding", "totalSteps": 2, "units": [{
            "name": "basics", "title": "The basics", "steps": [
                {"name": "firstNote", "title": "Write a note", "completesOn": "note.created v1",
                 "content": None},
                {"name": "bigNote", "title": "Write the big note",
                 "completesOn": "note.created v1", "content": None}]}]}]


def test_an_event_completes_the_step_of_its_learner_only(app: App) -> None:
    a = enroll(app, "a:member")
    b = enroll(app, "a:admin")
    other = enroll(app, "b:member")
    for response in (a, b, other):
        assert response.status_code == 200, response.text
        assert response.json()["totalSteps"] == 2 and response.json()["completedSteps"] == 0
    note(app, "a:member", "a first note")
    assert progress(app, "a:member", a.json()["id"]) == ["basics.firstNote"]
    assert progress(app, "a:admin", b.json()["id"]) == []
    assert progress(app, "b:member", other.json()["id"]) == []
    assert mine(app, "a:member")["onboarding"]["completedSteps"] == 1
    note(app, "a:member", "another")  # the same step again: nothing new
    assert progress(app, "a:member", a.json()["id"]) == ["basics.firstNote"]
    note(app, "a:member", "big")  # `when title == "big"`
    assert progress(app, "a:member", a.json()["id"]) == ["basics.firstNote", "basics.bigNote"]
    done = mine(app, "a:member")["onboarding"]
    assert done["status"] == "completed" and done["completedSteps"] == 2
    assert done["completedAt"] is not None
    assert mine(app, "a:admin")["onboarding"]["completedSteps"] == 0
    assert progress(app, "a:admin", b.json()["id"]) == []


def test_events_before_the_enrolment_do_not_count(app: App) -> None:
    note(app, "a:owner", "big")
    enrolled = enroll(app, "a:owner")
    assert enrolled.status_code == 200, enrolled.text
    assert progress(app, "a:owner", enrolled.json()["id"]) == []


def test_enrolment_errors_and_privacy(app: App) -> None:
    unknown = enroll(app, "b:owner", "nope")
    assert unknown.status_code == 422 and unknown.json()["error"]["code"] == "UnknownTrack"
    first = enroll(app, "b:owner")
    assert first.status_code == 200, first.text
    again = enroll(app, "b:owner")
    assert again.status_code == 409 and again.json()["error"]["code"] == "AlreadyEnrolled"
    for who in ("b:admin", "a:owner"):  # someone else's enrolment: not found
        response = app.call(who, "GET", "/v1/my-progress",
                            params={"enrollment": first.json()["id"]})
        assert response.status_code == 404, response.text
    nudges = app.call("b:owner", "POST", "/v1/set-nudges", json={"enabled": False})
    assert nudges.status_code == 200 and nudges.json()["nudges"] is False


def test_a_learner_drops_and_resumes_their_own_enrolment(app: App) -> None:
    enrolled = enroll(app, "b:admin")
    assert enrolled.status_code == 200, enrolled.text
    body = {"id": enrolled.json()["id"]}

    def move(who: str, transition: str) -> Any:
        return app.call(who, "POST", f"/v1/enrollment-flow/{transition}", json=body)

    assert move("a:owner", "drop").status_code == 404  # another organisation's
    assert move("b:owner", "drop").status_code == 403  # sees it (view_learning), not theirs
    dropped = move("b:admin", "drop")
    assert dropped.status_code == 200 and dropped.json()["status"] == "dropped", dropped.text
    outbox = app.modules["models"].OutboxEvent
    with app.modules["session"].SessionLocal() as db:
        assert {"enrollment": body["id"]} in [row.body["payload"] for row in db.scalars(
            sa.select(outbox).where(outbox.event == "learning.dropped"))]
    note(app, "b:admin", "while away")  # a dropped track records no progress
    assert progress(app, "b:admin", body["id"]) == []
    assert move("b:admin", "drop").status_code == 409
    resumed = move("b:admin", "resume")
    assert resumed.status_code == 200 and resumed.json()["status"] == "active", resumed.text
    note(app, "b:admin", "back")
    assert progress(app, "b:admin", body["id"]) == ["basics.firstNote"]
    assert move("b:admin", "complete").status_code == 404  # the service's, not a route


def test_no_route_completes_a_step(app: App, project: Path) -> None:
    paths = json.loads((project / "openapi.json").read_text(encoding="utf-8"))["paths"]
    assert not [p for p in paths if "step" in p or ("complete" in p and "upload" not in p)]
    assert not [p for p in app.client.app.openapi()["paths"] if "step" in p]
    response = app.call("a:owner", "POST", "/v1/record-step-completion", json={})
    assert response.status_code in (404, 405)


def test_a_when_condition_compares_money_as_numbers_and_enum_values_as_names(
        app: App) -> None:
    spec = harness.SPEC.replace("    title: string\n", "    title: string\n    amount: money\n"
                                "    kind: NoteKind\n").replace(
        'completes on note.created when title == "big"',
        "completes on note.created when amount > 10000 and kind == long").replace(
        "permission write_notes", "enum NoteKind {\n  short\n  long\n}\n\npermission write_notes")
    analysis = analyze_texts({"notes.cspec": spec})
    assert not analysis.errors, analysis.diagnostics
    text = ApiGenerator().generate(analysis.program, GeneratorOptions(app="notes"))[
        "notes/services/learning.py"].decode()
    condition = ('lambda p: (_compare(_field(p, "amount"), ">", decimal.Decimal("10000")) '
                 'and _compare(_field(p, "kind"), "==", "long"))')
    assert condition in " ".join(text.split())
    service = importlib.import_module(f"{harness.APP}.services.learning")  # the app's
    assert service._compare("12000.5000", ">", service.decimal.Decimal("10000"))
    assert not service._compare("9999.9999", ">", service.decimal.Decimal("10000"))
    assert not service._compare(None, ">", service.decimal.Decimal("10000"))
    assert service._compare("long", "in", ["short", "long"])


def test_idle_learners_are_nudged_once_with_their_next_step(app: App) -> None:
    """`sendLearningNudges` (run by the worker): a learner idle on an active track for
    `idleFor` gets `learning.nudged` with its next step, once per idle period; not one who
    switched nudges off or made progress lately."""
    models, dev = app.modules["models"], app.modules["dev"]
    for name in ("idle", "quiet", "busy"):
        with app.modules["session"].SessionLocal() as db:
            app.tokens[f"a:{name}"] = dev.create_token(db, "Org a", f"{name}@a.example",
                                                       "member", name.title())
    enrolled = {name: enroll(app, f"a:{name}").json()["id"] for name in ("idle", "quiet", "busy")}
    assert app.call("a:quiet", "POST", "/v1/set-nudges", json={"enabled": False}).status_code \
        == 200
    note(app, "a:busy", "progress today")
    ago = datetime.datetime.now(datetime.UTC) - datetime.timedelta(days=4)
    with app.modules["session"].SessionLocal() as db:
        db.execute(sa.update(models.Enrollment).where(models.Enrollment.id.in_(
            [uuid.UUID(i) for i in enrolled.values()])).values(started_at=ago))
        db.commit()

    def nudge() -> list[dict[str, Any]]:
        with app.modules["session"].SessionLocal() as db:
            job_id = app.modules["queue"].enqueue(db, "sendLearningNudges", {}).id
            db.commit()
        app.modules["worker"].run_once()
        outbox = models.OutboxEvent
        with app.modules["session"].SessionLocal() as db:
            job = db.get(models.Job, job_id)
            assert str(job.status) == "succeeded", job.last_error
            return [row.body["payload"] for row in db.scalars(
                sa.select(outbox).where(outbox.event == "learning.nudged"))
                if row.body["payload"]["enrollment"] in enrolled.values()]

    idle_user = app.call("a:idle", "GET", "/v1/my-enrollments").json()["items"][0]["user"]
    assert nudge() == [{"enrollment": enrolled["idle"], "learner": idle_user,
                        "track": "onboarding", "step": "basics.firstNote"}]
    assert len(nudge()) == 1  # nudged already in this idle period
