"""Each example's regeneration story, as a test: a realistic spec change is applied to a copy
of the example; `cspec diff` classifies it as expected; `cspec gen` writes the new code and a
migration (earlier revisions untouched); a database holding the old app's data migrates on
SQLite and PostgreSQL with nothing lost (every old row and value is still there); and clients
of the old contract still get answers, beside the new behaviour.

- crm-pipeline: a new pipeline stage (`demo`), a required field with a default
  (`Deal.currency`), a field renamed with `@renamedFrom` (`Contact.phone` -> `phoneNumber`).
- saas-boilerplate: a role-gated setting (`OrgSettings.enforceSso`, changed by owners only
  through `setSsoEnforced v1`, whose handler the developer writes).
- agent-console: a tool's input schema changes (`createTicket` gains `priority`): in place it
  breaks released clients (CS601, CX103), so it becomes `createTicket v2` beside v1.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from tests.databases import temporary_database
from tests.examples_app import RunningApp, copy_example, example_app, migrate, running_app

Rows = dict[str, list[dict[str, Any]]]


def _cspec(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["cspec", *map(str, args)], capture_output=True, text=True,
                          check=False)


def _edit(path: Path, *pairs: tuple[str, str]) -> None:
    text = path.read_text()
    for old, new in pairs:
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    path.write_text(text)


@dataclass
class Story:
    """An example before and after its spec change."""

    old: Path  # the committed generated app, as it was
    new: Path  # the regenerated app
    package: str
    changes: list[dict[str, Any]]  # `cspec diff --format json`

    @property
    def codes(self) -> set[str]:
        return {c["code"] for c in self.changes}


def _story(name: str, change: Callable[[Path], None], tmp: Path) -> Story:
    workspace = copy_example(name, tmp)
    folder, package = example_app(name)
    old = tmp / "old"
    shutil.copytree(folder, old, ignore=shutil.ignore_patterns("__pycache__"))
    change(workspace)
    checked = _cspec("check", workspace)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    diff = _cspec("diff", "--format", "json", workspace)
    assert diff.returncode == 0, diff.stdout + diff.stderr  # nothing breaking
    generated = _cspec("gen", workspace)
    assert generated.returncode == 0, generated.stdout + generated.stderr
    new = workspace / folder.name
    committed, versions = (sorted(p.name for p in (root / package / "migrations" / "versions")
                                  .glob("*.py")) for root in (old, new))
    assert versions[:-1] == committed, versions  # one new revision; the committed ones kept
    for name in committed:
        revision = f"{package}/migrations/versions/{name}"
        assert (new / revision).read_bytes() == (old / revision).read_bytes()
    ruff = subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache", "."], cwd=new,
                          capture_output=True, text=True, check=False)
    assert ruff.returncode == 0, ruff.stdout + ruff.stderr
    return Story(old, new, package, json.loads(diff.stdout)["changes"])


def _rows(url: str) -> Rows:
    """Every row of every table (the migration bookkeeping aside), in a stable order."""
    engine = sa.create_engine(url)
    try:
        meta = sa.MetaData()
        meta.reflect(engine)
        with engine.connect() as conn:
            return {name: sorted((dict(r._mapping) for r in conn.execute(table.select())),
                                 key=repr)
                    for name, table in meta.tables.items() if name != "alembic_version"}
    finally:
        engine.dispose()


def _nothing_lost(before: Rows, after: Rows, renamed: dict[tuple[str, str], str]) -> None:
    """Every old row is still there with its values (renamed columns followed)."""
    for table, rows in before.items():
        assert table in after, table
        columns = list(rows[0]) if rows else []
        kept = [{c: row[renamed.get((table, c), c)] for c in columns} for row in after[table]]
        assert sorted(kept, key=repr) == rows, table


@contextmanager
def _upgrade(story: Story, kind: str, tmp: Path, before: Callable[[RunningApp], Any],
             renamed: dict[tuple[str, str], str] | None = None) -> Iterator[tuple[RunningApp,
                                                                                 Any]]:
    """The old app's data (`before`), migrated to the new app: that app and what `before`
    returned."""
    with temporary_database(kind, tmp, story.package) as url:
        migrate(story.old, story.package, url)
        with running_app(story.old, story.package, url) as app:
            made = before(app)
        rows = _rows(url)
        migrate(story.new, story.package, url)
        _nothing_lost(rows, _rows(url), renamed or {})
        with running_app(story.new, story.package, url) as app:
            yield app, made


# ---- crm-pipeline: a stage, a required field with a default, a renamed field ---------------


def _crm_change(workspace: Path) -> None:
    spec = workspace / "spec" / "crm.cspec"
    tail = "\n    company: ref Company?\n  }"
    text = spec.read_text().replace(  # both contact inputs
        "    phone: string(1..40)? @pii" + tail,
        "    phoneNumber: string(1..40)? @pii @renamedFrom(phone)" + tail)
    spec.write_text(text)
    _edit(spec,
          ('  qualified @label("Qualified")\n',
           '  qualified @label("Qualified")\n  demo @label("Demo given")\n'),
          ("  phone: string(1..40)? @pii\n  createdAt",
           "  phoneNumber: string(1..40)? @pii @renamedFrom(phone)\n  createdAt"),
          ("  expectedClose: date?\n  createdAt",
           "  expectedClose: date?\n  /// ISO 4217 code of the amount's currency.\n"
           '  currency: string = "EUR" @pattern("^[A-Z]{3}$")\n  createdAt'),
          ("  transition propose: qualified -> proposal",
           "  transition demo: qualified -> demo by manage_deals or self.owner == actor emits "
           "deal.moved\n  transition propose: qualified, demo -> proposal"),
          ("lose: lead, qualified, proposal,", "lose: lead, qualified, demo, proposal,"),
          ("columns name, email, phone, company", "columns name, email, phoneNumber, company"),
          ("fields name, email, phone, company", "fields name, email, phoneNumber, company"))


@pytest.fixture(scope="module")
def crm_story(tmp_path_factory: pytest.TempPathFactory) -> Story:
    return _story("crm-pipeline", _crm_change, tmp_path_factory.mktemp("crm_story"))


def test_crm_change_is_classified(crm_story: Story) -> None:
    assert crm_story.codes == {"CX114", "CX123", "CX205", "CX207", "CX506", "CX507"}
    assert {c["level"] for c in crm_story.changes} == {"safe", "dangerous"}
    rerouted = {c["subject"] for c in crm_story.changes if c["code"] == "CX506"}
    assert rerouted == {"transition `propose` of workflow `Pipeline`",
                        "transition `lose` of workflow `Pipeline`"}


def test_crm_migration_says_what_it_does(crm_story: Story) -> None:
    revisions = sorted((crm_story.new / "crm" / "migrations" / "versions").glob("*.py"))
    text = revisions[-1].read_text()
    for line in ("- rename column crm_contact.phone to phone_number",
                 "- add column crm_deal.currency"):
        assert line in text
    assert "'demo'" in text  # the stage's CHECK constraint


def _crm_before(app: RunningApp) -> dict[str, Any]:
    company = app.ok("a:owner", "/v1/create-company", {"name": "Acme"}, expect=201)
    contact = app.ok("a:owner", "/v1/create-contact",
                     {"name": "Ada", "phone": "+33 1 23", "company": company["id"]}, expect=201)
    deal = app.ok("a:owner", "/v1/create-deal",
                  {"title": "Big one", "amount": "5000", "contact": contact["id"]}, expect=201)
    for step in ("qualify", "propose"):
        app.ok("a:owner", f"/v1/pipeline/{step}", {"id": deal["id"]})
    task = app.ok("a:member", "/v1/create-task", {"deal": deal["id"], "title": "Call"},
                  expect=201)
    return {"contact": contact, "deal": deal, "task": task}


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_crm_data_migrates_and_old_clients_get_answers(crm_story: Story, kind: str,
                                                       tmp_path: Path) -> None:
    renamed = {("crm_contact", "phone"): "phone_number"}
    with _upgrade(crm_story, kind, tmp_path, _crm_before, renamed) as (app, made):
        contact = app.ok("a:member", "/v1/get-contact", id=made["contact"]["id"])
        assert contact["phoneNumber"] == "+33 1 23" and "phone" not in contact
        deal = app.ok("a:member", "/v1/get-deal", id=made["deal"]["id"])
        assert (deal["stage"], deal["currency"], deal["title"]) == ("proposal", "EUR", "Big one")
        # clients of the released contract: the old input name, the old operations
        old = app.ok("a:owner", "/v1/create-contact", {"name": "Bob", "phone": "+44 2"},
                     expect=201)
        assert old["phoneNumber"] == "+44 2"
        moved = app.ok("a:owner", "/v1/update-contact", {"id": old["id"], "phone": "+44 3"})
        assert moved["phoneNumber"] == "+44 3"
        fresh = app.ok("a:owner", "/v1/create-deal", {"title": "New", "amount": "10"},
                       expect=201)
        assert fresh["currency"] == "EUR"
        # the new stage on the board
        assert app.ok("a:owner", "/v1/pipeline/demo", {"id": fresh["id"]}, expect=409) \
            ["error"]["details"]["allowed"] == ["qualify", "lose"]
        app.ok("a:owner", "/v1/pipeline/qualify", {"id": fresh["id"]})
        assert app.ok("a:owner", "/v1/pipeline/demo", {"id": fresh["id"]})["stage"] == "demo"
        assert app.ok("a:member", "/v1/list-deals", stage="demo")["total"] == 1
        assert app.ok("a:owner", "/v1/pipeline/propose", {"id": fresh["id"]})["stage"] \
            == "proposal"
        assert app.ok("a:member", "/v1/task-flow/complete",
                      {"id": made["task"]["id"]})["status"] == "done"


# ---- saas-boilerplate: a role-gated setting --------------------------------------------------

SSO_HANDLER = '''

def set_sso_enforced_v1(ctx: Context,
                        data: schemas.SetSsoEnforcedV1Input) -> schemas.OrgSettings:
    """Require single sign-on (or stop requiring it); recorded as `settings.changed`."""
    row = ctx.get(models.OrgSettings, data.id)
    row.enforce_sso = data.enforceSso
    ctx.emit(events.SettingsChangedV1,
             events.SettingsChangedV1Payload(settings=row.id, by=ctx.actor.user_id))
    ctx.commit()
    return schemas.OrgSettings.from_row(row)
'''


def _saas_change(workspace: Path) -> None:
    _edit(workspace / "spec" / "saas.cspec",
          ("  privateByDefault: bool = false\n  updatedAt",
           "  privateByDefault: bool = false\n"
           "  /// Members must sign in through the organisation's identity provider.\n"
           "  enforceSso: bool = false\n  updatedAt"),
          ('permission view_settings "See the organisation\'s settings"\n',
           'permission view_settings "See the organisation\'s settings"\n'
           'permission manage_security "Change the organisation\'s security settings"\n'),
          ("grant member: view_projects, view_settings\n",
           "grant member: view_projects, view_settings\ngrant owner: manage_security\n"),
          ("query listOrgSettings v1 {",
           "/// Require single sign-on for every member (owners only).\n"
           "command setSsoEnforced v1 {\n  input {\n    id: uuid\n    enforceSso: bool\n  }\n"
           "  output OrgSettings\n  policy manage_security\n  emits settings.changed\n}\n\n"
           "query listOrgSettings v1 {"))
    # the developer's handler for the new command (handler modules are theirs)
    handlers = workspace / "app" / "saas" / "handlers" / "saas.py"
    _edit(handlers, ("from saas.db import models\n",
                     "from saas.db import models\nfrom saas.events import models as events\n"))
    handlers.write_text(handlers.read_text() + SSO_HANDLER)


@pytest.fixture(scope="module")
def saas_story(tmp_path_factory: pytest.TempPathFactory) -> Story:
    return _story("saas-boilerplate", _saas_change, tmp_path_factory.mktemp("saas_story"))


def test_saas_change_is_classified(saas_story: Story) -> None:
    assert saas_story.codes == {"CX102", "CX205"}
    assert {c["level"] for c in saas_story.changes} == {"safe"}
    policies = (saas_story.new / "saas" / "policies.py").read_text()
    assert '"owner": frozenset({' in policies and '"manage_security"' in policies


def _saas_before(app: RunningApp) -> dict[str, Any]:
    settings = app.ok("a:owner", "/v1/create-org-settings",
                      {"timezone": "Europe/Paris", "privateByDefault": True}, expect=201)
    other = app.ok("b:owner", "/v1/create-org-settings", {}, expect=201)
    project = app.ok("a:admin", "/v1/create-project", {"name": "Apollo"}, expect=201)
    app.ok("a:admin", "/v1/project-flow/archive", {"id": project["id"]})
    return {"settings": settings, "other": other, "project": project}


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_saas_data_migrates_and_the_setting_is_owner_only(saas_story: Story, kind: str,
                                                          tmp_path: Path) -> None:
    with _upgrade(saas_story, kind, tmp_path, _saas_before) as (app, made):
        settings = made["settings"]
        (row,) = app.ok("a:member", "/v1/list-org-settings")["items"]
        assert (row["timezone"], row["privateByDefault"], row["enforceSso"]) == (
            "Europe/Paris", True, False)
        project = app.ok("a:member", "/v1/get-project", id=made["project"]["id"])
        assert (project["name"], project["status"]) == ("Apollo", "archived")
        # the released operations answer as before
        assert app.ok("a:admin", "/v1/update-org-settings",
                      {"id": settings["id"], "locale": "fr"})["locale"] == "fr"
        # the new setting: owners only, in their own organisation
        for who in ("a:admin", "a:member"):
            assert app.post(who, "/v1/set-sso-enforced",
                            {"id": settings["id"], "enforceSso": True}).status_code == 403
        assert app.post("b:owner", "/v1/set-sso-enforced",
                        {"id": settings["id"], "enforceSso": True}).status_code == 404
        changed = app.ok("a:owner", "/v1/set-sso-enforced",
                         {"id": settings["id"], "enforceSso": True})
        assert changed["enforceSso"] is True and changed["locale"] == "fr"
        assert any(e["payload"]["settings"] == settings["id"]
                   for e in app.events("settings.changed"))
        (theirs,) = app.ok("b:member", "/v1/list-org-settings")["items"]
        assert theirs["id"] == made["other"]["id"] and theirs["enforceSso"] is False


# ---- agent-console: a tool's input schema changes -> a new operation version ---------------

TICKET_V1_INPUT = ("    customerEmail: email @pii\n  }\n  output Ticket\n"
                   "  policy manage_tickets\n  emits ticket.created")


def _console_change(workspace: Path) -> None:
    _edit(workspace / "spec" / "support.cspec",
          ("/// A customer's request.",
           "/// How urgent a ticket is.\nenum TicketPriority {\n  low\n  normal\n  urgent\n}\n\n"
           "/// A customer's request."),
          ("  status: TicketStatus = open\n  /// The member",
           "  status: TicketStatus = open\n  priority: TicketPriority = normal\n"
           "  /// The member"),
          ("/// One ticket. A tool of every agent.\nquery getTicket v1 {",
           "/// Open a ticket with its priority. A tool of the triage agent, which now sets "
           "it.\ncommand createTicket v2 {\n  input {\n    subject: string(1..200)\n"
           "    body: text\n    customerEmail: email @pii\n    priority: TicketPriority\n  }\n"
           "  output Ticket\n  policy manage_tickets\n  emits ticket.created\n}\n\n"
           "/// One ticket. A tool of every agent.\nquery getTicket v1 {"))


def test_console_changing_the_released_tool_in_place_is_refused(tmp_path: Path) -> None:
    workspace = copy_example("agent-console", tmp_path)
    _edit(workspace / "spec" / "support.cspec",
          (TICKET_V1_INPUT, TICKET_V1_INPUT.replace(
              "@pii\n", "@pii\n    priority: string(1..20)\n", 1)))
    checked = _cspec("check", workspace)
    assert checked.returncode == 1 and "CS601" in checked.stdout
    assert "add `createTicket v2` beside it" in checked.stdout
    diff = json.loads(_cspec("diff", "--format", "json", workspace).stdout)
    assert [(c["code"], c["level"]) for c in diff["changes"]] == [("CX103", "breaking")]


@pytest.fixture(scope="module")
def console_story(tmp_path_factory: pytest.TempPathFactory) -> Story:
    return _story("agent-console", _console_change, tmp_path_factory.mktemp("console_story"))


def test_console_change_is_classified_and_released(console_story: Story) -> None:
    assert console_story.codes == {"CX102", "CX205"}
    (added,) = [c for c in console_story.changes if c["code"] == "CX102"]
    assert added["subject"] == "operation `createTicket v2`"
    openapi = json.loads((console_story.new / "openapi.json").read_text())
    assert {"/v1/create-ticket", "/v2/create-ticket"} <= set(openapi["paths"])
    workspace = console_story.new.parent
    assert _cspec("release", workspace, "--version", "1.1.0").returncode == 0
    lock = json.loads((workspace / "cspec.lock").read_text())
    operations = lock["modules"]["support"]["http"]
    assert operations["createTicket v1"]["path"] == "/v1/create-ticket"
    assert operations["createTicket v2"]["path"] == "/v2/create-ticket"
    assert json.loads(_cspec("diff", "--format", "json", workspace).stdout)["changes"] == []


def _console_before(app: RunningApp) -> dict[str, Any]:
    ticket = app.ok("a:member", "/v1/create-ticket",
                    {"subject": "Login fails", "body": "Since today",
                     "customerEmail": "c@example.com"}, expect=201)
    tool = app.ok("a:admin", "/v1/create-tool",
                  {"name": "createTicket", "inputSchema": {"required": ["subject"]},
                   "outputSchema": {}}, expect=201)
    agent = app.ok("a:admin", "/v1/create-agent",
                   {"key": "supportTriage", "name": "Triage", "model": "m"}, expect=201)
    run = app.ok("a:member", "/v1/create-run", {"agent": agent["id"], "input": {"n": 1}},
                 expect=201)
    app.ok("a:admin", "/v1/run-flow/start", {"id": run["id"]})
    app.ok("a:admin", "/v1/create-tool-call",
           {"run": run["id"], "tool": tool["id"], "input": {"subject": "x"}}, expect=201)
    app.ok("a:admin", "/v1/run-flow/complete", {"id": run["id"]})
    return {"ticket": ticket, "run": run, "tool": tool}


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_console_runs_survive_and_both_tool_versions_answer(console_story: Story, kind: str,
                                                            tmp_path: Path) -> None:
    with _upgrade(console_story, kind, tmp_path, _console_before) as (app, made):
        ticket = app.ok("a:member", "/v1/get-ticket", id=made["ticket"]["id"])
        assert (ticket["subject"], ticket["priority"]) == ("Login fails", "normal")
        run = app.ok("a:member", "/v1/get-run", id=made["run"]["id"])
        assert run["status"] == "succeeded"
        calls = app.ok("a:member", "/v1/list-tool-calls", run=run["id"])["items"]
        assert [c["input"] for c in calls] == [{"subject": "x"}]
        # an agent (or client) still calling v1 gets answers; v2 takes the new field
        v1 = app.ok("a:member", "/v1/create-ticket",
                    {"subject": "Old client", "body": "b", "customerEmail": "o@example.com"},
                    expect=201)
        assert v1["priority"] == "normal"
        body = {"subject": "New client", "body": "b", "customerEmail": "n@example.com"}
        assert app.post("a:member", "/v2/create-ticket", body).status_code == 422
        v2 = app.ok("a:member", "/v2/create-ticket", {**body, "priority": "urgent"},
                    expect=201)
        assert v2["priority"] == "urgent"
        assert app.post("a:member", "/v1/create-ticket",
                        {**body, "priority": "urgent"}).status_code == 422  # v1 is as released
        urgent = app.ok("a:member", "/v1/list-tickets", q="client")["items"]
        assert {t["priority"] for t in urgent} == {"normal", "urgent"}
