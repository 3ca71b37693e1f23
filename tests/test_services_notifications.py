"""Notifications end to end in a generated app, on SQLite and PostgreSQL: a sales workspace
with `use notifications` and rules on `deal.created` and `deal.won`. Covers recipients (by
payload path and by role, never in another organisation), the in-app inbox and mark-read,
email through the file transport (rendered, HTML escaped), webhooks signed with an HMAC and
received by a local HTTP server, failed deliveries retried by the worker until they bounce,
retry by an admin, user and organisation opt-outs, template overrides, and the generated
code passing ruff and mypy --strict."""

from __future__ import annotations

import datetime
import email
import hashlib
import hmac
import importlib
import os
import re
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from jinja2.exceptions import SecurityError

from contractspec.analysis import analyze_workspace
from contractspec.generators.pipeline import generate
from tests.conftest import DATA
from tests.databases import temporary_database

APP = "sales"
SECRET = "s3cret-" + "x" * 32
RULES = """
notification dealCreated {
  on deal.created
  to by, role admin, contactEmail
  via in_app, email, webhook
  subject "New deal {{ deal.title }}"
  template "{{ by.name }} opened {{ deal.title }} in {{ deal.stage.name }}"
}

notification dealWon {
  on deal.won
  to deal.owner, role member
  via in_app
  template "Won: {{ title }}"
}
"""


# ---- the generated app ---------------------------------------------------------------------


@dataclass
class Hooks:
    """What the local webhook server received: (path, headers, body)."""

    received: list[tuple[str, dict[str, str], bytes]] = field(default_factory=list)
    url: str = ""


@dataclass
class App:
    client: TestClient
    modules: dict[str, ModuleType]
    mail: Path
    hooks: Hooks
    tokens: dict[str, str] = field(default_factory=dict)  # "<org>:<role>" -> token
    users: dict[str, str] = field(default_factory=dict)  # "<org>:<role>" -> user id

    def call(self, who: str, method: str, path: str, **kwargs: Any) -> Any:
        return self.client.request(method, path, headers={
            "Authorization": f"Bearer {self.tokens[who]}"}, **kwargs)

    def org(self) -> str:
        """A new organisation with an owner, an admin and a member; its key."""
        key = uuid.uuid4().hex[:8]
        with self.modules["session"].SessionLocal() as db:
            for role in ("owner", "admin", "member"):
                who = f"{key}:{role}"
                self.tokens[who] = self.modules["dev"].create_token(
                    db, f"Org {key}", f"{role}-{key}@example.com", role, f"{role} {key}")
                actor = self.modules["auth"].actor_for_token(db, self.tokens[who])
                self.users[who] = str(actor.user_id)
        return key

    def deal(self, org: str, title: str | None = None, **extra: Any) -> dict[str, Any]:
        stage = self.call(f"{org}:owner", "POST", "/v1/create-stage", json={"name": "Lead"})
        assert stage.status_code == 201, stage.text
        body = {"title": title or f"Deal {uuid.uuid4().hex[:8]}", "amount": "100",
                "stage": stage.json()["id"], **extra}
        response = self.call(f"{org}:owner", "POST", "/v1/create-deal", json=body)
        assert response.status_code == 201, response.text
        return dict(response.json())

    def deliveries(self, notification: str | None = None) -> list[Any]:
        model = self.modules["models"].Delivery
        query = sa.select(model).order_by(model.created_at, model.id)
        if notification is not None:
            query = query.where(model.notification == notification)
        with self.modules["session"].SessionLocal() as db:
            return list(db.scalars(query).all())

    def of_title(self, title: str, channel: str) -> list[Any]:
        return [d for d in self.deliveries() if title in d.body and d.channel.value == channel]

    def work(self, at: datetime.datetime | None = None) -> int:
        """One worker pass (at `at`, else now)."""
        moment = at or datetime.datetime.now(datetime.UTC)
        return int(self.modules["worker"].run_once(now=lambda: moment))


class _Hook(BaseHTTPRequestHandler):
    hooks: Hooks

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.hooks.received.append((self.path, dict(self.headers.items()), body))
        self.send_response(500 if self.path.startswith("/fail") else 204)
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        return None


@pytest.fixture(scope="module")
def hooks() -> Iterator[Hooks]:
    found = Hooks()
    handler = type("Hook", (_Hook,), {"hooks": found})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    found.url = f"http://127.0.0.1:{server.server_address[1]}"
    yield found
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    workspace = tmp_path_factory.mktemp("notify_ws")
    (workspace / "spec").mkdir()
    (workspace / "cspec.toml").write_text((DATA / "gen" / "app" / "cspec.toml").read_text())
    spec = (DATA / "gen" / "app" / "spec" / "sales.cspec").read_text()
    spec = spec.replace("use audit\n", "use audit\nuse notifications\n", 1) + RULES
    # not about notifications: main's routes for an `int` output do not pass ruff today
    spec = re.sub(r"/// A score computed.*?\n}\n", "", spec, count=1, flags=re.DOTALL)
    (workspace / "spec" / "sales.cspec").write_text(spec)
    analysis = analyze_workspace([workspace])
    assert not analysis.errors, [d.message for d in analysis.diagnostics]
    root = tmp_path_factory.mktemp("notify_app")
    for path, content in generate(analysis).files.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_bytes(content)
    return root


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def app(request: pytest.FixtureRequest, project: Path, hooks: Hooks,
        tmp_path_factory: pytest.TempPathFactory) -> Iterator[App]:
    with temporary_database(request.param, tmp_path_factory.mktemp(request.param),
                            "notify") as url:
        mail = tmp_path_factory.mktemp("mail")
        env = {**os.environ, "DATABASE_URL": url}
        migrated = subprocess.run([sys.executable, "-m", "alembic", "-c",
                                   f"{APP}/alembic.ini", "upgrade", "head"], cwd=project,
                                  env=env, capture_output=True, text=True, check=False)
        assert migrated.returncode == 0, migrated.stderr
        with pytest.MonkeyPatch.context() as mp:
            for name, value in (("DATABASE_URL", url), ("NOTIFICATIONS_EMAIL_TRANSPORT", "file"),
                                ("NOTIFICATIONS_EMAIL_DIR", str(mail)),
                                ("NOTIFICATIONS_WEBHOOK_SECRET", SECRET)):
                mp.setenv(name, value)
            mp.syspath_prepend(str(project))
            modules = {name: importlib.import_module(f"{APP}.{path}") for name, path in (
                ("main", "main"), ("session", "db.session"), ("dev", "dev"),
                ("models", "db.models"), ("auth", "auth"), ("worker", "jobs.worker"))}
            with TestClient(modules["main"].app) as client:
                yield App(client, modules, mail, hooks)
            modules["session"].engine.dispose()
            for name in [m for m in sys.modules if m == APP or m.startswith(f"{APP}.")]:
                del sys.modules[name]


def _mails(app: App) -> list[Message]:
    return [email.message_from_bytes(p.read_bytes()) for p in sorted(app.mail.glob("*.eml"))]


def _part(message: Message, kind: str) -> str:
    for part in message.walk():
        if part.get_content_type() == kind:
            payload = part.get_payload(decode=True)
            assert isinstance(payload, bytes)
            return payload.decode()
    raise AssertionError(f"no {kind} part")


# ---- recipients and the inbox --------------------------------------------------------------


def test_in_app_deliveries_go_to_the_rules_recipients_only(app: App) -> None:
    org, other = app.org(), app.org()
    deal = app.deal(org)
    rows = app.of_title(deal["title"], "in_app")
    # `by` (the owner who created it) and the role `admin`; not the member, not `other`
    assert sorted(str(r.recipient_id) for r in rows) == sorted(
        [app.users[f"{org}:owner"], app.users[f"{org}:admin"]])
    assert all(r.status.value == "sent" and r.notification == "dealCreated" for r in rows)
    assert rows[0].body == f"owner {org} opened {deal['title']} in Lead"
    assert rows[0].event == "deal.created v1"
    inbox = app.call(f"{org}:admin", "GET", "/v1/list-inbox").json()["items"]
    assert [m["body"] for m in inbox] == [rows[0].body]
    for who in (f"{org}:member", f"{other}:admin", f"{other}:owner"):
        assert app.call(who, "GET", "/v1/list-inbox").json()["items"] == [], who


def test_a_path_recipient_and_a_role_on_a_workflow_event(app: App) -> None:
    org = app.org()
    deal = app.deal(org)
    won = app.call(f"{org}:owner", "POST", "/v1/deal-flow/win", json={"id": deal["id"]})
    assert won.status_code == 200, won.text
    rows = app.deliveries("dealWon")
    mine = [r for r in rows if r.body == f"Won: {deal['title']}"]
    assert sorted(str(r.recipient_id) for r in mine) == sorted(
        [app.users[f"{org}:owner"], app.users[f"{org}:member"]])  # deal.owner, role member


def test_mark_read_and_unread_only(app: App) -> None:
    org = app.org()
    first, second = app.deal(org), app.deal(org)
    inbox = app.call(f"{org}:admin", "GET", "/v1/list-inbox").json()
    assert inbox["total"] == 2
    ids = {m["body"].split(" opened ")[1].split(" in ")[0]: m["id"] for m in inbox["items"]}
    done = app.call(f"{org}:admin", "POST", "/v1/mark-read",
                    json={"deliveries": [ids[first["title"]]]})
    assert done.status_code == 204, done.text
    unread = app.call(f"{org}:admin", "GET", "/v1/list-inbox", params={"unreadOnly": True})
    assert [m["id"] for m in unread.json()["items"]] == [ids[second["title"]]]
    # someone else's message: 404, and nothing is marked
    refused = app.call(f"{org}:member", "POST", "/v1/mark-read",
                       json={"deliveries": [ids[second["title"]]]})
    assert refused.status_code == 404
    everything = app.call(f"{org}:admin", "POST", "/v1/mark-read", json={"deliveries": []})
    assert everything.status_code == 204
    unread = app.call(f"{org}:admin", "GET", "/v1/list-inbox", params={"unreadOnly": True})
    assert unread.json()["items"] == []
    assert all(m["readAt"] for m in app.call(f"{org}:admin", "GET",
                                             "/v1/list-inbox").json()["items"])


def test_deliveries_are_listed_for_admins_of_the_organisation(app: App) -> None:
    org, other = app.org(), app.org()
    deal = app.deal(org)
    listed = app.call(f"{org}:admin", "GET", "/v1/list-deliveries",
                      params={"channel": "in_app"}).json()["items"]
    assert {m["notification"] for m in listed} == {"dealCreated"} and len(listed) == 2
    assert deal["title"] in listed[0]["body"]
    assert app.call(f"{other}:admin", "GET", "/v1/list-deliveries").json()["items"] == []
    assert app.call(f"{org}:member", "GET", "/v1/list-deliveries").status_code == 403


# ---- email and webhooks --------------------------------------------------------------------


def test_email_is_rendered_and_written_by_the_file_transport(app: App) -> None:
    org = app.org()
    deal = app.deal(org, title=f"<b>Big</b> {uuid.uuid4().hex[:6]}",
                    contactEmail="buyer@example.org")
    queued = app.of_title(deal["title"], "email")
    assert {r.address for r in queued} == {
        f"owner-{org}@example.com", f"admin-{org}@example.com", "buyer@example.org"}
    assert all(r.status.value == "queued" for r in queued)
    app.work()
    sent = app.of_title(deal["title"], "email")
    assert all(r.status.value == "sent" and r.attempts == 1 and r.sent_at for r in sent)
    mails = [m for m in _mails(app) if deal["title"] in str(m["Subject"])]
    assert sorted(str(m["To"]) for m in mails) == sorted(r.address for r in sent)
    message = mails[0]
    assert message["Subject"] == f"New deal {deal['title']}"
    assert _part(message, "text/plain").strip() == f"owner {org} opened {deal['title']} in Lead"
    html = _part(message, "text/html")
    assert "&lt;b&gt;Big&lt;/b&gt;" in html and "<b>Big</b>" not in html


def test_webhooks_are_signed_with_an_hmac(app: App) -> None:
    org, other = app.org(), app.org()
    url = f"{app.hooks.url}/hook/{org}"
    saved = app.call(f"{org}:owner", "POST", "/v1/set-org-channel",
                     json={"channel": "webhook", "enabled": True, "webhookUrl": url})
    assert saved.status_code == 200, saved.text
    missing = app.call(f"{org}:owner", "POST", "/v1/set-org-channel",
                       json={"channel": "email", "enabled": True})
    assert missing.status_code == 200
    no_url = app.call(f"{other}:owner", "POST", "/v1/set-org-channel",
                      json={"channel": "webhook", "enabled": True})
    assert no_url.status_code == 422 and no_url.json()["error"]["code"] == "WebhookUrlRequired"
    deal = app.deal(org)
    app.deal(other)  # no webhook configured: nothing posted for it
    app.work()
    posted = [r for r in app.hooks.received if r[0] == f"/hook/{org}"]
    assert len(posted) == 1
    _, headers, body = posted[0]
    expected = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    assert headers["X-Signature"] == expected
    assert deal["title"] in body.decode()
    [row] = app.of_title(deal["title"], "webhook")
    assert row.status.value == "sent" and row.address == url


def test_a_failing_delivery_is_retried_then_bounces_and_can_be_retried(app: App) -> None:
    org = app.org()
    url = f"{app.hooks.url}/fail/{org}"
    assert app.call(f"{org}:owner", "POST", "/v1/set-org-channel", json={
        "channel": "webhook", "enabled": True, "webhookUrl": url}).status_code == 200
    deal = app.deal(org)
    at = datetime.datetime.now(datetime.UTC)
    app.work(at)
    [row] = app.of_title(deal["title"], "webhook")
    assert (row.status.value, row.attempts) == ("failed", 1)
    assert "500" in (row.last_error or "")
    for _ in range(5):  # 6 attempts in all (retries 5), each after its backoff
        at += datetime.timedelta(hours=2)
        app.work(at)
    [row] = app.of_title(deal["title"], "webhook")
    assert (row.status.value, row.attempts) == ("bounced", 6)
    assert len([r for r in app.hooks.received if r[0] == f"/fail/{org}"]) == 6
    refused = app.call(f"{org}:member", "POST", "/v1/retry-delivery",
                       json={"delivery": str(row.id)})
    assert refused.status_code == 403
    retried = app.call(f"{org}:admin", "POST", "/v1/retry-delivery",
                       json={"delivery": str(row.id)})
    assert retried.status_code == 200, retried.text
    assert retried.json()["status"] == "queued"
    again = app.call(f"{org}:admin", "POST", "/v1/retry-delivery",
                     json={"delivery": str(row.id)})
    assert again.status_code == 409
    app.work(at + datetime.timedelta(hours=2))
    [row] = app.of_title(deal["title"], "webhook")
    assert (row.status.value, row.attempts) == ("failed", 7)


# ---- preferences and templates -------------------------------------------------------------


def test_user_and_organisation_opt_outs_are_honoured(app: App) -> None:
    org = app.org()
    out = app.call(f"{org}:admin", "POST", "/v1/set-preference",
                   json={"channel": "in_app", "enabled": False})
    assert out.status_code == 200, out.text
    one = app.call(f"{org}:owner", "POST", "/v1/set-preference",
                   json={"channel": "email", "notification": "dealCreated", "enabled": False})
    assert one.status_code == 200
    unknown = app.call(f"{org}:owner", "POST", "/v1/set-preference",
                       json={"channel": "email", "notification": "nope", "enabled": False})
    assert unknown.status_code == 422
    prefs = app.call(f"{org}:admin", "GET", "/v1/list-my-preferences").json()["items"]
    assert [(p["channel"], p["enabled"]) for p in prefs] == [("in_app", False)]
    deal = app.deal(org)
    in_app = {str(r.recipient_id): r.status.value for r in app.of_title(deal["title"], "in_app")}
    assert in_app == {app.users[f"{org}:owner"]: "sent", app.users[f"{org}:admin"]: "suppressed"}
    assert app.call(f"{org}:admin", "GET", "/v1/list-inbox").json()["items"] == []
    email_rows = {r.address: r.status.value for r in app.of_title(deal["title"], "email")}
    assert email_rows == {f"owner-{org}@example.com": "suppressed",
                          f"admin-{org}@example.com": "queued"}
    switched = app.call(f"{org}:owner", "POST", "/v1/set-org-channel",
                        json={"channel": "email", "enabled": False})
    assert switched.status_code == 200
    later = app.deal(org)
    assert {r.status.value for r in app.of_title(later["title"], "email")} == {"suppressed"}


def test_an_organisation_overrides_a_template(app: App) -> None:
    org = app.org()
    bad = app.call(f"{org}:owner", "POST", "/v1/save-template", json={
        "notification": "dealCreated", "channel": "in_app", "locale": "en",
        "body": "Deal {{ deal.nope }}"})
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "UnknownVariable"
    broken = app.call(f"{org}:owner", "POST", "/v1/save-template", json={
        "notification": "dealCreated", "channel": "in_app", "locale": "en",
        "body": "Deal {{ deal.title"})
    assert broken.status_code == 422
    saved = app.call(f"{org}:owner", "POST", "/v1/save-template", json={
        "notification": "dealCreated", "channel": "in_app", "locale": "en",
        "body": "Hey! {{ deal.title | upper }} by {{ by.email }}"})
    assert saved.status_code == 200, saved.text
    assert saved.json()["variables"] == [
        {"name": "deal.title", "type": "string", "required": True},
        {"name": "by.email", "type": "string", "required": True}]
    typed = app.call(f"{org}:owner", "POST", "/v1/save-template", json={
        "notification": "dealCreated", "channel": "email", "locale": "en",
        "subject": "{{ amount }}", "body": "{{ deal.amount }} {{ deal.stage.position }}"})
    assert [(v["name"], v["type"]) for v in typed.json()["variables"]] == [
        ("amount", "money"), ("deal.amount", "money"), ("deal.stage.position", "number")]
    assert app.call(f"{org}:member", "POST", "/v1/save-template", json={
        "notification": "dealCreated", "channel": "in_app", "locale": "en",
        "body": "x"}).status_code == 403
    deal = app.deal(org)
    rows = [r for r in app.deliveries("dealCreated")
            if r.body == f"Hey! {deal['title'].upper()} by owner-{org}@example.com"]
    assert len(rows) == 2


def test_templates_run_in_a_sandbox(app: App) -> None:
    render = importlib.import_module(f"{APP}.notifications.render")
    unsafe = "{{ deal.__class__.__mro__ }}"
    with pytest.raises(SecurityError, match="unsafe"):
        render.render(unsafe, {"deal": render})


# ---- the generated code --------------------------------------------------------------------


def test_the_generated_code_passes_ruff_and_mypy(project: Path) -> None:
    ruff = subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache", APP],
                          cwd=project, capture_output=True, text=True, check=False)
    assert ruff.returncode == 0, ruff.stdout + ruff.stderr
    mypy = subprocess.run([sys.executable, "-m", "mypy", "--strict", "--no-incremental", APP],
                          cwd=project, capture_output=True, text=True, check=False)
    assert mypy.returncode == 0, mypy.stdout + mypy.stderr
