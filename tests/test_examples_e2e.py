"""The examples' committed generated applications end to end, on SQLite and PostgreSQL:
migrated with their own migrations, driven over HTTP by an owner, an admin and a member of
two organisations through each example's main flows (CRUD, workflows and board moves, search
and filters, events in the outbox, the audit trail, background jobs) and the standard
modules' (sign-up, invitations, role changes and the last owner, the audit log, notification
inboxes, metering and plan limits, agent runs through the generated agents endpoints),
including refusals for the wrong role (403) and the other organisation (404). PostgreSQL runs when
CSPEC_TEST_POSTGRES_URL is set (`.ci/run` sets it)."""

from __future__ import annotations

import datetime
import importlib
import re
import shutil
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import sqlalchemy as sa

from tests.databases import temporary_database
from tests.examples_app import RunningApp, example_app, migrate, running_app


def _app_fixture(name: str) -> Callable[..., Iterator[RunningApp]]:
    @pytest.fixture(scope="module", params=["sqlite", "postgresql"])
    def fixture(request: pytest.FixtureRequest,
                tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningApp]:
        source, package = example_app(name)
        folder = tmp_path_factory.mktemp(f"{package}_{request.param}") / "app"
        shutil.copytree(source, folder, ignore=shutil.ignore_patterns("__pycache__"))
        with temporary_database(request.param, folder.parent, package) as url:
            migrate(folder, package, url)
            with running_app(folder, package, url) as app:
                yield app
    return fixture


saas = _app_fixture("saas-boilerplate")
crm = _app_fixture("crm-pipeline")
console = _app_fixture("agent-console")


def _name(prefix: str) -> str:
    return f"{prefix} {uuid.uuid4().hex[:8]}"


def _refused(app: RunningApp, who: str, path: str, body: dict[str, Any], status: int) -> None:
    response = app.post(who, path, body)
    assert response.status_code == status, (who, path, response.text)


# ---- saas-boilerplate ----------------------------------------------------------------------


def _project(app: RunningApp, who: str = "a:admin", **extra: Any) -> dict[str, Any]:
    body = {"name": _name("Project"), **extra}
    return dict(app.ok(who, "/v1/create-project", body, expect=201))


def test_saas_projects_are_created_by_admins_and_led_by_their_creator(saas: RunningApp) -> None:
    project = _project(saas, "a:owner", description="The launch", visibility="private")
    assert project["lead"] == saas.users["a:owner"]
    assert (project["status"], project["visibility"]) == ("active", "private")
    assert _project(saas)["visibility"] == "org"  # the spec's default
    _refused(saas, "a:member", "/v1/create-project", {"name": _name("No")}, 403)
    duplicate = saas.post("a:admin", "/v1/create-project", {"name": project["name"]})
    assert duplicate.status_code == 409
    assert saas.post("b:admin", "/v1/create-project", {"name": project["name"]}).status_code \
        == 201  # names are unique per organisation only
    created = saas.events("project.created")
    assert any(e["payload"]["project"] == project["id"] and e["orgId"] == project["org"]
               for e in created)


def test_saas_projects_are_scoped_to_their_organisation(saas: RunningApp) -> None:
    project = _project(saas)
    assert saas.ok("a:member", "/v1/get-project", id=project["id"])["id"] == project["id"]
    assert saas.get("b:owner", "/v1/get-project", id=project["id"]).status_code == 404
    _refused(saas, "b:owner", "/v1/update-project", {"id": project["id"], "name": "x"}, 404)
    _refused(saas, "b:owner", "/v1/project-flow/archive", {"id": project["id"]}, 404)
    listed = saas.ok("b:owner", "/v1/list-projects", size=100)
    assert project["id"] not in {p["id"] for p in listed["items"]}


def test_saas_project_updates_follow_roles_and_leads(saas: RunningApp) -> None:
    project = _project(saas, "a:admin")
    _refused(saas, "a:member", "/v1/update-project", {"id": project["id"], "name": "x"}, 403)
    renamed = saas.ok("a:owner", "/v1/update-project",
                      {"id": project["id"], "name": _name("Renamed"), "description": None})
    assert renamed["name"].startswith("Renamed") and renamed["description"] is None
    _refused(saas, "a:member", "/v1/delete-project", {"id": project["id"]}, 403)
    _refused(saas, "a:admin", "/v1/delete-project", {"id": project["id"]}, 403)  # owner only
    assert saas.post("a:owner", "/v1/delete-project", {"id": project["id"]}).status_code == 204
    assert saas.get("a:owner", "/v1/get-project", id=project["id"]).status_code == 404


def test_saas_projects_are_archived_and_restored(saas: RunningApp) -> None:
    project = _project(saas)
    _refused(saas, "a:member", "/v1/project-flow/archive", {"id": project["id"]}, 403)
    archived = saas.ok("a:admin", "/v1/project-flow/archive", {"id": project["id"]})
    assert archived["status"] == "archived"
    again = saas.post("a:admin", "/v1/project-flow/archive", {"id": project["id"]})
    assert again.status_code == 409
    assert again.json()["error"]["details"] == {"state": "archived", "allowed": ["restore"]}
    assert saas.ok("a:owner", "/v1/project-flow/restore", {"id": project["id"]})["status"] \
        == "active"
    assert any(e["payload"]["project"] == project["id"] for e in saas.events("project.archived"))


def test_saas_projects_are_filtered_and_searched(saas: RunningApp) -> None:
    tag = uuid.uuid4().hex[:8]
    private = _project(saas, name=f"Alpha {tag}", visibility="private")
    public = _project(saas, name=f"Beta {tag}")
    saas.ok("a:admin", "/v1/project-flow/archive", {"id": public["id"]})

    def ids(**params: Any) -> set[str]:
        return {p["id"] for p in saas.ok("a:member", "/v1/list-projects", size=100,
                                          **params)["items"]}

    assert ids(q=tag) == {private["id"], public["id"]}
    assert ids(q=f"alpha {tag}") == {private["id"]}  # case-insensitive
    assert ids(q=tag, visibility="private") == {private["id"]}
    assert ids(q=tag, status="archived") == {public["id"]}
    assert ids(q=tag, lead=saas.users["a:owner"]) == set()
    page = saas.ok("a:member", "/v1/list-projects", q=tag, size=1, page=2)
    assert (page["total"], page["page"], len(page["items"])) == (2, 2, 1)


def test_saas_settings_are_one_per_organisation_and_admins_change_them(
        saas: RunningApp) -> None:
    _refused(saas, "a:member", "/v1/create-org-settings", {"timezone": "Europe/Paris"}, 403)
    settings = saas.ok("a:admin", "/v1/create-org-settings", {"timezone": "Europe/Paris"},
                       expect=201)
    assert (settings["timezone"], settings["locale"], settings["privateByDefault"]) == (
        "Europe/Paris", "en", False)
    assert saas.post("a:owner", "/v1/create-org-settings", {}).status_code == 409
    bad = saas.post("a:owner", "/v1/update-org-settings", {"id": settings["id"], "locale": "EN"})
    assert bad.status_code == 422
    _refused(saas, "a:member", "/v1/update-org-settings",
             {"id": settings["id"], "privateByDefault": True}, 403)
    _refused(saas, "b:owner", "/v1/update-org-settings",
             {"id": settings["id"], "privateByDefault": True}, 404)
    changed = saas.ok("a:owner", "/v1/update-org-settings",
                      {"id": settings["id"], "privateByDefault": True})
    assert changed["privateByDefault"] is True
    assert [s["id"] for s in saas.ok("a:member", "/v1/list-org-settings")["items"]] == [
        settings["id"]]
    assert saas.ok("b:member", "/v1/list-org-settings")["items"] == []


def test_saas_audit_log_is_visible_to_admins_only(saas: RunningApp) -> None:
    project = _project(saas, "a:owner")
    entries = [e for e in saas.audit("project.created v1") if e.target_id == str(project["id"])]
    assert len(entries) == 1 and entries[0].actor_id == saas.users["a:owner"]
    entry = str(entries[0].id)
    for who in ("a:owner", "a:admin"):
        assert saas.ok(who, "/v1/get-audit-entry", id=entry)["event"] == "project.created v1"
    assert saas.get("a:member", "/v1/get-audit-entry", id=entry).status_code == 403
    assert saas.get("b:admin", "/v1/get-audit-entry", id=entry).status_code == 404


def test_saas_project_report_is_a_handler_behind_the_plan_and_the_policy(
        saas: RunningApp) -> None:
    """`projectReport` is behind the `advancedReports` flag, which plans pro and enterprise
    turn on (and a 10% rollout by org): off, it answers like an unknown route."""
    evaluate = importlib.import_module(f"{saas.package}.flags.evaluate")
    auth = importlib.import_module(f"{saas.package}.auth")
    with saas.modules["session"].SessionLocal() as db:
        org_b = auth.actor_for_token(db, saas.tokens["b:owner"]).org_id
    saas.ok("b:owner", "/v1/change-plan", {"plan": "free"})
    rolled_out = evaluate.in_rollout("advancedReports", org_b, 10)
    assert saas.get("b:admin", "/v1/project-report").status_code == (200 if rolled_out else 404)
    assert saas.post("a:admin", "/v1/change-plan", {"plan": "pro"}).status_code == 403
    saas.ok("a:owner", "/v1/change-plan", {"plan": "pro"})
    project = _project(saas)
    report = saas.ok("a:admin", "/v1/project-report")
    assert project["id"] in {p["id"] for p in report["items"]}
    assert saas.get("a:member", "/v1/project-report").status_code == 403
    later = (datetime.datetime.now(datetime.UTC) + datetime.timedelta(days=1)).isoformat()
    assert saas.ok("a:admin", "/v1/project-report", **{"from": later})["items"] == []


def test_saas_pages_list_projects_of_the_organisation_only(saas: RunningApp) -> None:
    tag = uuid.uuid4().hex[:8]
    project = _project(saas, name=f"Page {tag}")
    listed = saas.page("a:member", "GET", f"/ui/projects?q={tag}")
    assert listed.status_code == 200 and f"Page {tag}" in listed.text
    assert f"Page {tag}" not in saas.page("b:owner", "GET", f"/ui/projects?q={tag}").text
    assert saas.page("a:member", "GET", f"/ui/project/{project['id']}").status_code == 200
    assert saas.page("b:owner", "GET", f"/ui/project/{project['id']}").status_code == 404
    assert saas.client.get("/ui/projects", follow_redirects=False).status_code == 303


# ---- crm-pipeline ------------------------------------------------------------------------


def _deal(app: RunningApp, who: str = "a:owner", **extra: Any) -> dict[str, Any]:
    body = {"title": _name("Deal"), "amount": "1200", **extra}
    return dict(app.ok(who, "/v1/create-deal", body, expect=201))


def test_crm_companies_and_contacts_are_searched_and_filtered(crm: RunningApp) -> None:
    tag = uuid.uuid4().hex[:8]
    company = crm.ok("a:member", "/v1/create-company",
                     {"name": f"Acme {tag}", "domain": f"{tag}.example", "industry": "Retail"},
                     expect=201)
    other = crm.ok("a:admin", "/v1/create-company", {"name": f"Other {tag}"}, expect=201)
    ada = crm.ok("a:member", "/v1/create-contact",
                 {"name": f"Ada {tag}", "email": f"ada@{tag}.example",
                  "company": company["id"]}, expect=201)
    bob = crm.ok("a:member", "/v1/create-contact", {"name": f"Bob {tag}", "phone": "+331"},
                 expect=201)
    assert crm.post("a:member", "/v1/create-contact",
                    {"name": "X", "email": "not-an-email"}).status_code == 422

    def contacts(**params: Any) -> set[str]:
        return {c["id"] for c in crm.ok("a:member", "/v1/list-contacts", size=100,
                                         **params)["items"]}

    assert contacts(q=tag) == {ada["id"], bob["id"]}
    assert contacts(q=f"ADA@{tag}") == {ada["id"]}
    assert contacts(q=tag, company=company["id"]) == {ada["id"]}
    companies = crm.ok("a:member", "/v1/list-companies", q=tag, industry="Retail")["items"]
    assert [c["id"] for c in companies] == [company["id"]]
    assert other["id"] in {c["id"] for c in crm.ok("a:member", "/v1/list-companies",
                                                     q=tag)["items"]}
    assert crm.ok("b:owner", "/v1/list-contacts", q=tag)["items"] == []
    assert crm.get("b:owner", "/v1/get-contact", id=ada["id"]).status_code == 404
    _refused(crm, "b:owner", "/v1/create-contact", {"name": "Y", "company": company["id"]}, 404)
    _refused(crm, "a:member", "/v1/delete-contact", {"id": bob["id"]}, 403)
    assert crm.post("a:admin", "/v1/delete-contact", {"id": bob["id"]}).status_code == 204


def test_crm_deals_move_through_the_pipeline(crm: RunningApp) -> None:
    deal = _deal(crm)
    assert (deal["stage"], deal["owner"]) == ("lead", crm.users["a:owner"])
    assert any(e["payload"]["deal"] == deal["id"] for e in crm.events("deal.created"))
    early = crm.post("a:owner", "/v1/pipeline/win", {"id": deal["id"]})
    assert early.status_code == 409
    assert early.json()["error"]["details"] == {"state": "lead",
                                                "allowed": ["qualify", "lose"]}
    _refused(crm, "a:member", "/v1/pipeline/qualify", {"id": deal["id"]}, 403)
    _refused(crm, "b:owner", "/v1/pipeline/qualify", {"id": deal["id"]}, 404)
    for step, stage in (("qualify", "qualified"), ("propose", "proposal"),
                        ("negotiate", "negotiation")):
        assert crm.ok("a:admin", f"/v1/pipeline/{step}", {"id": deal["id"]})["stage"] == stage
    moved = [e["payload"] for e in crm.events("deal.moved") if e["payload"]["deal"] == deal["id"]]
    assert [m["stage"] for m in moved] == ["qualified", "proposal", "negotiation"]
    assert {m["by"] for m in moved} == {crm.users["a:admin"]}
    won = crm.ok("a:admin", "/v1/pipeline/win", {"id": deal["id"]})
    assert won["stage"] == "won"
    event = [e for e in crm.events("deal.won") if e["payload"]["deal"] == deal["id"]]
    assert len(event) == 1 and event[0]["payload"]["owner"] == crm.users["a:owner"]
    assert len(crm.audit("deal.won v1")) >= 1
    # an update never moves the stage; only transitions do
    updated = crm.ok("a:owner", "/v1/update-deal", {"id": deal["id"], "amount": "1500"})
    assert (updated["stage"], updated["amount"]) == ("won", "1500.0000")
    _refused(crm, "a:member", "/v1/pipeline/reopen", {"id": deal["id"]}, 403)
    assert crm.ok("a:admin", "/v1/pipeline/reopen", {"id": deal["id"]})["stage"] == "lead"


def test_crm_a_deal_without_an_amount_is_never_won(crm: RunningApp) -> None:
    deal = _deal(crm, amount="0")
    for step in ("qualify", "propose", "negotiate"):
        crm.ok("a:owner", f"/v1/pipeline/{step}", {"id": deal["id"]})
    refused = crm.post("a:owner", "/v1/pipeline/win", {"id": deal["id"]})
    assert refused.status_code == 409
    assert refused.json()["error"]["details"]["allowed"] == ["lose"]
    assert crm.ok("a:owner", "/v1/pipeline/lose", {"id": deal["id"]})["stage"] == "lost"


def test_crm_board_is_listed_by_stage_with_filters(crm: RunningApp) -> None:
    company = crm.ok("a:owner", "/v1/create-company", {"name": _name("Board")}, expect=201)
    tag = uuid.uuid4().hex[:8]
    lead = _deal(crm, title=f"Lead {tag}", company=company["id"])
    qualified = _deal(crm, "a:admin", title=f"Qualified {tag}")
    crm.ok("a:admin", "/v1/pipeline/qualify", {"id": qualified["id"]})

    def ids(**params: Any) -> set[str]:
        return {d["id"] for d in crm.ok("a:member", "/v1/list-deals", size=100,
                                         **params)["items"]}

    assert ids(q=tag, stage="lead") == {lead["id"]}
    assert ids(q=tag, stage="qualified") == {qualified["id"]}
    assert ids(company=company["id"]) == {lead["id"]}
    assert ids(q=tag, owner=crm.users["a:admin"]) == {qualified["id"]}
    assert crm.get("a:member", "/v1/list-deals", stage="closed").status_code == 422
    assert crm.ok("b:member", "/v1/list-deals", q=tag)["items"] == []


def test_crm_deal_edits_follow_roles(crm: RunningApp) -> None:
    deal = _deal(crm)
    _refused(crm, "b:owner", "/v1/update-deal", {"id": deal["id"], "title": "x"}, 404)
    _refused(crm, "a:member", "/v1/create-deal", {"title": "x", "amount": "1"}, 403)
    _refused(crm, "a:member", "/v1/update-deal", {"id": deal["id"], "title": "x"}, 403)
    assert crm.ok("a:admin", "/v1/update-deal",
                  {"id": deal["id"], "expectedClose": "2027-01-31"})["expectedClose"] \
        == "2027-01-31"
    _refused(crm, "a:member", "/v1/delete-deal", {"id": deal["id"]}, 403)
    _refused(crm, "a:owner", "/v1/create-deal", {"title": deal["title"], "amount": "1"}, 409)
    assert crm.post("a:admin", "/v1/delete-deal", {"id": deal["id"]}).status_code == 204


def test_crm_tasks_are_completed_once(crm: RunningApp) -> None:
    deal = _deal(crm)
    task = crm.ok("a:member", "/v1/create-task", {"deal": deal["id"], "title": "Call back"},
                  expect=201)
    assert (task["assignee"], task["status"]) == (crm.users["a:member"], "open")
    _refused(crm, "b:owner", "/v1/create-task", {"deal": deal["id"], "title": "x"}, 404)
    _refused(crm, "b:owner", "/v1/task-flow/complete", {"id": task["id"]}, 404)
    done = crm.ok("a:member", "/v1/task-flow/complete", {"id": task["id"]})
    assert done["status"] == "done"
    assert crm.post("a:member", "/v1/task-flow/complete", {"id": task["id"]}).status_code == 409
    completed = [e for e in crm.events("task.completed") if e["payload"]["task"] == task["id"]]
    assert len(completed) == 1
    assert completed[0]["payload"] == {"task": task["id"], "deal": deal["id"],
                                       "by": crm.users["a:member"]}
    listed = crm.ok("a:member", "/v1/list-tasks", deal=deal["id"], status="done")["items"]
    assert [t["id"] for t in listed] == [task["id"]]
    assert crm.post("a:member", "/v1/remind-task", {"id": task["id"]}).status_code == 409


def test_crm_task_reminders_run_as_jobs(crm: RunningApp) -> None:
    import importlib

    worker = importlib.import_module("crm.jobs.worker")
    handlers = importlib.import_module("crm.handlers.jobs")
    queue = importlib.import_module("crm.jobs.queue")
    deal = _deal(crm)
    past = (datetime.datetime.now(datetime.UTC) - datetime.timedelta(hours=1)).isoformat()
    asked = crm.ok("a:owner", "/v1/create-task", {"deal": deal["id"], "title": "Send quote"},
                   expect=201)
    due = crm.ok("a:owner", "/v1/create-task", {"deal": deal["id"], "title": "Follow up",
                                                "dueAt": past}, expect=201)
    # asked by hand: the trigger queues `recordReminder`, the worker runs it
    assert crm.ok("a:owner", "/v1/remind-task", {"id": asked["id"]})["id"] == asked["id"]
    _refused(crm, "b:owner", "/v1/remind-task", {"id": asked["id"]}, 404)
    reminders = crm.events("task.reminder_requested")
    assert any(e["payload"]["task"] == asked["id"] and e["payload"]["title"] == "Send quote"
               for e in reminders)
    job = crm.model("Job")
    with crm.session() as db:  # the scheduled scan, queued as the schedule would
        queue.enqueue(db, "scanDueTasks")
        db.commit()
    worker.run_once(sessions=crm.modules["session"].SessionLocal, handlers=handlers)
    with crm.session() as db:
        crm.modules["outbox"].dispatch_pending(db)  # the scan's events, as the API does
    worker.run_once(sessions=crm.modules["session"].SessionLocal, handlers=handlers)
    task = crm.model("Task")
    with crm.session() as db:
        reminded = {str(t.id): t.reminded_at for t in db.scalars(sa.select(task).where(
            task.id.in_([uuid.UUID(asked["id"]), uuid.UUID(due["id"])])))}
        runs = db.scalars(sa.select(job).where(job.type.in_(["recordReminder",
                                                             "scanDueTasks"]))).all()
        statuses = {(r.type, str(r.status), r.last_error) for r in runs}
    assert all(reminded.values()), (reminded, statuses)
    assert statuses == {("recordReminder", "succeeded", None),
                        ("scanDueTasks", "succeeded", None)}


def test_crm_kanban_board_moves_cards_through_the_pipeline(crm: RunningApp) -> None:
    deal = _deal(crm)
    board = crm.page("a:member", "GET", "/ui/pipeline")
    assert board.status_code == 200
    columns = re.findall(r'<h2 id="col-\d+">\s*([^<]+?)\s*<', board.text)
    assert columns == ["lead", "qualified", "proposal", "negotiation", "won", "lost"]
    assert deal["title"] in board.text
    move = {"id": deal["id"], "to": "qualified"}
    assert crm.page("a:owner", "POST", "/ui/pipeline/move", None).status_code == 403  # CSRF
    crm.page("a:member", "POST", "/ui/pipeline/move", move)  # refused: a member may not
    assert crm.ok("a:owner", "/v1/get-deal", id=deal["id"])["stage"] == "lead"
    moved = crm.page("a:owner", "POST", "/ui/pipeline/move", move)
    assert moved.status_code == 303
    assert crm.ok("a:owner", "/v1/get-deal", id=deal["id"])["stage"] == "qualified"
    assert any(e["payload"]["deal"] == deal["id"] for e in crm.events("deal.moved"))
    assert deal["title"] not in crm.page("b:owner", "GET", "/ui/pipeline").text
    assert crm.page("b:owner", "GET", f"/ui/deal/{deal['id']}").status_code == 404



def _inbox(app: RunningApp, who: str, notification: str, title: str) -> list[dict[str, Any]]:
    """`who`'s in-app messages of `notification` about `title`."""
    items = app.ok(who, "/v1/list-inbox")["items"]
    return [d for d in items if d["notification"] == notification and title in d["body"]]


def test_crm_a_won_deal_notifies_its_owner_and_the_admins_in_app(crm: RunningApp) -> None:
    deal = _deal(crm, "a:owner")  # the org's owner creates it, so owns it
    for step in ("qualify", "propose", "negotiate", "win"):
        crm.ok("a:admin", f"/v1/pipeline/{step}", {"id": deal["id"]})
    for who in ("a:owner", "a:admin"):  # the deal's owner and the admins
        [message] = _inbox(crm, who, "dealWon", deal["title"])
        assert (message["channel"], message["recipient"], message["readAt"]) == (
            "in_app", crm.users[who], None)
        assert message["subject"] == f"Deal won: {deal['title']}"
        assert "was won for 1200" in message["body"]
    assert _inbox(crm, "a:member", "dealWon", deal["title"]) == []
    for who in ("b:owner", "b:admin", "b:member"):
        assert _inbox(crm, who, "dealWon", deal["title"]) == []
    [mine] = _inbox(crm, "a:owner", "dealWon", deal["title"])
    _refused(crm, "a:admin", "/v1/mark-read", {"deliveries": [mine["id"]]}, 404)
    assert crm.post("a:owner", "/v1/mark-read", {"deliveries": [mine["id"]]}).status_code == 204
    assert _inbox(crm, "a:owner", "dealWon", deal["title"])[0]["readAt"] is not None
    emails = crm.ok("a:admin", "/v1/list-deliveries", notification="dealWon",
                    channel="email")["items"]
    assert {d["recipient"] for d in emails if deal["title"] in d["body"]} == {
        crm.users["a:owner"], crm.users["a:admin"]}
    assert crm.get("a:member", "/v1/list-deliveries").status_code == 403
    assert crm.ok("b:admin", "/v1/list-deliveries", notification="dealWon")["items"] == []


def test_crm_a_task_reminder_reaches_its_assignee_in_app(crm: RunningApp) -> None:
    deal = _deal(crm)
    task = crm.ok("a:member", "/v1/create-task", {"deal": deal["id"], "title": _name("Ring")},
                  expect=201)
    crm.ok("a:member", "/v1/remind-task", {"id": task["id"]})
    [message] = _inbox(crm, "a:member", "taskReminder", task["title"])
    assert message["subject"] == f"Reminder: {task['title']}"
    assert _inbox(crm, "a:owner", "taskReminder", task["title"]) == []
    assert _inbox(crm, "b:member", "taskReminder", task["title"]) == []

# ---- agent-console -----------------------------------------------------------------------


def _tool(app: RunningApp, name: str | None = None, **extra: Any) -> dict[str, Any]:
    body = {"name": name or _name("tool").replace(" ", "_"),
            "inputSchema": {"type": "object", "properties": {"q": {"type": "string"}}},
            "outputSchema": {"type": "object"}, **extra}
    return dict(app.ok("a:admin", "/v1/create-tool", body, expect=201))


def _agent(app: RunningApp) -> dict[str, Any]:
    body = {"key": _name("agent").replace(" ", "_"), "name": "Triage",
            "model": "openai/gpt-4o-mini", "config": {"stop": ["END"]}}
    agent = dict(app.ok("a:admin", "/v1/create-agent", body, expect=201))
    return dict(app.ok("a:admin", "/v1/agent-lifecycle/activate", {"id": agent["id"]}))


def test_console_tools_registry(console: RunningApp) -> None:
    tag = uuid.uuid4().hex[:8]
    tool = _tool(console, f"lookup_{tag}", auth="api_key", rateLimit=10)
    assert (tool["version"], tool["auth"], tool["rateLimit"], tool["enabled"]) == (
        "v1", "api_key", 10, True)
    assert tool["inputSchema"]["properties"]["q"] == {"type": "string"}
    assert console.post("a:admin", "/v1/create-tool",
                        {"name": f"lookup_{tag}", "inputSchema": {},
                         "outputSchema": {}}).status_code == 409
    _refused(console, "a:member", "/v1/create-tool",
             {"name": "x", "inputSchema": {}, "outputSchema": {}}, 403)
    assert console.post("a:admin", "/v1/create-tool", {"name": "y", "inputSchema": {},
                                                       "outputSchema": {},
                                                       "rateLimit": 0}).status_code == 422
    off = console.ok("a:owner", "/v1/update-tool", {"id": tool["id"], "enabled": False})
    assert off["enabled"] is False
    _refused(console, "a:member", "/v1/update-tool", {"id": tool["id"], "enabled": True}, 403)
    _refused(console, "b:owner", "/v1/update-tool", {"id": tool["id"], "enabled": True}, 404)
    found = console.ok("a:member", "/v1/list-tools", q=tag, auth="api_key", enabled=False)
    assert [t["id"] for t in found["items"]] == [tool["id"]]
    assert console.ok("b:member", "/v1/list-tools", q=tag)["items"] == []


def test_console_agents_and_their_tools(console: RunningApp) -> None:
    _refused(console, "a:member", "/v1/create-agent",
             {"key": "k", "name": "n", "model": "m"}, 403)
    agent = _agent(console)
    assert agent["status"] == "active" and agent["temperature"] == "0.20"
    assert any(e["payload"]["agent"] == agent["id"] for e in console.events("agent.activated"))
    assert len([a for a in console.audit("agent.activated v1")
                if a.target_id == agent["id"]]) == 1
    _refused(console, "a:member", "/v1/agent-lifecycle/pause", {"id": agent["id"]}, 403)
    assert console.ok("a:admin", "/v1/agent-lifecycle/pause", {"id": agent["id"]})["status"] \
        == "paused"
    tool = _tool(console)
    link = console.ok("a:admin", "/v1/create-agent-tool",
                      {"agent": agent["id"], "tool": tool["id"]}, expect=201)
    assert console.post("a:admin", "/v1/create-agent-tool",
                        {"agent": agent["id"], "tool": tool["id"]}).status_code == 409
    listed = console.ok("a:member", "/v1/list-agent-tools", agent=agent["id"])["items"]
    assert [x["id"] for x in listed] == [link["id"]]
    _refused(console, "b:admin", "/v1/create-agent-tool",
             {"agent": agent["id"], "tool": tool["id"]}, 404)
    assert console.get("b:admin", "/v1/get-agent", id=agent["id"]).status_code == 404
    assert console.ok("a:member", "/v1/list-agents", status="paused", q="Triage")["total"] >= 1


def test_console_a_run_with_steps_tool_calls_and_logs(console: RunningApp) -> None:
    agent, tool = _agent(console), _tool(console)
    run = console.ok("a:member", "/v1/create-run",
                     {"agent": agent["id"], "input": {"ticket": "T-1"}}, expect=201)
    assert (run["status"], run["startedBy"]) == ("queued", console.users["a:member"])
    _refused(console, "a:member", "/v1/run-flow/start", {"id": run["id"]}, 403)
    runtime = "a:admin"  # the agent runtime's service account
    assert console.ok(runtime, "/v1/run-flow/start", {"id": run["id"]})["status"] == "running"
    console.ok(runtime, "/v1/create-run-step",
               {"run": run["id"], "position": 0, "kind": "thought", "content": "Look it up",
                "tokens": 120}, expect=201)
    call = console.ok(runtime, "/v1/create-tool-call",
                      {"run": run["id"], "tool": tool["id"], "input": {"q": "T-1"},
                       "output": {"found": True}, "durationMs": 42}, expect=201)
    console.ok(runtime, "/v1/create-run-log", {"run": run["id"], "message": "tool ok"},
               expect=201)
    _refused(console, "a:member", "/v1/create-run-log", {"run": run["id"], "message": "x"}, 403)
    _refused(console, "b:admin", "/v1/create-run-log", {"run": run["id"], "message": "x"}, 404)
    assert console.post(runtime, "/v1/create-run-step",
                        {"run": run["id"], "position": 0, "kind": "message"}).status_code == 409
    called = [e["payload"] for e in console.events("tool.called")
              if e["payload"]["call"] == call["id"]]
    assert called == [{"call": call["id"], "run": run["id"], "tool": tool["id"]}]
    done = console.ok(runtime, "/v1/run-flow/complete", {"id": run["id"]})
    assert done["status"] == "succeeded"
    assert [e["payload"]["run"] for e in console.events("run.started")].count(run["id"]) == 1
    assert [e["payload"]["run"] for e in console.events("run.completed")].count(run["id"]) == 1
    steps = console.ok("a:member", "/v1/list-run-steps", run=run["id"])["items"]
    assert [(s["position"], s["kind"]) for s in steps] == [(0, "thought")]
    logs = console.ok("a:member", "/v1/list-run-logs", run=run["id"], q="ok")["items"]
    assert [log["level"] for log in logs] == ["info"]
    calls = console.ok("a:member", "/v1/list-tool-calls", tool=tool["id"])["items"]
    assert [c["output"] for c in calls] == [{"found": True}]
    again = console.post(runtime, "/v1/run-flow/fail", {"id": run["id"]})
    assert again.status_code == 409 and again.json()["error"]["details"]["allowed"] == []


def test_console_runs_fail_or_are_cancelled(console: RunningApp) -> None:
    agent = _agent(console)
    failing = console.ok("a:member", "/v1/create-run", {"agent": agent["id"], "input": {}},
                         expect=201)
    console.ok("a:admin", "/v1/run-flow/start", {"id": failing["id"]})
    assert console.ok("a:admin", "/v1/run-flow/fail", {"id": failing["id"]})["status"] \
        == "failed"
    assert [a.target_id for a in console.audit("run.failed v1")].count(failing["id"]) == 1
    queued = console.ok("a:member", "/v1/create-run", {"agent": agent["id"], "input": {}},
                        expect=201)
    _refused(console, "b:member", "/v1/run-flow/cancel", {"id": queued["id"]}, 404)
    assert console.ok("a:member", "/v1/run-flow/cancel", {"id": queued["id"]})["status"] \
        == "cancelled"
    history = console.ok("a:member", "/v1/list-runs", agent=agent["id"], size=100)["items"]
    assert {(r["id"], r["status"]) for r in history} == {(failing["id"], "failed"),
                                                          (queued["id"], "cancelled")}
    failed = console.ok("a:owner", "/v1/list-runs", status="failed", size=100)["items"]
    assert failing["id"] in {r["id"] for r in failed}
    assert console.ok("b:owner", "/v1/list-runs", size=100)["items"] == []
    _refused(console, "b:member", "/v1/create-run", {"agent": agent["id"], "input": {}}, 404)


def test_console_agents_tools_are_the_support_operations(console: RunningApp) -> None:
    tag = uuid.uuid4().hex[:8]
    ticket = console.ok("a:member", "/v1/create-ticket",
                        {"subject": f"Broken {tag}", "body": "It broke",
                         "customerEmail": "c@example.com"}, expect=201)
    assert (ticket["status"], ticket["owner"]) == ("open", console.users["a:member"])
    reply = console.ok("a:member", "/v1/create-ticket-comment",
                       {"ticket": ticket["id"], "body": "On it"}, expect=201)
    assert reply["draft"] is True
    assert [t["id"] for t in console.ok("a:member", "/v1/list-tickets", q=tag)["items"]] == [
        ticket["id"]]
    assert console.ok("a:admin", "/v1/ticket-flow/solve", {"id": ticket["id"]})["status"] \
        == "solved"
    assert console.ok("b:member", "/v1/list-tickets", q=tag)["items"] == []


def test_console_pages_list_and_inspect_tools_agents_and_runs(console: RunningApp) -> None:
    tool, agent = _tool(console), _agent(console)
    run = console.ok("a:member", "/v1/create-run", {"agent": agent["id"], "input": {}},
                     expect=201)
    for path, text in (("/ui/tools", tool["name"]), ("/ui/agents", agent["name"]),
                       ("/ui/runs", "queued"), ("/ui/run-board", "queued"),
                       (f"/ui/tool/{tool['id']}", tool["name"]),
                       (f"/ui/run/{run['id']}", "queued")):
        page = console.page("a:member", "GET", path)
        assert page.status_code == 200 and text in page.text, path
    assert console.page("b:member", "GET", f"/ui/run/{run['id']}").status_code == 404
    assert tool["name"] not in console.page("b:member", "GET", "/ui/tools").text



def _ticket(app: RunningApp, who: str) -> dict[str, Any]:
    body = {"subject": _name("Ticket"), "body": "It broke", "customerEmail": "c@example.com"}
    return dict(app.ok(who, "/v1/create-ticket", body, expect=201))


def test_console_an_agent_run_through_the_generated_agents_endpoints(
        console: RunningApp) -> None:
    """The agent host drives a run with the member's token: each tool call runs the
    operation as that member; what the agent or the member may not do is a refused step."""
    theirs = _ticket(console, "b:member")
    started = console.ok("a:member", "/v1/agents/supportTriage/runs",
                         {"input": {"goal": "triage"}}, expect=201)
    run = started["id"]
    assert (started["status"], started["usage"]) == (
        "running", {"steps": 0, "tokens": 0, "cost": 0})
    assert console.post("a:member", "/v1/agents/nobody/runs", {}).status_code == 404
    calls = f"/v1/agents/runs/{run}/tool-calls"
    opened = console.ok("a:member", calls, {
        "tool": "createTicket", "tokens": 300, "cost": 2,
        "arguments": {"subject": "Printer on fire", "body": "Smoke",
                      "customerEmail": "c@example.com"}})
    assert (opened["step"], opened["status"], opened["error"]) == (0, "succeeded", None)
    ticket = opened["output"]
    assert (ticket["owner"], ticket["status"]) == (console.users["a:member"], "open")
    assert console.ok("a:member", "/v1/get-ticket", id=ticket["id"])["subject"] \
        == "Printer on fire"
    not_its_tool = console.ok("a:member", calls, {"tool": "createTicketComment", "arguments": {
        "ticket": ticket["id"], "body": "Hello"}})
    assert (not_its_tool["status"], not_its_tool["output"]) == ("refused", None)
    assert "is not a tool of agent 'supportTriage'" in not_its_tool["error"]
    assert console.ok("a:member", "/v1/list-ticket-comments",
                      ticket=ticket["id"])["items"] == []  # it never ran
    other_org = console.ok("a:member", calls, {"tool": "getTicket",
                                               "arguments": {"id": theirs["id"]}})
    assert (other_org["status"], other_org["output"]["error"]["code"]) == (
        "refused", "not_found")
    invalid = console.ok("a:member", calls, {"tool": "getTicket", "arguments": {}})
    assert invalid["status"] == "failed" and "id" in invalid["error"]
    _refused(console, "b:member", calls, {"tool": "listTickets"}, 404)
    assert console.get("a:admin", f"/v1/agents/runs/{run}").status_code == 404  # not theirs
    console.ok("a:member", f"/v1/agents/runs/{run}/logs", {"message": "One ticket opened",
                                                           "kind": "message"}, expect=201)
    done = console.ok("a:member", f"/v1/agents/runs/{run}/complete",
                      {"output": {"opened": 1}, "tokens": 50})
    assert (done["status"], done["output"], done["usage"]) == (
        "completed", {"opened": 1}, {"steps": 5, "tokens": 350, "cost": 2})
    assert [(s["kind"], s["tool"], s["status"]) for s in done["steps"]] == [
        ("tool_call", "createTicket", "succeeded"),
        ("tool_call", "createTicketComment", "refused"),
        ("tool_call", "getTicket", "refused"), ("tool_call", "getTicket", "failed"),
        ("message", None, "succeeded")]
    closed = console.post("a:member", calls, {"tool": "listTickets"})
    assert closed.status_code == 409 and closed.json()["error"]["code"] == "run_closed"
    called = [(e["payload"]["tool"], e["payload"]["status"])
              for e in console.events("runtime.tool.called") if e["payload"]["run"] == run]
    assert called == [("createTicket", "succeeded"), ("createTicketComment", "refused"),
                      ("getTicket", "refused"), ("getTicket", "failed")]
    for event in ("runtime.run.started", "runtime.run.completed"):
        assert [e["orgId"] for e in console.events(event)
                if e["payload"]["run"] == run] == [ticket["org"]]


def test_console_an_agent_run_over_its_limits_fails(console: RunningApp) -> None:
    run = console.ok("a:member", "/v1/agents/replyDrafter/runs", {}, expect=201)["id"]
    ticket = _ticket(console, "a:member")
    read = console.ok("a:member", f"/v1/agents/runs/{run}/tool-calls", {
        "tool": "getTicket", "arguments": {"id": ticket["id"]}, "tokens": 29_000})
    assert read["status"] == "succeeded"
    over = console.post("a:member", f"/v1/agents/runs/{run}/tool-calls", {
        "tool": "createTicketComment", "tokens": 2_000,
        "arguments": {"ticket": ticket["id"], "body": "Draft"}})
    assert over.status_code == 409 and over.json()["error"]["code"] == "limit_exceeded"
    failed = console.ok("a:member", f"/v1/agents/runs/{run}")
    assert failed["status"] == "failed" and "30000 tokens" in failed["error"]
    assert console.ok("a:member", "/v1/list-ticket-comments", ticket=ticket["id"])["items"] \
        == []  # the step over the limit was not taken
    assert [e["payload"]["run"] for e in console.events("runtime.run.failed")].count(run) == 1


def test_console_run_metrics_are_metered_against_the_plan(console: RunningApp) -> None:
    """`createRun` meters `agent_runs`, `tool_calls` and `failed_runs` count the console's
    own events, the host records model tokens as `agent_tokens`; the plan limits runs."""
    tag = uuid.uuid4().hex[:8]
    signed = console.client.post("/v1/sign-up", json={
        "email": f"ops-{tag}@new.example", "name": "Ops", "orgName": f"Ops {tag}"})
    assert signed.status_code == 200, signed.text
    console.tokens["ops:owner"] = signed.json()["token"]
    console.ok("ops:owner", "/v1/change-plan", {"plan": "starter"})
    agent = dict(console.ok("ops:owner", "/v1/create-agent", {
        "key": f"ops_{tag}", "name": "Ops", "model": "openai/gpt-4o-mini"}, expect=201))
    console.ok("ops:owner", "/v1/agent-lifecycle/activate", {"id": agent["id"]})
    tool = dict(console.ok("ops:owner", "/v1/create-tool", {
        "name": f"lookup_{tag}", "inputSchema": {}, "outputSchema": {}}, expect=201))
    run = console.ok("ops:owner", "/v1/create-run", {"agent": agent["id"], "input": {}},
                     expect=201)
    console.ok("ops:owner", "/v1/run-flow/start", {"id": run["id"]})
    console.ok("ops:owner", "/v1/create-tool-call", {
        "run": run["id"], "tool": tool["id"], "input": {}, "output": {}, "durationMs": 5},
        expect=201)
    console.ok("ops:owner", "/v1/run-flow/fail", {"id": run["id"]})
    tokens = {"metric": "agent_tokens", "quantity": 1234, "idempotencyKey": f"run:{run['id']}"}
    first = console.ok("ops:owner", "/v1/record-usage", tokens)
    assert console.ok("ops:owner", "/v1/record-usage", tokens)["id"] == first["id"]  # once
    _refused(console, "a:member", "/v1/record-usage", tokens, 403)

    def usage() -> dict[str, tuple[str, int | None]]:
        items = console.ok("ops:owner", "/v1/get-usage")["items"]
        return {u["metric"]: (str(float(u["value"])), u["limit"]) for u in items}

    assert usage() == {"agent_runs": ("1.0", 500), "tool_calls": ("1.0", 5000),
                       "failed_runs": ("1.0", None), "agent_tokens": ("1234.0", 2000000)}
    assert console.get("a:member", "/v1/get-usage").status_code == 403
    console.ok("ops:owner", "/v1/record-usage", {"metric": "agent_runs", "quantity": 499})
    over = console.post("ops:owner", "/v1/create-run", {"agent": agent["id"], "input": {}})
    assert over.status_code == 429 and over.json()["error"]["code"] == "limit_exceeded"
    runs = console.ok("ops:owner", "/v1/list-runs", agent=agent["id"], size=100)["items"]
    assert [r["id"] for r in runs] == [run["id"]]  # refused before anything was created

def test_every_app_keeps_its_own_tables(saas: RunningApp) -> None:
    """The examples' databases hold the standard modules' tables beside their own."""
    with saas.session() as db:
        tables = set(sa.inspect(db.get_bind()).get_table_names())
    assert {"saas_project", "saas_org_settings", "identity_org_membership",
            "audit_audit_entry", "metering_usage_record", "flags_feature_flag",
            "runtime_outbox_event"} <= tables


# ---- saas-boilerplate: the std modules' flows ----------------------------------------------


def _sign_up(app: RunningApp, key: str) -> dict[str, Any]:
    """A new user and organisation by `POST /v1/sign-up` (no token); its token as `key`."""
    tag = uuid.uuid4().hex[:8]
    response = app.client.post("/v1/sign-up", json={
        "email": f"founder-{tag}@new.example", "name": "Founder", "orgName": f"New {tag}"})
    assert response.status_code == 200, response.text
    signed = {**response.json(), "email": f"founder-{tag}@new.example"}
    app.tokens[key] = signed["token"]
    return signed


def test_saas_sign_up_invite_accept_change_role_and_remove_members(saas: RunningApp) -> None:
    founder = _sign_up(saas, "new:owner")
    assert founder["role"] == "owner"
    again = saas.client.post("/v1/sign-up", json={"email": founder["email"], "name": "Again",
                                                   "orgName": "Again"})
    assert again.status_code == 409
    assert any(e["payload"]["org"] == founder["org"] for e in saas.events("org.created"))
    tag = uuid.uuid4().hex[:8]
    sent = saas.ok("new:owner", "/v2/invite-member",
                   {"email": f"ada-{tag}@new.example", "role": "member"})
    assert sent["token"] and sent["role"] == "member"
    assert saas.post("new:owner", "/v2/invite-member",
                     {"email": f"ada-{tag}@new.example", "role": "member"}).status_code == 409
    joined = saas.client.post("/v1/accept-invitation", json={"token": sent["token"],
                                                              "name": "Ada"})
    assert joined.status_code == 200, joined.text
    member = dict(joined.json())
    assert (member["org"], member["role"]) == (founder["org"], "member")
    saas.tokens["new:member"] = member["token"]
    reused = saas.client.post("/v1/accept-invitation", json={"token": sent["token"]})
    assert reused.status_code in (409, 410)
    _refused(saas, "new:member", "/v2/invite-member",
             {"email": f"eve-{tag}@new.example", "role": "member"}, 403)
    members = {m["user"]: m for m in saas.ok("new:owner", "/v1/list-members")["items"]}
    assert {m["role"] for m in members.values()} == {"owner", "member"}
    assert saas.ok("b:owner", "/v1/list-members")["items"][0]["org"] != founder["org"]

    _refused(saas, "new:member", "/v1/change-role",
             {"membership": member["membership"], "role": "admin"}, 403)
    _refused(saas, "b:owner", "/v1/change-role",
             {"membership": member["membership"], "role": "admin"}, 404)
    promoted = saas.ok("new:owner", "/v1/change-role",
                       {"membership": member["membership"], "role": "admin"})
    assert promoted["role"] == "admin"
    assert saas.ok("new:member", "/v1/list-audit-entries")["total"] >= 1  # now an admin
    changed = [e["payload"] for e in saas.events("role.changed")
               if e["payload"]["membership"] == member["membership"]]
    assert [(p["from"], p["to"]) for p in changed] == [("member", "admin")]

    # the last owner is protected: neither demoted nor removed
    last = saas.post("new:owner", "/v1/change-role",
                     {"membership": founder["membership"], "role": "admin"})
    assert last.status_code == 409, last.text
    _refused(saas, "new:owner", "/v1/remove-member", {"membership": founder["membership"]}, 409)
    _refused(saas, "new:member", "/v1/remove-member", {"membership": founder["membership"]},
             403)
    removed = saas.post("new:owner", "/v1/remove-member", {"membership": member["membership"]})
    assert removed.status_code == 204
    assert saas.get("new:member", "/v1/list-members").status_code == 401  # its token is gone
    assert [m["id"] for m in saas.ok("new:owner", "/v1/list-members")["items"]] == [
        founder["membership"]]


def test_saas_audit_log_lists_searches_and_exports_for_admins_only(saas: RunningApp) -> None:
    project = _project(saas, "a:owner")
    for who in ("a:owner", "a:admin"):
        found = saas.ok(who, "/v1/search-audit-entries", event="project.created v1",
                        targetId=project["id"])["items"]
        assert [(e["actorId"], e["targetType"]) for e in found] == [
            (saas.users["a:owner"], "Project")]
        listed = saas.ok(who, "/v1/list-audit-entries", targetId=project["id"], size=100)
        assert [e["event"] for e in listed["items"]] == ["project.created v1"]
    for path in ("/v1/list-audit-entries", "/v1/search-audit-entries"):
        assert saas.get("a:member", path).status_code == 403
    assert saas.ok("b:admin", "/v1/search-audit-entries", targetId=project["id"])["items"] == []
    today = datetime.datetime.now(datetime.UTC)
    window = {"from": (today - datetime.timedelta(days=1)).isoformat(),
              "to": (today + datetime.timedelta(days=1)).isoformat()}
    for who in ("a:member", "a:admin"):  # exporting is the owners' (`export_audit`)
        _refused(saas, who, "/v1/export-audit-entries", window, 403)
    export = saas.ok("a:owner", "/v1/export-audit-entries", window)
    assert saas.ok("a:owner", "/v1/get-audit-export", id=export["id"])["id"] == export["id"]
    assert saas.get("b:owner", "/v1/get-audit-export", id=export["id"]).status_code == 404


def test_saas_metered_operations_record_usage_and_the_plan_limit_answers_429(
        saas: RunningApp) -> None:
    founder = _sign_up(saas, "metered:owner")  # a fresh organisation: its own usage
    assert saas.get("metered:owner", "/v1/get-subscription").status_code == 404  # no plan
    assert saas.ok("metered:owner", "/v1/change-plan", {"plan": "free"})["plan"] == "free"
    project = _project(saas, "metered:owner")
    records = saas.ok("metered:owner", "/v1/list-usage-records", size=100)["items"]
    assert sorted((r["metric"], r["source"], r["user"]) for r in records) == [
        ("api_calls", "operation createProject v1", founder["user"]),
        ("projects_created", "event project.created v1", founder["user"])]
    assert saas.ok("b:owner", "/v1/list-usage-records", metric="api_calls",
                   user=founder["user"])["items"] == []
    # the free plan allows 1000 API calls a month: use all but one of them
    saas.ok("metered:owner", "/v1/record-usage", {"metric": "api_calls", "quantity": 998})
    last = _project(saas, "metered:owner")
    over = saas.post("metered:owner", "/v1/create-project", {"name": _name("Over")})
    assert over.status_code == 429, over.text
    assert over.json()["error"]["code"] == "limit_exceeded"
    names = {p["name"] for p in saas.ok("metered:owner", "/v1/list-projects",
                                        size=100)["items"]}
    assert names == {project["name"], last["name"]}  # nothing created past the limit
    crossed = [e["payload"] for e in saas.events("usage.threshold_reached")
               if e["orgId"] == founder["org"]]
    assert sorted(p["percent"] for p in crossed if p["metric"] == "api_calls") == [80, 100]
    assert saas.ok("metered:owner", "/v1/change-plan", {"plan": "pro"})["plan"] == "pro"
    assert saas.post("metered:owner", "/v1/create-project",
                     {"name": _name("Pro")}).status_code == 201
