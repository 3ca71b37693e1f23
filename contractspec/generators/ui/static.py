"""The fixed parts of the `ui` target: the plumbing module `web.py`, the Jinja2 templates
and the style sheet (`{app}` and `{app_title}` are filled in)."""

from __future__ import annotations

WEB = r'''"""The web UI's plumbing: the sign-in cookie, CSRF, rendering with messages, form values.

The signed-in member is the actor of the API token kept in an HttpOnly, SameSite=Lax cookie
(see `{app}.auth`). Every POST form carries the CSRF token of a second cookie
(double-submit): a form without it, or with another value, is refused (403).
"""

from __future__ import annotations

import datetime
import decimal
import enum
import secrets
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote, unquote

import sqlalchemy as sa
from fastapi import Depends, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader
from pydantic import ValidationError
from sqlalchemy.orm import Session

from {app}.api.deps import SessionDep
from {app}.auth import Actor, actor_for_token

TOKEN_COOKIE = "{app}_token"
CSRF_COOKIE = "{app}_csrf"
FLASH_COOKIE = "{app}_flash"
CSRF_FIELD = "csrf"
PAGE_SIZE = 20
BOARD_LIMIT = 500  # cards on a board
OPTIONS_LIMIT = 500  # choices of a `ref` field
HERE = Path(__file__).parent
templates = Jinja2Templates(env=Environment(
    loader=FileSystemLoader(HERE / "templates"), autoescape=True))
Nav = Sequence[tuple[str, str]]  # (label, URL) of the navigation


@dataclass(frozen=True)
class Field:
    """A form field: its spec name (the input's key), label and widget."""

    name: str
    label: str
    widget: str  # text, textarea, number, email, url, date, datetime-local, checkbox, select
    required: bool = False
    hint: str = ""  # the spec's constraint, in words


def signed_in(request: Request, session: SessionDep) -> Actor | None:
    """The member of the sign-in cookie's token, or None."""
    token = request.cookies.get(TOKEN_COOKIE)
    return actor_for_token(session, token) if token else None


ActorDep = Annotated[Actor | None, Depends(signed_in)]


def csrf_token(request: Request) -> str:
    """The CSRF token of this browser (a new one when it has none yet)."""
    token = request.cookies.get(CSRF_COOKIE) or getattr(request.state, "csrf", None)
    if not isinstance(token, str):
        token = secrets.token_urlsafe(32)
        request.state.csrf = token
    return token


async def posted_form(request: Request) -> dict[str, str]:
    """The fields of a POSTed form, once its CSRF token matches the cookie's."""
    form = await request.form()
    sent, expected = form.get(CSRF_FIELD), request.cookies.get(CSRF_COOKIE)
    if not isinstance(sent, str) or not expected or not secrets.compare_digest(sent, expected):
        raise HTTPException(403, "The form is out of date or was not sent by this site: "
                                 "reload the page and try again.")
    return {k: v for k, v in form.items() if isinstance(v, str) and k != CSRF_FIELD}


FormDep = Annotated[dict[str, str], Depends(posted_form)]
CSRF = [Depends(posted_form)]  # `dependencies=` of POST routes that read no field


def _secure(request: Request) -> bool:
    return request.url.scheme == "https"


def render(request: Request, actor: Actor | None, template: str, nav: Nav, current: str,
           status: int = 200, **context: Any) -> Response:
    """A page: the template with the navigation, the CSRF token and the pending message."""
    csrf = csrf_token(request)
    flash = request.cookies.get(FLASH_COOKIE, "")
    kind, _, text = flash.partition(":")
    response = templates.TemplateResponse(request, template, {
        "actor": actor, "nav": nav, "current": current, "csrf": csrf,
        "csrf_field": CSRF_FIELD, "flash": (kind, unquote(text)) if text else None,
        **context}, status_code=status)
    if request.cookies.get(CSRF_COOKIE) != csrf:
        response.set_cookie(CSRF_COOKIE, csrf, httponly=True, samesite="lax",
                            secure=_secure(request), path="/")
    if flash:
        response.delete_cookie(FLASH_COOKIE, path="/")
    return response


def redirect(url: str, message: str = "", kind: str = "notice") -> Response:
    """303 to `url` (POST-redirect-GET), with a message the next page shows once."""
    response = RedirectResponse(url, status_code=303)
    if message:
        response.set_cookie(FLASH_COOKIE, f"{kind}:{quote(message)}", httponly=True,
                            samesite="lax", path="/")
    return response


def to_sign_in(request: Request) -> Response:
    """The sign-in page, coming back here afterwards."""
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/ui/sign-in?next={quote(here)}", status_code=303)


def safe_next(value: str | None) -> str:
    """Where to go after signing in: a page of the UI only."""
    if value and value.startswith("/ui") and not value.startswith("//"):
        return value
    return "/ui"


def sign_in(url: str, token: str, request: Request) -> Response:
    """Keep the token in the HttpOnly sign-in cookie and go to `url`."""
    response = redirect(url)
    response.set_cookie(TOKEN_COOKIE, token, httponly=True, samesite="lax",
                        secure=_secure(request), path="/")
    return response


def sign_out() -> Response:
    response = redirect("/ui/sign-in", "You are signed out.")
    response.delete_cookie(TOKEN_COOKIE, path="/")
    return response


def parse(value: str | None, kind: Callable[[str], Any]) -> Any:
    """`value` as `kind` (an enum, `uuid.UUID`, `int`...), or None when absent or invalid."""
    if value is None or value == "":
        return None
    if kind is bool:
        return {"true": True, "false": False}.get(value)
    try:
        return kind(value)
    except (ValueError, ArithmeticError):
        return None


def page_number(value: str | None) -> int:
    number = parse(value, int)
    return number if isinstance(number, int) and number > 0 else 1


def like(text: str) -> str:
    """A LIKE pattern matching `text` anywhere (its wildcards escaped with `\\`)."""
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def submitted(form: Mapping[str, str], names: Iterable[str],
              checkboxes: Iterable[str] = ()) -> dict[str, Any]:
    """The input of an operation from a form: filled fields; a checkbox is true or false."""
    data: dict[str, Any] = {n: form[n] for n in names if form.get(n, "") != ""}
    data.update({n: n in form for n in checkboxes})
    return data


def field_errors(error: ValidationError) -> dict[str, str]:
    """The first message of each invalid field (`""` for the input as a whole)."""
    found: dict[str, str] = {}
    for e in error.errors():
        found.setdefault(str(e["loc"][0]) if e["loc"] else "", str(e["msg"]))
    return found


def labels(session: Session, key: Any, label: Any, condition: sa.ColumnElement[bool],
           ids: Iterable[Any]) -> dict[str, str]:
    """The labels of the records with these keys that the condition (readable) allows."""
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    rows = session.execute(sa.select(key, label).where(key.in_(wanted), condition))
    return {str(k): str(v) for k, v in rows}


def options(session: Session, key: Any, label: Any,
            condition: sa.ColumnElement[bool]) -> list[tuple[str, str]]:
    """(key, label) of the records the condition (readable) allows, by label."""
    rows = session.execute(sa.select(key, label).where(condition).order_by(label, key)
                           .limit(OPTIONS_LIMIT))
    return [(str(k), str(v)) for k, v in rows]


def choices(kind: type[enum.Enum]) -> list[tuple[str, str]]:
    return [(str(m.value), str(m.value).replace("_", " ")) for m in kind]


def value(item: Any) -> str:
    """A value as a form field holds it."""
    if item is None:
        return ""
    if isinstance(item, enum.Enum):
        return str(item.value)
    if isinstance(item, datetime.datetime):
        return item.strftime("%Y-%m-%dT%H:%M")
    if isinstance(item, decimal.Decimal):
        return format(item.normalize(), "f")
    return str(item)


def show(item: Any, names: Mapping[str, str] | None = None) -> str:
    """A value as a page shows it (a `ref` by its record's label)."""
    if item is None:
        return "—"
    if isinstance(item, bool):
        return "yes" if item else "no"
    if names is not None:
        return names.get(str(item), str(item))
    return value(item).replace("T", " ") if isinstance(item, datetime.datetime) else value(item)


def page_url(request: Request, number: int) -> str:
    """This page of a list with another page number."""
    url = request.url.include_query_params(page=number)
    return f"{url.path}?{url.query}"


def cells(row: Any, names: Sequence[str], fields: Mapping[str, tuple[str, str]],
          labels: Mapping[str, Mapping[str, str]]) -> list[str]:
    """The shown values of these fields of a record (`fields`: name -> (label, attribute))."""
    return [show(getattr(row, fields[n][1]), labels.get(n)) for n in names]


def lines(row: Any, names: Sequence[str], fields: Mapping[str, tuple[str, str]],
          labels: Mapping[str, Mapping[str, str]]) -> list[tuple[str, str]]:
    """(label, shown value) of these fields of a record."""
    return list(zip([fields[n][0] for n in names], cells(row, names, fields, labels),
                    strict=True))


def board(groups: Sequence[tuple[str, str]], cards: Iterable[tuple[str, dict[str, Any]]],
          movable: bool) -> list[dict[str, Any]]:
    """The columns of a board: each group's cards; a card may move to the other groups."""
    columns: dict[str, dict[str, Any]] = {v: {"label": label, "cards": []} for v, label in groups}
    for value, card in cards:
        column = columns.setdefault(value, {"label": show(value or None), "cards": []})
        card["moves"] = [g for g in groups if g[0] != value] if movable else []
        column["cards"].append(card)
    return list(columns.values())
'''


BASE_HTML = '''<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{% block title %}{{ title }}{% endblock %} · {app_title}</title>
<link rel="stylesheet" href="/ui/static/ui.css">
</head>
<body>
<a class="skip" href="#main">Skip to content</a>
<header class="top">
  <p class="brand"><a href="/ui">{app_title}</a></p>
  {% if actor %}
  <nav aria-label="Main">
    <ul>
    {% for label, url in nav %}
      <li><a href="{{ url }}"{% if url == current %} aria-current="page"{% endif %}>
        {{- label }}</a></li>
    {% endfor %}
    </ul>
  </nav>
  <form method="post" action="/ui/sign-out" class="signout">
    <input type="hidden" name="{{ csrf_field }}" value="{{ csrf }}">
    <span class="who">
      {{- actor.user_fields.get("name") or actor.user_fields.get("email") or "" }}
      ({{ actor.role }})</span>
    <button type="submit">Sign out</button>
  </form>
  {% endif %}
</header>
<main id="main" tabindex="-1">
{% if flash %}
  {% set role = "alert" if flash[0] == "error" else "status" %}
  <p class="flash {{ flash[0] }}" role="{{ role }}">{{ flash[1] }}</p>
{% endif %}
{% block content %}{% endblock %}
</main>
</body>
</html>
'''


BOARD_HTML = '''{% extends "base.html" %}
{% block content %}
<h1>{{ title }}</h1>
<div class="board">
{% for column in columns %}
  <section class="column" aria-labelledby="col-{{ loop.index }}">
    <h2 id="col-{{ loop.index }}">{{ column.label }}
      <span class="count">({{ column.cards|length }})</span></h2>
    {% for card in column.cards %}
    <article class="card" id="card-{{ card.id }}">
      <h3><a href="{{ card.url }}">{{ card.title }}</a></h3>
      <dl>
        {% for label, shown in card.lines %}<dt>{{ label }}</dt><dd>{{ shown }}</dd>{% endfor %}
      </dl>
      {% if card.moves %}
      <form method="post" action="{{ move_url }}" class="move">
        <input type="hidden" name="{{ csrf_field }}" value="{{ csrf }}">
        <input type="hidden" name="id" value="{{ card.id }}">
        <label for="move-{{ card.id }}">Move to</label>
        <select id="move-{{ card.id }}" name="to">
          {% for value, label in card.moves %}
          <option value="{{ value }}">{{ label }}</option>
          {% endfor %}
        </select>
        <button type="submit">Move</button>
      </form>
      {% endif %}
    </article>
    {% endfor %}
  </section>
{% endfor %}
</div>
{% endblock %}
'''


DETAIL_HTML = '''{% extends "base.html" %}
{% block content %}
<h1>{{ title }}</h1>
<dl class="record">
{% for label, shown in lines %}
  <dt>{{ label }}</dt><dd>{{ shown }}</dd>
{% endfor %}
</dl>
{% if edit_url or buttons %}
<h2>Actions</h2>
<div class="actions">
  {% if edit_url %}<a class="button" href="{{ edit_url }}">Edit</a>{% endif %}
  {% for label, url in buttons %}
  <form method="post" action="{{ url }}">
    <input type="hidden" name="{{ csrf_field }}" value="{{ csrf }}">
    <button type="submit">{{ label }}</button>
  </form>
  {% endfor %}
</div>
{% endif %}
{% endblock %}
'''


FORM_HTML = '''{% extends "base.html" %}
{% block content %}
<h1>{{ title }}</h1>
{% if errors %}
<div class="summary" role="alert" aria-labelledby="summary-title">
  <h2 id="summary-title">The form has {{ errors|length }}
    {{- " problem" if errors|length == 1 else " problems" }}</h2>
  <ul>
  {% for name, message in errors.items() %}
    <li>{% if name in names %}<a href="#f-{{ name }}">{{ names[name] }}: {{ message }}</a>
      {%- else %}{{ message }}{% endif %}</li>
  {% endfor %}
  </ul>
</div>
{% endif %}
<form method="post" action="{{ action }}" class="card" novalidate>
  <input type="hidden" name="{{ csrf_field }}" value="{{ csrf }}">
  {% for f in fields %}
  {% set error = errors.get(f.name) %}
  {% set described = (("f-" ~ f.name ~ "-hint ") if f.hint else "")
                      ~ (("f-" ~ f.name ~ "-error") if error else "") %}
  <div class="field{% if error %} invalid{% endif %}">
    {% if f.widget == "checkbox" %}
    <input id="f-{{ f.name }}" name="{{ f.name }}" type="checkbox" value="true"
      {%- if values.get(f.name) == "True" %} checked{% endif %}
      {%- if described %} aria-describedby="{{ described|trim }}"{% endif %}>
    <label for="f-{{ f.name }}">{{ f.label }}</label>
    {% else %}
    <label for="f-{{ f.name }}">{{ f.label }}
      {%- if f.required %} <span aria-hidden="true">*</span>{% endif %}</label>
    {% set attrs %}id="f-{{ f.name }}" name="{{ f.name }}"
      {%- if f.required %} aria-required="true"{% endif %}
      {%- if error %} aria-invalid="true"{% endif %}
      {%- if described %} aria-describedby="{{ described|trim }}"{% endif %}{% endset %}
    {% if f.widget == "select" %}
    <select {{ attrs }}>
      <option value="">—</option>
      {% for value, label in options.get(f.name, []) %}
      <option value="{{ value }}"{% if value == values.get(f.name) %} selected{% endif %}>
        {{- label }}</option>
      {% endfor %}
    </select>
    {% elif f.widget == "textarea" %}
    <textarea {{ attrs }} rows="4">{{ values.get(f.name, "") }}</textarea>
    {% else %}
    <input {{ attrs }} type="{{ f.widget }}"{% if f.widget == "number" %} step="any"{% endif %}
      value="{{ values.get(f.name, "") }}">
    {% endif %}
    {% endif %}
    {% if f.hint %}<p id="f-{{ f.name }}-hint" class="hint">{{ f.hint }}</p>{% endif %}
    {% if error %}<p id="f-{{ f.name }}-error" class="error">{{ error }}</p>{% endif %}
  </div>
  {% endfor %}
  <button type="submit">Save</button>
  <a href="{{ back }}">Cancel</a>
</form>
{% endblock %}
'''


LIST_HTML = '''{% extends "base.html" %}
{% block content %}
<h1>{{ title }}</h1>
{% if new_url %}<p><a class="button" href="{{ new_url }}">{{ new_label }}</a></p>{% endif %}
{% if filters or search %}
<form method="get" action="{{ current }}" role="search" class="filters">
  {% for f in filters %}
  <div class="field">
    <label for="filter-{{ f.name }}">{{ f.label }}</label>
    {% if f.options is not none %}
    <select id="filter-{{ f.name }}" name="{{ f.name }}">
      <option value="">Any</option>
      {% for value, label in f.options %}
      <option value="{{ value }}"{% if value == f.value %} selected{% endif %}>{{ label }}</option>
      {% endfor %}
    </select>
    {% else %}
    <input id="filter-{{ f.name }}" name="{{ f.name }}" type="text" value="{{ f.value }}">
    {% endif %}
  </div>
  {% endfor %}
  {% if search %}
  <div class="field">
    <label for="filter-q">Search {{ search }}</label>
    <input id="filter-q" name="q" type="search" value="{{ q }}">
  </div>
  {% endif %}
  <button type="submit">Apply</button>
</form>
{% endif %}
<p class="count" role="status">{{ total }} {{ "record" if total == 1 else "records" }}</p>
{% if rows %}
<table>
  <thead><tr>{% for label in headings %}<th scope="col">{{ label }}</th>{% endfor %}</tr></thead>
  <tbody>
  {% for row in rows %}
    <tr>
    {% for cell in row.cells %}
      {% if loop.first %}<td><a href="{{ row.url }}">{{ cell }}</a></td>
      {% else %}<td>{{ cell }}</td>{% endif %}
    {% endfor %}
    </tr>
  {% endfor %}
  </tbody>
</table>
{% else %}
<p>Nothing to show.</p>
{% endif %}
{% if pages > 1 %}
<nav aria-label="Pages" class="pages">
  {% if prev_url %}<a href="{{ prev_url }}" rel="prev">Previous page</a>{% endif %}
  <span>Page {{ page }} of {{ pages }}</span>
  {% if next_url %}<a href="{{ next_url }}" rel="next">Next page</a>{% endif %}
</nav>
{% endif %}
{% endblock %}
'''


MESSAGE_HTML = '''{% extends "base.html" %}
{% block content %}
<h1>{{ title }}</h1>
<p>{{ message }}</p>
<p><a href="{{ back }}">Back</a></p>
{% endblock %}
'''


SIGN_IN_HTML = '''{% extends "base.html" %}
{% block content %}
<h1>Sign in</h1>
<form method="post" action="/ui/sign-in" class="card" novalidate>
  <input type="hidden" name="{{ csrf_field }}" value="{{ csrf }}">
  <input type="hidden" name="next" value="{{ next }}">
  <div class="field{% if error %} invalid{% endif %}">
    <label for="f-token">API token</label>
    <input id="f-token" name="token" type="password" autocomplete="current-password"
           aria-required="true"
           aria-describedby="f-token-hint{% if error %} f-token-error{% endif %}"
           {%- if error %} aria-invalid="true"{% endif %}>
    <p id="f-token-hint" class="hint">A token from
      <code>python -m {app}.dev create-token</code>.</p>
    {% if error %}<p id="f-token-error" class="error">{{ error }}</p>{% endif %}
  </div>
  <button type="submit">Sign in</button>
</form>
{% endblock %}
'''


UI_CSS = ''':root {
  --ink: #1b1f24;
  --muted: #57606a;
  --line: #d0d7de;
  --accent: #0a58ca;
  --bad: #b42318;
  --ok: #1a7f37;
}
* { box-sizing: border-box; }
body { margin: 0; font: 16px/1.5 system-ui, sans-serif; color: var(--ink); background: #f6f8fa; }
a { color: var(--accent); }
.skip { position: absolute; left: -999px; }
.skip:focus { left: 1rem; top: 1rem; background: #fff; padding: .5rem; z-index: 1; }
.top {
  display: flex;
  flex-wrap: wrap;
  align-items: center;
  gap: 1rem;
  padding: .5rem 1.5rem;
  background: #fff;
  border-bottom: 1px solid var(--line);
}
.brand { font-weight: 700; margin: 0; }
.top nav ul { display: flex; gap: 1rem; list-style: none; margin: 0; padding: 0; }
.top nav a[aria-current="page"] { font-weight: 700; text-decoration-thickness: 3px; }
.signout { margin-left: auto; display: flex; gap: .5rem; align-items: center; }
.who { color: var(--muted); }
main { padding: 1rem 1.5rem; max-width: 80rem; }
main:focus { outline: none; }
:focus-visible { outline: 3px solid var(--accent); outline-offset: 2px; }
button, .button {
  font: inherit;
  padding: .35rem .9rem;
  border: 1px solid var(--accent);
  border-radius: 6px;
  background: var(--accent);
  color: #fff;
  cursor: pointer;
  text-decoration: none;
  display: inline-block;
}
.card { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 1rem; }
form.card { max-width: 36rem; }
.field { margin-bottom: .9rem; display: flex; flex-direction: column; gap: .25rem; }
.field input, .field select, .field textarea {
  font: inherit;
  padding: .35rem .5rem;
  border: 1px solid var(--line);
  border-radius: 6px;
}
.invalid input, .invalid select, .invalid textarea { border-color: var(--bad); }
.hint { margin: 0; color: var(--muted); font-size: .9em; }
.error { margin: 0; color: var(--bad); font-weight: 600; }
.summary {
  border: 2px solid var(--bad);
  border-radius: 8px;
  padding: .5rem 1rem;
  background: #fff;
  margin-bottom: 1rem;
}
.summary h2 { font-size: 1.1rem; margin: .25rem 0; }
.flash { padding: .5rem 1rem; border-radius: 6px; background: #fff; border: 2px solid var(--ok); }
.flash.error { border-color: var(--bad); color: var(--bad); }
.filters { display: flex; flex-wrap: wrap; gap: 1rem; align-items: flex-end; margin-bottom: 1rem; }
.filters .field { margin: 0; }
table { border-collapse: collapse; background: #fff; width: 100%; }
th, td { text-align: left; padding: .4rem .6rem; border-bottom: 1px solid var(--line); }
.pages { display: flex; gap: 1rem; margin-top: 1rem; }
.board { display: flex; gap: 1rem; align-items: flex-start; overflow-x: auto; }
.column { flex: 0 0 16rem; background: #eaeef2; border-radius: 8px; padding: .5rem; }
.column h2 { font-size: 1rem; margin: .25rem .25rem .5rem; }
.column .card { margin-bottom: .5rem; padding: .6rem; }
.column h3 { font-size: 1rem; margin: 0 0 .25rem; }
.card dl, .record {
  display: grid;
  grid-template-columns: max-content 1fr;
  gap: .15rem .75rem;
  margin: 0 0 .5rem;
}
dt { color: var(--muted); }
dd { margin: 0; }
.move { display: flex; flex-wrap: wrap; gap: .35rem; align-items: center; }
.actions { display: flex; flex-wrap: wrap; gap: .5rem; }
'''


ROUTES_COMMON = r'''

@router.get("/ui/static/ui.css")
def style_sheet() -> FileResponse:
    return FileResponse(web.HERE / "static" / "ui.css", media_type="text/css")


@router.get("/ui")
def home(actor: ActorDep) -> Response:
    return web.redirect(NAV[0][1] if actor is not None and NAV else "/ui/sign-in")


@router.get("/ui/sign-in")
def sign_in_page(request: Request, actor: ActorDep) -> Response:
    """The sign-in page: an API token, kept in an HttpOnly cookie."""
    return web.render(request, actor, "sign_in.html", NAV, "/ui/sign-in", title="Sign in",
                      next=web.safe_next(request.query_params.get("next")), error="")


@router.post("/ui/sign-in")
def sign_in(request: Request, form: FormDep, session: SessionDep) -> Response:
    token = form.get("token", "").strip()
    actor = actor_for_token(session, token) if token else None
    target = web.safe_next(form.get("next"))
    if actor is None:
        return web.render(request, None, "sign_in.html", NAV, "/ui/sign-in", status=401,
                          title="Sign in", next=target,
                          error="This token is not valid, or it was revoked.")
    return web.sign_in(target, token, request)


@router.post("/ui/sign-out", dependencies=web.CSRF)
def sign_out() -> Response:
    return web.sign_out()


def _not_found(request: Request, actor: Actor) -> Response:
    return web.render(request, actor, "message.html", NAV, "", status=404, title="Not found",
                      message="There is no such record, or you may not see it.", back="/ui")'''


TEMPLATES = {
    "base.html": BASE_HTML,
    "board.html": BOARD_HTML,
    "detail.html": DETAIL_HTML,
    "form.html": FORM_HTML,
    "list.html": LIST_HTML,
    "message.html": MESSAGE_HTML,
    "sign_in.html": SIGN_IN_HTML,
}
