"""The `db` target: SQLAlchemy 2 models, sessions, Alembic and the initial migration.

Output, under the app package: `enums.py`, `db/__init__.py`, `db/base.py`, `db/models.py`,
`db/session.py`, `alembic.ini`, `migrations/env.py`, `migrations/script.py.mako` and
`migrations/versions/0001_initial.py`, later revisions `migrations/versions/NNNN_<what>.py`
and the schema snapshot `migrations/schema.json` (see `evolution.py`). Mapping decisions:
`schema.py`; names: `naming.py`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, ClassVar

from contractspec.generators import jsontext
from contractspec.generators.base import (
    Files,
    GeneratorError,
    GeneratorOptions,
    header,
    user_files,
)
from contractspec.generators.db import static
from contractspec.generators.db.evolution import (
    SNAPSHOT,
    VERSIONS,
    RevisionWriter,
    intent,
    revisions,
    snapshot,
)
from contractspec.generators.db.evolution import revision_id as next_revision_id
from contractspec.generators.db.migration import MIGRATION_PATH, MigrationWriter, revision_id
from contractspec.generators.db.models import ModelsWriter
from contractspec.generators.db.schema import build_schema
from contractspec.generators.pyoutput import encode_sources
from contractspec.generators.runtime import with_runtime
from contractspec.ir import nodes as ir


class DbGenerator:
    name: ClassVar[str] = "db"
    description: ClassVar[str] = ("SQLAlchemy 2 models, sessions, an Alembic environment, the "
                                  "initial migration and one revision per schema change")
    options_model: ClassVar[type[GeneratorOptions]] = GeneratorOptions
    # What of its previous output the target reads back (see `generate_from`).
    history: ClassVar[tuple[str, ...]] = ("{app}/migrations/",)

    def generate(self, program: ir.Program, options: GeneratorOptions) -> Files:
        return self.generate_from(program, options, {})

    def generate_from(self, program: ir.Program, options: GeneratorOptions,
                      previous: Mapping[str, bytes]) -> Files:
        """The files, given the previous revisions and schema snapshot (`previous`, by path
        under the output folder): a new revision when the schema changed since."""
        app = options.app
        sources = user_files(program)
        top = header("db", sources)
        program = with_runtime(program)
        schema = build_schema(program)
        models = ModelsWriter(schema, app, top)
        writer = MigrationWriter(schema, app, top)
        texts: dict[str, str | bytes] = {
            "enums.py": models.enums_module(),
            "db/__init__.py": top + static.DB_INIT,
            "db/base.py": top + static.BASE,
            "db/models.py": models.models_module(),
            "db/session.py": top + static.SESSION,
            "alembic.ini": top + static.ALEMBIC_INI.format(app=app),
            "migrations/env.py": top + static.ENV.format(app=app),
            "migrations/script.py.mako": header("db", sources, "##") + static.SCRIPT_MAKO,
        }
        history = {path[len(app) + 1:]: content for path, content in previous.items()
                   if path.startswith(f"{app}/migrations/")}
        old = _snapshot(history)
        chain = revisions(history, app)
        wish = intent(program, schema)
        if old is None or not chain:
            texts[MIGRATION_PATH] = writer.module()
            head = revision_id(app)
        else:
            texts.update({path: history[path] for _, path in chain})
            tables = snapshot(schema, writer, "", "")["tables"]
            revision = RevisionWriter(old["tables"], tables, wish, old.get("moves", {}))
            head = old["head"]
            if revision.build():
                number = chain[-1][0] + 1
                new_head = next_revision_id(app, head, tables)
                texts[f"{VERSIONS}{number:04d}_{revision.slug()}.py"] = revision.module(
                    top, new_head, head)
                head = new_head
        comment = " ".join(header("db", sources, "").split()) + (
            " The schema at the head revision: the next `cspec gen` writes the next "
            "migration from it.")
        texts[SNAPSHOT] = jsontext.dumps(snapshot(schema, writer, head, comment, wish))
        kept = {f"{app}/{path}": text for path, text in texts.items() if isinstance(text, bytes)}
        made = {f"{app}/{path}": text for path, text in texts.items() if isinstance(text, str)}
        return dict(sorted({**kept, **encode_sources(made)}.items()))


def _snapshot(history: Mapping[str, bytes]) -> dict[str, Any] | None:
    content = history.get(SNAPSHOT)
    if content is None:
        return None
    try:
        data = json.loads(content)
    except (ValueError, UnicodeDecodeError) as error:
        raise GeneratorError(f"{SNAPSHOT} is not valid JSON ({error}): restore it from version "
                             "control; it records the schema the last migration left") from error
    if not isinstance(data, dict) or not isinstance(data.get("tables"), dict) \
            or not isinstance(data.get("head"), str):
        raise GeneratorError(f"{SNAPSHOT} is not a schema snapshot: restore it from version "
                             "control")
    return data
