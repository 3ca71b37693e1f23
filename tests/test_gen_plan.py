"""`cspec gen --plan`: one reviewable plan of a regeneration (spec diff, change list, file
diffs, migration SQL), in text, Markdown and JSON; and the same plan in the editor's
regeneration preview. The workspace is the sales app in a temporary git repository."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from contractspec.analysis import analyze_workspace
from contractspec.cli.main import main
from contractspec.generators.migration_sql import migration_sql
from contractspec.generators.review import spec_diff
from contractspec.generators.writer import Change, Manifest, Plan, Status
from contractspec.ide import regen
from contractspec.ide.regen import PlanOptions, RegenerationError, Regenerator
from tests.conftest import DATA

SPEC = Path("spec") / "sales.cspec"
FIELD = "  probability: int(0..100) = 50\n"
VERSIONS = "sales/migrations/versions/"


def git(root: Path, *args: str) -> None:
    subprocess.run(["git", "-c", "user.email=t@example.com", "-c", "user.name=t", *args],
                   cwd=root, check=True, capture_output=True)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """The sales workspace, committed in a fresh git repository."""
    root = tmp_path / "ws"
    shutil.copytree(DATA / "gen" / "app", root)
    git(root, "init", "-q")
    git(root, "add", ".")
    git(root, "commit", "-qm", "base")
    return root


def add_field(root: Path) -> None:
    text = (root / SPEC).read_text(encoding="utf-8")
    (root / SPEC).write_text(text.replace("  contactEmail: email? @pii\n  @@unique",
                                          f"  contactEmail: email? @pii\n{FIELD}  @@unique"),
                             encoding="utf-8")


def remove_operation(root: Path) -> None:
    text = (root / SPEC).read_text(encoding="utf-8")
    start = text.index("/// A score computed")
    (root / SPEC).write_text(text[:start] + text[text.index("event deal.created"):],
                             encoding="utf-8")


def gen(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(["gen", *args])
    out, err = capsys.readouterr()
    return code, out, err


def sections(text: str) -> dict[str, str]:
    """The text plan by section title (`Spec changes`, `Change list`, ...)."""
    found: dict[str, list[str]] = {}
    current: list[str] = []
    for line in text.splitlines():
        if line.startswith("== ") and line.endswith(" =="):
            current = found.setdefault(line[3:-3].split(" (")[0], [])
        else:
            current.append(line)
    return {title: "\n".join(lines) for title, lines in found.items()}


def tree(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def test_first_run_plan_shows_everything_and_writes_nothing(
        repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    add_field(repo)
    remove_operation(repo)
    code, out, _ = gen(capsys, str(repo), "--plan", "--base", "HEAD", "--color", "never")
    assert code == 0
    assert not (repo / "generated").exists()
    parts = sections(out)
    assert list(parts) == ["Spec changes", "Change list", "Generated files", "Migration SQL"]
    spec = parts["Spec changes"]
    assert "--- a/spec/sales.cspec\n+++ b/spec/sales.cspec\n" in spec
    assert f"\n+{FIELD}" in spec and "\n-query scoreDeal v1 {\n" in spec
    changes = parts["Change list"]
    assert "breaking CX101 operation-removed: operation `scoreDeal v1`" in changes
    assert "safe CX205 column-added: column `probability` of entity `Deal`" in changes
    files = parts["Generated files"]
    assert "added     sales/db/models.py  +" in files
    assert f"added     {VERSIONS}0001_initial.py" in files
    assert "\n+++ b/sales/db/models.py\n" in files and "+class Deal(" in files
    assert "would write: " in files and " 0 changed, 0 removed, 0 unchanged" in files
    sql = parts["Migration SQL"]
    assert f"-- {VERSIONS}0001_initial.py (<base> -> " in sql
    assert "CREATE TABLE sales_deal (" in sql and "probability INTEGER" in sql
    assert "scoreDeal" not in sql


def test_plan_after_a_generation_shows_the_changed_files_and_the_migration(
        repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert gen(capsys, str(repo))[0] == 0
    before = tree(repo / "generated")
    add_field(repo)
    remove_operation(repo)
    code, out, _ = gen(capsys, str(repo), "--plan", "--base", "HEAD", "--format", "json")
    assert code == 0
    assert tree(repo / "generated") == before
    plan = json.loads(out)
    assert plan["version"] == 1 and plan["base"] == "HEAD" and plan["dialect"] == "sqlite"
    assert f"+{FIELD}" in plan["specDiff"]
    assert {c["code"] for c in plan["changes"]} == {"CX101", "CX205"}
    files = {f["path"]: f for f in plan["files"]}
    models = files["sales/db/models.py"]
    assert models["status"] == "changed" and models["added"] >= 1
    assert "+    probability" in models["diff"]
    routes = files["sales/api/routes.py"]
    assert routes["removed"] > 0 and "-def score_deal" in routes["diff"].replace("async ", "")
    assert plan["pending"] is False and plan["kept"] == []
    added = plan["migrations"]
    if added:  # the db target writes a new revision per spec change
        assert all(m["path"].startswith(VERSIONS) and m["problem"] is None for m in added)
        sql = "".join(m["sql"] for m in added)  # rehearsed on SQLite: the table is rebuilt
        assert "probability INTEGER" in sql and "UPDATE alembic_version" in sql
        assert "PRAGMA" not in sql and "sqlite_master" not in sql
        assert all(m["downRevision"] for m in added)
    else:  # the initial revision is rewritten in place
        assert plan["revisionsChangedInPlace"] == [f"{VERSIONS}0001_initial.py"]
    text = gen(capsys, str(repo), "--plan", "--base", "HEAD", "--color", "always",
               "--dialect", "postgresql")[1]
    assert ("no migration" in text) is not bool(added)
    if added:  # offline mode: plain ALTER statements
        assert "ALTER TABLE sales_deal ADD COLUMN probability INTEGER" in text
    assert "\x1b[32m+    probability" in text and "\x1b[31m-query scoreDeal" in text
    assert "\x1b[1;31mbreaking\x1b[0m CX101" in text
    assert tree(repo / "generated") == before


def test_without_base_the_lock_gives_the_change_list(
        repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = gen(capsys, str(repo), "--plan", "--target", "events")
    parts = sections(out)
    assert code == 0
    assert parts["Spec changes"].strip() == ("spec diff: give --base REF (a git ref) to see "
                                             "the spec changes")
    assert parts["Change list"].strip().startswith("change list: no cspec.lock")
    assert parts["Migration SQL"].strip() == ("no migration: the regeneration adds no "
                                              "Alembic revision")
    assert main(["release", str(repo)]) == 0
    add_field(repo)
    code, out, _ = gen(capsys, str(repo), "--plan", "--target", "events")
    parts = sections(out)
    assert code == 0
    assert "cspec.lock holds no spec texts" in parts["Spec changes"]
    assert "CX205 column-added" in parts["Change list"]
    assert "1 change: 0 breaking, 0 dangerous, 1 safe" in parts["Change list"]


def test_spec_errors_exit_1(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = (repo / SPEC).read_text(encoding="utf-8")
    (repo / SPEC).write_text(text.replace("position: int(0..) = 0", "position: integer"),
                             encoding="utf-8")
    code, out, err = gen(capsys, str(repo), "--plan")
    assert code == 1 and out == "" and "CS201" in err
    (repo / SPEC).write_text("module sales\nentity {\n", encoding="utf-8")
    code, out, err = gen(capsys, str(repo), "--plan", "--base", "HEAD")
    assert code == 1 and out == "" and "nothing generated" in err
    assert not (repo / "generated").exists()


def test_markdown_with_postgresql_sql(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    add_field(repo)
    code, out, _ = gen(capsys, str(repo), "--plan", "--base", "HEAD", "--dialect",
                       "postgresql", "--format", "markdown")
    assert code == 0
    assert out.startswith("## Spec changes against `HEAD`\n\n```diff\n--- a/spec/sales.cspec")
    assert "## Change list against `HEAD`" in out and "| 🟢 safe | `CX205` column-added" in out
    assert "### Spec changes" not in out  # cspec diff's own heading is left out
    assert "| `sales/db/models.py` | added |" in out
    assert "<details><summary><code>README.md</code>" in out
    readme = out[out.index("<code>README.md</code>"):]
    fence = readme[readme.index("\n`") + 1:].split("diff\n")[0]
    assert len(fence) >= 4  # longer than the README's own ``` fences
    sql = out[out.index("## Migration SQL (postgresql)"):]
    assert "```sql\n" in sql and "BEGIN;" in sql and "id UUID NOT NULL" in sql
    assert "probability INTEGER" in sql


def test_usage_errors(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = gen(capsys, str(repo), "--base", "HEAD", "--dialect", "postgresql")
    assert code == 2 and "--base, --dialect: only with --plan" in err
    code, _, err = gen(capsys, str(repo), "--plan", "--base", "no-such-ref")
    assert code == 2 and "`no-such-ref` is neither a file nor a git commit" in err
    code, _, err = gen(capsys, str(repo), "--plan", "--dry-run")
    assert code == 2 and "not allowed with argument" in err
    assert not (repo / "generated").exists()


# ---- the pieces ------------------------------------------------------------------------------


def test_spec_diff_names_added_and_removed_files() -> None:
    diff = spec_diff({"spec/a.cspec": "module a\n", "spec/b.cspec": "module b"},
                     {"spec/a.cspec": "module a\n", "spec/c.cspec": "module c\n"})
    assert diff == ("--- a/spec/b.cspec\n+++ /dev/null\n@@ -1 +0,0 @@\n-module b\n"
                    "\\ No newline at end of file\n"
                    "--- /dev/null\n+++ b/spec/c.cspec\n@@ -0,0 +1 @@\n+module c\n")
    assert spec_diff({"x": "same"}, {"x": "same"}) == ""


def _revision_plan(folder: Path, files: dict[str, bytes]) -> Plan:
    changes = tuple(Change(path, Status.ADDED, None, content) for path, content in files.items())
    return Plan(folder, changes, Manifest())


def test_revisions_that_cannot_be_rendered_say_why(tmp_path: Path) -> None:
    broken = _revision_plan(tmp_path, {
        "app/migrations/versions/0002_a.py": b"revision = 'b'\ndown_revision = 'a'\n",
        "app/migrations/versions/0003_b.py": b"def (:\n",
        "app/migrations/versions/0004_c.py": b"revision = 'd'\ndown_revision = ('b', 'c')\n",
        "app/models.py": b"x = 1\n",
    })
    first, second, third = migration_sql(broken, "sqlite")
    assert (first.revision, first.down_revision, first.sql) == ("b", "a", None)
    assert first.problem == "no app/alembic.ini in the generated output"
    assert second.problem == "not a readable Python file"
    assert third.problem is not None and "merge" in third.problem
    failing = _revision_plan(tmp_path, {
        "app/alembic.ini": b"[alembic]\nscript_location = %(here)s/migrations\n",
        "app/migrations/env.py": b"raise RuntimeError('broken env')\n",
        "app/migrations/versions/0001_initial.py": b"revision: str = 'a'\n"
                                                   b"down_revision = None\n",
    })
    for dialect in ("sqlite", "postgresql"):
        (only,) = migration_sql(failing, dialect)
        assert (only.revision, only.down_revision, only.sql) == ("a", None, None)
        assert only.problem is not None and "Alembic failed" in only.problem
        assert "broken env" in only.problem
    assert not any(tmp_path.iterdir())  # rendered in a temporary copy


def test_regeneration_preview_carries_the_plan(repo: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    rendered: list[str] = []

    def counting(the_plan: Plan, dialect: str) -> tuple[regen.Migration, ...]:
        rendered.append(dialect)
        return migration_sql(the_plan, dialect)

    monkeypatch.setattr(regen, "migration_sql", counting)
    add_field(repo)
    analysis = analyze_workspace([repo])
    regenerator = Regenerator()
    preview = regenerator.review(analysis, PlanOptions(base="HEAD"))
    assert preview.review is not None and preview.to_json()["plan"] == preview.review
    assert preview.review.startswith("== Spec changes (against HEAD) ==\n--- a/spec/sales.cspec")
    assert "CREATE TABLE sales_deal" in preview.review
    assert preview.to_json()["files"] == regenerator.preview(analysis).to_json()["files"]
    assert "plan" not in regenerator.preview(analysis).to_json()
    again = regenerator.review(analysis, PlanOptions(format="markdown"))
    assert again.review is not None and again.review.startswith("## Spec changes\n")
    assert rendered == ["sqlite"]  # the same added revision: its SQL is not rendered twice
    regenerator.review(analysis, PlanOptions(dialect="postgresql"))
    assert rendered == ["sqlite", "postgresql"]
    with pytest.raises(RegenerationError, match="neither a file nor a git commit"):
        regenerator.review(analysis, PlanOptions(base="nowhere"))
    with pytest.raises(RegenerationError, match="unknown dialect 'mysql'"):
        PlanOptions(dialect="mysql")
