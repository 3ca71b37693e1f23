"""The SQL of the new Alembic revisions a regeneration adds, for one dialect.

Every revision file a writer plan adds under `<app>/migrations/versions/` is rendered on a
temporary copy of the planned output (the output folder is not touched):

- PostgreSQL: Alembic's offline mode (`alembic upgrade <down_revision>:<revision> --sql`;
  from the start for a first revision) with `DATABASE_URL` set to a dummy URL: offline mode
  never connects.
- SQLite: offline mode cannot render batch operations (SQLite rebuilds a changed table, and
  Alembic must read the table to do that), so the revision is rehearsed on a scratch SQLite
  database instead: upgraded to `down_revision`, then to the revision while every statement
  is recorded (schema reads and PRAGMAs left out).
"""

from __future__ import annotations

import ast
import importlib.util
import os
import re
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from contractspec.generators.writer import Change, Plan, Status

DIALECTS = ("sqlite", "postgresql")
OFFLINE_URL = "postgresql+psycopg://user:password@localhost/plan"  # never connected to
REVISION = re.compile(r"^(?P<app>(?:[^/]+/)*[^/]+)/migrations/versions/[^/]+\.py$")
TIMEOUT = 300  # seconds for one Alembic run: a bound against a hung subprocess

# Run in the copy of the output: argv = alembic.ini, down revision ("" for none), revision.
REHEARSAL = r'''
import re, sys
from alembic import command
from alembic.config import Config
from sqlalchemy import event
from sqlalchemy.engine import Engine

config, down, revision = Config(sys.argv[1]), sys.argv[2], sys.argv[3]
if down:
    command.upgrade(config, down)
noise = re.compile(r"\s*(PRAGMA\b|SELECT\b.*\b(sqlite_(temp_)?master|alembic_version)\b)",
                   re.I | re.S)  # schema reads and connection settings
statements = []

def record(conn, cursor, statement, parameters, context, executemany):
    if not noise.match(statement):
        shown = statement.strip().replace("\t", "    ") + ";"
        statements.append(shown + (f"\n-- parameters: {parameters!r}" if parameters else ""))

event.listen(Engine, "before_cursor_execute", record)
command.upgrade(config, revision)
print("\n\n".join(statements))
'''


@dataclass(frozen=True)
class Migration:
    """One added revision and its SQL (or why there is none)."""

    path: str  # relative to the output folder
    revision: str | None
    down_revision: str | None
    sql: str | None
    problem: str | None = None

    def to_json(self) -> dict[str, object]:
        return {"path": self.path, "revision": self.revision,
                "downRevision": self.down_revision, "sql": self.sql, "problem": self.problem}


def revision_files(the_plan: Plan, *statuses: Status) -> list[Change]:
    """The Alembic revision files of the plan with one of `statuses`, in file order."""
    return [c for c in the_plan.by_status(*statuses) if REVISION.match(c.path)]


def migration_sql(the_plan: Plan, dialect: str) -> tuple[Migration, ...]:
    """The SQL of every revision file `the_plan` adds (none: an empty tuple)."""
    added = revision_files(the_plan, Status.ADDED)
    if not added:
        return ()
    if importlib.util.find_spec("alembic") is None:
        problem = (f"Alembic is not installed in {sys.executable} (`pip install alembic`): "
                   "the SQL cannot be shown")
        return tuple(_unrendered(change, problem) for change in added)
    with tempfile.TemporaryDirectory(prefix="cspec-plan-") as tmp:
        tree = Path(tmp)
        try:
            _materialise(the_plan, tree)
        except OSError as error:
            problem = f"cannot copy the planned output: {error}"
            return tuple(_unrendered(change, problem) for change in added)
        return tuple(_render(change, tree, dialect) for change in added)


def _revision_ids(content: bytes | None) -> tuple[str | None, str | None, str | None]:
    """`revision`, `down_revision` and a problem, read (not imported) from a revision file."""
    try:
        tree = ast.parse(content or b"")
    except (SyntaxError, ValueError):
        return None, None, "not a readable Python file"
    found: dict[str, object] = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target, value = node.targets[0], node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            target, value = node.target, node.value
        else:
            continue
        if isinstance(target, ast.Name):
            found[target.id] = value.value if isinstance(value, ast.Constant) else value
    revision, down = found.get("revision"), found.get("down_revision")
    if not isinstance(revision, str) or "down_revision" not in found or not (
            down is None or isinstance(down, str)):
        return None, None, ("no `revision` and `down_revision` strings (a merge of several "
                            "revisions is not shown)")
    return revision, down, None


def _unrendered(change: Change, problem: str) -> Migration:
    revision, down, unreadable = _revision_ids(change.new)
    return Migration(change.path, revision, down, None, unreadable or problem)


def _materialise(the_plan: Plan, tree: Path) -> None:
    """Write the output as it would be after applying the plan into `tree`."""
    planned = {c.path for c in the_plan.changes}
    for change in the_plan.changes:
        content = change.old if change.user_owned and change.old is not None else change.new
        if content is not None:
            _write(tree / change.path, content)
    for path in the_plan.manifest.files:  # another target's files: as they are on disk
        source = the_plan.out_dir / path
        if path not in planned and source.is_file():
            _write(tree / path, source.read_bytes())


def _write(path: Path, content: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)


def _render(change: Change, tree: Path, dialect: str) -> Migration:
    path = change.path
    revision, down, problem = _revision_ids(change.new)
    if revision is None:
        return Migration(path, None, None, None, problem)
    match = REVISION.match(path)
    assert match is not None
    config = f"{match['app']}/alembic.ini"
    if not (tree / config).is_file():
        return Migration(path, revision, down, None, f"no {config} in the generated output")
    if dialect == "sqlite":
        command = [sys.executable, "-c", REHEARSAL, config, down or "", revision]
        env = {**os.environ, "DATABASE_URL": f"sqlite:///{tree.resolve() / 'rehearsal.db'}"}
    else:
        span = revision if down is None else f"{down}:{revision}"
        command = [sys.executable, "-m", "alembic", "-c", config, "upgrade", span, "--sql"]
        env = {**os.environ, "DATABASE_URL": OFFLINE_URL}
    try:
        done = subprocess.run(command, cwd=tree, env=env, capture_output=True, text=True,
                              check=False, timeout=TIMEOUT)
    except (OSError, subprocess.TimeoutExpired) as error:
        return Migration(path, revision, down, None, f"cannot run Alembic: {error}")
    if done.returncode != 0:
        lines = [line for line in done.stderr.splitlines() if line.strip()]
        why = "\n".join(lines[-3:]) or f"exit code {done.returncode}"
        return Migration(path, revision, down, None, f"Alembic failed: {why}")
    sql = "\n".join(line.rstrip() for line in done.stdout.strip().splitlines())
    return Migration(path, revision, down, sql + "\n")
