"""Which operations are served as CRUD (contractspec.check.crud): a create or update whose
inputs are all fields of the entity. One with an input naming no field is a handler's: CRUD
would drop that input (and leave the field it stands for empty)."""

from __future__ import annotations

from contractspec.analysis import analyze_texts
from contractspec.check.crud import crud_shape
from contractspec.check.symbols import SymbolTable
from contractspec.generators.pipeline import generate

SPEC = """\
module notes

use identity

entity Note {
  id: uuid @id
  org: ref identity.Org @tenant
  title: string(1..200)
  body: text?
}

command createNote v1 {
  input {
    title: string(1..200)
  }
  output Note
  policy authenticated
}

/// `source` is no field of Note: a handler copies it.
command createNote v2 {
  input {
    title: string(1..200)
    source: uuid
  }
  output Note
  policy authenticated
}

command updateNote v1 {
  input {
    id: uuid
    body: text?
  }
  output Note
  policy authenticated
}

command updateNote v2 {
  input {
    id: uuid
    body: text?
    reason: string
  }
  output Note
  policy authenticated
}
"""


def shapes() -> dict[str, str | None]:
    analysis = analyze_texts({"notes.cspec": SPEC})
    assert not analysis.errors, analysis.diagnostics
    symbols = SymbolTable(analysis.program)
    module = analysis.program.module("notes")
    assert module is not None
    found = {}
    for op in module.operations:
        shape = crud_shape(symbols, "notes", op)
        found[f"{op.name} {op.version}"] = shape[0] if shape else None
    return found


def test_only_operations_writing_entity_fields_are_crud() -> None:
    assert shapes() == {"createNote v1": "create", "createNote v2": None,
                        "updateNote v1": "update", "updateNote v2": None}


def test_the_others_are_served_by_handlers() -> None:
    files = generate(analyze_texts({"notes.cspec": SPEC})).files
    (routes,) = (data.decode() for path, data in files.items()  # the app: the folder's name
                 if path.endswith("/api/routes.py"))
    assert "define create_note_v2(ctx, data) in handlers/notes.py" in routes
    assert "define update_note_v2(ctx, data) in handlers/notes.py" in routes
    assert "define create_note_v1" not in routes and "define update_note_v1" not in routes
