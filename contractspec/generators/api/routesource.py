"""`<app>/api/routes.py`: one route per operation version and per workflow transition.

With users (`api.auth`), every route takes the signed-in `actor`, checks the operation's
policy (403), reads only records the actor may read (404 otherwise, across organisations
too), checks the entity's write rules (403), fills the tenant field and required
`identity.User` references from the actor, emits the operation's events through the outbox
in the same transaction, and dispatches them after the commit.
"""

from __future__ import annotations

import re

from contractspec.generators.api.access import AccessModel, EntityAccess
from contractspec.generators.api.model import (
    SEARCH,
    Api,
    ApiField,
    Operation,
    key_name,
    searchable,
)
from contractspec.generators.api.policysource import (
    policy_function,
    readable_function,
    write_function,
)
from contractspec.generators.api.workflows import Flow
from contractspec.generators.db.models import call, docstring
from contractspec.generators.db.naming import attribute_name, column_name, py_str
from contractspec.generators.services.gating import gate_key
from contractspec.ir import nodes as ir

I1, I2, I3 = "    ", "        ", "            "


class RoutesWriter:
    def __init__(self, api: Api, access: AccessModel | None, app: str, top: str) -> None:
        self.api, self.access, self.app, self.top = api, access, app, top
        self.read_models = {m.entity.qualified: m for m in api.models.values()
                            if m.entity is not None}
        # entity -> its workflows' state fields: set to the initial state on create, and
        # changed only by transitions (an update skips them)
        self.states: dict[str, list[Flow]] = {}
        for op in api.operations:
            if op.transition is not None:
                flows = self.states.setdefault(op.transition[0].entity.key, [])
                if op.transition[0] not in flows:
                    flows.append(op.transition[0])
        names = [*api.models, *(f"{p}Page" for p in api.pages),
                 "UtcDateTime", "SafeStr", "Duration"]
        self.model_names = re.compile(
            r"(?<![\w.])(" + "|".join(sorted(names, key=len, reverse=True)) + r")\b") \
            if names else None

    @property
    def auth(self) -> bool:
        return self.access is not None

    def module(self) -> str:
        body: list[str] = []
        for op in self.api.operations:
            body += ["", "", *self.route(op)]
        text = "\n".join(body)
        handlers = sorted({op.handler_module for op in self.api.operations
                           if op.crud is None and op.service is None})
        services = sorted({op.service for op in self.api.operations if op.service is not None})
        fastapi = ["APIRouter", *(n for n in ("Query", "Response") if f"{n}(" in text)]
        deps = [name for name in ("ActorDep", "SessionDep", "allowed")
                if re.search(rf"\b{name}\b", text)]
        uses_errors = re.search(r"\berrors\.|\b_(commit|flush|require)\(", text) is not None
        api = ["errors", "schemas"] if uses_errors else ["schemas"]
        app = self.app
        # `Field`: bounded outputs (`Annotated[int, Field(...)]`)
        pydantic = [n for n in ("Field", "JsonValue") if (n == "Field" and "Field(" in text)
                    or (n == "JsonValue" and n in text)]
        own = [name for name in ("audit", "enums", "policies")  # code, not `audit.x` in docs
               if re.search(rf"(?<![\w.`]){name}\.", text)]
        typing = ["Annotated", "Any"] if "Annotated[" in text else ["Any"]
        imports = ["from __future__ import annotations", "",
                   f"from typing import {', '.join(typing)}",
                   "", *(["import sqlalchemy as sa"] if "sa." in text or "_require(" in text
                         else []),
                   f"from fastapi import {', '.join(fastapi)}",
                   *([f"from pydantic import {', '.join(pydantic)}"] if pydantic else []),
                   *(["from sqlalchemy.exc import IntegrityError"]
                     if "_commit(" in text or "_flush(" in text else []),
                   *(["from sqlalchemy.orm import Session"] if "_commit(" in text
                     or "_flush(" in text or "_require(" in text else []), "",
                   *([f"from {app} import {', '.join(own)}"] if own else []),
                   f"from {app}.api import {', '.join(api)}",
                   *([f"from {app}.api.context import Context"] if "Context(" in text else []),
                   *([f"from {app}.api.deps import {', '.join(deps)}"] if deps else []),
                   *([f"from {app}.db import models"] if "models." in text else []),
                   *([f"from {app}.events import models as events"] if "events." in text
                     else []),
                   *([f"from {app}.events import outbox"] if "outbox." in text
                     or (self.auth and "_commit(" in text) else []),
                   *([f"from {app}.flags import evaluate as flags"] if "flags.gated(" in text
                     else []),
                   *[f"from {app}.handlers import {h} as {h}_handlers" for h in handlers],
                   *([f"from {app}.metering import usage as metering"]
                     if "metering.meter(" in text else []),
                   *[f"from {app}.services import {s} as {s}_service" for s in services]]
        preamble = ["router = APIRouter()", "", "",
                    "def _errors(statuses: dict[int, str]) -> dict[int | str, dict[str, Any]]:",
                    f'{I1}"""The error responses of a route: each status with the error '
                    'body."""',
                    f'{I1}return {{s: {{"model": schemas.ErrorBody, "description": d}}'
                    " for s, d in statuses.items()}"]
        if "_commit(" in text:
            dispatch = [f"{I1}outbox.dispatch_pending(session)"] if self.auth else []
            preamble += ["", "", "def _commit(session: Session) -> None:",
                         f'{I1}"""Commit (409 when a constraint refuses the change)'
                         + ('; dispatch the events."""' if self.auth else '."""'),
                         f"{I1}try:", f"{I2}session.commit()",
                         f"{I1}except IntegrityError as error:", f"{I2}session.rollback()",
                         f"{I2}raise errors.Conflict(details=str(error.orig)) from error",
                         *dispatch]
        if "_flush(" in text:
            preamble += ["", "", "def _flush(session: Session) -> None:",
                         f'{I1}"""Flush, answering 409 when a constraint refuses the change."""',
                         f"{I1}try:", f"{I2}session.flush()",
                         f"{I1}except IntegrityError as error:", f"{I2}session.rollback()",
                         f"{I2}raise errors.Conflict(details=str(error.orig)) from error"]
        if "_require(" in text:
            preamble += [
                "", "", "def _require(session: Session, model: type[Any], key: Any, "
                "actor: Any,", f"{I3}error: type[errors.ApiError] = errors.NotFound) -> None:",
                f'{I1}"""404 unless `key` names a `model` record the actor may read."""',
                f"{I1}column = sa.inspect(model).primary_key[0]",
                f"{I1}found = session.scalar(sa.select(sa.func.count()).select_from(model).where(",
                f"{I2}column == key, policies.readable(model, actor)))",
                f"{I1}if not found:", f"{I2}raise error()"]
        doc = ('"""The routes of the API: one per operation version and per workflow '
               'transition\n(see docs/generators.md, "api" target). Plain CRUD and transitions '
               'are implemented\nhere; every other operation calls its function in the '
               'user-owned handler module."""')
        return (f"{self.top}{doc}\n\n" + "\n".join(imports) + "\n\n" + "\n".join(preamble)
                + "\n" + text + "\n")

    # ---- one route -----------------------------------------------------------------------

    def route(self, op: Operation) -> list[str]:
        decl = op.decl
        args = [py_str(op.path), f"operation_id={py_str(op.function)}",
                f"summary={py_str(f'{decl.name} {op.version}')}", f"tags=[{py_str(op.module)}]"]
        if op.status != 200:
            args.append(f"status_code={op.status}")
        if op.output.kind == "none":
            args.append("response_class=Response")
        signed = self.auth and not op.public  # `not authenticated`: served without a token
        if signed and op.crud != "transition":
            args.append(self.dependencies(op))
        args.append(f"responses={self.responses(op)}")
        lines = call("@router.", op.method.lower(), args, "")
        returns = "Response" if op.output.kind == "none" else self.out(op)
        data = (f"schemas.{op.input.name}" if op.body
                else f"Annotated[schemas.{op.input.name}, Query()]")
        params = [f"data: {data}", "session: SessionDep", *(["actor: ActorDep"] * signed)]
        signature = call("def ", op.function, params, "")
        if len(signature) == 1 and len(signature[0]) + len(returns) + 5 > 99:
            signature = [f"def {op.function}(", *(f"{I1}{p}," for p in params), ")"]
        signature[-1] += f" -> {returns}:"
        lines += signature
        lines += docstring(decl.doc or f"The {decl.kind} `{decl.name} {op.version}`.", I1)
        if signed and op.crud != "transition":
            lines += [f"{I1}if not policies.{policy_function(op)}(actor):",
                      f"{I2}raise errors.Forbidden()"]
        if op.crud == "transition":
            return lines + self.transition(op)
        return lines + self.metered(op, self.crud(op) if op.crud else self.handler(op, returns))

    # ---- flags and metering (contractspec/generators/services/{flags,metering}.py) ---------

    def gate(self, op: Operation) -> str:
        """The route dependency answering 404, as for an unknown route, when the flag or
        experiment the operation is `behind` is off for the actor; before the policy's, whose
        403 would reveal the route."""
        key = gate_key(self.access.program, op) if self.access is not None else None
        return "" if key is None else f"flags.gated({py_str(key)})"

    def dependencies(self, op: Operation) -> str:
        """The route's dependencies: its gate (flags) and its policy check."""
        deps = [*filter(None, [self.gate(op)]), f"allowed(policies.{policy_function(op)})"]
        one = f"dependencies=[{', '.join(deps)}]"
        if len(I1) + len(one) < 99:
            return one
        return "dependencies=[\n" + "".join(f"{I2}{d},\n" for d in deps) + f"{I1}]"

    def metered(self, op: Operation, body: list[str]) -> list[str]:
        """Record a usage of each metric the operation `meters` (429 past the plan's limit) in
        the operation's transaction; committed with its change, or before a read answers."""
        if self.access is None or op.crud == "transition" or not op.decl.meters:
            return body
        source = py_str(f"operation {op.decl.name} {op.version}")
        lines = [f"{I1}metering.meter(session, actor, {py_str(ref.name.rsplit('.', 1)[-1])}, "
                 f"{source})" for ref in op.decl.meters]
        if f"{I1}_commit(session)" in body:
            return lines + body
        last = max(i for i, line in enumerate(body) if line.startswith(f"{I1}return "))
        answer = [*body[:last], f"{I1}answer = {body[last][len(I1) + 7:]}", *body[last + 1:]]
        return [*lines, *answer, f"{I1}_commit(session)", f"{I1}return answer"]

    def responses(self, op: Operation) -> str:
        items = [f"{s}: {py_str(d)}" for s, d in op.error_statuses(self.auth).items()]
        one = "_errors({" + ", ".join(items) + "})"
        if len(I1) + len("responses=") + len(one) < 99:
            return one
        return "_errors({\n" + "".join(f"{I2}{i},\n" for i in items) + f"{I1}}})"

    def out(self, op: Operation) -> str:
        """The return annotation: the output's models qualified by `schemas.`."""
        if self.model_names is None:
            return op.output.py
        return self.model_names.sub(r"schemas.\1", op.output.py)

    def handler(self, op: Operation, returns: str) -> list[str]:
        if op.service is not None:
            return self.service(op, returns)
        module = f"{op.handler_module}_handlers"
        signed = self.auth and not op.public
        first = "ctx" if signed else "session"
        message = f"define {op.function}({first}, data) in handlers/{op.handler_module}.py"
        context = "Context(session, actor)" if signed else "session"
        lines = [f"{I1}handler = getattr({module}, {py_str(op.function)}, None)",
                 f"{I1}if handler is None:",
                 *call("raise ", "errors.NotImplementedYet", [py_str(message)], I2)]
        if returns == "Response":
            return [*lines, f"{I1}handler({context}, data)",
                    f"{I1}return Response(status_code=204)"]
        line = f"{I1}result: {returns} = handler({context}, data)"
        if len(line) > 99:
            line = f"{I1}result: {returns} = handler(\n{I2}{context}, data)"
        return [*lines, line, f"{I1}return result"]

    def service(self, op: Operation, returns: str) -> list[str]:
        """Call the std module's generated implementation (`<app>/services/<module>.py`)."""
        context = "session" if op.public else "Context(session, actor)"
        function, args = f"{op.service}_service.{op.function}", [context, "data"]
        if returns == "Response":
            return [*call("", function, args, I1), f"{I1}return Response(status_code=204)"]
        if len(f"{I1}result: {returns} = {function}(") > 99:  # the return annotation checks it
            return call("return ", function, args, I1)
        return [*call(f"result: {returns} = ", function, args, I1), f"{I1}return result"]

    # ---- CRUD ----------------------------------------------------------------------------

    def names(self, op: Operation) -> tuple[str, str, EntityAccess | None]:
        entity = op.entity
        assert entity is not None
        model = self.read_models[entity.qualified]
        access = self.access.of(entity) if self.access is not None else None
        return f"models.{model.orm_class}", model.name, access

    def fetch(self, op: Operation, orm: str, access: EntityAccess | None) -> list[str]:
        entity = op.entity
        assert entity is not None
        key = key_name(entity.decl)
        key_attr = next((f.attr for f in op.input.fields if f.name == key), key)
        if access is None:
            return [f"{I1}row = session.get({orm}, data.{key_attr})", f"{I1}if row is None:",
                    f"{I2}raise errors.NotFound()"]
        return [f"{I1}row = session.scalar(sa.select({orm}).where(",
                f"{I2}{orm}.{access.table.key.attr} == data.{key_attr}, "
                f"policies.{readable_function(access)}(actor)))",
                f"{I1}if row is None:", f"{I2}raise errors.NotFound()"]

    def crud(self, op: Operation) -> list[str]:
        orm, read, access = self.names(op)
        entity = op.entity
        assert entity is not None
        fields = {f.name: f for f in entity.decl.fields}
        key = key_name(entity.decl)
        if op.crud == "list":
            return self.list_body(op, orm, read, access)
        if op.crud == "create":
            return self.create(op, orm, read, access, fields)
        lines = self.fetch(op, orm, access)
        if op.crud == "get":
            return [*lines, f"{I1}return schemas.{read}.from_row(row)"]
        if access is not None and (op.crud or "") in access.rules:
            lines += [f"{I1}if not policies.{write_function(access, op.crud or '')}(actor, row):",
                      f"{I2}raise errors.Forbidden()"]
        if op.crud == "delete":
            lines += self.emit(op, I1)
            lines += [f"{I1}session.delete(row)", f"{I1}_commit(session)"]
            if op.output.kind == "none":
                return [*lines, f"{I1}return Response(status_code=204)"]
            return [*lines, f"{I1}return schemas.{read}.from_row(row)"]
        lines += self.require(op, [f for f in op.input.fields if f.name != key])
        states = {flow.state.name for flow in self.states.get(entity.qualified, [])}
        for f in op.input.fields:  # update: the fields sent (a workflow's state: transitions)
            if f.name not in fields or f.name == key or f.name in states:
                continue
            column = _column(fields[f.name])
            if fields[f.name].type.optional:
                lines += [f'{I1}if "{f.attr}" in data.model_fields_set:',
                          f"{I2}row.{column} = {_input(f, False)}"]
            else:
                lines += [f"{I1}if data.{f.attr} is not None:",
                          f"{I2}row.{column} = {_input(f, True)}"]
        if self.auth and op.emissions:
            lines += [f"{I1}_flush(session)", *self.emit(op, I1)]
        return [*lines, f"{I1}_commit(session)", f"{I1}session.refresh(row)",
                f"{I1}return schemas.{read}.from_row(row)"]

    def create(self, op: Operation, orm: str, read: str, access: EntityAccess | None,
               fields: dict[str, ir.FieldDecl]) -> list[str]:
        given = [f for f in op.input.fields if f.name in fields]
        required = [f for f in given if not f.optional]
        args = [f"{_column(fields[f.name])}={_input(f)}" for f in required]
        lines = self.require(op, given)
        lines += call("row = ", orm, args, I1)
        for f in given:
            if f.optional:
                lines += [f"{I1}if data.{f.attr} is not None:",
                          f"{I2}row.{_column(fields[f.name])} = {_input(f, True)}"]
        for flow in self.states.get(access.key if access else "", []):
            if flow.initial is not None:
                lines.append(f"{I1}row.{flow.column} = enums.{flow.enum}.{flow.initial}")
        if access is not None and self.access is not None:
            if access.tenant_column is not None:
                lines.append(f"{I1}row.{access.tenant_column.attr} = actor.org_id")
            names = {f.name for f in given}
            for spec in access.table.entity.fields:
                kind = spec.type
                if spec.name in names or kind.optional or kind.is_list or not kind.is_ref:
                    continue
                target = self.access.symbols.lookup(access.table.module, kind.name, "type",
                                                    frozenset({"entity"})).symbol
                column = self.access.column(access.table, spec)
                if target is not None and column is not None and \
                        target.qualified == "identity.User":
                    lines.append(f"{I1}row.{column.attr} = actor.user_id")
            if "create" in access.rules:
                lines += [f"{I1}if not policies.{write_function(access, 'create')}(actor, row):",
                          f"{I2}raise errors.Forbidden()"]
        lines.append(f"{I1}session.add(row)")
        if self.auth and op.emissions:
            lines += [f"{I1}_flush(session)", *self.emit(op, I1)]
        return [*lines, f"{I1}_commit(session)", f"{I1}session.refresh(row)",
                f"{I1}return schemas.{read}.from_row(row)"]

    def require(self, op: Operation, given: list[ApiField]) -> list[str]:
        """Check each `ref` input names a record the actor may read (404 otherwise)."""
        if self.access is None:
            return []
        lines: list[str] = []
        module = op.module
        for f in given:
            if f.value.kind != "ref":
                continue
            decl = next((d for d in op.decl.input if d.name == f.name), None)
            target = self.access.symbols.lookup(module, decl.type.name, "type", frozenset(
                {"entity"})).symbol if decl is not None else None
            access = self.access.of(target) if target is not None else None
            if access is None:
                continue
            error = next((e.class_name for e in op.errors
                          if e.code == f"{access.table.entity.name}NotFound"), None)
            args = ["session", f"models.{access.table.class_name}", f"data.{f.attr}", "actor",
                    *([f"errors.{error}"] if error else [])]
            if f.optional:  # an absent optional reference names nothing to check
                lines += [f"{I1}if data.{f.attr} is not None:", *call("", "_require", args, I2)]
            else:
                lines += call("", "_require", args, I1)
        return lines

    def emit(self, op: Operation, indent: str) -> list[str]:
        lines: list[str] = []
        for emission in op.emissions:
            lines += emission.call(indent)
        return lines

    def list_body(self, op: Operation, orm: str, read: str,
                  access: EntityAccess | None) -> list[str]:
        entity = op.entity
        assert entity is not None
        decl = entity.decl
        if access is not None:
            lines = [f"{I1}query = sa.select({orm}).where("
                     f"policies.{readable_function(access, 'list')}(actor))"]
        else:
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
            f"{I1}total = session.scalar(sa.select(sa.func.count()).select_from("
            "query.subquery()))",
            f"{I1}offset = (data.page - 1) * data.size",
            f"{I1}page = query.order_by({orm}.{key_column}).limit(data.size).offset(offset)",
            f"{I1}rows = session.scalars(page).all()",
            *call("return ", f"schemas.{read}Page", [
                f"items=[schemas.{read}.from_row(r) for r in rows]", "total=total or 0",
                "page=data.page", "size=data.size"], I1)]
        return lines

    # ---- workflow transitions --------------------------------------------------------------

    def transition(self, op: Operation) -> list[str]:
        assert op.transition is not None
        flow, t = op.transition
        orm, read, access = self.names(op)
        lines = self.fetch(op, orm, access)
        state = f"row.{flow.column}"
        lines += [f"{I1}if not policies.{t.guard}(actor, row):", f"{I2}raise errors.Forbidden()",
                  f"{I1}if not policies.{t.condition}(actor, row):",
                  f"{I2}allowed: list[JsonValue] = [*policies.{flow.allowed}(actor, row)]",
                  *call("raise ", "errors.TransitionNotAllowed", [
                      f'details={{"state": str({state}), "allowed": allowed}}'], I2),
                  f"{I1}before = str({state})",
                  f"{I1}{state} = enums.{flow.enum}.{t.target}"]
        target_id = f"str(row.{flow.entity.table.key.attr})"
        lines += call("", "audit.record", [
            "session", "actor", "org_id=actor.org_id",
            f"event={py_str(f'{flow.name}.{t.name}')}",
            f"target_type={py_str(flow.entity.table.entity.name)}",
            f"target_id={target_id}",
            f"diff={{{py_str(flow.state.name)}: [before, str({state})]}}"], I1)
        lines += self.emit(op, I1)
        return [*lines, f"{I1}_commit(session)", f"{I1}session.refresh(row)",
                f"{I1}return schemas.{read}.from_row(row)"]


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
