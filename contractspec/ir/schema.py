"""The published JSON Schema of the IR (`python -m contractspec.ir.schema` writes
`docs/ir.schema.json`; a test keeps the committed file equal to `ir_json_schema()`).

The schema is pydantic's schema of `Program`, with three additions: the Draft 2020-12
header (`$schema`, `$id`, `title`, `description`, `ir_version`), `ir_version` pinned to
this version and required, and `kind` required wherever it tells the union members apart.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from contractspec.ir.nodes import IR_VERSION, Program

SCHEMA_PATH = Path(__file__).resolve().parents[2] / "docs" / "ir.schema.json"
DIALECT = "https://json-schema.org/draft/2020-12/schema"


def schema_id(version: str = IR_VERSION) -> str:
    return f"https://contractspec.dev/schemas/ir/{version}.json"


def ir_json_schema() -> dict[str, Any]:
    """The JSON Schema of an IR document (`Program.model_dump(mode="json")`)."""
    body = Program.model_json_schema()
    properties = body["properties"]
    properties["ir_version"] = {**properties["ir_version"], "const": IR_VERSION}
    body["required"] = ["ir_version", *body.get("required", [])]
    for definition in body.get("$defs", {}).values():
        kind = definition.get("properties", {}).get("kind", {})
        required = definition.setdefault("required", [])
        if ("const" in kind or "enum" in kind) and "kind" not in required:
            required.insert(0, "kind")
    header = {
        "$schema": DIALECT,
        "$id": schema_id(),
        "title": "ContractSpec IR",
        "description": (
            "The intermediate representation of a checked ContractSpec workspace, as printed "
            "by `cspec ir`. Every node carries its source span. See docs/ir.md."
        ),
        "ir_version": IR_VERSION,
    }
    body.pop("title", None)
    body.pop("description", None)
    return {**header, **body}


def render_schema() -> str:
    """The schema as committed: sorted keys, two-space indent, final newline."""
    return json.dumps(ir_json_schema(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def main() -> int:
    SCHEMA_PATH.parent.mkdir(parents=True, exist_ok=True)
    SCHEMA_PATH.write_text(render_schema(), encoding="utf-8")
    sys.stderr.write(f"wrote {SCHEMA_PATH}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
