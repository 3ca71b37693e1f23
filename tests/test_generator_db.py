"""The `db` target: golden output, determinism, lint and types of the generated code, and the
generated models and migration on a real database (SQLite; PostgreSQL when
CSPEC_TEST_POSTGRES_URL is set).

Set CSPEC_UPDATE_GOLDEN=1 to rewrite the golden files under tests/golden/db/."""

from __future__ import annotations

import datetime
import hashlib
import importlib
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError, StatementError

from contractspec.analysis import analyze_workspace
from contractspec.generators.base import GeneratorOptions, builtin_registry, has_header
from contractspec.generators.db import DbGenerator
from contractspec.generators.db.naming import class_names, snake
from contractspec.ir import nodes as ir
from tests.conftest import DATA, analyse
from tests.golden import assert_golden

WORKSPACE = DATA / "gen" / "db"
GOLDEN = Path(__file__).resolve().parent / "golden" / "db"
APP = "shopapp"
RUFF_RULES = "E,F,W,I,B,UP,SIM,RUF"


@pytest.fixture(scope="module")
def program() -> ir.Program:
    analysis = analyze_workspace([WORKSPACE])
    assert not analysis.errors
    return analysis.program


@pytest.fixture(scope="module")
def files(program: ir.Program) -> dict[str, bytes]:
    return DbGenerator().generate(program, GeneratorOptions(app=APP))


CLASHES = {
    "a.cspec": "module a\n\nentity Item {\n  id: uuid @id\n  datetime: datetime\n"
               "  class: string?\n  count: bigint\n}\n\nenum Base {\n  x\n  class\n}\n",
    "b.cspec": "module b\n\nuse a\n\nentity Item {\n  id: bigint @id\n  item: ref a.Item\n"
               "  other: ref a.Item?\n  kind: a.Base = class\n}\n",
}
NO_ENTITIES = {"c.cspec": "module c\n\nenum Colour {\n  red\n}\n"}


@pytest.fixture(scope="module")
def project(files: dict[str, bytes], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The generated files on disk, with the package's `__init__.py` (another target's);
    beside it, the apps of two odd workspaces (clashing names, no entity at all)."""
    root = tmp_path_factory.mktemp("db_app")
    apps = {APP: files}
    for app, texts in (("clashapp", CLASHES), ("emptyapp", NO_ENTITIES)):
        apps[app] = DbGenerator().generate(analyse(texts).program, GeneratorOptions(app=app))
    for app, generated in apps.items():
        for path, content in generated.items():
            (root / path).parent.mkdir(parents=True, exist_ok=True)
            (root / path).write_bytes(content)
        (root / app / "__init__.py").write_text('"""The generated app."""\n')
    return root


def run(args: list[str], cwd: Path, url: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": url, "PYTHONPATH": str(cwd)}
    return subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


# ---- golden files, determinism, registration -------------------------------------------------


def test_golden(files: dict[str, bytes]) -> None:
    assert_golden(files, GOLDEN)


def test_layout_and_headers(files: dict[str, bytes]) -> None:
    assert sorted(files) == [f"{APP}/{p}" for p in (
        "alembic.ini", "db/__init__.py", "db/base.py", "db/models.py", "db/session.py",
        "enums.py", "migrations/env.py", "migrations/script.py.mako",
        "migrations/versions/0001_initial.py")]
    for path, content in files.items():
        assert has_header(content), path
        assert b"spec/shop.cspec" in content.split(b"\n", 1)[0], path
        assert b"contractspec" not in content, path


def test_deterministic_across_runs_and_hash_seeds(program: ir.Program,
                                                 files: dict[str, bytes]) -> None:
    assert DbGenerator().generate(program, GeneratorOptions(app=APP)) == files
    digest = hashlib.sha256(b"".join(p.encode() + c for p, c in files.items())).hexdigest()
    script = (
        "import hashlib, sys\n"
        "from pathlib import Path\n"
        "from contractspec.analysis import analyze_workspace\n"
        "from contractspec.generators.base import GeneratorOptions\n"
        "from contractspec.generators.db import DbGenerator\n"
        f"program = analyze_workspace([Path({str(WORKSPACE)!r})]).program\n"
        f"files = DbGenerator().generate(program, GeneratorOptions(app={APP!r}))\n"
        "print(hashlib.sha256(b''.join(p.encode() + c for p, c in files.items())).hexdigest())\n"
    )
    for seed in ("1", "4242"):
        out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                             env={**os.environ, "PYTHONHASHSEED": seed}, check=True)
        assert out.stdout.strip() == digest


def test_registered() -> None:
    assert isinstance(builtin_registry().targets()["db"], DbGenerator)


def test_names_clash_and_shadowing() -> None:
    program = analyse(CLASHES).program
    assert class_names(program) == {("a", "Item"): "AItem", ("a", "Base"): "ABase",
                                    ("b", "Item"): "BItem"}
    models = DbGenerator().generate(program, GeneratorOptions(app="x"))["x/db/models.py"]
    text = models.decode()
    assert 'datetime_: Mapped[datetime.datetime] = mapped_column("datetime",' in text
    assert 'class_: Mapped[str | None] = mapped_column("class",' in text
    assert 'item: Mapped[AItem] = relationship(foreign_keys="[BItem.item_id]")' in text
    assert snake("APIKey") == "api_key" and snake("contactEmail") == "contact_email"


# ---- the generated code: ruff and mypy --strict ---------------------------------------------


def test_generated_code_passes_ruff(project: Path) -> None:
    for extra in ([], ["--select", RUFF_RULES, "--line-length", "100",
                       "--target-version", "py311"]):
        out = subprocess.run([sys.executable, "-m", "ruff", "check", "--isolated", *extra,
                              APP, "clashapp", "emptyapp"],
                             cwd=project, capture_output=True, text=True)
        assert out.returncode == 0, out.stdout + out.stderr


def test_generated_code_passes_mypy_strict(project: Path) -> None:
    out = subprocess.run([sys.executable, "-m", "mypy", "--strict", "--no-incremental",
                          "--cache-dir", os.devnull, APP, "clashapp", "emptyapp"],
                         cwd=project, capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr


# ---- the generated code on SQLite -------------------------------------------------------------


@pytest.fixture(scope="module")
def app(project: Path) -> Iterator[dict[str, ModuleType]]:
    """The generated package imported, its engine on a fresh SQLite file, tables created."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DATABASE_URL", f"sqlite:///{project / 'create_all.db'}")
        mp.syspath_prepend(str(project))
        modules = {name: importlib.import_module(f"{APP}.{name}")
                   for name in ("enums", "db.base", "db.models", "db.session")}
        modules["db.base"].Base.metadata.create_all(modules["db.session"].engine)
        yield modules
        modules["db.session"].engine.dispose()
        for name in [m for m in sys.modules if m == APP or m.startswith(f"{APP}.")]:
            del sys.modules[name]


def _org_and_user(session: Any, m: ModuleType) -> tuple[Any, Any]:
    org = m.Org(name="Acme")
    user = m.User(email=f"{uuid.uuid4()}@example.com", name="Ada")
    session.add_all([org, user])
    session.flush()
    return org, user


def test_every_column_type_round_trips(app: dict[str, ModuleType]) -> None:
    m, enums, local = app["db.models"], app["enums"], app["db.session"].SessionLocal
    with local() as session:
        org, user = _org_and_user(session, m)
        parent = m.Category(org=org, name="Tools")
        category = m.Category(org=org, name="Hammers", parent=parent)
        product = m.Product(
            org=org, sku="HAM-1", title="Claw hammer", description="Steel.",
            price=Decimal("12.3400"), weight=Decimal("0.750"), stock=3, views=2**40,
            active=False, released_on=datetime.date(2024, 1, 31),
            warranty=datetime.timedelta(days=730), external_id=uuid.UUID(int=7),
            homepage="https://example.com/h", support_email="help@example.com",
            attributes={"colour": "red", "sizes": [1, 2]}, tags=["tools", "steel"],
            priority=enums.Priority.high, api_key="k" * 64, category=category)
        order = m.Order(org=org, number=1, customer=user, note="Leave at the door",
                        placed_at=datetime.datetime(2024, 2, 1, 9, 30,
                                                    tzinfo=datetime.UTC))
        line = m.OrderLine(org=org, order=order, product=product, unit_price=Decimal("12.34"))
        order.first_line = line
        session.add_all([category, product, order, line])
        session.commit()
        ids = product.id, order.id, line.id
    with local() as session:
        product = session.get(m.Product, ids[0])
        assert (product.sku, product.title, product.description) == (
            "HAM-1", "Claw hammer", "Steel.")
        assert (product.price, product.weight) == (Decimal("12.3400"), Decimal("0.750"))
        assert (product.stock, product.views, product.active) == (3, 2**40, False)
        assert product.released_on == datetime.date(2024, 1, 31)
        assert product.warranty == datetime.timedelta(days=730)
        assert product.external_id == uuid.UUID(int=7)
        assert (product.homepage, product.support_email) == (
            "https://example.com/h", "help@example.com")
        assert product.attributes == {"colour": "red", "sizes": [1, 2]}
        assert product.tags == ["tools", "steel"]
        assert product.priority is enums.Priority.high and product.api_key == "k" * 64
        assert product.category.name == "Hammers" and product.category.parent.name == "Tools"
        assert isinstance(product.created_at, datetime.datetime)
        order = session.get(m.Order, ids[1])
        assert order.status is enums.OrderStatus.draft and order.total == Decimal(0)
        assert isinstance(order.placed_on, datetime.date)
        assert order.placed_at.replace(tzinfo=None) == datetime.datetime(2024, 2, 1, 9, 30)
        assert order.first_line.id == ids[2] and order.customer.name == "Ada"
        line = order.first_line
        assert (line.quantity, line.discount, line.unit_price) == (
            1, Decimal("0.50"), Decimal("12.3400"))


def test_server_defaults(app: dict[str, ModuleType]) -> None:
    m, local = app["db.models"], app["db.session"].SessionLocal
    with local() as session:
        org, _ = _org_and_user(session, m)
        product_id = uuid.uuid4()
        table = m.Product.__table__
        session.execute(sa.text(
            "INSERT INTO shop_product (id, org_id, sku, title, price) "
            "VALUES (:id, :org, 'RAW-1', 'Raw', 5)"),
            {"id": product_id.hex, "org": org.id.hex})
        row = session.execute(sa.select(table).where(table.c.id == product_id)).one()
        assert (row.stock, row.views, row.active, row.tags, row.priority) == (
            0, 0, True, [], "normal")
        assert row.created_at is not None
        session.rollback()


def _violates(app: dict[str, ModuleType], build: Any, match: str) -> None:
    m, local = app["db.models"], app["db.session"].SessionLocal
    with local() as session:
        org, user = _org_and_user(session, m)
        with pytest.raises(IntegrityError, match=match):
            session.add_all(build(m, org, user))
            session.flush()
        session.rollback()


def _product(m: ModuleType, org: Any, **values: Any) -> Any:
    fields: dict[str, Any] = {"sku": f"S-{uuid.uuid4().hex[:8]}", "title": "T",
                              "price": Decimal(1), **values}
    return m.Product(org=org, **fields)


def test_unique_constraints(app: dict[str, ModuleType]) -> None:
    _violates(app, lambda m, org, _: [_product(m, org, sku="DUP-1"),
                                      _product(m, org, sku="DUP-1")], "UNIQUE")
    _violates(app, lambda m, org, user: [m.Order(org=org, number=7, customer=user),
                                         m.Order(org=org, number=7, customer=user)], "UNIQUE")


@pytest.mark.parametrize("values", [
    {"sku": "ab"},  # shorter than 3
    {"sku": "x" * 33},  # longer than 32 (SQLite ignores VARCHAR(32): the CHECK does it)
    {"title": ""},
    {"stock": -1},
    {"price": Decimal(1000001)},
    {"api_key": "k" * 65},
])
def test_check_constraints(app: dict[str, ModuleType], values: dict[str, Any]) -> None:
    _violates(app, lambda m, org, _: [_product(m, org, **values)], "CHECK")


def test_enum_check_constraint(app: dict[str, ModuleType]) -> None:
    m, local = app["db.models"], app["db.session"].SessionLocal
    with local() as session:
        org, user = _org_and_user(session, m)
        with pytest.raises(IntegrityError, match="CHECK"):
            session.execute(sa.text(
                "INSERT INTO shop_order (id, org_id, number, customer_id, status) "
                "VALUES (:id, :org, 3, :user, 'bogus')"),
                {"id": uuid.uuid4().hex, "org": org.id.hex, "user": user.id.hex})
        session.rollback()
        with pytest.raises(StatementError):
            session.add(m.Order(org=org, number=4, customer=user, status="bogus"))
            session.flush()


def test_foreign_keys_enforced(app: dict[str, ModuleType]) -> None:
    m, local = app["db.models"], app["db.session"].SessionLocal
    with local() as session:
        org, _ = _org_and_user(session, m)
        session.add(m.Category(org_id=uuid.uuid4(), name="Orphan"))
        with pytest.raises(IntegrityError, match="FOREIGN KEY"):
            session.flush()
        session.rollback()
    with local() as session:  # a required reference restricts deletes
        org, _ = _org_and_user(session, m)
        session.add(m.Category(org=org, name="Kept"))
        session.flush()
        table = m.Org.__table__
        with pytest.raises(IntegrityError, match="FOREIGN KEY"):
            session.execute(sa.delete(table).where(table.c.id == org.id))
        session.rollback()


def test_optional_reference_is_cleared_on_delete(app: dict[str, ModuleType]) -> None:
    m, local = app["db.models"], app["db.session"].SessionLocal
    with local() as session:
        org, _ = _org_and_user(session, m)
        parent = m.Category(org=org, name="Parent")
        child = m.Category(org=org, name="Child", parent=parent)
        session.add_all([parent, child])
        session.flush()
        table = m.Category.__table__
        session.execute(sa.delete(table).where(table.c.id == parent.id))
        parent_id = session.execute(
            sa.select(table.c.parent_id).where(table.c.id == child.id)).scalar_one()
        assert parent_id is None
        session.rollback()


def test_odd_names_on_sqlite(project: Path, tmp_path: Path) -> None:
    script = (
        "import sqlalchemy as sa\n"
        "from clashapp.db.base import Base\n"
        "from clashapp.db.models import AItem, BItem\n"
        "from clashapp.db.session import SessionLocal, engine\n"
        "from clashapp.enums import ABase\n"
        "import datetime\n"
        "Base.metadata.create_all(engine)\n"
        "with SessionLocal() as s:\n"
        "    a = AItem(datetime_=datetime.datetime(2024, 1, 1), class_='c', count=2**40)\n"
        "    s.add(BItem(item=a, kind=ABase.class_))\n"
        "    s.commit()\n"
        "    print(s.execute(sa.text('SELECT kind, id FROM b_item')).one())\n"
        "    print(s.execute(sa.text('SELECT \"class\", \"datetime\" FROM a_item')).one())\n"
    )
    out = run([sys.executable, "-c", script], project, f"sqlite:///{tmp_path / 'odd.db'}")
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines() == ["('class', 1)", "('c', '2024-01-01 00:00:00.000000')"]


# ---- the migration ------------------------------------------------------------------------------


def _schema(url: str) -> dict[str, Any]:
    """Everything the inspector sees, in a comparable form."""
    engine = sa.create_engine(url)
    try:
        inspector = sa.inspect(engine)
        schema: dict[str, Any] = {}
        for table in sorted(inspector.get_table_names()):
            if table == "alembic_version":
                continue
            schema[table] = {
                "columns": [(c["name"], str(c["type"]), c["nullable"], c.get("default"))
                            for c in inspector.get_columns(table)],
                "pk": inspector.get_pk_constraint(table),
                "fks": sorted((fk["name"], tuple(fk["constrained_columns"]),
                               fk["referred_table"], tuple(fk["referred_columns"]),
                               fk["options"].get("ondelete"))
                              for fk in inspector.get_foreign_keys(table)),
                "uniques": sorted((u["name"], tuple(u["column_names"]))
                                  for u in inspector.get_unique_constraints(table)),
                "indexes": sorted((i["name"], tuple(i["column_names"]), i["unique"])
                                  for i in inspector.get_indexes(table)),
                "checks": sorted((c["name"], " ".join(c["sqltext"].split()))
                                 for c in inspector.get_check_constraints(table)),
            }
        return schema
    finally:
        engine.dispose()


def _create_all(project: Path, url: str) -> None:
    script = (f"from {APP}.db import models\nfrom {APP}.db.base import Base\n"
              f"from {APP}.db.session import engine\nBase.metadata.create_all(engine)\n")
    out = run([sys.executable, "-c", script], project, url)
    assert out.returncode == 0, out.stderr


def _migrate_and_compare(project: Path, migrated: str, created: str) -> None:
    alembic = [sys.executable, "-m", "alembic", "-c", f"{APP}/alembic.ini"]
    out = run([*alembic, "upgrade", "head"], project, migrated)
    assert out.returncode == 0, out.stderr
    _create_all(project, created)
    assert _schema(migrated) == _schema(created)
    out = run([*alembic, "check"], project, migrated)  # autogenerate finds nothing to do
    assert out.returncode == 0, out.stdout + out.stderr
    out = run([*alembic, "downgrade", "base"], project, migrated)
    assert out.returncode == 0, out.stderr
    assert _schema(migrated) == {}


def test_migration_matches_models_on_sqlite(project: Path, tmp_path: Path) -> None:
    _migrate_and_compare(project, f"sqlite:///{tmp_path / 'migrated.db'}",
                         f"sqlite:///{tmp_path / 'created.db'}")
    assert _schema(f"sqlite:///{tmp_path / 'created.db'}")["shop_product"]["checks"]


@pytest.mark.skipif(not os.environ.get("CSPEC_TEST_POSTGRES_URL"),
                    reason="set CSPEC_TEST_POSTGRES_URL to a PostgreSQL database URL")
def test_migration_matches_models_on_postgresql(project: Path) -> None:
    base = sa.engine.make_url(os.environ["CSPEC_TEST_POSTGRES_URL"])
    suffix = uuid.uuid4().hex[:8]
    names = [f"cspec_db_migrated_{suffix}", f"cspec_db_created_{suffix}"]
    admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            for name in names:
                conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        urls = [base.set(database=n).render_as_string(hide_password=False) for n in names]
        _migrate_and_compare(project, *urls)
    finally:
        with admin.connect() as conn:
            for name in names:
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
