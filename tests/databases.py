"""A throw-away database for tests of generated apps: a SQLite file, or a fresh PostgreSQL
database on the server of CSPEC_TEST_POSTGRES_URL (skipped without it; `.ci/run` sets it)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import sqlalchemy as sa

POSTGRES = os.environ.get("CSPEC_TEST_POSTGRES_URL")


@contextmanager
def temporary_database(kind: str, folder: Path, prefix: str) -> Iterator[str]:
    """The URL of an empty database of `kind` ("sqlite" or "postgresql"), dropped after."""
    if kind == "sqlite":
        yield f"sqlite:///{folder / f'{prefix}.db'}"
        return
    if not POSTGRES:
        pytest.skip("set CSPEC_TEST_POSTGRES_URL to a PostgreSQL database URL")
    base = sa.engine.make_url(POSTGRES)
    name = f"cspec_{prefix}_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield base.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
