"""The `ui` target: pages generated from `view` declarations, driven over HTTP.

The sales workspace (tests/data/gen/app) with views appended and `updateDeal` taking the
stage, generated, migrated and served on SQLite and PostgreSQL: sign-in with API tokens and
CSRF, lists (filters, search, pages), forms (validation messages from the spec's
constraints), record pages (transition and action buttons per role), boards (moving a card
calls the transition or the update, refused ones are shown), tenancy (404 across orgs).
"""

from __future__ import annotations

import html
import html.parser
import importlib
import os
import re
import shutil
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
from contractspec.generators.base import GeneratorError, builtin_registry, target_options
from contractspec.generators.pipeline import generate
from tests.conftest import DATA, analyse
from tests.databases import temporary_database

APP = "sales"
VIEWS = """
view deals list of Deal {
  columns title, amount, stage, status, owner
  filter stage, status
  search title
}

view pipeline board of Deal by status {
  card title, amount
}

view stages board of Deal by stage {
  card title
}

view dealForm form of Deal {
  fields title, amount, stage, contactEmail
}

view dealPage detail of Deal {
  fields title, amount, stage, status, owner, contactEmail
  actions deleteDeal
}
"""


def ui_workspace(folder: Path) -> Path:
    """The sales workspace with views, and `updateDeal` able to change the stage."""
    shutil.copytree(DATA / "gen" / "app", folder, dirs_exist_ok=True)
    spec = folder / "spec" / "sales.cspec"
    text = spec.read_text().replace("    amount: money(0..)?\n  }",
                                    "    amount: money(0..)?\n    stage: ref Stage?\n  }")
    spec.write_text(text + VIEWS)
    return folder


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    analysis = analyze_workspace([ui_workspace(tmp_path_factory.mktemp("ui_spec"))])
    assert not analysis.errors
    root = tmp_path_factory.mktemp("ui_app")
    for path, content in generate(analysis).files.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_bytes(content)
    return root


@dataclass
class App:
    modules: dict[str, ModuleType]
    tokens: dict[str, str]  # "<org>:<role>" -> token

    def browser(self, who: str | None = None) -> TestClient:
        """A client with its own cookies, signed in as `who`."""
        client = TestClient(self.modules["main"].app, follow_redirects=False)
        if who is not None:
            response = post(client, "/ui/sign-in", {"token": self.tokens[who], "next": "/ui"})
            assert response.status_code == 303, response.text
        return client

    def rows(self, model: str) -> list[Any]:
        with self.modules["session"].SessionLocal() as db:
            return list(db.scalars(sa.select(getattr(self.modules["models"], model))).all())


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def app(request: pytest.FixtureRequest, project: Path,
        tmp_path_factory: pytest.TempPathFactory) -> Iterator[App]:
    with temporary_database(request.param, tmp_path_factory.mktemp(request.param), "ui") as url:
        yield from serve(project, url)


def serve(project: Path, url: str) -> Iterator[App]:
    env = {**os.environ, "DATABASE_URL": url}
    migrated = subprocess.run([sys.executable, "-m", "alembic", "-c", f"{APP}/alembic.ini",
                               "upgrade", "head"], cwd=project, env=env, capture_output=True,
                              text=True, check=False)
    assert migrated.returncode == 0, migrated.stderr
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DATABASE_URL", url)
        mp.syspath_prepend(str(project))
        modules = {name: importlib.import_module(f"{APP}.{path}") for name, path in (
            ("main", "main"), ("session", "db.session"), ("dev", "dev"),
            ("models", "db.models"))}
        tokens = {}
        with modules["session"].SessionLocal() as db:
            for org in ("a", "b"):
                for role in ("owner", "admin", "member"):
                    tokens[f"{org}:{role}"] = modules["dev"].create_token(
                        db, f"Org {org}", f"{role}@{org}.example", role, role.title())
        yield App(modules, tokens)
        modules["session"].engine.dispose()
        for name in [m for m in sys.modules if m == APP or m.startswith(f"{APP}.")]:
            del sys.modules[name]


# ---- helpers ------------------------------------------------------------------------------


def csrf(client: TestClient) -> str:
    """The CSRF token of this client (a page visit sets the cookie)."""
    if "sales_csrf" not in client.cookies:
        client.get("/ui/sign-in")
    return str(client.cookies["sales_csrf"])


def post(client: TestClient, path: str, data: dict[str, str]) -> Any:
    return client.post(path, data={"csrf": csrf(client), **data})


def api(app: App, who: str, path: str, body: dict[str, Any]) -> dict[str, Any]:
    client = TestClient(app.modules["main"].app)
    response = client.post(path, json=body, headers={"Authorization": f"Bearer {app.tokens[who]}"})
    assert response.status_code in (200, 201), response.text
    return dict(response.json())


def stage(app: App, org: str = "a") -> dict[str, Any]:
    return api(app, f"{org}:owner", "/v1/create-stage", {"name": f"S {uuid.uuid4().hex[:6]}"})


def deal(app: App, org: str = "a", title: str | None = None, amount: str = "10",
         stage_id: str | None = None) -> dict[str, Any]:
    return api(app, f"{org}:owner", "/v1/create-deal", {
        "title": title or f"Deal {uuid.uuid4().hex[:8]}", "amount": amount,
        "stage": stage_id or stage(app, org)["id"]})


def flash(client: TestClient, path: str) -> str:
    """The message a redirect left for the next page."""
    page = client.get(path)
    found = re.search(r'<p class="flash [a-z]+" role="[a-z]+">([^<]*)</p>', page.text)
    return html.unescape(found.group(1)) if found else ""


class Outline(html.parser.HTMLParser):
    """Headings, form controls and labels of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.headings: list[int] = []
        self.controls: list[dict[str, str | None]] = []
        self.labels: set[str] = set()
        self.ids: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if found.get("id"):
            self.ids.add(str(found["id"]))
        if re.fullmatch(r"h[1-6]", tag):
            self.headings.append(int(tag[1]))
        if tag == "label" and found.get("for"):
            self.labels.add(str(found["for"]))
        if tag in ("input", "select", "textarea") and found.get("type") != "hidden":
            self.controls.append(found)


def accessible(text: str) -> Outline:
    """One h1, headings without skipped levels, a label for every control and every
    `aria-describedby` pointing at an element of the page."""
    outline = Outline()
    outline.feed(text)
    assert outline.headings.count(1) == 1 and outline.headings[0] == 1, outline.headings
    assert all(b - a <= 1 for a, b in zip(outline.headings, outline.headings[1:], strict=False))
    for control in outline.controls:
        assert control.get("id") in outline.labels, control
        for ref in (control.get("aria-describedby") or "").split():
            assert ref in outline.ids, ref
    return outline


# ---- generation -----------------------------------------------------------------------------


def test_nothing_without_views_and_views_need_identity() -> None:
    target = builtin_registry().targets()["ui"]
    options = target_options(target, {}, "x")
    plain = analyse("module m\nentity A {\n  id: uuid @id\n  name: string\n}\n")
    assert target.generate(plain.program, options) == {}
    with_view = analyse("module m\nentity A {\n  id: uuid @id\n  name: string\n}\n"
                        "view as list of A {\n  columns name\n}\n")
    with pytest.raises(GeneratorError, match="use identity"):
        target.generate(with_view.program, options)


def test_files_templates_and_main(project: Path) -> None:
    ui = project / APP / "ui"
    names = sorted(p.name for p in (ui / "templates").iterdir())
    assert names == ["base.html", "board.html", "detail.html", "form.html", "list.html",
                     "message.html", "sign_in.html"]
    for path in [*(ui / "templates").iterdir(), ui / "static" / "ui.css", ui / "routes.py"]:
        assert "Generated by cspec (ui)" in path.read_text().splitlines()[0], path
    main = (project / APP / "main.py").read_text()
    assert "from sales.ui.routes import router as ui_router" in main
    assert "app.include_router(ui_router)" in main
    routes = (ui / "routes.py").read_text()
    assert "contractspec" not in routes + (ui / "web.py").read_text()
    assert "api.deal_flow_win(" in routes and "api.update_deal_v1(" in routes
    assert "<script" not in "".join(p.read_text() for p in (ui / "templates").iterdir())


# ---- sign-in ----------------------------------------------------------------------------------


def test_sign_in_cookie_csrf_and_sign_out(app: App) -> None:
    client = app.browser()
    response = client.get("/ui/deals?status=open")
    assert response.status_code == 303
    assert response.headers["location"] == "/ui/sign-in?next=/ui/deals%3Fstatus%3Dopen"
    page = client.get("/ui/sign-in?next=/ui/deals")
    accessible(page.text)
    assert 'value="/ui/deals"' in page.text
    refused = client.post("/ui/sign-in", data={"token": app.tokens["a:owner"]})
    assert refused.status_code == 403  # no CSRF token
    bad = post(client, "/ui/sign-in", {"token": "cst_nope", "next": "/ui/deals"})
    assert bad.status_code == 401 and "not valid" in bad.text
    assert 'aria-describedby="f-token-hint f-token-error"' in bad.text
    good = post(client, "/ui/sign-in", {"token": app.tokens["a:owner"],
                                        "next": "https://evil.example/"})
    assert good.status_code == 303 and good.headers["location"] == "/ui"
    cookie = next(c for c in good.headers.get_list("set-cookie") if c.startswith("sales_token="))
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie
    assert client.get("/ui/deals").status_code == 200
    assert client.post("/ui/sign-out", data={"csrf": "forged"}).status_code == 403
    out = post(client, "/ui/sign-out", {})
    assert out.status_code == 303
    assert client.get("/ui/deals").status_code == 303


# ---- list -------------------------------------------------------------------------------------


def test_list_filters_search_and_pages(app: App) -> None:
    mark = uuid.uuid4().hex[:6]
    first = stage(app)
    for i in range(23):
        deal(app, title=f"{mark} bulk {i:02}", stage_id=first["id"])
    other = deal(app, title=f"{mark} other")
    deal(app, org="b", title=f"{mark} hidden")
    client = app.browser("a:member")
    page = client.get(f"/ui/deals?q={mark}")
    assert page.status_code == 200
    accessible(page.text)
    assert "24 records" in page.text and f"{mark} hidden" not in page.text
    assert 'aria-current="page"' in page.text and "Page 1 of 2" in page.text
    assert f"{mark} bulk 00" in page.text and f"{mark} bulk 23" not in page.text
    second = client.get(f"/ui/deals?q={mark}&page=2")
    assert "Page 2 of 2" in second.text and f"{mark} other" in second.text
    by_stage = client.get(f"/ui/deals?q={mark}&stage={first['id']}")
    assert "23 records" in by_stage.text and f"{mark} other" not in by_stage.text
    api(app, "a:owner", "/v1/deal-flow/win", {"id": other["id"]})
    won = client.get(f"/ui/deals?q={mark}&status=won")
    assert "1 record" in won.text and f"{mark} other" in won.text
    assert "24 records" in client.get(f"/ui/deals?q={mark}&status=bogus&page=x").text


# ---- forms ------------------------------------------------------------------------------------


def test_create_with_validation_errors_then_success(app: App) -> None:
    first = stage(app)
    client = app.browser("a:owner")
    form = client.get("/ui/deal-form")
    accessible(form.text)
    assert first["name"] in form.text and "From 1 to 200 characters." in form.text
    bad = post(client, "/ui/deal-form", {"title": "", "amount": "-5", "stage": first["id"],
                                         "contactEmail": "nope"})
    assert bad.status_code == 422
    outline = accessible(bad.text)
    assert 'role="alert"' in bad.text and "The form has 3 problems" in bad.text
    for name in ("title", "amount", "contactEmail"):
        assert f'id="f-{name}-error"' in bad.text
        control = next(c for c in outline.controls if c.get("id") == f"f-{name}")
        assert control.get("aria-invalid") == "true"
        assert f"f-{name}-error" in (control.get("aria-describedby") or "")
    assert "greater than or equal to 0" in bad.text and 'value="-5"' in bad.text
    title = f"Created {uuid.uuid4().hex[:6]}"
    good = post(client, "/ui/deal-form", {"title": title, "amount": "12.5",
                                          "stage": first["id"]})
    assert good.status_code == 303 and good.headers["location"].startswith("/ui/deal/")
    detail = client.get(good.headers["location"])
    accessible(detail.text)
    assert f"<h1>{title}</h1>" in detail.text and "12.5" in detail.text
    assert first["name"] in detail.text and "Owner" in detail.text
    created = next(r for r in app.rows("Deal") if r.title == title)
    assert str(created.owner_id) in {str(u.id) for u in app.rows("User")}
    denied = post(app.browser("a:member"), "/ui/deal-form", {
        "title": "x", "amount": "1", "stage": first["id"]})
    assert denied.status_code == 403 and "not allowed" in denied.text


def test_edit_form_calls_update_with_its_policy(app: App) -> None:
    record = deal(app, title=f"Edit {uuid.uuid4().hex[:6]}")
    client = app.browser("a:owner")
    page = client.get(f"/ui/deal-form/{record['id']}")
    assert f'value="{record["title"]}"' in page.text
    assert f'<option value="{record["stage"]}" selected>' in page.text
    saved = post(client, f"/ui/deal-form/{record['id']}", {
        "title": "Renamed " + record["id"], "amount": "7", "stage": record["stage"]})
    assert saved.status_code == 303
    assert flash(client, saved.headers["location"]) == "Saved."
    member = post(app.browser("a:member"), f"/ui/deal-form/{record['id']}",
                  {"title": "Nope", "amount": "7", "stage": record["stage"]})
    assert member.status_code == 403


# ---- record pages, buttons, tenancy ------------------------------------------------------------


def test_buttons_per_role_and_transitions(app: App) -> None:
    record = deal(app)
    path = f"/ui/deal/{record['id']}"
    owner, admin, member = (app.browser(f"a:{r}") for r in ("owner", "admin", "member"))
    buttons = {who: re.findall(r'<button type="submit">([^<]+)</button>', c.get(path).text)
               for who, c in (("owner", owner), ("admin", admin), ("member", member))}
    assert buttons["owner"] == ["Sign out", "Win", "Lose"]
    assert buttons["admin"] == ["Sign out", "Win", "Lose", "Delete deal"]
    assert buttons["member"] == ["Sign out"]
    refused = post(member, f"{path}/deal-flow/win", {})
    assert refused.status_code == 303
    assert flash(member, path) == "You are not allowed to do this."
    done = post(owner, f"{path}/deal-flow/win", {})
    assert flash(owner, done.headers["location"]) == "Win: done."
    assert re.findall(r'<button type="submit">([^<]+)</button>', owner.get(path).text) == [
        "Sign out"]
    assert "Reopen" in admin.get(path).text
    gone = post(admin, f"{path}/delete-deal", {})
    assert gone.headers["location"] == "/ui"
    assert admin.get(path).status_code == 404


def test_other_organisations_records_are_not_found(app: App) -> None:
    record = deal(app, org="a")
    other = app.browser("b:owner")
    for path in (f"/ui/deal/{record['id']}", f"/ui/deal-form/{record['id']}",
                 "/ui/deal/not-a-key"):
        page = other.get(path)
        assert page.status_code == 404 and "Not found" in page.text
    assert post(other, f"/ui/deal/{record['id']}/deal-flow/win", {}).status_code == 404
    moved = post(other, "/ui/pipeline/move", {"id": record["id"], "to": "won"})
    assert flash(other, moved.headers["location"]) == "Not found."
    assert record["title"] not in other.get("/ui/pipeline").text


# ---- boards ------------------------------------------------------------------------------------


def test_board_by_workflow_state_moves_by_transition(app: App) -> None:
    record = deal(app, amount="0")
    owner, member = app.browser("a:owner"), app.browser("a:member")
    board = owner.get("/ui/pipeline")
    accessible(board.text)
    assert re.findall(r'<h2 id="col-\d">(\w+)\s', board.text) == ["open", "won", "lost"]
    assert f'id="card-{record["id"]}"' in board.text
    assert f'id="card-{record["id"]}"' in member.get("/ui/pipeline").text
    refused = post(member, "/ui/pipeline/move", {"id": record["id"], "to": "won"})
    assert flash(member, refused.headers["location"]) == "You are not allowed to do this."
    blocked = post(owner, "/ui/pipeline/move", {"id": record["id"], "to": "lost"})
    assert flash(owner, blocked.headers["location"]) == (
        "The record's state does not allow this transition.")  # `when self.amount > 0`
    moved = post(owner, "/ui/pipeline/move", {"id": record["id"], "to": "won"})
    assert flash(owner, moved.headers["location"]).startswith("Moved ")
    assert next(r for r in app.rows("Deal") if str(r.id) == record["id"]).status.value == "won"
    none = post(owner, "/ui/pipeline/move", {"id": record["id"], "to": "lost"})
    assert flash(owner, none.headers["location"]) == (
        "No transition of DealFlow leads from won to lost.")


def test_board_by_field_moves_by_update(app: App) -> None:
    first, second = stage(app), stage(app)
    record = deal(app, stage_id=first["id"])
    owner, member = app.browser("a:owner"), app.browser("a:member")
    board = owner.get("/ui/stages")
    assert first["name"] in board.text and second["name"] in board.text
    refused = post(member, "/ui/stages/move", {"id": record["id"], "to": second["id"]})
    assert flash(member, refused.headers["location"]) == "You are not allowed to do this."
    moved = post(owner, "/ui/stages/move", {"id": record["id"], "to": second["id"]})
    assert flash(owner, moved.headers["location"]).startswith("Moved ")
    row = next(r for r in app.rows("Deal") if str(r.id) == record["id"])
    assert str(row.stage_id) == second["id"]
