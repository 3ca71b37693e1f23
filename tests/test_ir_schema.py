"""The published IR schema: current, valid Draft 2020-12, accepting real IR, refusing broken IR,
and documented node by node in docs/ir.md."""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from pydantic import BaseModel

from contractspec.analysis import analyze_texts, analyze_workspace
from contractspec.ir.nodes import IR_VERSION, Program
from contractspec.ir.schema import DIALECT, SCHEMA_PATH, ir_json_schema, render_schema

FULL = Path(__file__).parent / "data" / "full"
IR_DOC = Path(__file__).resolve().parents[1] / "docs" / "ir.md"

# Constructs that tests/data/full does not use, so that every node type is validated.
EXTRA = """\
/// Extra constructs.
module extra version v2

use identity

/// Reviews deals.
role reviewer "Reviewer"
permission publish "Publish items"
grant reviewer: publish

entity Item {
  id: uuid @id
  org: ref identity.Org @tenant
  status: string = "draft"
  score: int = -1
  tags: string[]
  madeAt: datetime @default(now())
}

policy Item {
  read: authenticated
  create: publish and not (self.status in ["live", "done"])
}

flag beta {
  default on
}

command publishItem v1 {
  input {
    item: ref Item
  }
  policy publish
  behind beta
  emits item.published
}

event item.published v1 {
  payload {
    item: ref Item
  }
}

workflow ItemFlow on Item.status {
  initial draft
  transition go: draft -> live when self.score > 0 by publish emits item.published
  final live
  migrate state done -> live
}

job sweep {
  timeout 5m
}

schedule sweeper every 1h run sweep

notification published {
  on item.published
  to role reviewer
  via email
  subject "Published"
  template \"\"\"
    Item {{ item.status }} is live.
    \"\"\"
}

track basics {
  unit first {
    step publishOne {
      completes on item.published when true
      content "Publish an item."
    }
  }
}

view itemDetail detail of Item {
  fields status, score
  actions publishItem
}

agent helper {
  tools publishItem
  limits {
    steps 3
    time 30s
  }
  instructions "Be brief."
}
"""


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    return ir_json_schema()


@pytest.fixture(scope="module")
def validator(schema: dict[str, Any]) -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(schema)


@pytest.fixture(scope="module")
def programs() -> list[Program]:
    return [analyze_workspace([FULL]).program, analyze_texts({"extra.cspec": EXTRA}).program]


def test_committed_schema_is_current() -> None:
    assert SCHEMA_PATH.read_text(encoding="utf-8") == render_schema(), (
        "docs/ir.schema.json is stale: run `python -m contractspec.ir.schema`"
    )


def test_schema_is_a_versioned_draft_2020_12_schema(schema: dict[str, Any]) -> None:
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == DIALECT
    assert schema["ir_version"] == IR_VERSION
    assert schema["$id"].endswith(f"/{IR_VERSION}.json")
    assert schema["properties"]["ir_version"]["const"] == IR_VERSION
    assert schema["title"] and schema["description"]


def test_real_ir_validates(programs: list[Program],
                           validator: jsonschema.Draft202012Validator) -> None:
    for program in programs:
        document = program.model_dump(mode="json")
        errors = [f"{list(e.absolute_path)}: {e.message}" for e in
                  validator.iter_errors(document)]
        assert errors == []
        assert Program.model_validate(document) == program


def _node_types(model: BaseModel) -> Iterator[str]:
    yield type(model).__name__
    for name in type(model).model_fields:
        stack = [getattr(model, name)]
        while stack:
            value = stack.pop()
            if isinstance(value, BaseModel):
                yield from _node_types(value)
            elif isinstance(value, tuple):
                stack.extend(value)


def test_samples_cover_every_node_type(programs: list[Program], schema: dict[str, Any]) -> None:
    seen = {name for program in programs for name in _node_types(program)}
    assert set(schema["$defs"]) | {"Program"} <= seen, "extend EXTRA to use the missing nodes"


@pytest.fixture(scope="module")
def crm_document(programs: list[Program]) -> dict[str, Any]:
    """A valid IR document holding only the module `crm` of tests/data/full."""
    crm = programs[0].module("crm")
    assert crm is not None
    return Program(modules=(crm,)).model_dump(mode="json")


@pytest.mark.parametrize("breakage", [
    "wrong-kind", "missing-kind", "missing-span", "missing-name-span", "unknown-field",
    "wrong-ir-version", "wrong-view-kind", "string-for-int",
])
def test_broken_ir_does_not_validate(breakage: str, crm_document: dict[str, Any],
                                     validator: jsonschema.Draft202012Validator) -> None:
    document = copy.deepcopy(crm_document)
    assert validator.is_valid(document)
    crm = document["modules"][0]
    rule = crm["policies"][0]["rules"][0]["rule"]
    if breakage == "wrong-kind":
        rule["kind"] = "variable"
    elif breakage == "missing-kind":
        del rule["kind"]
    elif breakage == "missing-span":
        del crm["entities"][0]["fields"][0]["span"]
    elif breakage == "missing-name-span":
        del crm["operations"][0]["name_span"]
    elif breakage == "unknown-field":
        crm["events"][0]["owner"] = "sales"
    elif breakage == "wrong-ir-version":
        document["ir_version"] = "0.9"
    elif breakage == "wrong-view-kind":
        crm["views"][0]["kind"] = "table"
    else:
        crm["jobs"][0]["retries"] = "five"
    assert not validator.is_valid(document)


# The fields a "Base: `Node`" or "Base: `Declaration`" line in docs/ir.md stands for.
BASE_FIELDS = {"Node": {"span"}, "Declaration": {"span", "name", "name_span", "doc"}}


def _documented_fields(text: str) -> dict[str, set[str]]:
    """`### Node` sections of docs/ir.md: the fields in each one's table, plus its base's."""
    sections: dict[str, set[str]] = {}
    current: set[str] | None = None
    for line in text.splitlines():
        heading = re.fullmatch(r"### `?(\w+)`?", line.strip())
        base = re.search(r"Base: `(\w+)`", line)
        row = re.match(r"\| `(\w+)` \|", line)
        if heading:
            current = sections.setdefault(heading.group(1), set())
        elif line.startswith("## "):
            current = None
        elif current is not None and base:
            current |= BASE_FIELDS[base.group(1)]
        elif current is not None and row:
            current.add(row.group(1))
    return sections


def test_ir_doc_documents_every_node_and_field(schema: dict[str, Any]) -> None:
    documented = _documented_fields(IR_DOC.read_text(encoding="utf-8"))
    definitions = {**schema["$defs"], "Program": schema}
    for name, definition in definitions.items():
        assert name in documented, f"docs/ir.md has no `### {name}` section"
        assert documented[name] == set(definition.get("properties", {})), (
            f"docs/ir.md: the table of {name} does not list exactly its fields"
        )
