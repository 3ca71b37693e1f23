"""The `api` target: golden output, determinism, lint and types of the generated code, the
committed openapi.json (valid OpenAPI 3.1, the same in substance as what the app serves),
and the generated app end to end on SQLite with FastAPI's TestClient.

Set CSPEC_UPDATE_GOLDEN=1 to rewrite the golden files under tests/golden/api/."""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from openapi_spec_validator import validate

from contractspec.analysis import analyze_workspace
from contractspec.generators.api import ApiGenerator
from contractspec.generators.api.model import error_status
from contractspec.generators.base import (
    GeneratorError,
    GeneratorFailure,
    GeneratorOptions,
    builtin_registry,
    has_header,
    run_generators,
)
from contractspec.generators.db import DbGenerator
from contractspec.generators.events import EventsGenerator
from contractspec.generators.project import ProjectGenerator
from contractspec.ir import nodes as ir
from tests.conftest import DATA, analyse
from tests.golden import assert_golden

WORKSPACE = DATA / "gen" / "api"
GOLDEN = Path(__file__).resolve().parent / "golden" / "api"
APP = "tracker"
RUFF_RULES = "E,F,W,I,B,UP,SIM,RUF"
HANDLER = '''
from tracker.api import errors, schemas
from tracker.api.context import Context
from tracker.db import models


def archive_project_v1(ctx: Context, data: schemas.ArchiveProjectV1Input) -> schemas.Project:
    row = ctx.session.get(models.Project, data.id)
    if row is None:
        raise errors.ProjectNotFound()
    if row.archived:
        raise errors.AlreadyArchived(details={"id": str(row.id)})
    row.archived = True
    ctx.commit()
    return schemas.Project.from_row(row)
'''


@pytest.fixture(scope="module")
def program() -> ir.Program:
    analysis = analyze_workspace([WORKSPACE])
    assert not analysis.errors
    return analysis.program


@pytest.fixture(scope="module")
def files(program: ir.Program) -> dict[str, bytes]:
    return ApiGenerator().generate(program, GeneratorOptions(app=APP))


@pytest.fixture(scope="module")
def project(program: ir.Program, files: dict[str, bytes],
            tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The whole generated app on disk (api, db and project targets), with a handler."""
    root = tmp_path_factory.mktemp("api_app")
    options = GeneratorOptions(app=APP)
    every = {**files, **DbGenerator().generate(program, options),
             **EventsGenerator().generate(program, options)}
    every.update(ProjectGenerator().generate(
        program, ProjectGenerator.options_model.model_validate({"app": APP})))
    for path, content in every.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_bytes(content)
    handler = root / APP / "handlers" / "tracker.py"
    handler.write_text(handler.read_text() + HANDLER)
    return root


# ---- golden files, determinism, registration --------------------------------------------------


def test_golden(files: dict[str, bytes]) -> None:
    assert_golden(files, GOLDEN)


def test_layout_and_headers(files: dict[str, bytes]) -> None:
    assert sorted(files) == ["openapi.json", *(f"{APP}/{p}" for p in (
        "api/__init__.py", "api/context.py", "api/deps.py", "api/errors.py", "api/routes.py",
        "api/schemas.py", "audit.py", "auth.py", "dev.py", "events/outbox.py", "main.py",
        "policies.py", "services/__init__.py", "services/identity.py"))]
    for path, content in files.items():
        assert b"contractspec" not in content, path
        if path.endswith(".py"):
            assert has_header(content), path


def test_deterministic_across_runs_and_hash_seeds(program: ir.Program,
                                                 files: dict[str, bytes]) -> None:
    assert ApiGenerator().generate(program, GeneratorOptions(app=APP)) == files
    script = (
        "import hashlib\n"
        "from pathlib import Path\n"
        "from contractspec.analysis import analyze_workspace\n"
        "from contractspec.generators.base import GeneratorOptions\n"
        "from contractspec.generators.api import ApiGenerator\n"
        f"program = analyze_workspace([Path({str(WORKSPACE)!r})]).program\n"
        f"files = ApiGenerator().generate(program, GeneratorOptions(app={APP!r}))\n"
        "print(hashlib.sha256(b''.join(p.encode() + c for p, c in files.items())).hexdigest())\n"
    )
    digests = {subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                              env={**os.environ, "PYTHONHASHSEED": seed},
                              check=True).stdout.strip() for seed in ("1", "4242")}
    assert len(digests) == 1


def test_registered() -> None:
    assert isinstance(builtin_registry().targets()["api"], ApiGenerator)


def _run_api(text: str) -> None:
    analysis = analyse(text)
    assert not analysis.errors, [d.message for d in analysis.errors]
    run_generators(analysis.program, [(ApiGenerator(), GeneratorOptions(app="x"))])


def test_a_refused_spec_is_a_generator_error_not_a_crash() -> None:
    """A spec the target cannot serve is refused with a message (exit 2), never reported
    as a bug in the generator (GeneratorFailure, exit 3)."""
    shadow = ("module identity\n\nrole owner \"Owner\"\n\nentity Thing {\n  id: uuid @id\n}\n"
              "\npermission see_things \"See\"\n\ngrant owner: see_things\n\n"
              "policy Thing {\n  read: see_things\n}\n\nquery listThings v1 {\n"
              "  output page<Thing>\n  policy see_things\n}\n")
    with pytest.raises(GeneratorError) as refused:
        _run_api(shadow)
    assert not isinstance(refused.value, GeneratorFailure)
    assert "hides the standard library" in str(refused.value)
    unbuildable = (WORKSPACE / "spec" / "tracker.cspec").read_text().replace(
        "use identity\n", "use identity\nuse audit\n")
    unbuildable += ("\nevent project.closed v1 {\n  payload {\n    reason: string\n  }\n}\n"
                    "\nworkflow ProjectFlow on Project.priority {\n  initial normal\n"
                    "  transition raise: normal -> high by manage_projects "
                    "emits project.closed\n  final high\n}\n")
    with pytest.raises(GeneratorError) as refused:
        _run_api(unbuildable)
    assert not isinstance(refused.value, GeneratorFailure)
    assert "payload cannot be built" in str(refused.value)


def test_error_status_heuristics() -> None:
    def status(name: str, code: int | None = None) -> int:
        span = analyse("module x\n").program.modules[0].headers[0].span
        return error_status(ir.ErrorDecl(name=name, name_span=span, span=span, status=code))

    assert [status("StageNotFound"), status("UserMissing"), status("DuplicateTitle"),
            status("AlreadyExists"), status("EditConflict"), status("NotAllowed"),
            status("TooLate"), status("TooLate", 410)] == [404, 404, 409, 409, 409, 403, 400, 410]


def test_routes_naming_rule(files: dict[str, bytes]) -> None:
    document = json.loads(files["openapi.json"])
    routes = {(path, method, op["tags"][0]) for path, item in document["paths"].items()
              for method, op in item.items()}
    assert {(path, method) for path, method, tag in routes if tag == "tracker"} == {
        ("/v1/create-project", "post"), ("/v2/create-project", "post"),
        ("/v1/get-project", "get"), ("/v1/update-project", "post"),
        ("/v1/delete-project", "post"), ("/v1/list-projects", "get"),
        ("/v1/create-issue", "post"), ("/v1/archive-project", "post")}
    # the standard library's: plain CRUD, and the identity service's
    assert {("/v1/create-org", "post", "identity"), ("/v1/list-invitations", "get", "identity"),
            ("/v1/sign-up", "post", "identity")} <= routes


def test_secret_fields_never_in_read_models(files: dict[str, bytes]) -> None:
    document = json.loads(files["openapi.json"])
    assert "token" not in document["components"]["schemas"]["Project"]["properties"]
    assert "token" in document["components"]["schemas"]["CreateProjectV2Input"]["properties"]


# ---- the generated code: ruff, mypy --strict, OpenAPI ------------------------------------------


def test_generated_code_passes_ruff(project: Path) -> None:
    for extra in ([], ["--select", RUFF_RULES, "--line-length", "100",
                       "--target-version", "py311"]):
        out = subprocess.run([sys.executable, "-m", "ruff", "check", "--isolated", *extra,
                              f"{APP}/api", f"{APP}/main.py"],
                             cwd=project, capture_output=True, text=True)
        assert out.returncode == 0, out.stdout + out.stderr


def test_generated_code_passes_mypy_strict(project: Path) -> None:
    out = subprocess.run([sys.executable, "-m", "mypy", "--strict", "--no-incremental",
                          "--cache-dir", os.devnull, APP],
                         cwd=project, capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr


def test_openapi_is_valid_3_1(files: dict[str, bytes]) -> None:
    document = json.loads(files["openapi.json"])
    assert document["openapi"] == "3.1.0"
    validate(document)


# ---- the app on SQLite --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def client(project: Path) -> Iterator[tuple[TestClient, Any]]:
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DATABASE_URL", f"sqlite:///{project / 'app.db'}")
        mp.syspath_prepend(str(project))
        main = importlib.import_module(f"{APP}.main")
        base = importlib.import_module(f"{APP}.db.base")
        session = importlib.import_module(f"{APP}.db.session")
        base.Base.metadata.create_all(session.engine)
        dev = importlib.import_module(f"{APP}.dev")
        with session.SessionLocal() as db:
            token = dev.create_token(db, "Acme", "ada@example.com", "owner", "Ada")
        with TestClient(main.app) as test_client:
            test_client.headers["Authorization"] = f"Bearer {token}"
            yield test_client, main.app
        session.engine.dispose()
        for name in [m for m in sys.modules if m == APP or m.startswith(f"{APP}.")]:
            del sys.modules[name]


def _shape(document: dict[str, Any]) -> dict[str, Any]:
    """What must agree: paths and methods with their parameters, request and response
    schemas, and each component schema's name, properties and required fields."""
    ops = {}
    for path, item in document["paths"].items():
        for method, op in item.items():
            body = op.get("requestBody", {}).get("content", {}).get("application/json", {})
            ops[(path, method)] = (
                op["operationId"],
                sorted((p["name"], p["in"], p.get("required", False))
                       for p in op.get("parameters", [])),
                body.get("schema"),
                {s: r.get("content", {}).get("application/json", {}).get("schema")
                 for s, r in op["responses"].items()})
    schemas = {name: (sorted(s.get("properties", {})), sorted(s.get("required", [])),
                      s.get("enum"))
               for name, s in document["components"]["schemas"].items()}
    return {"ops": ops, "schemas": schemas}


def test_committed_openapi_equals_served(files: dict[str, bytes],
                                         client: tuple[TestClient, Any]) -> None:
    served = client[1].openapi()
    committed = json.loads(files["openapi.json"])
    validate(served)
    assert _shape(committed) == _shape(served)


def _project(client: TestClient, code: str, **extra: Any) -> dict[str, Any]:
    body = {"code": code, "title": f"Project {code}", "budget": "1200.50", **extra}
    response = client.post("/v1/create-project", json=body)
    assert response.status_code == 201, response.text
    return dict(response.json())


def test_create_get_update_delete(client: tuple[TestClient, Any]) -> None:
    api = client[0]
    created = _project(api, "CRUD1", summary="First", contact={"name": "Ada",
                                                               "email": "ada@example.com"})
    assert created["priority"] == "normal" and created["archived"] is False
    assert created["contact"] == {"name": "Ada", "email": "ada@example.com"}
    assert "token" not in created
    got = api.get("/v1/get-project", params={"id": created["id"]})
    assert got.status_code == 200 and got.json() == created
    updated = api.post("/v1/update-project", json={"id": created["id"], "title": "Renamed",
                                                  "summary": None})
    assert updated.status_code == 200
    assert (updated.json()["title"], updated.json()["summary"]) == ("Renamed", None)
    assert api.post("/v1/delete-project", json={"id": created["id"]}).status_code == 204
    missing = api.get("/v1/get-project", params={"id": created["id"]})
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "not_found"


def test_versions_coexist(client: tuple[TestClient, Any]) -> None:
    api = client[0]
    v2 = api.post("/v2/create-project", json={"code": "VER2", "title": "Two",
                                              "budget": "1", "token": "t" * 64})
    assert v2.status_code == 201 and "token" not in v2.json()
    v1 = api.post("/v1/create-project", json={"code": "VER1", "title": "One", "budget": "1",
                                              "token": "t" * 64})
    assert v1.status_code == 422  # v1 has no token


def test_list_pagination_filters_and_search(client: tuple[TestClient, Any]) -> None:
    api = client[0]
    for i in range(5):
        _project(api, f"PAGE{i}", priority="high" if i % 2 else "low",
                 summary=f"needle_{i}" if i < 2 else "hay")
    first = api.get("/v1/list-projects", params={"size": 2, "priority": "low"}).json()
    assert (first["total"], first["page"], first["size"], len(first["items"])) == (3, 1, 2, 2)
    last = api.get("/v1/list-projects", params={"size": 2, "page": 2, "priority": "low"}).json()
    assert len(last["items"]) == 1
    codes = {p["code"] for p in first["items"] + last["items"]}
    assert codes == {"PAGE0", "PAGE2", "PAGE4"}
    found = api.get("/v1/list-projects", params={"q": "needle_"}).json()
    assert sorted(p["code"] for p in found["items"]) == ["PAGE0", "PAGE1"]
    assert api.get("/v1/list-projects", params={"q": "%"}).json()["total"] == 0
    too_big = api.get("/v1/list-projects", params={"size": 1000})
    assert too_big.status_code == 422
    assert too_big.json()["error"]["details"][0]["path"] == "size"


def test_validation_error_has_field_paths(client: tuple[TestClient, Any]) -> None:
    response = client[0].post("/v1/create-project", json={
        "code": "X", "title": "", "budget": "-1", "contact": {"name": "A", "email": "nope"},
        "extra": 1})
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    paths = {(d["location"], d["path"]) for d in error["details"]}
    assert paths == {("body", "code"), ("body", "title"), ("body", "budget"),
                     ("body", "contact.email"), ("body", "extra")}


def test_errors_from_the_catalog_and_conflicts(client: tuple[TestClient, Any]) -> None:
    api = client[0]
    project = _project(api, "ERR1")
    archived = api.post("/v1/archive-project", json={"id": project["id"]})
    assert archived.status_code == 200 and archived.json()["archived"] is True
    again = api.post("/v1/archive-project", json={"id": project["id"]})
    assert again.status_code == 409
    assert again.json() == {"error": {"code": "AlreadyArchived", "message": "Already archived.",
                                      "details": {"id": project["id"]}}}
    unknown = api.post("/v1/archive-project", json={"id": str(uuid.uuid4())})
    assert (unknown.status_code, unknown.json()["error"]["code"]) == (404, "ProjectNotFound")
    duplicate = api.post("/v1/create-project", json={"code": "ERR1", "title": "t",
                                                     "budget": "1"})
    assert (duplicate.status_code, duplicate.json()["error"]["code"]) == (409, "conflict")
    issue = api.post("/v1/create-issue", json={"project": str(uuid.uuid4()), "title": "x"})
    # a reference to a record the actor cannot read: the operation's own 404 error
    assert (issue.status_code, issue.json()["error"]["code"]) == (404, "ProjectNotFound")
