"""The Python sources of the API: `api/schemas.py`, `api/errors.py`, `api/routes.py`,
`main.py`. One function per file; `model.py` made every decision."""

from __future__ import annotations

import re

from contractspec.generators.api.model import (
    SEARCH,
    Api,
    ApiField,
    Model,
    Operation,
    key_name,
    searchable,
)
from contractspec.generators.db.models import call, docstring
from contractspec.generators.db.naming import attribute_name, column_name, py_str
from contractspec.ir import nodes as ir

I1, I2, I3 = "    ", "        ", "            "


def _field_line(f: ApiField, read: bool) -> list[str]:
    annotation = f.value.py if read else f.value.annotated()
    if f.optional:
        annotation += " | None"
    args = [f"alias={py_str(f.name)}"] if f.attr != f.name else []
    default = "None" if f.optional and not read else f.default if not read else None
    if args:
        args = ([f"default={default}"] if default is not None else []) + args
        return call(f"{f.attr}: {annotation} = ", "Field", args, I1)
    return [f"{I1}{f.attr}: {annotation}" + (f" = {default}" if default is not None else "")]


def _row_value(f: ApiField, api: Api) -> str:
    """The read model's value of a field, from the ORM row."""
    source = f"row.{f.column}"
    if f.value.kind == "object" and f.value.py in api.models:
        convert = f"{f.value.py}.model_validate"
        return f"None if {source} is None else {convert}({source})" if f.optional \
            else f"{convert}({source})"
    if f.value.kind == "list" and f.value.uses:
        inner = f.value.uses[0]
        if inner in api.models:
            return f"[{inner}.model_validate(v) for v in {source}]"
    return source


def schemas_module(api: Api, app: str, top: str) -> str:
    models = list(api.models.values())
    body: list[list[str]] = [
        ["class ErrorInfo(BaseModel):",
         f'{I1}"""What went wrong: a stable code, a message and optional details."""', "",
         f"{I1}code: str", f"{I1}message: str", f"{I1}details: JsonValue = None"],
        ["class ErrorBody(BaseModel):",
         f'{I1}"""The body of every error response: `{{"error": {{...}}}}`."""', "",
         f"{I1}error: ErrorInfo"],
    ]
    for model in [m for m in models if m.entity is None]:
        body.append(_model(model, read=False, forbid=True))
    for model in [m for m in models if m.entity is not None]:
        body.append(_model(model, read=True, forbid=False) + _from_row(model, api))
    for name in api.pages:
        body.append([f"class {name}Page(BaseModel):",
                     f'{I1}"""One page of `{name}` items, and how many there are in all."""', "",
                     f"{I1}items: list[{name}]", f"{I1}total: int", f"{I1}page: int",
                     f"{I1}size: int"])
    for op in api.operations:
        body.append(_model(op.input, read=False, forbid=op.body))
    text = "\n".join(line for part in body for line in [*part, "", ""])
    uses = {name for name in ("datetime", "decimal", "uuid") if f"{name}." in text}
    imports = ["from __future__ import annotations", ""]
    imports += [f"import {name}" for name in sorted(uses)]
    typing = [n for n in ("Annotated", "Any") if f"{n}[" in text]
    imports += [f"from typing import {', '.join(typing)}"] if typing else []
    imports += [""] if uses or typing else []
    pyd = ["BaseModel", "ConfigDict", "Field", "JsonValue"]
    pyd = [n for n in pyd if n == "BaseModel" or f"{n}(" in text or f"{n} " in text]
    imports.append(f"from pydantic import {', '.join(pyd)}")
    local = [f"from {app} import enums"] if "enums." in text else []
    local += [f"from {app}.db import models"] if "models." in text else []
    imports += ["", *local] if local else []
    doc = '"""The request and response models of the API, derived from the spec."""'
    return f"{top}{doc}\n\n" + "\n".join(imports) + "\n\n\n" + text.rstrip("\n") + "\n"


def _model(model: Model, read: bool, forbid: bool) -> list[str]:
    lines = [f"class {model.name}(BaseModel):", *docstring(model.doc, I1), ""]
    config = ['extra="forbid"'] * forbid
    if any(f.attr != f.name for f in model.fields):
        config.append("validate_by_name=True")
    if config:
        lines += [f"{I1}model_config = ConfigDict({', '.join(config)})", ""]
    for f in model.fields:
        lines += _field_line(f, read)
    if not model.fields:
        lines.pop()
    return lines


def _from_row(model: Model, api: Api) -> list[str]:
    args = [f"{f.attr}={_row_value(f, api)}" for f in model.fields]
    return ["", f"{I1}@classmethod",
            f"{I1}def from_row(cls, row: models.{model.orm_class}) -> {model.name}:",
            f'{I2}"""The read model of a database row (secret fields left out)."""',
            *call("return ", "cls", args, I2)]


# ---- errors.py ------------------------------------------------------------------------------


def errors_module(api: Api, top: str) -> str:
    lines = [top + '"""The errors of the API: the spec\'s catalog and generic ones. Raise one in '
             'a handler;\nthe app answers with its status and the `ErrorBody` of api/schemas.py.'
             '\n"""', "", "from __future__ import annotations", "",
             "from pydantic import JsonValue", "", "",
             "class ApiError(Exception):",
             f'{I1}"""An error answered with `status` and `{{"error": {{code, message, '
             'details}}`."""', "",
             f"{I1}status: int = 400", f'{I1}code: str = "bad_request"',
             f'{I1}message: str = "Bad request."', "",
             f"{I1}def __init__(self, message: str | None = None, "
             "details: JsonValue = None) -> None:",
             f"{I2}super().__init__(message or self.message)",
             f"{I2}self.message = message or self.message", f"{I2}self.details = details"]
    generic = [("NotFound", "not_found", 404, "Not found."),
               ("Conflict", "conflict", 409, "The change conflicts with existing data."),
               ("NotImplementedYet", "not_implemented", 501, "Not implemented yet.")]
    entries = [(e.class_name, e.code, e.status, e.message) for e in api.errors.values()]
    names = {e[0] for e in entries}
    for name, code, status, message in [*[g for g in generic if g[0] not in names], *entries]:
        lines += ["", "", f"class {name}(ApiError):", f"{I1}status = {status}",
                  f"{I1}code = {py_str(code)}", f"{I1}message = {py_str(message)}"]
    return "\n".join(lines) + "\n"


# ---- routes.py ------------------------------------------------------------------------------


def routes_module(api: Api, app: str, top: str) -> str:
    body: list[str] = []
    for op in api.operations:
        body += ["", "", *_route(op, api)]
    text = "\n".join(body)
    handlers = sorted({op.handler_module for op in api.operations if op.crud is None})
    fastapi = ["APIRouter", "Depends", *(n for n in ("Query", "Response") if f"{n}(" in text)]
    imports = ["from __future__ import annotations", "",
               "from collections.abc import Iterator", "from typing import Annotated, Any", "",
               *(["import sqlalchemy as sa"] if "sa." in text else []),
               f"from fastapi import {', '.join(fastapi)}",
               *(["from sqlalchemy.exc import IntegrityError"] if "_commit(" in text
                 else []),
               "from sqlalchemy.orm import Session", "",
               f"from {app}.api import errors, schemas",
               *([f"from {app}.db import models"] if "models." in text else []),
               *([f"from {app} import enums"] if "enums." in text else []),
               f"from {app}.db.session import SessionLocal",
               *[f"from {app}.handlers import {h} as {h}_handlers" for h in handlers]]
    preamble = ["router = APIRouter()", "", "",
                "def get_session() -> Iterator[Session]:",
                f'{I1}"""One database session per request."""',
                f"{I1}with SessionLocal() as session:", f"{I2}yield session", "", "",
                "SessionDep = Annotated[Session, Depends(get_session)]", "", "",
                "def _errors(statuses: dict[int, str]) -> dict[int | str, dict[str, Any]]:",
                f'{I1}"""The error responses of a route: each status with the error body."""',
                f'{I1}return {{s: {{"model": schemas.ErrorBody, "description": d}}'
                " for s, d in statuses.items()}"]
    if "_commit(" in text:
        preamble += ["", "", "def _commit(session: Session) -> None:",
                     f'{I1}"""Commit, answering 409 when a constraint of the database refuses '
                     'the change."""',
                     f"{I1}try:", f"{I2}session.commit()", f"{I1}except IntegrityError as error:",
                     f"{I2}session.rollback()",
                     f"{I2}raise errors.Conflict(details=str(error.orig)) from error"]
    doc = ('"""The routes of the API: one per operation version (see docs/generators.md,\n'
           '"api" target, for the naming rule). Plain CRUD is implemented here; every other\n'
           'operation calls its function in the user-owned handler module."""')
    return (f"{top}{doc}\n\n" + "\n".join(imports) + "\n\n" + "\n".join(preamble)
            + "\n" + text + "\n")


def _responses(op: Operation) -> str:
    items = [f"{s}: {py_str(d)}" for s, d in op.error_statuses().items()]
    one = "_errors({" + ", ".join(items) + "})"
    if len(I1) + len("responses=") + len(one) < 99:
        return one
    return "_errors({\n" + "".join(f"{I2}{i},\n" for i in items) + f"{I1}}})"


def _route(op: Operation, api: Api) -> list[str]:
    decl = op.decl
    args = [py_str(op.path), f"operation_id={py_str(op.function)}",
            f"summary={py_str(f'{decl.name} {op.version}')}", f"tags=[{py_str(op.module)}]"]
    if op.status != 200:
        args.append(f"status_code={op.status}")
    if op.output.kind == "none":
        args.append("response_class=Response")
    args.append(f"responses={_responses(op)}")
    lines = call("@router.", op.method.lower(), args, "")
    returns = "Response" if op.output.kind == "none" else _out(op, api)
    data = (f"schemas.{op.input.name}" if op.body
            else f"Annotated[schemas.{op.input.name}, Query()]")
    signature = call("def ", op.function, [f"data: {data}", "session: SessionDep"], "")
    if len(signature) == 1 and len(signature[0]) + len(returns) + 5 > 99:
        signature = [f"def {op.function}(", f"{I1}data: {data},", f"{I1}session: SessionDep,",
                     ")"]
    signature[-1] += f" -> {returns}:"
    lines += signature
    lines += docstring(decl.doc or f"The {decl.kind} `{decl.name} {op.version}`.", I1)
    lines += _crud_body(op, api) if op.crud else _handler_body(op, returns)
    return lines


def _out(op: Operation, api: Api) -> str:
    """The return annotation: the output's models qualified by `schemas.`."""
    names = [*api.models, *(f"{p}Page" for p in api.pages)]
    if not names:
        return op.output.py
    pattern = r"(?<![\w.])(" + "|".join(sorted(names, key=len, reverse=True)) + r")\b"
    return re.sub(pattern, r"schemas.\1", op.output.py)


def _handler_body(op: Operation, returns: str) -> list[str]:
    module = f"{op.handler_module}_handlers"
    where = f"{op.handler_module}.py"
    message = f"define {op.function}(session, data) in handlers/{where}"
    lines = [f"{I1}handler = getattr({module}, {py_str(op.function)}, None)",
             f"{I1}if handler is None:",
             *call("raise ", "errors.NotImplementedYet", [py_str(message)], I2)]
    if returns == "Response":
        return [*lines, f"{I1}handler(session, data)", f"{I1}return Response(status_code=204)"]
    return [*lines, f"{I1}result: {returns} = handler(session, data)", f"{I1}return result"]


def _crud_body(op: Operation, api: Api) -> list[str]:
    entity = op.entity
    assert entity is not None
    orm = f"models.{next(m.orm_class for m in api.models.values() if m.entity == entity)}"
    read = next(m.name for m in api.models.values() if m.entity == entity)
    fields = {f.name: f for f in entity.decl.fields}
    key = key_name(entity.decl)
    key_attr = next((f.attr for f in op.input.fields if f.name == key), key)
    inputs = [f for f in op.input.fields if f.name in fields and f.name != key]
    if op.crud == "create":
        given = [f for f in op.input.fields if f.name in fields]
        required = [f for f in given if not f.optional]
        args = [f"{_column(fields[f.name])}={_input(f)}" for f in required]
        lines = call("row = ", orm, args, I1)
        for f in given:
            if f.optional:
                lines += [f"{I1}if data.{f.attr} is not None:",
                          f"{I2}row.{_column(fields[f.name])} = {_input(f, True)}"]
        return [*lines, f"{I1}session.add(row)", f"{I1}_commit(session)",
                f"{I1}session.refresh(row)", f"{I1}return schemas.{read}.from_row(row)"]
    if op.crud == "list":
        return _list_body(op, orm, read, fields)
    lines = [f"{I1}row = session.get({orm}, data.{key_attr})", f"{I1}if row is None:",
             f"{I2}raise errors.NotFound()"]
    if op.crud == "get":
        return [*lines, f"{I1}return schemas.{read}.from_row(row)"]
    if op.crud == "delete":
        lines += [f"{I1}session.delete(row)", f"{I1}_commit(session)"]
        if op.output.kind == "none":
            return [*lines, f"{I1}return Response(status_code=204)"]
        return [*lines, f"{I1}return schemas.{read}.from_row(row)"]
    for f in inputs:  # update: the fields sent
        column = _column(fields[f.name])
        if fields[f.name].type.optional:
            lines += [f'{I1}if "{f.attr}" in data.model_fields_set:',
                      f"{I2}row.{column} = {_input(f, False)}"]
        else:
            lines += [f"{I1}if data.{f.attr} is not None:",
                      f"{I2}row.{column} = {_input(f, True)}"]
    return [*lines, f"{I1}_commit(session)", f"{I1}session.refresh(row)",
            f"{I1}return schemas.{read}.from_row(row)"]


def _list_body(op: Operation, orm: str, read: str, fields: dict[str, ir.FieldDecl]) -> list[str]:
    entity = op.entity
    assert entity is not None
    decl = entity.decl
    lines = [f"{I1}query = sa.select({orm})"]
    for f in op.input.fields:
        spec = decl.field(f.name)
        if f.name == SEARCH or spec is None or not f.optional or f.value.kind in (
                "list", "object", "json"):
            continue
        lines += [f"{I1}if data.{f.attr} is not None:",
                  f"{I2}query = query.where({orm}.{_column(spec)} == data.{f.attr})"]
    texts = searchable(decl)
    if texts and any(f.name == SEARCH for f in op.input.fields):
        attr = next(f.attr for f in op.input.fields if f.name == SEARCH)
        conditions = [f'{orm}.{_column(f)}.ilike(pattern, escape="\\\\")' for f in texts]
        lines += [f"{I1}if data.{attr}:",
                  f'{I2}text = data.{attr}.replace("\\\\", "\\\\\\\\")'
                  '.replace("%", "\\\\%").replace("_", "\\\\_")',
                  f'{I2}pattern = f"%{{text}}%"',
                  *call("query = query.where(", "sa.or_", conditions, I2)]
        lines[-1] += ")"
    key = key_name(decl)
    key_column = _column(decl.field(key)) if decl.field(key) is not None else "id"
    lines += [
        f"{I1}total = session.scalar(sa.select(sa.func.count()).select_from(query.subquery()))",
        f"{I1}page = query.order_by({orm}.{key_column})"
        ".limit(data.size).offset((data.page - 1) * data.size)",
        f"{I1}rows = session.scalars(page).all()",
        *call("return ", f"schemas.{read}Page", [
            f"items=[schemas.{read}.from_row(r) for r in rows]", "total=total or 0",
            "page=data.page", "size=data.size"], I1)]
    return lines


def _column(f: ir.FieldDecl) -> str:
    return attribute_name(column_name(f))


def _input(f: ApiField, present: bool = False) -> str:
    """An input value as the column stores it (embedded types as JSON)."""
    value = f"data.{f.attr}"
    if f.value.kind == "object":
        dumped = f'{value}.model_dump(mode="json")'
        return dumped if present or not f.optional else f"None if {value} is None else {dumped}"
    if f.value.kind == "list" and f.value.uses and f.value.py.startswith("list[") and \
            f.value.py[5:-1] == f.value.uses[0]:
        return f'[v.model_dump(mode="json") for v in {value}]'
    return value


# ---- main.py ----------------------------------------------------------------------------------


def main_module(app: str, title: str, version: str, top: str) -> str:
    return f'''{top}"""The FastAPI application: `uvicorn {app}.main:app`."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import JsonValue
from starlette.exceptions import HTTPException

from {app}.api.errors import ApiError
from {app}.api.routes import router
from {app}.api.schemas import ErrorBody, ErrorInfo

app = FastAPI(title={py_str(title)}, version={py_str(version)},
              separate_input_output_schemas=False)
app.include_router(router)


def error_response(status: int, code: str, message: str,
                   details: JsonValue = None) -> JSONResponse:
    """The one error body of the API: `{{"error": {{"code", "message", "details"}}}}`."""
    body = ErrorBody(error=ErrorInfo(code=code, message=message, details=details))
    return JSONResponse(body.model_dump(mode="json"), status_code=status)


@app.exception_handler(ApiError)
async def api_error(request: Request, error: ApiError) -> JSONResponse:
    return error_response(error.status, error.code, error.message, error.details)


@app.exception_handler(RequestValidationError)
async def validation_error(request: Request, error: RequestValidationError) -> JSONResponse:
    """422 with one entry per invalid field: where (`body`, `query`), its path, what."""
    details: list[JsonValue] = [
        {{"location": str(e["loc"][0]) if e["loc"] else "",
         "path": ".".join(str(part) for part in e["loc"][1:]),
         "message": str(e["msg"]), "type": str(e["type"])}}
        for e in error.errors()
    ]
    return error_response(422, "validation_error", "The input is not valid.", details)


@app.exception_handler(HTTPException)
async def http_error(request: Request, error: HTTPException) -> JSONResponse:
    code = {{404: "not_found", 405: "method_not_allowed"}}.get(error.status_code, "http_error")
    return error_response(error.status_code, code, str(error.detail))
'''
