"""`openapi.json`: the OpenAPI 3.1 document of the API, written from the model (the app is
never imported). It names the same paths, methods, parameters and component schemas as
FastAPI serves for the generated app; property schemas follow pydantic's JSON Schema."""

from __future__ import annotations

from typing import Any

from contractspec.generators.api.model import Api, ApiField, Model, Operation

_ERROR_INFO = {
    "title": "ErrorInfo", "type": "object",
    "description": "What went wrong: a stable code, a message and optional details.",
    "properties": {"code": {"title": "Code", "type": "string"},
                   "message": {"title": "Message", "type": "string"},
                   "details": {"$ref": "#/components/schemas/JsonValue"}},
    "required": ["code", "message"],
}
_ERROR_BODY = {
    "title": "ErrorBody", "type": "object",
    "description": 'The body of every error response: `{"error": {...}}`.',
    "properties": {"error": {"$ref": "#/components/schemas/ErrorInfo"}},
    "required": ["error"],
}


_BEARER = "A token from `python -m {app}.dev create-token`."


def openapi_document(api: Api, title: str, version: str,
                     extra_paths: dict[str, Any] | None = None) -> dict[str, Any]:
    """The document; `extra_paths`: the path items of routes besides the operations' (the
    service providers' own routes, such as a file's raw contents)."""
    schemas: dict[str, Any] = {"ErrorBody": _ERROR_BODY, "ErrorInfo": _ERROR_INFO,
                               "JsonValue": {}}
    for name, values in api.enums.items():
        schemas[name] = {"title": name, "type": "string", "enum": list(values)}
    for model in api.models.values():
        schemas[model.name] = _object(model, read=model.entity is not None)
    for name in api.pages:
        schemas[f"{name}Page"] = {
            "title": f"{name}Page", "type": "object",
            "description": f"One page of `{name}` items, and how many there are in all.",
            "properties": {"items": {"title": "Items", "type": "array",
                                     "items": {"$ref": f"#/components/schemas/{name}"}},
                           **{n: {"title": n.title(), "type": "integer"}
                              for n in ("total", "page", "size")}},
            "required": ["items", "total", "page", "size"]}
    paths: dict[str, Any] = {}
    for op in api.operations:
        if op.body:
            schemas[op.input.name] = _object(op.input, read=False)
        paths.setdefault(op.path, {})[op.method.lower()] = _operation(op, api.auth)
    paths.update(extra_paths or {})
    components: dict[str, Any] = {"schemas": dict(sorted(schemas.items()))}
    if api.auth:
        components["securitySchemes"] = {"HTTPBearer": {
            "type": "http", "scheme": "bearer", "description": _BEARER.replace("{app}", title)}}
    return {"openapi": "3.1.0", "info": {"title": title, "version": version},
            "paths": paths, "components": components}


def _property(f: ApiField, read: bool) -> dict[str, Any]:
    schema = dict(f.value.schema)
    if f.optional:
        schema = {"anyOf": [schema, {"type": "null"}]}
    if f.doc:
        schema["description"] = f.doc
    if not read and not f.required:
        schema["default"] = None if f.optional or f.default is None else _literal(f.default)
    return schema


def _literal(text: str) -> Any:
    if text in ("True", "False"):
        return text == "True"
    if text == "[]":
        return []
    if text.lstrip("-").isdigit():
        return int(text)
    if text.startswith(("'", '"')):
        return text[1:-1]
    if text.startswith("decimal.Decimal("):
        return text.split('"')[1]
    return text.rsplit(".", 1)[-1].rstrip("_")  # an enum member: enums.X.value


def _object(model: Model, read: bool) -> dict[str, Any]:
    schema: dict[str, Any] = {"title": model.name, "type": "object",
                              "properties": {f.name: _property(f, read) for f in model.fields}}
    if model.doc:
        schema["description"] = model.doc
    required = [f.name for f in model.fields if read or f.required]
    if required:
        schema["required"] = required
    if not read:
        schema["additionalProperties"] = False
    return schema


def _operation(op: Operation, auth: bool) -> dict[str, Any]:
    doc: dict[str, Any] = {"tags": [op.module], "summary": f"{op.decl.name} {op.version}",
                           "operationId": op.function}
    if op.decl.doc:
        doc["description"] = op.decl.doc
    if op.body:
        doc["requestBody"] = {"required": True, "content": {"application/json": {
            "schema": {"$ref": f"#/components/schemas/{op.input.name}"}}}}
    elif op.input.fields:
        doc["parameters"] = [
            {"name": f.name, "in": "query", "required": f.required,
             "schema": _property(f, read=False)} for f in op.input.fields]
    responses: dict[str, Any] = {}
    if op.output.kind == "none":
        responses[str(op.status)] = {"description": "Successful Response"}
    else:
        responses[str(op.status)] = {"description": "Successful Response", "content": {
            "application/json": {"schema": op.output.schema}}}
    responses.update(error_responses(op.error_statuses(auth)))
    doc["responses"] = responses
    if auth and not op.public:
        doc["security"] = [{"HTTPBearer": []}]
    return doc


def error_responses(statuses: dict[int, str]) -> dict[str, Any]:
    """The error responses of a route (status -> description), each with the error body."""
    return {str(status): {"description": text, "content": {"application/json": {
        "schema": {"$ref": "#/components/schemas/ErrorBody"}}}}
        for status, text in statuses.items()}
