"""The `api` target serves the standard modules' operations: plain CRUD ones with the CRUD
implementation, the others only when a service provider implements them (generated code in
`<app>/services/<module>.py` called by the route after the policy check)."""

from __future__ import annotations

import json
from typing import ClassVar

import pytest

from contractspec.analysis import analyze_workspace
from contractspec.generators import api as api_target
from contractspec.generators.base import GeneratorOptions
from contractspec.generators.services import ServiceInput, ServiceProvider
from contractspec.ir import nodes as ir
from tests.conftest import DATA


class MeProvider(ServiceProvider):
    """A provider implementing `identity.me v1` (the test's own)."""

    module: ClassVar[str] = "identity"
    operations: ClassVar[frozenset[tuple[str, str]]] = frozenset({("me", "v1")})

    def files(self, given: ServiceInput) -> dict[str, str]:
        op = given.operation("identity", "me")
        user = given.orm("identity", "User")
        return {"services/identity.py": (
            f"{given.top}from {given.app}.db import models\n\n\n"
            f"def {op.function}(ctx, data):\n"
            f"    return ctx.session.get(models.{user}, ctx.actor.user_id)\n")}


@pytest.fixture(scope="module")
def program() -> ir.Program:
    analysis = analyze_workspace([DATA / "gen" / "app"])
    assert not analysis.errors
    return analysis.program


def _generate(program: ir.Program) -> dict[str, str]:
    files = api_target.ApiGenerator().generate(program, GeneratorOptions(app="sales"))
    return {path: bytes(data).decode() for path, data in files.items()}


def _paths(files: dict[str, str]) -> set[str]:
    return set(json.loads(files["openapi.json"])["paths"])


def test_std_crud_operations_are_served_and_others_are_not(
        program: ir.Program, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(api_target, "PROVIDERS", ())
    files = _generate(program)
    paths = _paths(files)
    assert "/v1/list-invitations" in paths  # identity: page of Invitation, plain CRUD
    assert "/v1/me" not in paths  # neither CRUD nor implemented: not served
    assert "/v1/change-role" not in paths
    assert "sales/services/__init__.py" not in files
    assert "identity_service" not in files["sales/api/routes.py"]


def test_an_implemented_operation_is_served_by_its_service(
        program: ir.Program, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(api_target, "PROVIDERS", (MeProvider(),))
    files = _generate(program)
    assert "/v1/me" in _paths(files)
    routes = files["sales/api/routes.py"]
    assert "from sales.services import identity as identity_service" in routes
    body = routes.split("def me_v1(", 1)[1].split("\n\n\n", 1)[0]
    assert body.index("policies.") < body.index("identity_service.me_v1(Context(session, actor)")
    assert "def me_v1(ctx, data)" in files["sales/services/identity.py"]
    assert files["sales/services/__init__.py"].startswith("# ")


def test_the_registered_providers_serve_what_they_implement(program: ir.Program) -> None:
    paths = _paths(_generate(program))
    assert {"/v1/me", "/v1/change-role", "/v1/sign-up"} <= paths
    assert "/v1/register-user" not in paths  # not implemented: not served
