"""The Python sources of the API: `api/schemas.py`, `api/errors.py`, `api/routes.py`,
`main.py`. One function per file; `model.py` made every decision."""

from __future__ import annotations

import re

from contractspec.generators.api.model import (
    Api,
    ApiField,
    Model,
)
from contractspec.generators.db.models import call, docstring
from contractspec.generators.db.naming import py_str

I1, I2, I3 = "    ", "        ", "            "


def _field_line(f: ApiField, read: bool) -> list[str]:
    annotation = f.value.py if read else f.value.annotated()
    if f.optional:
        annotation += " | None"
    args = [f"alias={py_str(f.name)}"] if f.attr != f.name else []
    if f.former is not None and not read:  # renamed: the old name is still accepted
        args = [f"validation_alias=AliasChoices({py_str(f.name)}, {py_str(f.former)})"]
    default = "None" if f.optional and not read else f.default if not read else None
    if args:
        args = ([f"default={default}"] if default is not None else []) + args
    value = f"Field({', '.join(args)})" if args else default
    suffix = f" = {value}" if value is not None else ""
    lines = call(f"{f.attr}: {annotation} = ", "Field", args, I1) if args else \
        [f"{I1}{f.attr}: {annotation}{suffix}"]
    if all(len(line) <= 99 for line in lines) or not annotation.startswith("Annotated["):
        return lines
    # the annotation's constraints one per line, then the value (its Field wrapped if need be)
    inner, _, rest = annotation[len("Annotated["):].partition(", Field(")
    field, _, tail = rest.rpartition(")]")
    head = [f"{I1}{f.attr}: Annotated[", f"{I2}{inner},", f"{I2}Field({field}),"]
    last = f"{I1}]{tail}{suffix}"
    return head + (call(f"]{tail} = ", "Field", args, I1) if len(last) > 99 and args
                   else [last])


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


# A moment read back from SQLite has no offset: it is UTC (every moment is stored in UTC), and
# the document's `date-time` format requires the offset.
UTC_DATETIME = '''def _utc(value: datetime.datetime) -> datetime.datetime:
    """A moment without an offset is UTC (SQLite keeps none)."""
    return value if value.tzinfo is not None else value.replace(tzinfo=datetime.UTC)


UtcDateTime = Annotated[datetime.datetime, AfterValidator(_utc)]


'''


# PostgreSQL cannot store a NUL character in text: refused as invalid input (422) on every
# database, rather than failing in the database.
SAFE_STR = '''def _no_nul(value: str) -> str:
    """Text without NUL characters, which PostgreSQL cannot store."""
    if "\\x00" in value:
        raise ValueError("must not contain NUL characters")
    return value


SafeStr = Annotated[str, AfterValidator(_no_nul)]


'''


# A duration is written as RFC 3339 wants it (`P400DT3H`: pydantic's `P1Y35DT3H` skips the
# months, which RFC 3339 forbids) and bounded (0 to 100 years: beyond, dates overflow).
DURATION = '''def _duration(value: datetime.timedelta) -> str:
    """RFC 3339 `duration`: days, then hours to seconds without a gap (`P1DT2H0M5S`)."""
    minutes, seconds = divmod(value.seconds, 60)
    hours, minutes = divmod(minutes, 60)
    second = f"{seconds}.{value.microseconds:06d}".rstrip("0").rstrip(".")
    parts = [(str(hours), "H"), (str(minutes), "M"), (second, "S")]
    used = [i for i, (n, _) in enumerate(parts) if n != "0"]
    time = "".join(n + u for n, u in parts[used[0]:used[-1] + 1]) if used else ""
    days = f"{value.days}D" if value.days else ""
    return f"P{days}T{time}" if time else f"P{days}" if days else "PT0S"


Duration = Annotated[
    datetime.timedelta,
    Field(ge=datetime.timedelta(0), le=datetime.timedelta(days=36500)),
    PlainSerializer(_duration, return_type=str, when_used="json"),
]


'''


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
    if "UtcDateTime" in text:
        text = UTC_DATETIME + text
    if "SafeStr" in text:
        text = SAFE_STR + text
    if re.search(r"\bDuration\b", text):
        text = DURATION + text
    uses = {name for name in ("datetime", "decimal", "uuid") if f"{name}." in text}
    imports = ["from __future__ import annotations", ""]
    imports += [f"import {name}" for name in sorted(uses)]
    typing = [n for n in ("Annotated", "Any") if f"{n}[" in text or f"{n}]" in text]
    imports += [f"from typing import {', '.join(typing)}"] if typing else []
    imports += [""] if uses or typing else []
    pyd = ["AfterValidator", "AliasChoices", "BaseModel", "ConfigDict", "Field", "JsonValue",
           "PlainSerializer"]
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
    generic = [("Unauthorized", "unauthorized", 401, "Sign in: send a valid bearer token."),
               ("Forbidden", "forbidden", 403, "You are not allowed to do this."),
               ("NotFound", "not_found", 404, "Not found."),
               ("Conflict", "conflict", 409, "The change conflicts with existing data."),
               ("NotImplementedYet", "not_implemented", 501, "Not implemented yet.")]
    entries = [(e.class_name, e.code, e.status, e.message) for e in api.errors.values()]
    for name, code, status, message in [*generic, *entries]:
        lines += ["", "", f"class {name}(ApiError):", f"{I1}status = {status}",
                  f"{I1}code = {py_str(code)}", f"{I1}message = {py_str(message)}"]
    return "\n".join(lines) + "\n"


# ---- main.py ----------------------------------------------------------------------------------


def main_module(app: str, title: str, version: str, top: str, jobs: bool = False,
                ui: bool = False, agents: bool = False, routers: tuple[str, ...] = ()) -> str:
    """`main.py`; with `jobs`, importing the job queue registers the `on EVENT run JOB`
    triggers with the outbox, so events the API dispatches enqueue their jobs; with `ui`,
    the web pages of the `ui` target are included; with `agents`, the agents' endpoints
    (`<app>/agents/routes.py`); `routers`: service modules (`files_routes`) whose `router`
    is included too and whose `BODY_PATHS` limit their request bodies themselves."""
    triggers = (f"import {app}.jobs.queue  # noqa: F401  (registers the job triggers)\n"
                if jobs else "")
    pages = (f"from {app}.ui.routes import router as ui_router\n", "app.include_router(ui_router)\n"
             ) if ui else ("", "")
    extra = "".join(f"from {app}.services.{r} import BODY_PATHS as {r}_paths\n"
                    f"from {app}.services.{r} import router as {r}_router\n" for r in routers)
    include = "".join(f"app.include_router({r}_router)\n" for r in routers)
    own = "".join(f"*{r}_paths, " for r in routers).removesuffix(" ")
    own_decl = ("# Paths whose routes limit their request bodies themselves.\n"
                f"OWN_LIMIT: tuple[str, ...] = ({own})\n") if routers else ""
    own_check = ' or scope["path"].startswith(OWN_LIMIT)' if routers else ""
    agent_routes = (f"from {app}.agents.routes import router as agents_router\n",
                    "app.include_router(agents_router)\n") if agents else ("", "")
    return f'''{top}"""The FastAPI application: `uvicorn {app}.main:app`."""

from __future__ import annotations

import os

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import JsonValue
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

{triggers}{agent_routes[0]}from {app}.api.errors import ApiError
from {app}.api.routes import router
from {app}.api.schemas import ErrorBody, ErrorInfo
{extra}{pages[0]}
# Larger request bodies are refused with 413 before they are read (MAX_BODY_BYTES, 1 MiB).
MAX_BODY_BYTES = int(os.environ.get("MAX_BODY_BYTES", str(1024 * 1024)))
{own_decl}

class BodyLimit:
    """Refuses a body longer than MAX_BODY_BYTES: by its Content-Length, else while read."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http"{own_check}:
            await self.app(scope, receive, send)
            return
        length = dict(scope["headers"]).get(b"content-length", b"0")
        if not length.isdigit() or int(length) > MAX_BODY_BYTES:
            await error_response(413, "payload_too_large", TOO_LARGE)(scope, receive, send)
            return
        seen = 0

        async def limited() -> Message:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > MAX_BODY_BYTES:
                raise HTTPException(413, TOO_LARGE)
            return message

        await self.app(scope, limited, send)


TOO_LARGE = f"The request body is larger than {{MAX_BODY_BYTES}} bytes."
app = FastAPI(title={py_str(title)}, version={py_str(version)},
              separate_input_output_schemas=False)
app.add_middleware(BodyLimit)
app.include_router(router)
{agent_routes[1]}{pages[1]}{include}

def error_response(status: int, code: str, message: str,
                   details: JsonValue = None) -> JSONResponse:
    """The one error body of the API: `{{"error": {{"code", "message", "details"}}}}`."""
    body = ErrorBody(error=ErrorInfo(code=code, message=message, details=details))
    return JSONResponse(body.model_dump(mode="json"), status_code=status)


@app.exception_handler(ApiError)
async def api_error(request: Request, error: ApiError) -> JSONResponse:
    response = error_response(error.status, error.code, error.message, error.details)
    if error.status == 401:
        response.headers["WWW-Authenticate"] = "Bearer"
    return response


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
    code = {{404: "not_found", 405: "method_not_allowed", 413: "payload_too_large"}}.get(
        error.status_code, "http_error")
    return error_response(error.status_code, code, str(error.detail))
'''
