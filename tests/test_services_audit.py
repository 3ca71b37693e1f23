"""The generated `audit` services end to end, on SQLite and PostgreSQL: the trail listed,
filtered and searched by the roles that may see it; exports requested by owners and written
by the worker's `runAuditExport`; the settings; retention enforced by `purgeAuditEntries`."""

from __future__ import annotations

import csv
import datetime
import importlib
import io
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse
from urllib.request import url2pathname

import pytest

from tests.databases import temporary_database
from tests.test_services_identity import (
    APP,
    App,
    error,
    join,
    running_app,
    sign_up,
)
from tests.test_services_identity import project as project  # the fixture


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def app(request: pytest.FixtureRequest, project: Path,
        tmp_path_factory: pytest.TempPathFactory) -> Iterator[App]:
    with temporary_database(request.param, tmp_path_factory.mktemp(request.param),
                            "audit") as url:
        yield from running_app(project, url)


def run_worker(app: App) -> int:
    """One pass of the generated worker, in process: how many runs it ran."""
    worker = importlib.import_module(f"{APP}.jobs.worker")
    return int(worker.run_once())


def test_the_trail_is_for_owners_and_admins(app: App) -> None:
    ada = sign_up(app)
    admin, member = join(app, ada, "admin"), join(app, ada, "member")
    entries = app.get(admin["token"], "/v1/list-audit-entries").json()
    events = [e["event"] for e in entries["items"]]
    assert "org.created v1" in events and "member.joined v1" in events
    assert all(e["org"] == ada["org"] for e in entries["items"])
    ats = [e["at"] for e in entries["items"]]
    assert ats == sorted(ats, reverse=True)  # newest first
    assert app.get(member["token"], "/v1/list-audit-entries").status_code == 403
    invitations = app.get(ada["token"], "/v1/list-audit-entries",
                          targetType="Invitation").json()
    assert invitations["total"] == 4 and {e["targetType"] for e in invitations["items"]} == {
        "Invitation"}
    paged = app.get(ada["token"], "/v1/list-audit-entries", size=1, page=2).json()
    assert paged["total"] == entries["total"] and len(paged["items"]) == 1
    one = invitations["items"][0]
    got = app.get(admin["token"], "/v1/get-audit-entry", id=one["id"])
    assert got.status_code == 200 and got.json() == one
    stranger = sign_up(app)
    assert app.get(stranger["token"], "/v1/get-audit-entry", id=one["id"]).status_code == 404
    assert all(e["org"] == stranger["org"] for e in
               app.get(stranger["token"], "/v1/list-audit-entries").json()["items"])


def test_search_filters_by_actor_event_and_time(app: App) -> None:
    ada = sign_up(app)
    bob = join(app, ada, "admin")
    by_bob = app.get(ada["token"], "/v1/search-audit-entries", actorId=bob["user"]).json()
    assert by_bob["total"] >= 1 and {e["actorId"] for e in by_bob["items"]} == {bob["user"]}
    joined = app.get(ada["token"], "/v1/search-audit-entries", event="member.joined v1",
                     actorKind="user").json()
    assert joined["total"] == 1
    now = datetime.datetime.now(datetime.UTC)
    later = app.get(ada["token"], "/v1/search-audit-entries",
                    **{"from": (now + datetime.timedelta(hours=1)).isoformat()}).json()
    assert later["total"] == 0
    window = app.get(ada["token"], "/v1/search-audit-entries",
                     **{"from": (now - datetime.timedelta(hours=1)).isoformat(),
                        "to": (now + datetime.timedelta(hours=1)).isoformat()}).json()
    assert window["total"] == app.get(ada["token"], "/v1/list-audit-entries").json()["total"]
    bad = app.get(ada["token"], "/v1/search-audit-entries",
                  **{"from": now.isoformat(), "to": now.isoformat()})
    assert bad.status_code == 422 and error(bad) == "BadRange"


def test_an_export_is_written_by_the_worker(app: App, tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AUDIT_EXPORT_DIR", str(tmp_path))
    ada = sign_up(app)
    admin = join(app, ada, "admin")
    now = datetime.datetime.now(datetime.UTC)
    window = {"from": (now - datetime.timedelta(hours=1)).isoformat(),
              "to": (now + datetime.timedelta(hours=1)).isoformat()}
    assert app.post(admin["token"], "/v1/export-audit-entries", window).status_code == 403
    too_long = {"from": (now - datetime.timedelta(days=400)).isoformat(), "to": window["to"]}
    refused = app.post(ada["token"], "/v1/export-audit-entries", too_long)
    assert refused.status_code == 422 and error(refused) == "RangeTooLarge"
    backwards = app.post(ada["token"], "/v1/export-audit-entries",
                         {"from": window["to"], "to": window["from"]})
    assert error(backwards) == "BadRange"
    requested = app.post(ada["token"], "/v1/export-audit-entries", window)
    assert requested.status_code == 200, requested.text
    export = requested.json()
    assert export["status"] == "requested" and export["format"] == "csv"
    models = app.modules["models"]
    queued = app.rows("Job", models.Job.type == "runAuditExport")
    assert [j.payload for j in queued if j.payload["export"] == export["id"]]
    assert run_worker(app) >= 1
    ready = app.get(ada["token"], "/v1/get-audit-export", id=export["id"]).json()
    assert ready["status"] == "ready" and ready["entries"] >= 2
    path = Path(url2pathname(urlparse(ready["location"]).path))
    rows = list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))))
    assert len(rows) == ready["entries"] and "ip" in rows[0]
    assert {r["event"] for r in rows} >= {"org.created v1", "member.joined v1"}
    [event] = [e for e in app.events("audit.export_ready")
               if e["payload"]["export"] == export["id"]]
    assert event["orgId"] == ada["org"] and event["actor"]["kind"] == "system"
    jsonl = app.post(ada["token"], "/v1/export-audit-entries",
                     {**window, "format": "jsonl", "event": "member.joined v1"}).json()
    run_worker(app)
    written = app.get(ada["token"], "/v1/get-audit-export", id=jsonl["id"]).json()
    assert written["entries"] == 1
    lines = Path(url2pathname(urlparse(written["location"]).path)).read_text().splitlines()
    assert len(lines) == 1 and "member.joined v1" in lines[0]


def test_settings_and_retention(app: App) -> None:
    ada, other = sign_up(app), sign_up(app)
    admin = join(app, ada, "admin")
    defaults = app.get(admin["token"], "/v1/get-audit-settings")
    assert defaults.status_code == 200, defaults.text
    assert defaults.json()["privacy"] == "masked"
    assert defaults.json()["retention"] in ("P1Y", "P365D")  # pydantic's ISO 8601
    short = app.post(ada["token"], "/v1/update-audit-settings",
                     {"retention": "P10D", "privacy": "full"})
    assert short.status_code == 422 and error(short) == "RetentionTooShort"
    assert app.post(admin["token"], "/v1/update-audit-settings",
                    {"retention": "P60D", "privacy": "full"}).status_code == 403
    saved = app.post(ada["token"], "/v1/update-audit-settings",
                     {"retention": "P60D", "privacy": "omitted"})
    assert saved.status_code == 200 and saved.json()["retention"] in ("P2M", "P60D")
    assert saved.json()["id"] == defaults.json()["id"]
    assert [e for e in app.events("audit.settings_changed")
            if e["payload"]["settings"] == saved.json()["id"]]
    models, enums = app.modules["models"], app.modules["enums"]
    now = datetime.datetime.now(datetime.UTC)
    aged = {(ada["org"], 90): "gone", (ada["org"], 30): "kept", (other["org"], 200): "kept",
            (other["org"], 400): "gone"}
    marks = {}
    with app.session() as db:
        for (org, days), fate in aged.items():
            mark = f"old-{uuid.uuid4().hex[:8]}"
            marks[mark] = fate
            db.add(models.AuditEntry(
                org_id=uuid.UUID(org), actor_kind=enums.ActorKind.system, actor_id="test",
                event="test.aged v1", target_type="Test", target_id=mark, diff={},
                at=now - datetime.timedelta(days=days)))
        db.commit()
    with app.session() as db:
        queue = importlib.import_module(f"{APP}.jobs.queue")
        queue.enqueue(db, "purgeAuditEntries", {})
        db.commit()
    run_worker(app)
    left = {e.target_id for e in app.rows("AuditEntry", models.AuditEntry.target_type == "Test")}
    assert {m for m, fate in marks.items() if fate == "kept"} <= left
    assert not {m for m, fate in marks.items() if fate == "gone"} & left
    purges = app.rows("Job", models.Job.type == "purgeAuditEntries")
    assert purges and all(str(j.status) == "succeeded" for j in purges)
