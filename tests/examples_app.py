"""Running an example's generated application in tests: migrate it with its own Alembic
migrations, import it from its folder, and drive it over HTTP with bearer tokens of an owner,
an admin and a member of two organisations (`a` and `b`)."""

from __future__ import annotations

import importlib
import os
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
ROLES = ("owner", "admin", "member")


def example_app(name: str) -> tuple[Path, str]:
    """The example's committed output folder and its Python package."""
    config = tomllib.loads((EXAMPLES / name / "cspec.toml").read_text())
    return EXAMPLES / name / config["output"]["dir"], config["generators"]["app"]


def copy_example(name: str, to: Path) -> Path:
    """A copy of the whole example (specs, lock, generated app) under `to`."""
    target = to / name
    shutil.copytree(EXAMPLES / name, target, ignore=shutil.ignore_patterns("__pycache__"))
    return target


def migrate(folder: Path, package: str, url: str, revision: str = "head") -> None:
    """`alembic upgrade` the database at `url` with the app's own migrations."""
    out = subprocess.run([sys.executable, "-m", "alembic", "-c", f"{package}/alembic.ini",
                          "upgrade", revision], cwd=folder, capture_output=True, text=True,
                         env={**os.environ, "DATABASE_URL": url}, check=False)
    assert out.returncode == 0, out.stdout + out.stderr


@dataclass
class RunningApp:
    """A generated app under test: its client, modules and members' tokens."""

    client: TestClient
    package: str
    modules: dict[str, ModuleType]
    tokens: dict[str, str]  # "<org>:<role>" -> bearer token
    users: dict[str, str]  # "<org>:<role>" -> user id

    def call(self, who: str | None, method: str, path: str, **kwargs: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.tokens[who]}"} if who else {}
        return self.client.request(method, path, headers=headers, **kwargs)

    def post(self, who: str, path: str, body: dict[str, Any]) -> httpx.Response:
        return self.call(who, "POST", path, json=body)

    def get(self, who: str, path: str, **params: Any) -> httpx.Response:
        return self.call(who, "GET", path, params=params)

    def ok(self, who: str, path: str, body: dict[str, Any] | None = None,
           expect: int = 200, **params: Any) -> Any:
        """POST `body` (or GET `params` when no body) and expect `expect`; the JSON."""
        response = self.post(who, path, body) if body is not None else self.get(
            who, path, **params)
        assert response.status_code == expect, (path, response.text)
        return response.json() if response.content else None

    def page(self, who: str, method: str, path: str,
             form: dict[str, str] | None = None) -> httpx.Response:
        """A UI page (`/ui/...`) as `who`, signed in by the token cookie; a form is posted
        with the CSRF token (`form=None` on a POST: without it)."""
        csrf = "csrf-test-token"
        self.client.cookies.set(f"{self.package}_token", self.tokens[who])
        self.client.cookies.set(f"{self.package}_csrf", csrf)
        try:
            data = {**form, "csrf": csrf} if form is not None else None
            return self.client.request(method, path, data=data, follow_redirects=False)
        finally:
            self.client.cookies.clear()

    def session(self) -> Any:
        return self.modules["session"].SessionLocal()

    def model(self, name: str) -> Any:
        return getattr(self.modules["models"], name)

    def events(self, name: str) -> list[dict[str, Any]]:
        """The envelopes of `name` in the outbox, oldest first."""
        outbox = self.model("OutboxEvent")
        with self.session() as db:
            rows = db.scalars(sa.select(outbox).where(outbox.event == name)).all()
            return sorted((dict(row.body) for row in rows), key=lambda e: e["occurredAt"])

    def audit(self, event: str) -> list[Any]:
        """The audit rows of an event (`deal.created v1`)."""
        entry = self.model("AuditEntry")
        with self.session() as db:
            return list(db.scalars(sa.select(entry).where(entry.event == event)).all())


@contextmanager
def running_app(folder: Path, package: str, url: str,
                raise_server_exceptions: bool = True) -> Iterator[RunningApp]:
    """Import the (migrated) app of `folder` against `url`, with members' tokens; unloaded
    after, so that another app of the same package can be imported next. Without
    `raise_server_exceptions`, a server error is an HTTP 500 answer, not an exception."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DATABASE_URL", url)
        mp.syspath_prepend(str(folder))
        importlib.invalidate_caches()
        modules = {name: importlib.import_module(f"{package}.{path}") for name, path in (
            ("main", "main"), ("session", "db.session"), ("dev", "dev"),
            ("models", "db.models"), ("auth", "auth"), ("outbox", "events.outbox"),
            ("enums", "enums"))}
        tokens: dict[str, str] = {}
        users: dict[str, str] = {}
        try:
            with modules["session"].SessionLocal() as db:
                for org in ("a", "b"):
                    for role in ROLES:
                        key = f"{org}:{role}"
                        tokens[key] = modules["dev"].create_token(
                            db, f"Org {org}", f"{role}@{org}.example", role, role.title())
                        actor = modules["auth"].actor_for_token(db, tokens[key])
                        users[key] = str(actor.user_id)
            with TestClient(modules["main"].app,
                            raise_server_exceptions=raise_server_exceptions) as client:
                yield RunningApp(client, package, modules, tokens, users)
        finally:
            modules["session"].engine.dispose()
            for name in [m for m in sys.modules if m == package or m.startswith(f"{package}.")]:
                del sys.modules[name]
