"""The `db` target: SQLAlchemy 2 models, sessions, Alembic and the initial migration.

Output, under the app package: `enums.py`, `db/__init__.py`, `db/base.py`, `db/models.py`,
`db/session.py`, `alembic.ini`, `migrations/env.py`, `migrations/script.py.mako` and
`migrations/versions/0001_initial.py`. Mapping decisions: `schema.py`; names: `naming.py`.
"""

from __future__ import annotations

from typing import ClassVar

from contractspec.generators.base import Files, GeneratorOptions, header, user_files
from contractspec.generators.db import static
from contractspec.generators.db.migration import MIGRATION_PATH, MigrationWriter
from contractspec.generators.db.models import ModelsWriter
from contractspec.generators.db.schema import build_schema
from contractspec.generators.runtime import with_runtime
from contractspec.ir import nodes as ir


class DbGenerator:
    name: ClassVar[str] = "db"
    description: ClassVar[str] = ("SQLAlchemy 2 models, sessions, an Alembic environment and "
                                  "the initial migration")
    options_model: ClassVar[type[GeneratorOptions]] = GeneratorOptions

    def generate(self, program: ir.Program, options: GeneratorOptions) -> Files:
        app = options.app
        top = header("db", user_files(program))
        schema = build_schema(with_runtime(program))
        models = ModelsWriter(schema, app, top)
        texts = {
            "enums.py": models.enums_module(),
            "db/__init__.py": top + static.DB_INIT,
            "db/base.py": top + static.BASE,
            "db/models.py": models.models_module(),
            "db/session.py": top + static.SESSION,
            "alembic.ini": top + static.ALEMBIC_INI.format(app=app),
            "migrations/env.py": top + static.ENV.format(app=app),
            "migrations/script.py.mako": header("db", user_files(program), "##")
            + static.SCRIPT_MAKO,
            MIGRATION_PATH: MigrationWriter(schema, app, top).module(),
        }
        return {f"{app}/{path}": text.encode() for path, text in sorted(texts.items())}
