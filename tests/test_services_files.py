"""The generated `files` service end to end, on SQLite and PostgreSQL: announce an upload,
send its contents (raw body), complete it, list a record's attachments, download the same
bytes through a signed link, delete; media type lies (415), oversize (413), unsafe names,
other organisations (404), roles the `attachments` rules refuse (403), and retention purged
by the worker's `purgeExpiredFiles` (the generated implementation, found before handlers).
Fixtures (a small workspace, the running app) live here; `test_services_learning.py`
reuses them."""

from __future__ import annotations

import hashlib
import importlib
import json
import os
import subprocess
import sys
import urllib.parse
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from openapi_spec_validator import validate

from contractspec.analysis import analyze_workspace
from contractspec.generators.pipeline import generate
from tests.databases import temporary_database

APP = "notes"
SPEC = """\
module notes

use identity
use files
use learning

entity Note {
  id: uuid @id
  org: ref identity.Org @tenant
  title: string(1..200)
  author: ref identity.User
}

permission write_notes "Attach files to notes"

grant owner, admin: write_notes

policy Note {
  read: authenticated
  create: authenticated
  delete: admin or self.author == actor
}

command createNote v1 {
  input {
    title: string(1..200)
  }
  output Note
  policy authenticated
  emits note.created
}

event note.created v1 {
  payload {
    note: ref Note
    title: string
    by: ref identity.User
  }
  retention 30d
}

attachments on Note {
  kinds "image/png", "application/pdf", "text/plain"
  max 1KB
  upload: write_notes
  view: authenticated
  delete: admin or self.author == actor
  retention 30d
}

track onboarding "Onboarding" {
  unit basics "The basics" {
    step firstNote "Write a note" {
      completes on note.created
    }
    step bigNote "Write the big note" {
      completes on note.created when title == "big"
    }
  }
}
"""
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 24
ZIP = b"PK\x03\x04" + b"\x00" * 24


@dataclass
class App:
    client: TestClient
    modules: dict[str, ModuleType]
    tokens: dict[str, str]  # "<org>:<role>" -> token
    users: dict[str, str]  # "<org>:<role>" -> user id
    storage: Path

    def call(self, who: str, method: str, path: str, **kwargs: Any) -> Any:
        headers = {"Authorization": f"Bearer {self.tokens[who]}", **kwargs.pop("headers", {})}
        return self.client.request(method, path, headers=headers, **kwargs)


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    workspace = tmp_path_factory.mktemp("notes_ws")
    (workspace / "cspec.toml").write_text(
        f'[workspace]\nname = "{APP}"\nspecs = ["spec"]\n', encoding="utf-8")
    (workspace / "spec").mkdir()
    (workspace / "spec" / "notes.cspec").write_text(SPEC, encoding="utf-8")
    analysis = analyze_workspace([workspace])
    assert not analysis.errors, analysis.diagnostics
    root = tmp_path_factory.mktemp("notes_app")
    for path, content in generate(analysis).files.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_bytes(content)
    return root


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def app(request: pytest.FixtureRequest, project: Path,
        tmp_path_factory: pytest.TempPathFactory) -> Iterator[App]:
    with temporary_database(request.param, tmp_path_factory.mktemp(request.param),
                            "files") as url:
        yield from _app(project, url, tmp_path_factory.mktemp("storage"))


def _app(project: Path, url: str, storage: Path) -> Iterator[App]:
    env = {**os.environ, "DATABASE_URL": url}
    migrated = subprocess.run([sys.executable, "-m", "alembic", "-c", f"{APP}/alembic.ini",
                               "upgrade", "head"], cwd=project, env=env, capture_output=True,
                              text=True, check=False)
    assert migrated.returncode == 0, migrated.stderr
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DATABASE_URL", url)
        mp.setenv("FILES_DIR", str(storage))
        mp.setenv("FILES_PUBLIC_URL", "http://testserver")
        mp.syspath_prepend(str(project))
        modules = {name: importlib.import_module(f"{APP}.{path}") for name, path in (
            ("main", "main"), ("session", "db.session"), ("dev", "dev"), ("models", "db.models"),
            ("auth", "auth"), ("queue", "jobs.queue"), ("worker", "jobs.worker"))}
        tokens, users = {}, {}
        with modules["session"].SessionLocal() as db:
            for org in ("a", "b"):
                for role in ("owner", "admin", "member"):
                    key = f"{org}:{role}"
                    tokens[key] = modules["dev"].create_token(
                        db, f"Org {org}", f"{role}@{org}.example", role, role.title())
                    users[key] = str(modules["auth"].actor_for_token(db, tokens[key]).user_id)
        with TestClient(modules["main"].app) as client:
            yield App(client, modules, tokens, users, storage)
        modules["session"].engine.dispose()
        for name in [m for m in sys.modules if m == APP or m.startswith(f"{APP}.")]:
            del sys.modules[name]


# ---- helpers ------------------------------------------------------------------------------


def note(app: App, who: str = "a:owner", title: str = "A note") -> str:
    response = app.call(who, "POST", "/v1/create-note", json={"title": title})
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def start(app: App, note_id: str, who: str = "a:owner", name: str = "report.pdf",
          mime: str = "text/plain", size: int = 5) -> Any:
    return app.call(who, "POST", "/v1/start-upload", json={
        "name": name, "mimeType": mime, "size": size, "entityType": "notes.Note",
        "entityId": note_id})


def upload(app: App, note_id: str, data: bytes, who: str = "a:owner",
           name: str = "hello.txt", mime: str = "text/plain") -> dict[str, Any]:
    """The whole flow: announce, send the contents, complete; the stored file."""
    started = start(app, note_id, who, name, mime, len(data))
    assert started.status_code == 200, started.text
    file_id = started.json()["id"]
    sent = app.call(who, "PUT", f"/v1/files/{file_id}/content", content=data)
    assert sent.status_code == 200, sent.text
    done = app.call(who, "POST", "/v1/complete-upload", json={
        "file": file_id, "checksum": hashlib.sha256(data).hexdigest()})
    assert done.status_code == 200, done.text
    assert done.json()["status"] == "stored"
    return dict(done.json())


def download(app: App, who: str, file_id: str) -> Any:
    link = app.call(who, "GET", "/v1/get-download-url", params={"file": file_id})
    assert link.status_code == 200, link.text
    parts = urllib.parse.urlsplit(link.json())
    assert parts.netloc == "testserver"
    return app.client.get(f"{parts.path}?{parts.query}")


def attachments(app: App, who: str, note_id: str) -> Any:
    return app.call(who, "GET", "/v1/list-attachments",
                    params={"entityType": "notes.Note", "entityId": note_id})


# ---- the main flow --------------------------------------------------------------------------


def test_upload_list_download_delete(app: App) -> None:
    note_id = note(app)
    data = "héllo, wörld\n".encode()
    file = upload(app, note_id, data)
    assert file["size"] == len(data) and file["mimeType"] == "text/plain"
    listed = attachments(app, "a:member", note_id)
    assert listed.status_code == 200, listed.text
    assert [a["file"] for a in listed.json()["items"]] == [file["id"]]
    got = download(app, "a:member", file["id"])
    assert got.status_code == 200 and got.content == data
    assert got.headers["content-type"].startswith("text/plain")
    assert got.headers["x-content-type-options"] == "nosniff"
    assert 'attachment; filename="hello.txt"' in got.headers["content-disposition"]
    link = app.call("a:owner", "GET", "/v1/get-download-url", params={"file": file["id"]})
    deleted = app.call("a:owner", "POST", "/v1/delete-file", json={"id": file["id"]})
    assert deleted.status_code == 204, deleted.text
    assert attachments(app, "a:owner", note_id).json()["items"] == []
    parts = urllib.parse.urlsplit(link.json())
    assert app.client.get(f"{parts.path}?{parts.query}").status_code == 404  # contents gone
    again = app.call("a:owner", "GET", "/v1/get-download-url", params={"file": file["id"]})
    assert again.status_code == 404


def test_a_tampered_or_unsigned_link_is_refused(app: App) -> None:
    file = upload(app, note(app), b"secret\n")
    link = app.call("a:owner", "GET", "/v1/get-download-url", params={"file": file["id"]})
    parts = urllib.parse.urlsplit(link.json())
    query = dict(urllib.parse.parse_qsl(parts.query))
    query["name"] = "other.txt"
    tampered = app.client.get(parts.path, params=query)
    assert tampered.status_code == 403
    query["expires"] = "1"
    assert app.client.get(parts.path, params=query).status_code == 403


def test_the_file_name_is_sanitised(app: App) -> None:
    note_id = note(app)
    names = ("../../etc/passwd", "..\\..\\boot.ini", "a\x01b\x1f\x7fc\u202e.txt",
             "x" * 250 + ".txt")
    for name in names:
        response = start(app, note_id, name=name)
        assert response.status_code == 200, response.text
        stored = response.json()["name"]
        assert "/" not in stored and "\\" not in stored and ".." not in stored
        assert all(ord(c) >= 32 and ord(c) != 127 for c in stored) and "\u202e" not in stored
        assert 0 < len(stored) <= 200
        assert response.json()["location"] == \
            f"{response.json()['org'].replace('-', '')}/{response.json()['id'].replace('-', '')}"
    assert start(app, note_id, name="../../etc/passwd").json()["name"] == "passwd"
    assert start(app, note_id, name="a\x00b.txt").status_code == 422  # NUL: refused


# ---- refused uploads ------------------------------------------------------------------------


def test_a_media_type_lie_is_refused(app: App) -> None:
    note_id = note(app)
    started = start(app, note_id, mime="image/png", size=len(ZIP))
    assert started.status_code == 200, started.text
    sent = app.call("a:owner", "PUT", f"/v1/files/{started.json()['id']}/content", content=ZIP)
    assert sent.status_code == 415, sent.text
    assert sent.json()["error"]["code"] == "KindNotAllowed"
    binary = start(app, note_id, mime="text/plain", size=len(PNG))  # a PNG sent as text
    refused = app.call("a:owner", "PUT", f"/v1/files/{binary.json()['id']}/content",
                       content=PNG)
    assert refused.status_code == 415
    png = start(app, note_id, name="pic.png", mime="image/png", size=len(PNG))
    accepted = app.call("a:owner", "PUT", f"/v1/files/{png.json()['id']}/content", content=PNG)
    assert accepted.status_code == 200, accepted.text
    kind = start(app, note_id, mime="application/zip", size=10)  # not in `kinds`
    assert kind.status_code == 415, kind.text


def test_oversize_is_refused(app: App) -> None:
    note_id = note(app)
    announced = start(app, note_id, size=1025)  # `max 1KB`
    assert announced.status_code == 413, announced.text
    assert announced.json()["error"]["code"] == "TooLarge"
    small = start(app, note_id, size=4)
    sent = app.call("a:owner", "PUT", f"/v1/files/{small.json()['id']}/content",
                    content=b"more than four bytes")
    assert sent.status_code == 413, sent.text
    huge = app.call("a:owner", "PUT", f"/v1/files/{small.json()['id']}/content",
                    content=b"x" * (20 * 1024 * 1024))
    assert huge.status_code == 413
    assert huge.json()["error"]["code"] == "TooLarge"  # the files limit, not MAX_BODY_BYTES
    short = app.call("a:owner", "PUT", f"/v1/files/{small.json()['id']}/content",
                     content=b"ab")
    assert short.status_code == 422
    wrong = app.call("a:owner", "PUT", f"/v1/files/{small.json()['id']}/content",
                     content=b"abcd")
    assert wrong.status_code == 200
    mismatch = app.call("a:owner", "POST", "/v1/complete-upload", json={
        "file": small.json()["id"], "checksum": "0" * 64})
    assert mismatch.status_code == 422


# ---- who may -------------------------------------------------------------------------------


def test_another_organisation_gets_404(app: App) -> None:
    note_id = note(app)
    file = upload(app, note_id, b"private\n")
    assert start(app, note_id, who="b:owner").status_code == 404
    assert attachments(app, "b:owner", note_id).status_code == 404
    for method, path, kwargs in (
            ("GET", "/v1/get-download-url", {"params": {"file": file["id"]}}),
            ("POST", "/v1/delete-file", {"json": {"id": file["id"]}}),
            ("PUT", f"/v1/files/{file['id']}/content", {"content": b"x"})):
        response = app.call("b:owner", method, path, **kwargs)
        assert response.status_code == 404, (path, response.text)
    attachment = attachments(app, "a:owner", note_id).json()["items"][0]["id"]
    detached = app.call("b:owner", "POST", "/v1/detach-file", json={"attachment": attachment})
    assert detached.status_code == 404
    assert download(app, "a:owner", file["id"]).content == b"private\n"


def test_the_attachments_rules_decide(app: App) -> None:
    note_id = note(app)
    refused = start(app, note_id, who="a:member")  # upload: write_notes
    assert refused.status_code == 403, refused.text
    assert refused.json()["error"]["code"] == "UploadNotAllowed"
    file = upload(app, note_id, b"kept\n")
    deleted = app.call("a:member", "POST", "/v1/delete-file", json={"id": file["id"]})
    assert deleted.status_code == 403  # delete: admin or self.author == actor
    attachment = attachments(app, "a:owner", note_id).json()["items"][0]["id"]
    detached = app.call("a:member", "POST", "/v1/detach-file", json={"attachment": attachment})
    assert detached.status_code == 403
    not_owner = upload(app, note_id, b"x\n")
    put = app.call("a:admin", "PUT", f"/v1/files/{not_owner['id']}/content", content=b"x\n")
    assert put.status_code in (403, 409)
    assert app.call("a:admin", "POST", "/v1/detach-file",
                    json={"attachment": attachment}).status_code == 204
    assert [a["file"] for a in attachments(app, "a:owner", note_id).json()["items"]] == \
        [not_owner["id"]]
    unknown = app.call("a:owner", "GET", "/v1/list-attachments",
                       params={"entityType": "notes.Nope", "entityId": note_id})
    assert unknown.status_code == 422


# ---- retention ------------------------------------------------------------------------------


def test_the_retention_job_purges_expired_files(app: App) -> None:
    note_id = note(app)
    kept = upload(app, note_id, b"kept\n")
    expired = upload(app, note_id, b"expired\n")
    models, session = app.modules["models"], app.modules["session"]
    with session.SessionLocal() as db:
        db.execute(sa.update(models.File).where(models.File.id == _uuid(expired["id"])).values(
            expires_at=sa.func.now() - sa.text("INTERVAL '1 day'")
            if db.bind.dialect.name == "postgresql" else sa.func.datetime("now", "-1 day")))
        app.modules["queue"].enqueue(db, "purgeExpiredFiles", {})
        db.commit()
    assert app.modules["worker"].run_once() >= 1  # the uploads' `scanFile` runs too
    with session.SessionLocal() as db:
        jobs = db.scalars(sa.select(models.Job).where(
            models.Job.type.in_(["purgeExpiredFiles", "scanFile"]))).all()
        assert {str(j.status) for j in jobs} == {"succeeded"}, [j.last_error for j in jobs]
        assert "purgeExpiredFiles" in {j.type for j in jobs}
        statuses = {str(f.id): str(f.status) for f in db.scalars(sa.select(models.File).where(
            models.File.id.in_([_uuid(kept["id"]), _uuid(expired["id"])])))}
    assert statuses == {kept["id"]: "stored", expired["id"]: "deleted"}
    assert not (app.storage / expired["location"]).exists()
    assert (app.storage / kept["location"]).read_bytes() == b"kept\n"
    assert [a["file"] for a in attachments(app, "a:owner", note_id).json()["items"]] == \
        [kept["id"]]


def _uuid(text: str) -> uuid.UUID:
    return uuid.UUID(text)


# ---- the generated code -----------------------------------------------------------------------


def test_generated_code_passes_ruff_and_mypy(project: Path) -> None:
    ruff = subprocess.run([sys.executable, "-m", "ruff", "check", "--isolated", "--select",
                           "E,F,W,I,B,UP", "--line-length", "100", "--target-version", "py311",
                           APP], cwd=project, capture_output=True, text=True)
    assert ruff.returncode == 0, ruff.stdout + ruff.stderr
    mypy = subprocess.run([sys.executable, "-m", "mypy", "--strict", "--no-incremental",
                           "--cache-dir", os.devnull, APP],
                          cwd=project, capture_output=True, text=True)
    assert mypy.returncode == 0, mypy.stdout + mypy.stderr


def test_the_content_routes_are_documented_as_served(app: App, project: Path) -> None:
    """`openapi.json` documents the raw-body upload and the signed download exactly as the
    app serves them (a binary body and response, every error status with its body)."""
    committed = json.loads((project / "openapi.json").read_text(encoding="utf-8"))
    served = app.client.app.openapi()  # type: ignore[attr-defined]
    validate(committed)
    for path, method in (("/v1/files/{file_id}/content", "put"), ("/v1/files/download", "get")):
        assert committed["paths"][path] == served["paths"][path]
        assert "ErrorBody" in json.dumps(committed["paths"][path][method]["responses"]["404"])
    upload = committed["paths"]["/v1/files/{file_id}/content"]["put"]
    assert upload["requestBody"]["content"] == {
        "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}
    assert sorted(upload["responses"]) == ["200", "401", "403", "404", "409", "413", "415",
                                           "422"]


def test_schemathesis_over_the_content_routes(app: App) -> None:
    """Generated calls to the two routes, as the document describes them: never a 5xx, every
    status and body as documented."""
    import schemathesis
    from hypothesis import HealthCheck, Phase, given, settings
    from schemathesis import checks as st_checks

    schema = schemathesis.openapi.from_dict(app.client.app.openapi())  # type: ignore[attr-defined]
    schema.app = app.client.app
    checks = [st_checks.not_a_server_error, st_checks.status_code_conformance,
              st_checks.content_type_conformance, st_checks.response_schema_conformance]
    for path, method in (("/v1/files/{file_id}/content", "PUT"), ("/v1/files/download", "GET")):
        operation = schema[path][method]

        @settings(max_examples=25, deadline=None, database=None,
                  phases=[Phase.explicit, Phase.generate],
                  suppress_health_check=list(HealthCheck))
        @given(case=operation.as_strategy())
        def run(case: Any) -> None:
            case.call_and_validate(headers={"Authorization": f"Bearer {app.tokens['a:owner']}"},
                                   checks=checks)

        run()


# ---- documents ---------------------------------------------------------------------------------


def test_documents_keep_numbered_versions(app: App) -> None:
    """`createDocument` makes the file version 1; `addDocumentVersion` numbers the next one
    and makes it current; both need a stored file the actor may view."""
    note_id = note(app)
    first, second = (upload(app, note_id, data) for data in (b"one\n", b"two\n"))
    created = app.call("a:member", "POST", "/v1/create-document",
                       json={"title": "Contract", "file": first["id"]})
    assert created.status_code == 200, created.text
    document = created.json()
    assert (document["current"], document["createdBy"]) == (first["id"], app.users["a:member"])
    added = app.call("a:member", "POST", "/v1/add-document-version",
                     json={"document": document["id"], "file": second["id"], "note": "signed"})
    assert added.status_code == 200, added.text
    assert (added.json()["number"], added.json()["file"], added.json()["note"]) == (
        2, second["id"], "signed")
    models = app.modules["models"]
    with app.modules["session"].SessionLocal() as db:
        versions = db.scalars(sa.select(models.DocumentVersion).where(
            models.DocumentVersion.document_id == uuid.UUID(document["id"]))
            .order_by(models.DocumentVersion.number)).all()
        assert [(v.number, str(v.file_id)) for v in versions] == [(1, first["id"]),
                                                                  (2, second["id"])]
        assert str(db.get(models.Document, uuid.UUID(document["id"])).current_id) == second["id"]


def test_document_versions_are_refused_across_organisations_and_before_upload(app: App) -> None:
    note_id = note(app)
    stored = upload(app, note_id, b"one\n")
    document = app.call("a:owner", "POST", "/v1/create-document",
                        json={"title": "Plan", "file": stored["id"]}).json()
    theirs = upload(app, note(app, "b:owner"), b"theirs\n", who="b:owner")
    pending = start(app, note_id, size=3).json()

    def add(who: str, file_id: str, document_id: str = document["id"]) -> Any:
        return app.call(who, "POST", "/v1/add-document-version",
                        json={"document": document_id, "file": file_id})

    other_org = add("b:owner", theirs["id"])
    assert other_org.status_code == 404
    assert other_org.json()["error"]["code"] == "DocumentNotFound"
    assert add("a:owner", theirs["id"]).status_code == 404  # another organisation's file
    assert add("a:owner", pending["id"]).status_code == 409  # not uploaded yet
    assert add("a:owner", stored["id"], str(uuid.uuid4())).status_code == 404
    refused = app.call("a:owner", "POST", "/v1/create-document",
                       json={"title": "Theirs", "file": theirs["id"]})
    assert refused.status_code == 404
