"""`<app>/policies.py`: the spec's grants, operation policies, record rules and workflow
guards as plain functions, compiled by `access.py`. Routes call them; so can handlers."""

from __future__ import annotations

import textwrap

from contractspec.generators.api.access import (
    AccessModel,
    Combo,
    Cond,
    EntityAccess,
    Unsupported,
    render,
)
from contractspec.generators.api.model import Api, Operation
from contractspec.generators.api.workflows import Flow
from contractspec.generators.base import GeneratorError
from contractspec.generators.db.models import docstring
from contractspec.generators.db.naming import py_str
from contractspec.ir import nodes as ir
from contractspec.ir.text import expr_text

I1, I2, I3 = "    ", "        ", "            "
WRITES = ("create", "update", "delete")


def policy_function(op: Operation) -> str:
    return f"may_{op.function}"


def readable_function(access: EntityAccess, action: str = "read") -> str:
    return f"{access.prefix}_{'listable' if action == 'list' else 'readable'}"


def write_function(access: EntityAccess, action: str) -> str:
    return f"{access.prefix}_may_{action}"


def _python(access: AccessModel, where: str, expr: ir.Expr,
            entity: EntityAccess | None) -> Cond:
    try:
        return access.python(expr, entity)
    except Unsupported as error:
        raise GeneratorError(f"{where}: {error}") from error


def _sql(access: AccessModel, where: str, expr: ir.Expr, entity: EntityAccess) -> Cond:
    try:
        return access.sql(expr, entity)
    except Unsupported as error:
        raise GeneratorError(f"{where}: {error}") from error


def _return(cond: Cond, sql: bool = False) -> str:
    return f"{I1}return {render(cond, sql, I1, len('return '))}"


def _def(signature: str, doc: str, body: list[str]) -> list[str]:
    return ["", "", signature, *docstring(textwrap.fill(doc, 92), I1), *body]


def policies_module(api: Api, access: AccessModel, flows: list[Flow], top: str, app: str) -> str:
    body: list[str] = ["# Role -> the permissions the spec grants it.",
                       "GRANTS: dict[str, frozenset[str]] = {"]
    for role, perms in access.grants().items():
        one = f"{I1}{py_str(role)}: frozenset({{{', '.join(py_str(p) for p in perms)}}}),"
        if not perms:
            one = f"{I1}{py_str(role)}: frozenset(),"
        elif len(one) > 99:
            one = "\n".join([f"{I1}{py_str(role)}: frozenset({{",
                              *(f"{I2}{py_str(p)}," for p in perms), f"{I1}}}),"])
        body.append(one)
    body += ["}", "", "", "def _flag(value: bool) -> sa.ColumnElement[bool]:",
             f"{I1}return sa.true() if value else sa.false()"]
    if access.members is not None:
        members, user, org = access.members
        body += ["", "", "def _member_ids(actor: Actor) -> sa.Select[Any]:",
                 f'{I1}"""The users with a membership in the actor\'s organisation."""',
                 f"{I1}query = sa.select({members}.{user})",
                 f"{I1}return query.where({members}.{org} == actor.org_id)"]
    body += ["", "", "# ---- operations " + "-" * 73]
    for op in api.operations:
        if op.crud == "transition":
            continue
        rule = op.decl.policy
        text = f"`{expr_text(rule)}`" if rule is not None else "no policy (any signed-in member)"
        cond: Cond = _python(access, f"the policy of `{op.decl.name}`", rule, None) \
            if rule is not None else "True"
        body += _def(f"def {policy_function(op)}(actor: Actor) -> bool:",
                     f"`{op.decl.name} {op.version}`: {text}.", [_return(cond)])
    body += ["", "", "# ---- records: the organisation's, and the spec's rules " + "-" * 34]
    readers: list[str] = []
    for entity in access.entities.values():
        body += _entity(entity, access)
        readers.append(f"{I1}models.{entity.table.class_name}: "
                       f"{readable_function(entity)},")
    body += ["", "", "_READABLE: dict[type[Any], Callable[[Actor], sa.ColumnElement[bool]]] = {",
             *readers, "}", "", "",
             "def readable(model: type[Any], actor: Actor) -> sa.ColumnElement[bool]:",
             f'{I1}"""The condition on `model` rows the actor may read."""',
             f"{I1}rule = _READABLE.get(model)",
             f"{I1}return rule(actor) if rule is not None else sa.true()"]
    for flow in flows:
        body += _flow(flow, access)
    text = "\n".join(body)
    imports = ["from __future__ import annotations", "",
               "from collections.abc import Callable", "from typing import TYPE_CHECKING, Any",
               "", "import sqlalchemy as sa", "",
               *([f"from {app} import enums"] if "enums." in text else []),
               f"from {app}.db import models", "", "if TYPE_CHECKING:",
               f"{I1}from {app}.auth import Actor", "", ""]
    doc = ('"""Who may do what: the grants, operation policies, record rules and workflow '
           'guards of\nthe spec. Generated: change the spec, not this file."""')
    return top + doc + "\n\n" + "\n".join(imports) + text + "\n"


def _entity(entity: EntityAccess, access: AccessModel) -> list[str]:
    name = entity.table.entity.name
    model = f"models.{entity.table.class_name}"
    scope = access.scope_sql(entity)
    lines: list[str] = []
    for action in ("read", "list"):
        rule = entity.rules.get(action)
        if action == "list" and rule is None:
            continue
        parts: list[Cond] = [scope] if scope is not None else []
        if rule is not None:
            parts.append(_sql(access, f"the `{action}` rule of policy `{name}`", rule, entity))
        what = f"`{expr_text(rule)}`" if rule is not None else "no rule"
        doc = f"The `{name}` records the actor may {action}: " + (
            "the organisation's, " if scope else "") + f"{what}."
        cond: Cond = "sa.true()" if not parts else parts[0] if len(parts) == 1 \
            else Combo("and", parts)
        lines += _def(f"def {readable_function(entity, action)}(actor: Actor) "
                      "-> sa.ColumnElement[bool]:", doc, [_return(cond, sql=True)])
    if "list" not in entity.rules:
        lines += ["", "", f"{readable_function(entity, 'list')} = {readable_function(entity)}"]
    for action in WRITES:
        rule = entity.rules.get(action)
        if rule is None:
            continue
        cond = _python(access, f"the `{action}` rule of policy `{name}`", rule, entity)
        lines += _def(f"def {write_function(entity, action)}(actor: Actor, row: {model}) -> bool:",
                      f"Whether the actor may {action} this `{name}`: `{expr_text(rule)}`.",
                      [_return(cond)])
    return lines


def _flow(flow: Flow, access: AccessModel) -> list[str]:
    model = f"models.{flow.entity.table.class_name}"
    lines: list[str] = []
    checks: list[str] = []
    for t in flow.transitions:
        where = f"transition `{t.name}` of workflow `{flow.name}`"
        by: Cond = _python(access, where, t.decl.by, flow.entity) if t.decl.by is not None \
            else "True"
        states = ", ".join(f"enums.{flow.enum}.{s}" for s in t.sources)
        states = f"({states},)" if len(t.sources) == 1 else f"({states})"
        member = f"row.{flow.column} in {states}"
        state: Cond = member if len(member) <= 80 else Combo(  # else one source per line
            "or", [f"row.{flow.column} == enums.{flow.enum}.{s}" for s in t.sources])
        when: Cond = Combo("and", [state, _python(access, where, t.decl.when, flow.entity)]) \
            if t.decl.when is not None else state
        who = f"`{expr_text(t.decl.by)}`" if t.decl.by else "anyone who may read the record"
        lines += _def(f"def {t.guard}(actor: Actor, row: {model}) -> bool:",
                      f"Who may `{t.name}`: {who}.", [_return(by)])
        lines += _def(f"def {t.condition}(actor: Actor, row: {model}) -> bool:",
                      f"When `{t.name}` applies: from {', '.join(t.sources)}"
                      + (f", when `{expr_text(t.decl.when)}`" if t.decl.when else "") + ".",
                      [_return(when)])
        check = f"{I2}({py_str(t.name)}, {t.guard}(actor, row) and {t.condition}(actor, row)),"
        if len(check) > 100:
            check = (f"{I2}({py_str(t.name)}, {t.guard}(actor, row)\n"
                     f"{I2} and {t.condition}(actor, row)),")
        checks.append(check)
    lines += _def(f"def {flow.allowed}(actor: Actor, row: {model}) -> list[str]:",
                  f"The transitions of `{flow.name}` open to the actor on this record now.",
                  [f"{I1}return [name for name, ok in (", *checks, f"{I1}) if ok]"])
    return lines
