"""Migrations from spec changes: each `cspec gen` that changes the schema writes a new Alembic
revision. Every revision is applied up, down and up again on SQLite and PostgreSQL with rows
present; the data must come through (renamed columns keep their values, renamed enum values
and moved workflow states are rewritten, new columns get their defaults), and after each
upgrade the database matches the models exactly (`alembic check`)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.conftest import DATA
from tests.databases import temporary_database

WORKSPACE = DATA / "gen" / "app"
APP = "sales"
CSPEC = shutil.which("cspec", path=str(Path(sys.executable).parent)) or "cspec"

# The changes, applied one after the other to spec/sales.cspec (old text -> new text).
CHANGE_2 = [  # rename a field, rename an enum value, add fields, drop a field
    ("  contactEmail: email? @pii\n  @@unique",
     "  email: email? @pii @renamedFrom(contactEmail)\n  probability: int(0..100) = 50\n"
     "  source: string(1..40) = \"web\"\n  @@unique"),
    ("    contactEmail: email?\n  }\n  output Deal", "    email: email?\n  }\n  output Deal"),
    ("    contactEmail: email? @pii\n    by", "    email: email? @pii\n    by"),
    ("  position: int(0..) = 0\n}", "}"),
    ("    position: int(0..)?\n", ""),
    ("  lost\n}", "  closedLost @renamedFrom(lost)\n}"),
    ("transition lose: open -> lost", "transition lose: open -> closedLost"),
    ("won, lost -> open", "won, closedLost -> open"),
    ("final won lost", "final won closedLost"),
]
CHANGE_3 = [  # rename a table, add a table, move a workflow state
    ("/// A pipeline stage of one organisation.\nentity Stage {",
     "/// A pipeline stage of one organisation.\nentity PipelineStage {\n  "
     "@@renamedFrom(Stage)"),
    ("stage: ref Stage", "stage: ref PipelineStage"),
    ("policy Stage {", "policy PipelineStage {"),
    ("output Stage\n", "output PipelineStage\n"),
    ("output page<Stage>", "output page<PipelineStage>"),
    ("errors {\n    StageNotFound 404", "errors {\n    PipelineStageNotFound 404"),
    ("permission manage_deals",
     "/// A note on a deal.\nentity Note {\n  id: uuid @id\n  org: ref identity.Org @tenant\n"
     "  deal: ref Deal\n  body: text\n}\n\npermission manage_deals"),
    ("  final won closedLost", "  migrate state won -> open\n  final won closedLost"),
]


def _edit(root: Path, changes: list[tuple[str, str]]) -> None:
    spec = root / "spec" / "sales.cspec"
    text = spec.read_text()
    for old, new in changes:
        assert old in text, old
        text = text.replace(old, new)
    spec.write_text(text)


def _run(args: list[str], cwd: Path, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(args, cwd=cwd, capture_output=True, text=True, check=False,
                          env=env, timeout=300)
    assert done.returncode == 0, f"{args}\n{done.stdout}\n{done.stderr}"
    return done.stdout


def _gen(root: Path) -> None:
    check = subprocess.run([CSPEC, "check", "."], cwd=root, capture_output=True, text=True,
                           check=False)
    assert check.returncode == 0, check.stdout + check.stderr
    _run([CSPEC, "gen", "--out", "out"], root)


def _alembic(root: Path, url: str, *args: str) -> str:
    env = {**os.environ, "DATABASE_URL": url, "PYTHONPATH": str(root / "out")}
    return _run([sys.executable, "-m", "alembic", "-c", f"{APP}/alembic.ini", *args],
                root / "out", env)


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    with temporary_database(request.param, tmp_path, "evolve") as url:
        yield url


def _rows(url: str, sql: str) -> list[tuple[object, ...]]:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return [tuple(r) for r in conn.execute(sa.text(sql))]
    finally:
        engine.dispose()


def _seed(url: str) -> None:
    def new_id() -> str:  # how SQLAlchemy's Uuid type stores ids on each database
        value = uuid.uuid4()
        return value.hex if url.startswith("sqlite") else str(value)

    org, user, stage = new_id(), new_id(), new_id()
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO identity_org (id, name) VALUES (:id, 'Acme')"),
                     {"id": org})
        conn.execute(sa.text("INSERT INTO identity_user (id, email, name) "
                             "VALUES (:id, 'ada@example.com', 'Ada')"), {"id": user})
        conn.execute(sa.text("INSERT INTO sales_stage (id, org_id, name, position) "
                             "VALUES (:id, :org, 'Lead', 3)"), {"id": stage, "org": org})
        for title, status in (("Won one", "won"), ("Lost one", "lost"), ("Open one", "open")):
            conn.execute(sa.text(
                "INSERT INTO sales_deal (id, org_id, title, amount, stage_id, status, owner_id, "
                "contact_email) VALUES (:id, :org, :title, 10, :stage, :status, :user, :mail)"),
                {"id": new_id(), "org": org, "title": title, "stage": stage,
                 "status": status, "user": user, "mail": f"{status}@example.com"})
    engine.dispose()


def _deals(url: str, email: str) -> list[tuple[object, ...]]:
    return sorted(_rows(url, f"SELECT title, status, {email} FROM sales_deal"))


def test_each_revision_goes_up_down_up_with_data(tmp_path: Path, database: str) -> None:
    root = tmp_path / "ws"
    shutil.copytree(WORKSPACE, root)
    _gen(root)
    _alembic(root, database, "upgrade", "head")
    _seed(database)
    before = _deals(database, "contact_email")

    _edit(root, CHANGE_2)
    _gen(root)
    versions = sorted(p.name for p in (root / "out" / APP / "migrations" / "versions").glob("*.py"))
    assert len(versions) == 2 and versions[0] == "0001_initial.py"
    _alembic(root, database, "upgrade", "head")
    _alembic(root, database, "check")  # the database is exactly what the models say
    after = _deals(database, "email")
    renamed = {"lost": "closedLost"}
    assert after == sorted((t, renamed.get(str(s), s), e) for t, s, e in before)
    assert set(_rows(database, "SELECT probability, source FROM sales_deal")) == {(50, "web")}
    _alembic(root, database, "downgrade", "-1")
    assert _deals(database, "contact_email") == before
    assert _rows(database, "SELECT position FROM sales_stage") == [(0,)]  # dropped: lost
    _alembic(root, database, "upgrade", "head")
    assert _deals(database, "email") == after

    _edit(root, CHANGE_3)
    _gen(root)
    _alembic(root, database, "upgrade", "head")
    _alembic(root, database, "check")
    assert _rows(database, "SELECT name FROM sales_pipeline_stage") == [("Lead",)]
    moved = _deals(database, "email")
    assert [s for _, s, _ in moved] == ["closedLost", "open", "open"]  # won -> open
    _alembic(root, database, "downgrade", "-1")
    assert _rows(database, "SELECT name FROM sales_stage") == [("Lead",)]
    _alembic(root, database, "upgrade", "head")
    _alembic(root, database, "downgrade", "base")
    _alembic(root, database, "upgrade", "head")
    _alembic(root, database, "check")


def test_regeneration_without_change_adds_no_revision(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    shutil.copytree(WORKSPACE, root)
    _gen(root)
    _edit(root, CHANGE_2)
    _gen(root)
    snapshot = (root / "out" / APP / "migrations" / "schema.json").read_bytes()
    _gen(root)
    assert (root / "out" / APP / "migrations" / "schema.json").read_bytes() == snapshot
    assert _run([CSPEC, "gen", "--out", "out", "--check"], root)
    versions = sorted((root / "out" / APP / "migrations" / "versions").glob("*.py"))
    assert [p.name[:4] for p in versions] == ["0001", "0002"]
    head = json.loads(snapshot)["head"]
    assert f'revision: str = "{head}"' in versions[-1].read_text()
    text = versions[-1].read_text()
    for change in ("rename column sales_deal.contact_email to email",
                   "rename value sales_deal.status: lost to closedLost",
                   "drop column sales_stage.position (its data is lost)",
                   "add column sales_deal.probability"):
        assert f"- {change}" in text


def test_required_column_without_default_stops_on_existing_rows(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    shutil.copytree(WORKSPACE, root)
    _gen(root)
    url = f"sqlite:///{tmp_path / 'guard.db'}"
    _alembic(root, url, "upgrade", "head")
    _seed(url)
    _edit(root, [("  contactEmail: email? @pii\n  @@unique",
                  "  contactEmail: email? @pii\n  region: string(2..8)\n  @@unique")])
    _gen(root)
    env = {**os.environ, "DATABASE_URL": url, "PYTHONPATH": str(root / "out")}
    failed = subprocess.run([sys.executable, "-m", "alembic", "-c", f"{APP}/alembic.ini",
                             "upgrade", "head"], cwd=root / "out", env=env, capture_output=True,
                            text=True, check=False)
    assert failed.returncode != 0
    assert "sales_deal.region is required and has no default, but 3 rows" in failed.stderr
    assert _rows(url, "SELECT COUNT(*) FROM sales_deal") == [(3,)]  # nothing half-done


def test_generated_revisions_pass_ruff_and_mypy(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    shutil.copytree(WORKSPACE, root)
    _gen(root)
    _edit(root, CHANGE_2)
    _gen(root)
    _edit(root, CHANGE_3)
    _gen(root)
    versions = root / "out" / APP / "migrations" / "versions"
    ruff = shutil.which("ruff", path=str(Path(sys.executable).parent)) or "ruff"
    _run([ruff, "check", "--no-cache", str(versions)], root / "out")
    _run([sys.executable, "-m", "mypy", "--strict", "--no-incremental", str(versions)],
         root / "out")
