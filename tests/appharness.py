"""Generate a workspace's application, migrate a database with its own Alembic revisions and
drive it in process with bearer tokens of members of two organisations (tests of generated
apps share this; `tests/databases.py` gives the throw-away databases)."""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from fastapi.testclient import TestClient

from contractspec.analysis import Analysis, analyze_workspace
from contractspec.generators.pipeline import generate

ORGS = ("a", "b")
ROLES = ("owner", "admin", "member")


@dataclass
class App:
    client: TestClient
    modules: dict[str, ModuleType]
    tokens: dict[str, str]  # "<org>:<role>" -> token
    users: dict[str, str]  # "<org>:<role>" -> user id

    def call(self, who: str | None, method: str, path: str, **kwargs: Any) -> Any:
        headers = {"Authorization": f"Bearer {self.tokens[who]}"} if who else {}
        return self.client.request(method, path, headers=headers, **kwargs)

    def session(self) -> Any:
        return self.modules["session"].SessionLocal()


def analyse(workspace: Path) -> Analysis:
    result = analyze_workspace([workspace])
    assert not result.errors, [d.message for d in result.errors]
    return result


def write_project(analysis: Analysis, root: Path) -> Path:
    """Generate the application into `root` (an empty folder); `root`."""
    for path, content in generate(analysis).files.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_bytes(content)
    return root


@contextmanager
def running_app(project: Path, app: str, url: str) -> Iterator[App]:
    """The generated app `app` in `project` on the database `url`, migrated, with a token per
    org x role; its modules are unloaded after."""
    env = {**os.environ, "DATABASE_URL": url}
    migrated = subprocess.run([sys.executable, "-m", "alembic", "-c", f"{app}/alembic.ini",
                               "upgrade", "head"], cwd=project, env=env, capture_output=True,
                              text=True, check=False)
    assert migrated.returncode == 0, migrated.stderr
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DATABASE_URL", url)
        mp.syspath_prepend(str(project))
        modules = {name: importlib.import_module(f"{app}.{path}") for name, path in (
            ("main", "main"), ("session", "db.session"), ("dev", "dev"), ("models", "db.models"),
            ("outbox", "events.outbox"), ("auth", "auth"))}
        tokens, users = {}, {}
        with modules["session"].SessionLocal() as db:
            for org in ORGS:
                for role in ROLES:
                    key = f"{org}:{role}"
                    tokens[key] = modules["dev"].create_token(
                        db, f"Org {org}", f"{role}@{org}.example", role, role.title())
                    actor = modules["auth"].actor_for_token(db, tokens[key])
                    users[key] = str(actor.user_id)
        try:
            with TestClient(modules["main"].app, raise_server_exceptions=False) as client:
                yield App(client, modules, tokens, users)
        finally:
            modules["session"].engine.dispose()
            for name in [m for m in sys.modules if m == app or m.startswith(f"{app}.")]:
                del sys.modules[name]
