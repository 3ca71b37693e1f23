"""`<app>/ui/routes.py`: the pages of the views, written from the `ui` model.

Reads use `policies.readable(Model, actor)`, the API's own read condition; changes call the
route functions of `<app>/api/routes.py` with `(data, session, actor)` and show the
`errors.ApiError` they raise, or the `ValidationError` of the input model, on the page.
"""

from __future__ import annotations

import re

from contractspec.generators.api.model import ApiField, Operation
from contractspec.generators.api.workflows import Flow
from contractspec.generators.db.naming import kebab, py_str, snake
from contractspec.generators.ui import static
from contractspec.generators.ui.model import Page, Ui, UiField, view_function, view_path, words
from contractspec.ir import nodes as ir

I1, I2, I3 = "    ", "        ", "            "


def routes_module(ui: Ui, app: str, top: str) -> str:
    nav = [(words(v.name), view_path(v)) for v, _ in ui.views if v.kind in ("list", "board")]
    nav += [(f"New {p.title.lower()}", view_path(v)) for v, p in ui.views
            if v.kind == "form" and p.create is not None]
    body: list[str] = ["router = APIRouter(include_in_schema=False)",
                       "NAV: web.Nav = [", *(f"{I1}({py_str(label)}, {py_str(url)}),"
                                             for label, url in nav), "]"]
    body.append(static.ROUTES_COMMON)
    for page in ui.pages:
        body += _record(page)
    for view, page in ui.views:
        body += {"list": _list, "board": _board, "form": _form, "detail": _nothing}[view.kind](
            view, page)
    text = "\n".join(body).rstrip() + "\n"
    return top + _imports(text, app) + "\n" + text


def _imports(text: str, app: str) -> str:
    std = [m for m in ("datetime", "decimal", "uuid") if re.search(rf"\b{m}\.", text)]
    lines = ['"""The pages of the web UI, one set per `view` of the spec (see docs/generators.md,',
             '"ui" target). Reads are scoped like the API\'s; changes call the API\'s route',
             'functions, so policies, tenancy, events and audit apply unchanged."""', "",
             "from __future__ import annotations", ""]
    lines += [f"import {m}" for m in std]
    lines += ["from collections.abc import Collection, Sequence"]
    if re.search(r"\bAny\b", text):
        lines.append("from typing import Any")
    lines += ["", "import sqlalchemy as sa",
              "from fastapi import APIRouter, Request",
              "from fastapi.responses import FileResponse, Response"]
    if "ValidationError" in text:
        lines.append("from pydantic import ValidationError")
    lines += ["from sqlalchemy.orm import Session", ""]
    first = [n for n in ("enums", "policies") if re.search(rf"\b{n}\.", text)]
    lines.append(f"from {app} import {', '.join(first)}")
    api = [n for n in ("errors", "schemas") if re.search(rf"\b{n}\.", text)]
    if api:
        lines.append(f"from {app}.api import {', '.join(api)}")
    if re.search(r"\bapi\.", text):
        lines.append(f"from {app}.api import routes as api")
    lines += [f"from {app}.api.deps import SessionDep",
              f"from {app}.auth import Actor, actor_for_token",
              f"from {app}.db import models", f"from {app}.ui import web"]
    names = [n for n in ("ActorDep", "FormDep") if n in text]
    lines.append(f"from {app}.ui.web import {', '.join(names)}")
    return "\n".join(lines) + "\n"


def _call(indent: str, head: str, args: list[str], tail: str = ")") -> list[str]:
    """`head(arg, ...)` on one line when it fits, else one argument per line."""
    flat = f"{indent}{head}({', '.join(args)}{tail}"
    if len(flat) <= 99:
        return [flat]
    return [f"{indent}{head}(", *(f"{indent}    {a}," for a in args), f"{indent}{tail}"]


def _guard(indent: str = I1) -> list[str]:
    return [f"{indent}if actor is None:", f"{indent}    return web.to_sign_in(request)"]


def _names(fields: list[str]) -> str:
    return "(" + "".join(f"{py_str(n)}, " for n in fields).rstrip(" ") + ")"


def _assign(var: str, fields: list[str]) -> list[str]:
    """`var = (names)` on one line when it fits, else one name per line."""
    flat = f"{I1}{var} = {_names(fields)}"
    if len(flat) <= 99:
        return [flat]
    return [f"{I1}{var} = (", *(f"{I2}{py_str(n)}," for n in fields), f"{I1})"]


# ---- one entity: lookups, labels, choices, the record page, transitions, actions ----------


def _record(page: Page) -> list[str]:
    e, cls, slug = snake(page.cls), f"models.{page.cls}", page.slug
    key = page.key
    lines = ["", "", f"{e.upper()}_FIELDS: dict[str, tuple[str, str]] = {{"]
    lines += [f"{I1}{py_str(f.name)}: ({py_str(f.label)}, {py_str(f.attr)})," for f in
              page.fields.values()]
    lines += ["}", "", "", f"def _{e}(session: Session, actor: Actor, key: str) -> {cls} | None:",
              f'{I1}"""The `{page.entity.name}` with this key that the actor may read."""',
              f"{I1}parsed = web.parse(key, {key.parse})", f"{I1}if parsed is None:",
              f"{I2}return None", f"{I1}return session.scalar(sa.select({cls}).where(",
              f"{I2}{cls}.{key.attr} == parsed, policies.readable({cls}, actor)))", "", "",
              f"def _{e}_title(row: {cls}) -> str:"]
    if page.label is not None:
        lines.append(f"{I1}return web.show(row.{page.label.attr})")
    else:
        lines.append(f"{I1}return f\"{page.title} {{row.{key.attr}}}\"")
    lines += _labels(page, e, cls) + _options(page, e)
    lines += _detail(page, e, cls, slug)
    for flow in page.flows:
        lines += _flow(flow, page, e, cls, slug)
    for op in page.actions:
        lines += _action(op, page, e, slug)
    return lines


def _labels(page: Page, e: str, cls: str) -> list[str]:
    lines = ["", "", f"def _{e}_labels(session: Session, actor: Actor, rows: Sequence[{cls}],",
             f"{' ' * (len(e) + 12)}names: Collection[str]) -> dict[str, dict[str, str]]:",
             f'{I1}"""The labels of the records the `ref` fields of these rows point at."""',
             f"{I1}found: dict[str, dict[str, str]] = {{}}"]
    for f in page.fields.values():
        if f.target is None:
            continue
        t = f"models.{f.target.cls}"
        lines += [f"{I1}if {py_str(f.name)} in names:"]
        lines += _call(I2, f"found[{py_str(f.name)}] = web.labels", [
            "session", f"{t}.{f.target.key}", f"{t}.{f.target.label}",
            f"policies.readable({t}, actor)", f"[r.{f.attr} for r in rows]"])
    return [*lines, f"{I1}return found"]


def _options(page: Page, e: str) -> list[str]:
    lines = ["", "", f"def _{e}_options(session: Session, actor: Actor,",
             f"{' ' * (len(e) + 13)}names: Collection[str]) -> dict[str, list[tuple[str, str]]]:",
             f'{I1}"""The choices of the `ref` and enum fields among `names`."""',
             f"{I1}found: dict[str, list[tuple[str, str]]] = {{}}"]
    for f in page.fields.values():
        if f.target is not None:
            t = f"models.{f.target.cls}"
            lines += [f"{I1}if {py_str(f.name)} in names:"]
            lines += _call(I2, f"found[{py_str(f.name)}] = web.options", [
                "session", f"{t}.{f.target.key}", f"{t}.{f.target.label}",
                f"policies.readable({t}, actor)"])
        elif f.enum is not None:
            lines += [f"{I1}if {py_str(f.name)} in names:",
                      f"{I2}found[{py_str(f.name)}] = web.choices(enums.{f.enum})"]
    return [*lines, f"{I1}return found"]


def _detail(page: Page, e: str, cls: str, slug: str) -> list[str]:
    view = page.detail
    names = [r.name for r in view.fields] if view is not None and view.fields else [
        n for n in page.fields if n != page.key.name]
    shaped = f" (view `{view.name}`)" if view is not None else ""
    lines = ["", "", f"@router.get(\"/ui/{slug}/{{key}}\")",
             f"def {e}_page(request: Request, key: str, session: SessionDep,",
             f"{' ' * (len(e) + 10)}actor: ActorDep) -> Response:",
             f'{I1}"""The page of one `{page.entity.name}`{shaped}."""',
             *_guard(), f"{I1}row = _{e}(session, actor, key)", f"{I1}if row is None:",
             f"{I2}return _not_found(request, actor)", *_assign("names", names),
             f"{I1}labels = _{e}_labels(session, actor, [row], names)",
             f"{I1}buttons: list[tuple[str, str]] = []"]
    for flow in page.flows:
        fl = snake(flow.name)
        lines += [f"{I1}for step in policies.{flow.allowed}(actor, row):",
                  f"{I2}buttons.append(({fl.upper()}[step][0], "
                  f"f\"/ui/{slug}/{{key}}/{kebab(flow.name)}/{{step}}\"))"]
    for op in page.actions:
        lines += [f"{I1}if policies.may_{op.function}(actor):",
                  f"{I2}buttons.append(({py_str(words(op.decl.name))}, "
                  f"f\"/ui/{slug}/{{key}}/{kebab(op.decl.name)}\"))"]
    edit = (f"f\"{view_path(page.form)}/{{key}}\"" if page.form is not None
            and page.update is not None else '""')
    lines += _call(I1, "return web.render", [
        "request", "actor", '"detail.html"', "NAV", '""', f"title=_{e}_title(row)",
        f"lines=web.lines(row, names, {e.upper()}_FIELDS, labels)", "buttons=buttons",
        f"edit_url={edit}"])
    return lines


def _flow(flow: Flow, page: Page, e: str, cls: str, slug: str) -> list[str]:
    fl = snake(flow.name)
    const = fl.upper()
    lines = ["", "", f"# The transitions of `{flow.name}`: name -> (label, from states, to state).",
             f"{const}: dict[str, tuple[str, tuple[str, ...], str]] = {{"]
    for t in flow.transitions:
        sources = "".join(f"{py_str(s.name)}, " for s in t.decl.sources).rstrip(" ")
        lines.append(f"{I1}{py_str(t.name)}: ({py_str(words(t.name))}, ({sources}), "
                     f"{py_str(t.decl.target.name)}),")
    lines += ["}", "", "", f"def _{fl}(step: str, row: {cls}, session: Session, actor: Actor) "
              "-> None:", f'{I1}"""Run the transition `step` of `{flow.name}` through the API."""']
    for i, t in enumerate(flow.transitions):
        model = f"schemas.{''.join(w[:1].upper() + w[1:] for w in (flow.name, t.name))}Input"
        lines += [f"{I1}{'if' if i == 0 else 'elif'} step == {py_str(t.name)}:"]
        lines += _call(I2, f"api.{t.function}", [
            f"{model}.model_validate({{{py_str(page.key.name)}: row.{page.key.attr}}})",
            "session", "actor"])
    lines += [f"{I1}else:", f"{I2}raise errors.NotFound()", "", "",
              f"def _{fl}_to(target: str, row: {cls}, session: Session, actor: Actor) -> None:",
              f'{I1}"""Move a record to the state `target` by a transition leading there."""',
              f"{I1}state = web.value(row.{flow.column})",
              f"{I1}steps = [n for n, (_, sources, to) in {const}.items()",
              f"{I1}         if to == target and state in sources]",
              f"{I1}if not steps:",
              f"{I2}raise errors.TransitionNotAllowed(",
              f"{I3}f\"No transition of {flow.name} leads from {{state}} to {{target}}.\")",
              f"{I1}allowed = policies.{flow.allowed}(actor, row)",
              f"{I1}_{fl}(next((s for s in steps if s in allowed), steps[0]), row, session, actor)",
              "", "", f"@router.post(\"/ui/{slug}/{{key}}/{kebab(flow.name)}/{{step}}\", "
              "dependencies=web.CSRF)",
              f"def {e}_{fl}(request: Request, key: str, step: str, session: SessionDep,",
              f"{' ' * (len(e) + len(fl) + 6)}actor: ActorDep) -> Response:",
              f'{I1}"""Take the transition `step` of `{flow.name}` (its button on the page)."""',
              *_guard(), f"{I1}row = _{e}(session, actor, key)", f"{I1}if row is None:",
              f"{I2}return _not_found(request, actor)",
              f"{I1}try:", f"{I2}_{fl}(step, row, session, actor)",
              f"{I1}except errors.ApiError as error:",
              f"{I2}return web.redirect(f\"/ui/{slug}/{{key}}\", error.message, \"error\")",
              f"{I1}return web.redirect(f\"/ui/{slug}/{{key}}\", "
              f"f\"{{{const}[step][0]}}: done.\")"]
    return lines


def _action(op: Operation, page: Page, e: str, slug: str) -> list[str]:
    name = snake(op.decl.name)
    done = '"/ui"' if op.crud == "delete" else f"f\"/ui/{slug}/{{key}}\""
    model = f"schemas.{op.input.name}"
    return ["", "", f"@router.post(\"/ui/{slug}/{{key}}/{kebab(op.decl.name)}\", "
            "dependencies=web.CSRF)",
            f"def {e}_{name}(request: Request, key: str, session: SessionDep,",
            f"{' ' * (len(e) + len(name) + 6)}actor: ActorDep) -> Response:",
            f'{I1}"""The action `{op.decl.name}` of the record page."""',
            *_guard(), f"{I1}row = _{e}(session, actor, key)", f"{I1}if row is None:",
            f"{I2}return _not_found(request, actor)", f"{I1}try:",
            *_call(I2, f"api.{op.function}", [
                f"{model}.model_validate({{{py_str(page.key.name)}: row.{page.key.attr}}})",
                "session", "actor"]),
            f"{I1}except errors.ApiError as error:",
            f"{I2}return web.redirect(f\"/ui/{slug}/{{key}}\", error.message, \"error\")",
            f"{I1}return web.redirect({done}, {py_str(words(op.decl.name) + ': done.')})"]


def _nothing(view: ir.ViewDecl, page: Page) -> list[str]:
    return []  # a detail view shapes the record page (`_detail`)


# ---- list ----------------------------------------------------------------------------------


def _list(view: ir.ViewDecl, page: Page) -> list[str]:
    e, cls, fn, path = snake(page.cls), f"models.{page.cls}", view_function(view), view_path(view)
    columns = [r.name for r in view.columns] or [n for n in page.fields if n != page.key.name]
    filters = [page.fields[r.name] for r in view.filters]
    search = [page.fields[r.name] for r in view.search]
    order = f"{cls}.{page.label.attr}, " if page.label is not None else ""
    lines = ["", "", f"@router.get({py_str(path)})",
             f"def {fn}(request: Request, session: SessionDep, actor: ActorDep) -> Response:",
             f'{I1}"""The list `{view.name}` of `{page.entity.name}`."""', *_guard(),
             f"{I1}params = request.query_params",
             f"{I1}query = sa.select({cls}).where(policies.readable({cls}, actor))"]
    for f in filters:
        var = f"by_{snake(f.name)}"
        lines += [f"{I1}{var} = web.parse(params.get({py_str(f.name)}), {f.parse})",
                  f"{I1}if {var} is not None:",
                  f"{I2}query = query.where({cls}.{f.attr} == {var})"]
    lines.append(f"{I1}q = params.get(\"q\", \"\").strip()")
    if search:
        found = [f"{cls}.{f.attr}.ilike(pattern, escape=\"\\\\\")" for f in search]
        lines += [f"{I1}if q:", f"{I2}pattern = web.like(q)",
                  *_call(I2, "query = query.where(sa.or_", found, "))")]
    lines += [f"{I1}total = session.scalar(sa.select(sa.func.count()).select_from("
              "query.subquery())) or 0",
              f"{I1}pages = max(1, -(-total // web.PAGE_SIZE))",
              f"{I1}page = min(web.page_number(params.get(\"page\")), pages)",
              f"{I1}rows = session.scalars(query.order_by({order}{cls}.{page.key.attr})",
              f"{I1}                      .limit(web.PAGE_SIZE).offset((page - 1) * web.PAGE_SIZE))"
              ".all()",
              *_assign("columns", columns),
              f"{I1}labels = _{e}_labels(session, actor, rows, columns)",
              f"{I1}options = _{e}_options(session, actor, {_names([f.name for f in filters])})",
              f"{I1}filters = [{{\"name\": n, \"label\": {e.upper()}_FIELDS[n][0], "
              "\"options\": options.get(n),",
              f"{I1}            \"value\": params.get(n, \"\")}} for n in "
              f"{_names([f.name for f in filters])}]",
              f"{I1}items = [{{\"url\": f\"/ui/{page.slug}/{{r.{page.key.attr}}}\", "
              f"\"cells\": web.cells(r, columns, {e.upper()}_FIELDS, labels)}}",
              f"{I1}         for r in rows]"]
    new = f'"{view_path(page.form)}"' if page.form is not None and page.create else '""'
    lines += _call(I1, "return web.render", [
        "request", "actor", '"list.html"', "NAV", py_str(path), f"title={py_str(words(view.name))}",
        f"headings=[{e.upper()}_FIELDS[n][0] for n in columns]", "rows=items",
        "filters=filters", f"search={py_str(', '.join(f.label.lower() for f in search))}",
        "q=q", "total=total", "page=page", "pages=pages",
        "prev_url=web.page_url(request, page - 1) if page > 1 else \"\"",
        "next_url=web.page_url(request, page + 1) if page < pages else \"\"",
        f"new_url={new}", f"new_label={py_str('New ' + page.title.lower())}"])
    return lines


# ---- board ---------------------------------------------------------------------------------


def _board(view: ir.ViewDecl, page: Page) -> list[str]:
    e, cls, fn, path = snake(page.cls), f"models.{page.cls}", view_function(view), view_path(view)
    flow = _state_flow(view, page)
    group = page.fields[view.group_by.name] if view.group_by else page.fields[flow.state.name] \
        if flow else None
    assert group is not None  # model._check: a board has `by` or a workflow
    card = [r.name for r in view.card] or ([page.label.name] if page.label else [])
    movable = flow is not None or (page.update is not None and any(
        f.name == group.name for f in page.update.input.fields))
    order = f"{cls}.{page.label.attr}, " if page.label is not None else ""
    lines = ["", "", f"@router.get({py_str(path)})",
             f"def {fn}(request: Request, session: SessionDep, actor: ActorDep) -> Response:",
             f'{I1}"""The board `{view.name}` of `{page.entity.name}` by `{group.name}`."""',
             *_guard(),
             f"{I1}rows = session.scalars(sa.select({cls}).where(policies.readable({cls}, actor))",
             f"{I1}                      .order_by({order}{cls}.{page.key.attr})"
             ".limit(web.BOARD_LIMIT)).all()",
             *_assign("card", card),
             f"{I1}labels = _{e}_labels(session, actor, rows, card)"]
    if group.choice:
        lines.append(f"{I1}groups = _{e}_options(session, actor, "
                     f"({py_str(group.name)},))[{py_str(group.name)}]")
    else:
        lines += [f"{I1}groups = sorted({{(web.value(r.{group.attr}),) * 2 for r in rows}})"]
    lines += [f"{I1}cards = [(web.value(r.{group.attr}), {{",
              f"{I2}\"id\": str(r.{page.key.attr}), \"url\": f\"/ui/{page.slug}/"
              f"{{r.{page.key.attr}}}\", \"title\": _{e}_title(r),",
              f"{I2}\"lines\": web.lines(r, card, {e.upper()}_FIELDS, labels),",
              f"{I1}}}) for r in rows]"]
    lines += _call(I1, "return web.render", [
        "request", "actor", '"board.html"', "NAV", py_str(path),
        f"title={py_str(words(view.name))}",
        f"columns=web.board(groups, cards, movable={movable})", f"move_url=\"{path}/move\""])
    if not movable:
        return lines
    how = (f"the transition of `{flow.name}` to that state" if flow is not None else
           f"`{page.update.decl.name if page.update else ''}` setting `{group.name}`")
    lines += ["", "", f"@router.post(\"{path}/move\")",
              f"def {fn}_move(request: Request, form: FormDep, session: SessionDep,",
              f"{' ' * (len(fn) + 10)}actor: ActorDep) -> Response:",
              f'{I1}"""Move a card: {how}."""',
              *_guard(), f"{I1}row = _{e}(session, actor, form.get(\"id\", \"\"))",
              f"{I1}if row is None:",
              f"{I2}return web.redirect({py_str(path)}, \"Not found.\", \"error\")",
              f"{I1}try:"]
    if flow is not None:
        lines.append(f"{I2}_{snake(flow.name)}_to(form.get(\"to\", \"\"), row, session, actor)")
    else:
        update = page.update
        assert update is not None
        data = (f"{{{py_str(page.key.name)}: row.{page.key.attr}, "
                f"{py_str(group.name)}: form.get(\"to\")}}")
        lines += _call(I2, f"api.{update.function}", [
            f"schemas.{update.input.name}.model_validate({data})", "session", "actor"])
        lines += [f"{I1}except ValidationError as error:",
                  f"{I2}return web.redirect({py_str(path)}, "
                  "\" \".join(web.field_errors(error).values()), \"error\")"]
    lines += [f"{I1}except errors.ApiError as error:",
              f"{I2}return web.redirect({py_str(path)}, error.message, \"error\")",
              f"{I1}return web.redirect({py_str(path)}, f\"Moved {{_{e}_title(row)}}.\")"]
    return lines


def _state_flow(view: ir.ViewDecl, page: Page) -> Flow | None:
    """The workflow whose state the board groups by (`by` its state field, or no `by`)."""
    for flow in page.flows:
        if view.group_by is None or view.group_by.name == flow.state.name:
            return flow
    return None


# ---- form ----------------------------------------------------------------------------------


def _form_fields(view: ir.ViewDecl, page: Page, op: Operation) -> list[str]:
    inputs = {f.name: f for f in op.input.fields if f.name != page.key.name or op.crud == "create"}
    names = [r.name for r in view.fields if r.name in inputs] or [
        n for n in inputs if n in page.fields]
    names += [n for n, f in inputs.items() if f.required and n not in names]
    return [_web_field(page.fields.get(n), inputs[n]) for n in names]


def _web_field(field: UiField | None, given: ApiField) -> str:
    widget = field.widget if field is not None else "text"
    hint = field.hint if field is not None else ""
    args = [py_str(given.name), py_str(words(given.name)), py_str(widget)]
    if given.required or hint:
        args.append(str(given.required))
    if hint:
        args.append(py_str(hint))
    return f"web.Field({', '.join(args)})"


def _form(view: ir.ViewDecl, page: Page) -> list[str]:
    e, fn, path = snake(page.cls), view_function(view), view_path(view)
    const = fn.upper()
    lines: list[str] = []
    for op in (page.create, page.update):
        if op is None:
            continue
        lines += ["", "", f"{const}_{op.crud.upper() if op.crud else ''}: "
                  "tuple[web.Field, ...] = (",
                  *(f"{I1}{f}," for f in _form_fields(view, page, op)), ")"]
    lines += ["", "", f"def _{fn}(request: Request, session: Session, actor: Actor, "
              "title: str, action: str,",
              f"{' ' * (len(fn) + 6)}back: str, fields: tuple[web.Field, ...], "
              "values: dict[str, str],",
              f"{' ' * (len(fn) + 6)}errors: dict[str, str], status: int = 200) -> Response:",
              f'{I1}"""The form `{view.name}` with these values and error messages."""']
    lines += _call(I1, "return web.render", [
        "request", "actor", '"form.html"', "NAV", py_str(path), "status=status", "title=title",
        "action=action", "back=back", "fields=fields", "values=values", "errors=errors",
        "names={f.name: f.label for f in fields}",
        f"options=_{e}_options(session, actor, [f.name for f in fields])"])
    if page.create is not None:
        lines += _create(view, page, page.create, e, fn, path, const)
    if page.update is not None:
        lines += _update(view, page, page.update, e, fn, path, const)
    return lines


def _submitted(const: str) -> list[str]:
    return [f"{I1}fields = {const}",
            f"{I1}data = web.submitted(form, [f.name for f in fields if f.widget != \"checkbox\"],",
            f"{I1}                     [f.name for f in fields if f.widget == \"checkbox\"])"]


def _create(view: ir.ViewDecl, page: Page, op: Operation, e: str, fn: str, path: str,
            const: str) -> list[str]:
    title = py_str(f"New {page.title.lower()}")
    return ["", "", f"@router.get({py_str(path)})",
            f"def {fn}_new(request: Request, session: SessionDep, actor: ActorDep) -> Response:",
            f'{I1}"""The form `{view.name}`: a new `{page.entity.name}`."""', *_guard(),
            *_call(I1, f"return _{fn}", ["request", "session", "actor", title, py_str(path),
                                         '"/ui"', f"{const}_CREATE", "{}", "{}"]),
            "", "", f"@router.post({py_str(path)})",
            f"def {fn}_create(request: Request, form: FormDep, session: SessionDep,",
            f"{' ' * (len(fn) + 12)}actor: ActorDep) -> Response:",
            f'{I1}"""Create a `{page.entity.name}` with `{op.decl.name}`."""', *_guard(),
            *_submitted(f"{const}_CREATE"), f"{I1}try:",
            *_call(I2, f"created = api.{op.function}",
                   [f"schemas.{op.input.name}.model_validate(data)", "session", "actor"]),
            *_problems(),
            f"{I2}return web.redirect(f\"/ui/{page.slug}/{{created.{page.key.name}}}\", "
            "\"Saved.\")",
            *_call(I1, f"return _{fn}", ["request", "session", "actor", title, py_str(path),
                                         '"/ui"', "fields", "form", "problems", "status"])]


def _problems() -> list[str]:
    """The `except` clauses of a form's POST: the messages to show again, and the status."""
    return [f"{I1}except ValidationError as error:",
            f"{I2}problems, status = web.field_errors(error), 422",
            f"{I1}except errors.ApiError as error:",
            f"{I2}problems, status = {{\"\": error.message}}, error.status", f"{I1}else:"]


def _update(view: ir.ViewDecl, page: Page, op: Operation, e: str, fn: str, path: str,
            const: str) -> list[str]:
    return ["", "", f"@router.get(\"{path}/{{key}}\")",
            f"def {fn}_edit(request: Request, key: str, session: SessionDep,",
            f"{' ' * (len(fn) + 10)}actor: ActorDep) -> Response:",
            f'{I1}"""The form `{view.name}` editing a `{page.entity.name}`."""', *_guard(),
            f"{I1}row = _{e}(session, actor, key)", f"{I1}if row is None:",
            f"{I2}return _not_found(request, actor)",
            f"{I1}fields = {const}_UPDATE",
            f"{I1}values = {{f.name: web.value(getattr(row, {e.upper()}_FIELDS[f.name][1]))",
            f"{I1}          for f in fields if f.name in {e.upper()}_FIELDS}}",
            *_call(I1, f"return _{fn}", [
                "request", "session", "actor", f"f\"Edit {{_{e}_title(row)}}\"",
                f"f\"{path}/{{key}}\"", f"f\"/ui/{page.slug}/{{key}}\"", "fields", "values",
                "{}"]),
            "", "", f"@router.post(\"{path}/{{key}}\")",
            f"def {fn}_update(request: Request, key: str, form: FormDep, session: SessionDep,",
            f"{' ' * (len(fn) + 12)}actor: ActorDep) -> Response:",
            f'{I1}"""Change a `{page.entity.name}` with `{op.decl.name}`."""', *_guard(),
            f"{I1}row = _{e}(session, actor, key)", f"{I1}if row is None:",
            f"{I2}return _not_found(request, actor)", *_submitted(f"{const}_UPDATE"),
            f"{I1}data[{py_str(page.key.name)}] = row.{page.key.attr}", f"{I1}try:",
            *_call(I2, f"api.{op.function}", [
                f"schemas.{op.input.name}.model_validate(data)", "session", "actor"]),
            *_problems(),
            f"{I2}return web.redirect(f\"/ui/{page.slug}/{{key}}\", \"Saved.\")",
            *_call(I1, f"return _{fn}", [
                "request", "session", "actor", f"f\"Edit {{_{e}_title(row)}}\"",
                f"f\"{path}/{{key}}\"", f"f\"/ui/{page.slug}/{{key}}\"", "fields", "form",
                "problems", "status"])]
