"""`agents/<agent>.tools.json`: an agent's tools as MCP tool definitions (the result of
`tools/list`: `{"tools": [{name, title, description, inputSchema, outputSchema,
annotations}]}`).

Each schema is taken from `openapi.json` (the request body, or the query parameters as an
object) and made self-contained: the components it uses are copied under `$defs`. MCP wants
objects, so an output that is not one (a number, a list) is `{"result": ...}` and an
operation without output gives `{}`; the agents runtime returns the same shapes.
"""

from __future__ import annotations

import copy
from typing import Any

from contractspec.generators.agents.model import Agent
from contractspec.generators.api.model import Operation

COMPONENTS = "#/components/schemas/"
DEFS = "#/$defs/"
DIALECT = "https://json-schema.org/draft/2020-12/schema"


def manifest(agent: Agent, document: dict[str, Any]) -> dict[str, Any]:
    """The MCP `tools/list` result of one agent, from the OpenAPI document of the app."""
    return {"tools": [_tool(t.name, t.operation, document) for t in agent.tools]}


def output_kind(op: Operation, document: dict[str, Any]) -> str:
    """How the runtime returns a tool's result: `object` as it is, `value` wrapped in
    `{"result": ...}`, `none` as `{}`."""
    schema = _response(op, document)
    if schema is None:
        return "none"
    return "object" if _resolve(schema, document).get("type") == "object" else "value"


def _tool(name: str, op: Operation, document: dict[str, Any]) -> dict[str, Any]:
    description = op.decl.doc or f"The {op.decl.kind} `{op.decl.name} {op.version}`."
    tool: dict[str, Any] = {
        "name": name, "title": f"{op.decl.name} {op.version}", "description": description,
        "inputSchema": _standalone(_input(op, document), document),
        "outputSchema": _standalone(_output(op, document), document),
    }
    if op.decl.kind == "query":
        tool["annotations"] = {"readOnlyHint": True}
    return tool


def _input(op: Operation, document: dict[str, Any]) -> dict[str, Any]:
    route = document["paths"][op.path][op.method.lower()]
    if op.body:
        return dict(_resolve(route["requestBody"]["content"]["application/json"]["schema"],
                             document))
    params = route.get("parameters", [])
    schema: dict[str, Any] = {
        "title": op.input.name, "type": "object",
        "properties": {p["name"]: p["schema"] for p in params}}
    if op.input.doc:
        schema["description"] = op.input.doc
    required = [p["name"] for p in params if p["required"]]
    if required:
        schema["required"] = required
    schema["additionalProperties"] = False
    return schema


def _response(op: Operation, document: dict[str, Any]) -> dict[str, Any] | None:
    response = document["paths"][op.path][op.method.lower()]["responses"][str(op.status)]
    content = response.get("content")
    return None if content is None else dict(content["application/json"]["schema"])


def _output(op: Operation, document: dict[str, Any]) -> dict[str, Any]:
    schema = _response(op, document)
    kind = output_kind(op, document)
    if schema is None or kind == "none":
        return {"type": "object", "properties": {}, "additionalProperties": False}
    if kind == "object":
        return dict(_resolve(schema, document))
    return {"type": "object", "properties": {"result": schema}, "required": ["result"]}


def _resolve(schema: dict[str, Any], document: dict[str, Any]) -> dict[str, Any]:
    """The component a schema names with `$ref`, or the schema itself."""
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.startswith(COMPONENTS) and len(schema) == 1:
        found: dict[str, Any] = document["components"]["schemas"][ref[len(COMPONENTS):]]
        return found
    return schema


def _standalone(schema: dict[str, Any], document: dict[str, Any]) -> dict[str, Any]:
    """`schema` with its component references pointing at `$defs`, which holds them."""
    components = document["components"]["schemas"]
    defs: dict[str, Any] = {}
    root = _rewrite(copy.deepcopy(schema), defs)
    todo = sorted(defs)
    while todo:
        name = todo.pop()
        if defs[name] is None:
            defs[name] = _rewrite(copy.deepcopy(components[name]), defs)
            todo += [n for n in defs if defs[n] is None]
    result = {"$schema": DIALECT, **root}
    if defs:
        result["$defs"] = dict(sorted(defs.items()))
    return result


def _rewrite(value: Any, defs: dict[str, Any]) -> Any:
    """Point `#/components/schemas/X` at `#/$defs/X`, noting each X in `defs` (None until
    it is copied)."""
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            if key == "$ref" and isinstance(item, str) and item.startswith(COMPONENTS):
                name = item[len(COMPONENTS):]
                defs.setdefault(name, None)
                out[key] = DEFS + name
            else:
                out[key] = _rewrite(item, defs)
        return out
    if isinstance(value, list):
        return [_rewrite(item, defs) for item in value]
    return value
