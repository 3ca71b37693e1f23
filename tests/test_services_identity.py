"""The generated `identity` services end to end, on SQLite and PostgreSQL: sign-up answers a
token for the new owner; invitations are accepted with their token; roles change and members
leave under the last-owner and owner-only rules; other organisations stay invisible (404);
every change emits its event through the outbox (and the audit trail)."""

from __future__ import annotations

import datetime
import importlib
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from contractspec.analysis import analyze_workspace
from contractspec.generators.pipeline import generate
from tests.conftest import DATA
from tests.databases import temporary_database

WORKSPACE = DATA / "gen" / "app"
APP = "sales"


@dataclass
class App:
    """The generated app under test: its HTTP client and modules."""

    client: TestClient
    modules: dict[str, ModuleType]

    def call(self, token: str | None, method: str, path: str, **kwargs: Any) -> Any:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return self.client.request(method, path, headers=headers, **kwargs)

    def post(self, token: str | None, path: str, body: dict[str, Any]) -> Any:
        return self.call(token, "POST", path, json=body)

    def get(self, token: str | None, path: str, **params: Any) -> Any:
        return self.call(token, "GET", path, params=params)

    def session(self) -> Any:
        return self.modules["session"].SessionLocal()

    def rows(self, model: str, *where: Any) -> list[Any]:
        with self.session() as db:
            cls = getattr(self.modules["models"], model)
            return list(db.scalars(sa.select(cls).where(*where)).all())

    def events(self, name: str) -> list[dict[str, Any]]:
        outbox = self.modules["models"].OutboxEvent
        return [row.body for row in self.rows("OutboxEvent", outbox.event == name)]


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    analysis = analyze_workspace([WORKSPACE])
    assert not analysis.errors
    root = tmp_path_factory.mktemp("identity_app")
    for path, content in generate(analysis).files.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_bytes(content)
    return root


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def app(request: pytest.FixtureRequest, project: Path,
        tmp_path_factory: pytest.TempPathFactory) -> Iterator[App]:
    with temporary_database(request.param, tmp_path_factory.mktemp(request.param),
                            "identity") as url:
        yield from running_app(project, url)


def running_app(project: Path, url: str) -> Iterator[App]:
    """The migrated app on `url`, imported from `project` (removed from sys.modules after)."""
    env = {**os.environ, "DATABASE_URL": url}
    migrated = subprocess.run([sys.executable, "-m", "alembic", "-c", f"{APP}/alembic.ini",
                               "upgrade", "head"], cwd=project, env=env, capture_output=True,
                              text=True, check=False)
    assert migrated.returncode == 0, migrated.stderr
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DATABASE_URL", url)
        mp.syspath_prepend(str(project))
        modules = {name: importlib.import_module(f"{APP}.{path}") for name, path in (
            ("main", "main"), ("session", "db.session"), ("models", "db.models"),
            ("auth", "auth"), ("deps", "api.deps"), ("enums", "enums"), ("dev", "dev"))}
        with TestClient(modules["main"].app) as client:
            yield App(client, modules)
        modules["session"].engine.dispose()
        for name in [m for m in sys.modules if m == APP or m.startswith(f"{APP}.")]:
            del sys.modules[name]


def sign_up(app: App, who: str | None = None) -> dict[str, Any]:
    """A new user with their own organisation: the answer (token, user, org, membership)."""
    name = who or f"u{uuid.uuid4().hex[:8]}"
    response = app.post(None, "/v1/sign-up", {"email": f"{name}@example.com", "name": name,
                                              "orgName": f"Org of {name}"})
    assert response.status_code == 200, response.text
    return dict(response.json())


def invite(app: App, owner: dict[str, Any], role: str = "member",
           email: str | None = None) -> dict[str, Any]:
    body = {"email": email or f"i{uuid.uuid4().hex[:8]}@example.com", "role": role}
    response = app.post(owner["token"], "/v2/invite-member", body)
    assert response.status_code == 200, response.text
    return dict(response.json())


def join(app: App, owner: dict[str, Any], role: str = "member") -> dict[str, Any]:
    """A new member of the owner's organisation, by invitation."""
    sent = invite(app, owner, role)
    response = app.post(None, "/v1/accept-invitation", {"token": sent["token"], "name": "New"})
    assert response.status_code == 200, response.text
    return dict(response.json())


def error(response: Any) -> str:
    return str(response.json()["error"]["code"])


# ---- the generated code ---------------------------------------------------------------------


def test_the_services_pass_ruff_and_mypy_strict(project: Path) -> None:
    ruff = subprocess.run([sys.executable, "-m", "ruff", "check", "."], cwd=project,
                          capture_output=True, text=True, check=False)
    assert ruff.returncode == 0, ruff.stdout + ruff.stderr
    mypy = subprocess.run([sys.executable, "-m", "mypy", "--strict", "--no-incremental",
                           "--cache-dir", os.devnull, APP], cwd=project, capture_output=True,
                          text=True, check=False)
    assert mypy.returncode == 0, mypy.stdout + mypy.stderr
    services = (project / APP / "services" / "identity.py").read_text(encoding="utf-8")
    assert "contractspec" not in services and services.startswith("# Generated by cspec")


# ---- sign-up ---------------------------------------------------------------------------------


def test_sign_up_gives_a_token_for_a_new_org_the_user_owns(app: App) -> None:
    ada = sign_up(app)
    assert ada["role"] == "owner" and ada["token"].startswith("cst_")
    me = app.get(ada["token"], "/v1/me")
    assert me.status_code == 200 and me.json()["id"] == ada["user"]
    members = app.get(ada["token"], "/v1/list-members").json()
    assert members["total"] == 1 and members["items"][0]["role"] == "owner"
    assert members["items"][0]["org"] == ada["org"]
    again = app.post(None, "/v1/sign-up", {"email": me.json()["email"].upper(), "name": "X",
                                           "orgName": "Y"})
    assert again.status_code == 409 and error(again) == "EmailTaken"
    created = [e for e in app.events("user.created") if e["payload"]["user"] == ada["user"]]
    assert len(created) == 1 and created[0]["actor"]["id"] == ada["user"]
    org = [e for e in app.events("org.created") if e["payload"]["org"] == ada["org"]]
    assert len(org) == 1 and org[0]["orgId"] == ada["org"]


def test_sign_up_needs_no_token_but_everything_else_does(app: App) -> None:
    assert app.get(None, "/v1/me").status_code == 401
    assert app.post(None, "/v1/switch-org", {"org": str(uuid.uuid4())}).status_code == 401
    invalid = app.post(None, "/v1/sign-up", {"email": "nope", "name": "", "orgName": "x"})
    assert invalid.status_code == 422


def test_the_openapi_document_says_which_routes_are_open(app: App) -> None:
    paths = app.client.get("/openapi.json").json()["paths"]
    assert "security" not in paths["/v1/sign-up"]["post"]
    assert "401" not in paths["/v1/accept-invitation"]["post"]["responses"]
    assert "/v1/register-user" not in paths  # the sign-up is `signUp` with bearer tokens


# ---- invitations ----------------------------------------------------------------------------


def test_an_invitation_is_accepted_once_with_its_token(app: App) -> None:
    ada = sign_up(app)
    sent = invite(app, ada, "admin", email="Bob.Invited@example.com")
    assert sent["token"].startswith("csi_") and sent["role"] == "admin"
    invitations = app.modules["models"].Invitation
    [row] = app.rows("Invitation", invitations.id == uuid.UUID(sent["invitation"]))
    assert row.token_hash == app.modules["auth"].hash_token(sent["token"])  # only its hash
    listed = app.get(ada["token"], "/v1/list-invitations", status="pending").json()
    assert [i["id"] for i in listed["items"]] == [sent["invitation"]]
    assert "tokenHash" not in listed["items"][0]
    twice = app.post(ada["token"], "/v2/invite-member",
                     {"email": "bob.invited@example.com", "role": "member"})
    assert twice.status_code == 409 and error(twice) == "AlreadyInvited"
    bob = app.post(None, "/v1/accept-invitation", {"token": sent["token"], "name": "Bob"})
    assert bob.status_code == 200, bob.text
    bob_token = bob.json()["token"]
    assert bob.json()["org"] == ada["org"] and bob.json()["role"] == "admin"
    assert app.get(bob_token, "/v1/me").json()["name"] == "Bob"
    assert app.get(bob_token, "/v1/list-members").json()["total"] == 2
    again = app.post(None, "/v1/accept-invitation", {"token": sent["token"]})
    assert again.status_code == 409 and error(again) == "InvitationClosed"
    unknown = app.post(None, "/v1/accept-invitation", {"token": "csi_unknown"})
    assert unknown.status_code == 404 and error(unknown) == "InvitationNotFound"
    member = app.post(ada["token"], "/v2/invite-member",
                      {"email": "bob.invited@example.com", "role": "member"})
    assert member.status_code == 409 and error(member) == "AlreadyMember"
    joined = [e for e in app.events("member.joined")
              if e["payload"]["invitation"] == sent["invitation"]]
    assert len(joined) == 1 and joined[0]["orgId"] == ada["org"]
    invited = [e for e in app.events("member.invited")
               if e["payload"].get("invitation") == sent["invitation"]]
    assert invited and invited[0]["version"] == "v2" and invited[0]["payload"]["by"] == ada["user"]
    audited = app.rows("AuditEntry", app.modules["models"].AuditEntry.event == "member.invited v2",
                       app.modules["models"].AuditEntry.target_id == sent["invitation"])
    assert audited and audited[0].diff["email"] == "[redacted]"


def test_an_expired_or_revoked_invitation_cannot_be_accepted(app: App) -> None:
    ada = sign_up(app)
    late = invite(app, ada)
    models = app.modules["models"]
    with app.session() as db:
        row = db.get(models.Invitation, uuid.UUID(late["invitation"]))
        row.expires_at = datetime.datetime.now(datetime.UTC) - datetime.timedelta(minutes=1)
        db.commit()
    expired = app.post(None, "/v1/accept-invitation", {"token": late["token"]})
    assert expired.status_code == 410 and error(expired) == "InvitationExpired"
    [row] = app.rows("Invitation", models.Invitation.id == uuid.UUID(late["invitation"]))
    assert row.status == "expired"
    withdrawn = invite(app, ada)
    revoked = app.post(ada["token"], "/v1/revoke-invitation",
                       {"invitation": withdrawn["invitation"]})
    assert revoked.status_code == 200 and revoked.json()["status"] == "revoked"
    assert app.post(ada["token"], "/v1/revoke-invitation",
                    {"invitation": withdrawn["invitation"]}).status_code == 409
    closed = app.post(None, "/v1/accept-invitation", {"token": withdrawn["token"]})
    assert closed.status_code == 409
    assert [e for e in app.events("invitation.revoked")
            if e["payload"]["invitation"] == withdrawn["invitation"]]


def test_an_existing_user_joins_a_second_org_and_switches_to_it(app: App) -> None:
    ada, carol = sign_up(app), sign_up(app)
    carol_email = app.get(carol["token"], "/v1/me").json()["email"]
    sent = invite(app, ada, email=carol_email)
    mine = app.get(carol["token"], "/v1/list-my-invitations").json()
    assert [i["id"] for i in mine["items"]] == [sent["invitation"]]
    # the token alone (which the inviter saw) gives no token for an existing account
    refused = app.post(None, "/v1/accept-invitation", {"token": sent["token"]})
    assert refused.status_code == 409 and error(refused) == "SignInToAccept"
    stranger = sign_up(app)
    mallory = app.post(stranger["token"], "/v1/accept-my-invitation",
                       {"invitation": sent["invitation"]})
    assert mallory.status_code == 404  # sent to another email
    accepted = app.post(carol["token"], "/v1/accept-my-invitation",
                        {"invitation": sent["invitation"]})
    assert accepted.status_code == 200, accepted.text
    joined = accepted.json()
    assert joined["user"] == carol["user"] and joined["org"] == ada["org"]
    assert app.get(joined["token"], "/v1/list-members").json()["total"] == 2
    again = app.post(carol["token"], "/v1/accept-my-invitation",
                     {"invitation": sent["invitation"]})
    assert again.status_code == 409 and error(again) == "InvitationClosed"
    memberships = app.get(carol["token"], "/v1/list-my-memberships").json()
    assert {m["org"] for m in memberships["items"]} == {ada["org"], carol["org"]}
    switched = app.post(carol["token"], "/v1/switch-org", {"org": ada["org"]})
    assert switched.status_code == 200 and switched.json()["role"] == "member"
    elsewhere = app.post(carol["token"], "/v1/switch-org", {"org": stranger["org"]})
    assert elsewhere.status_code == 404 and error(elsewhere) == "NotAMember"


def test_only_an_owner_invites_an_owner_and_a_member_invites_nobody(app: App) -> None:
    ada = sign_up(app)
    admin, member = join(app, ada, "admin"), join(app, ada, "member")
    refused = app.post(admin["token"], "/v2/invite-member",
                       {"email": "boss@example.com", "role": "owner"})
    assert refused.status_code == 403 and error(refused) == "OwnerOnly"
    assert app.post(admin["token"], "/v2/invite-member",
                    {"email": "helper@example.com", "role": "member"}).status_code == 200
    forbidden = app.post(member["token"], "/v2/invite-member",
                         {"email": "x@example.com", "role": "member"})
    assert forbidden.status_code == 403 and error(forbidden) == "forbidden"


def test_invite_member_v1_adds_the_membership_at_once(app: App) -> None:
    ada = sign_up(app)
    added = app.post(ada["token"], "/v1/invite-member",
                     {"email": f"v1{uuid.uuid4().hex[:6]}@example.com", "role": "member"})
    assert added.status_code == 200 and added.json()["org"] == ada["org"]
    assert app.get(ada["token"], "/v1/list-members").json()["total"] == 2


# ---- roles, removal and the last owner ----------------------------------------------------------


def test_roles_change_and_the_last_owner_stays(app: App) -> None:
    ada = sign_up(app)
    bob = join(app, ada)
    promoted = app.post(ada["token"], "/v1/change-role",
                        {"membership": bob["membership"], "role": "admin"})
    assert promoted.status_code == 200 and promoted.json()["role"] == "admin"
    [event] = [e for e in app.events("role.changed")
               if e["payload"]["membership"] == bob["membership"]]
    assert event["payload"]["from"] == "member" and event["payload"]["to"] == "admin"
    for role in ("admin", "member"):  # demoting the last owner
        demoted = app.post(ada["token"], "/v1/change-role",
                           {"membership": ada["membership"], "role": role})
        assert demoted.status_code == 409 and error(demoted) == "LastOwner"
    removed = app.post(ada["token"], "/v1/remove-member", {"membership": ada["membership"]})
    assert removed.status_code == 409 and error(removed) == "LastOwner"
    left = app.post(ada["token"], "/v1/leave-org", {"org": ada["org"]})
    assert left.status_code == 409 and error(left) == "LastOwner"
    # an admin may not touch the owner role
    for body in ({"membership": bob["membership"], "role": "owner"},
                 {"membership": ada["membership"], "role": "member"}):
        refused = app.post(bob["token"], "/v1/change-role", body)
        assert refused.status_code == 403 and error(refused) == "OwnerOnly"
    refused = app.post(bob["token"], "/v1/remove-member", {"membership": ada["membership"]})
    assert refused.status_code == 403 and error(refused) == "OwnerOnly"
    # with a second owner, the first may step down
    assert app.post(ada["token"], "/v1/change-role",
                    {"membership": bob["membership"], "role": "owner"}).status_code == 200
    stepped = app.post(ada["token"], "/v1/change-role",
                       {"membership": ada["membership"], "role": "admin"})
    assert stepped.status_code == 200
    memberships = app.rows("OrgMembership",
                           app.modules["models"].OrgMembership.org_id == uuid.UUID(ada["org"]))
    assert [str(m.role) for m in memberships if str(m.role) == "owner"] == ["owner"]


def test_removing_a_member_ends_their_access(app: App) -> None:
    ada = sign_up(app)
    bob, eve = join(app, ada), join(app, ada)
    member = app.post(bob["token"], "/v1/remove-member", {"membership": eve["membership"]})
    assert member.status_code == 403  # members do not manage members
    removed = app.post(ada["token"], "/v1/remove-member", {"membership": bob["membership"]})
    assert removed.status_code == 204
    assert app.get(bob["token"], "/v1/me").status_code == 401
    [event] = [e for e in app.events("member.removed")
               if e["payload"]["membership"] == bob["membership"]]
    assert event["payload"]["user"] == bob["user"] and event["payload"]["by"] == ada["user"]
    left = app.post(eve["token"], "/v1/leave-org", {"org": ada["org"]})
    assert left.status_code == 204
    assert app.get(ada["token"], "/v1/list-members").json()["total"] == 1
    again = app.post(ada["token"], "/v1/remove-member", {"membership": bob["membership"]})
    assert again.status_code == 404


def test_another_orgs_members_and_invitations_are_not_found(app: App) -> None:
    ada, mallory = sign_up(app), sign_up(app)
    bob = join(app, ada)
    sent = invite(app, ada)
    for path, body in (("/v1/change-role", {"membership": bob["membership"], "role": "admin"}),
                       ("/v1/remove-member", {"membership": bob["membership"]}),
                       ("/v1/revoke-invitation", {"invitation": sent["invitation"]})):
        response = app.post(mallory["token"], path, body)
        assert response.status_code == 404, path
    assert app.get(mallory["token"], "/v1/list-members").json()["total"] == 1
    assert app.post(mallory["token"], "/v1/leave-org", {"org": ada["org"]}).status_code == 404


# ---- organisations and billing --------------------------------------------------------------


def test_create_org_makes_the_creator_its_owner(app: App) -> None:
    ada = sign_up(app)
    created = app.post(ada["token"], "/v1/create-org", {"name": "Second"})
    assert created.status_code == 200, created.text
    org = created.json()["id"]
    token = app.post(ada["token"], "/v1/switch-org", {"org": org}).json()["token"]
    members = app.get(token, "/v1/list-members").json()
    assert [(m["user"], m["role"]) for m in members["items"]] == [(ada["user"], "owner")]
    assert [e for e in app.events("org.created") if e["orgId"] == org]
    renamed = app.post(token, "/v1/rename-org", {"name": "Renamed"})
    assert renamed.status_code == 200 and renamed.json()["name"] == "Renamed"


def test_billing_details_are_the_owners(app: App) -> None:
    ada = sign_up(app)
    admin = join(app, ada, "admin")
    missing = app.get(ada["token"], "/v1/get-billing-profile")
    assert missing.status_code == 404 and error(missing) == "NotFound"
    body = {"legalName": "Ada Ltd", "billingEmail": "bills@example.com", "country": "GB"}
    assert app.post(admin["token"], "/v1/update-billing-profile", body).status_code == 403
    saved = app.post(ada["token"], "/v1/update-billing-profile", body)
    assert saved.status_code == 200 and saved.json()["org"] == ada["org"]
    changed = app.post(ada["token"], "/v1/update-billing-profile", {**body, "taxId": "GB1"})
    assert changed.json()["id"] == saved.json()["id"] and changed.json()["taxId"] == "GB1"
    assert app.get(ada["token"], "/v1/get-billing-profile").json()["legalName"] == "Ada Ltd"
    assert app.get(admin["token"], "/v1/get-billing-profile").status_code == 403
    bad = app.post(ada["token"], "/v1/update-billing-profile", {**body, "country": "gb"})
    assert bad.status_code == 422


def test_deleting_an_org_takes_its_records_and_tokens(app: App) -> None:
    ada = sign_up(app)
    bob = join(app, ada, "admin")
    invite(app, ada)
    stage = app.post(ada["token"], "/v1/create-stage", {"name": "Lead"})
    assert stage.status_code == 201
    assert app.post(bob["token"], "/v1/delete-org", {"confirmName": "x"}).status_code == 403
    mismatch = app.post(ada["token"], "/v1/delete-org", {"confirmName": "Wrong"})
    assert mismatch.status_code == 422 and error(mismatch) == "NameMismatch"
    name = app.get(ada["token"], "/v1/list-my-memberships").json()["items"][0]["org"]
    assert name == ada["org"]
    org_name = app.rows("Org", app.modules["models"].Org.id == uuid.UUID(ada["org"]))[0].name
    deleted = app.post(ada["token"], "/v1/delete-org", {"confirmName": org_name})
    assert deleted.status_code == 204, deleted.text
    assert app.get(ada["token"], "/v1/me").status_code == 401
    models = app.modules["models"]
    org_id = uuid.UUID(ada["org"])
    for model in ("OrgMembership", "Invitation", "Stage", "ApiToken", "AuditEntry"):
        assert app.rows(model, getattr(models, model).org_id == org_id) == [], model
    [event] = [e for e in app.events("org.deleted") if e["payload"]["org"] == ada["org"]]
    assert event["payload"]["name"] == org_name
