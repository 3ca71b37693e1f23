"""The files of the database target that depend only on the app's name."""

from __future__ import annotations

DB_INIT = '''"""The database layer: models, metadata and sessions (`session.py`)."""
'''

BASE = '''"""The declarative base: the metadata of every model, with stable constraint names."""

from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

# Constraint and index names, the same on SQLite and PostgreSQL (migrations rely on them).
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """The base class of every model."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
'''

SESSION = '''"""The database connection, from `DATABASE_URL` (default: `sqlite:///./app.db`).

PostgreSQL: `DATABASE_URL=postgresql+psycopg://user:password@host/dbname`.
"""

import os
from typing import Any

from sqlalchemy import create_engine, event
from sqlalchemy.orm import sessionmaker

DEFAULT_DATABASE_URL = "sqlite:///./app.db"


def database_url() -> str:
    """`DATABASE_URL`, else a SQLite file `app.db` in the current folder."""
    return os.environ.get("DATABASE_URL", DEFAULT_DATABASE_URL)


def _enable_foreign_keys(dbapi_connection: Any, _connection_record: Any) -> None:
    """SQLite checks foreign keys only when each connection asks for it."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


engine = create_engine(database_url())
if engine.dialect.name == "sqlite":
    event.listen(engine, "connect", _enable_foreign_keys)

SessionLocal = sessionmaker(bind=engine, expire_on_commit=False)
'''

ALEMBIC_INI = '''
[alembic]
script_location = %(here)s/migrations
prepend_sys_path = %(here)s/..
path_separator = os
# The database is DATABASE_URL (see {app}/db/session.py), not a URL in this file.

[loggers]
keys = root,sqlalchemy,alembic

[handlers]
keys = console

[formatters]
keys = generic

[logger_root]
level = WARNING
handlers = console
qualname =

[logger_sqlalchemy]
level = WARNING
handlers =
qualname = sqlalchemy.engine

[logger_alembic]
level = INFO
handlers =
qualname = alembic

[handler_console]
class = StreamHandler
args = (sys.stderr,)
level = NOTSET
formatter = generic

[formatter_generic]
format = %(levelname)-5.5s [%(name)s] %(message)s
datefmt = %H:%M:%S
'''

ENV = '''"""The Alembic environment: migrates the database of `DATABASE_URL` to the models."""

from logging.config import fileConfig

from alembic import context

from {app}.db import models  # noqa: F401  (registers every table on the metadata)
from {app}.db.base import Base
from {app}.db.session import database_url, engine

config = context.config
if config.config_file_name is not None:
    fileConfig(config.config_file_name)

target_metadata = Base.metadata


def run_migrations_offline() -> None:
    """Print the SQL instead of running it (`alembic upgrade head --sql`)."""
    context.configure(url=database_url(), target_metadata=target_metadata,
                      literal_binds=True, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    """Run the migrations on the database.

    On SQLite a changed table is rebuilt (batch mode: copy, drop, rename), which foreign keys
    would refuse while other rows point at it: they are switched off for the migration and
    checked once it is done (any dangling reference stops it)."""
    with engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
            connection.commit()  # end the implicit transaction: Alembic opens its own
        context.configure(connection=connection, target_metadata=target_metadata,
                          render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
            if sqlite:
                broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                if broken:
                    raise RuntimeError(f"the migration leaves dangling references: {{broken}}")
        if sqlite:
            connection.exec_driver_sql("PRAGMA foreign_keys=ON")
            connection.commit()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
'''

# Mako: `##` lines are template comments; the header uses them too.
SCRIPT_MAKO = '''"""${message}

Revision ID: ${up_revision}
Revises: ${down_revision | comma,n}
Create Date: ${create_date}
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
${imports if imports else ""}
revision: str = ${repr(up_revision)}
down_revision: str | Sequence[str] | None = ${repr(down_revision)}
branch_labels: str | Sequence[str] | None = ${repr(branch_labels)}
depends_on: str | Sequence[str] | None = ${repr(depends_on)}


def upgrade() -> None:
    ${upgrades if upgrades else "pass"}


def downgrade() -> None:
    ${downgrades if downgrades else "pass"}
'''
