"""The IR as JSON: keys in the order of the IR model fields, so the text is stable."""

from __future__ import annotations

import json
from typing import Any

from contractspec.ir import nodes as ir


def _without_spans(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_spans(v) for k, v in value.items()
                if k != "span" and not k.endswith("_span")}
    if isinstance(value, list):
        return [_without_spans(v) for v in value]
    return value


def program_data(program: ir.Program, *, spans: bool = True) -> dict[str, Any]:
    """The program as JSON-ready data; `spans=False` drops every source span."""
    data: dict[str, Any] = program.model_dump(mode="json")
    if not spans:
        data = _without_spans(data)
    return data


def program_json(program: ir.Program, *, spans: bool = True) -> str:
    """The program as indented JSON text with a stable key order."""
    return json.dumps(program_data(program, spans=spans), indent=2, ensure_ascii=False)
