"""The `api` target: a FastAPI application and its OpenAPI document.

- `<app>/api/schemas.py`: pydantic v2 request and response models;
- `<app>/api/errors.py`: the error catalog as exceptions;
- `<app>/api/routes.py`: one route per operation version, CRUD implemented, handlers called;
- `<app>/main.py`: the application, with the one error body for every error;
- `openapi.json`: the OpenAPI 3.1 document, written from the spec (not by importing the app).
Decisions: `model.py`; the Python sources: `pysource.py`; the document: `openapi.py`.
"""

from __future__ import annotations

from typing import Any, ClassVar

from contractspec.check.symbols import SymbolTable
from contractspec.generators import jsontext
from contractspec.generators.api import static
from contractspec.generators.api.access import AccessModel
from contractspec.generators.api.emission import emission, event_index
from contractspec.generators.api.model import Api, build_api, unserved
from contractspec.generators.api.openapi import openapi_document
from contractspec.generators.api.policysource import policies_module
from contractspec.generators.api.pysource import errors_module, main_module, schemas_module
from contractspec.generators.api.routesource import RoutesWriter
from contractspec.generators.api.workflows import Flow, build_flows
from contractspec.generators.base import (
    Files,
    GeneratorError,
    GeneratorOptions,
    header,
    user_files,
)
from contractspec.generators.db.naming import py_str
from contractspec.generators.db.schema import Schema, build_schema
from contractspec.generators.events.shapes import Catalog, EventVersion, build_catalog
from contractspec.generators.pyoutput import encode_sources
from contractspec.generators.runtime import (
    IDENTITY,
    IDENTITY_NEEDS,
    OUTBOX_ENTITY,
    TOKEN_ENTITY,
    has_identity,
    with_runtime,
)
from contractspec.generators.services import PROVIDERS, ServiceInput, ServiceProvider
from contractspec.ir import nodes as ir

API_VERSION = "0.1.0"  # the application's version in the OpenAPI document


class ApiGenerator:
    name: ClassVar[str] = "api"
    description: ClassVar[str] = ("FastAPI application with bearer-token auth, policies, "
                                  "tenancy, outbox, audit and workflows; openapi.json")
    options_model: ClassVar[type[GeneratorOptions]] = GeneratorOptions

    def generate(self, program: ir.Program, options: GeneratorOptions) -> Files:
        app = options.app
        top = header("api", user_files(program))
        program = with_runtime(program)
        symbols = SymbolTable(program)
        access: AccessModel | None = None
        flows: list[Flow] = []
        schema = build_schema(program)
        if program.module(IDENTITY) is not None and not has_identity(program):
            raise GeneratorError(
                f"the module `{IDENTITY}` lacks {', '.join(IDENTITY_NEEDS)}: a workspace module "
                "of that name hides the standard library's, which authentication needs; "
                "rename the module")
        if has_identity(program):
            access = AccessModel(program, schema, symbols)
            flows = build_flows(program, access, symbols)
        providers = [p for p in PROVIDERS if program.module(p.module) is not None] \
            if access is not None else []
        catalog = build_catalog(program) if access is not None else None
        api = _api(program, flows, access, {p.module: p.operations for p in providers}, catalog)
        texts = {
            f"{app}/api/__init__.py": top + '"""The HTTP API of the application."""\n',
            f"{app}/api/schemas.py": schemas_module(api, app, top),
            f"{app}/api/errors.py": errors_module(api, top),
        }
        extra_paths: dict[str, Any] = {}
        if access is not None and catalog is not None:
            texts.update(_secured(api, access, flows, schema, app, top, catalog))
            given = ServiceInput(app, top, program, api, schema, access, symbols)
            texts.update(_services(providers, given))
            for provider in providers:
                extra_paths.update(provider.paths(given))
        else:
            texts[f"{app}/api/deps.py"] = top + _fill(static.DEPS_OPEN, app)
        routers = tuple(sorted(path.rsplit("/", 1)[1].removesuffix(".py") for path in texts
                               if path.startswith(f"{app}/services/")
                               and path.endswith("_routes.py")))
        texts[f"{app}/main.py"] = main_module(
            app, app, API_VERSION, top, jobs=program.module("jobs") is not None,
            ui=access is not None and any(m.views for m in program.modules if not m.std),
            agents=access is not None and any(m.agents for m in program.modules),
            routers=routers)
        texts[f"{app}/api/routes.py"] = RoutesWriter(api, access, app, top).module()
        document = openapi_document(api, app, API_VERSION, extra_paths)
        texts["openapi.json"] = jsontext.dumps(document)
        return encode_sources(texts)


def _api(program: ir.Program, flows: list[Flow], access: AccessModel | None,
         services: dict[str, frozenset[tuple[str, str]]], catalog: Catalog | None) -> Api:
    """The served API: built once more without the standard operations found unserved (so
    that their models are left out too)."""
    skip: frozenset[tuple[str, str, str]] = frozenset()
    while True:
        api = build_api(program, flows, auth=access is not None, services=services, skip=skip)
        if access is not None and catalog is not None:
            _emissions(api, catalog, access, access.symbols)
        more = unserved(api, program)
        if not more:
            return api
        skip |= more


def _services(providers: list[ServiceProvider], given: ServiceInput) -> dict[str, str]:
    """The generated implementations of the std modules' operations, under `<app>/services/`."""
    if not providers:
        return {}
    app = given.app
    texts = {f"{app}/services/__init__.py": given.top + '"""Generated implementations of the '
             'standard modules\' operations."""\n'}
    for provider in providers:
        for path, text in provider.files(given).items():
            texts[f"{app}/{path}"] = text
    return texts


def _fill(template: str, app: str, **names: str) -> str:
    text = template.replace("{app}", app)
    for key, value in names.items():
        text = text.replace("{" + key + "}", value)
    return text


def _emissions(api: Api, catalog: Catalog, access: AccessModel,
               symbols: SymbolTable) -> None:
    """The events CRUD routes and transitions emit themselves; a CRUD operation whose event
    payload cannot be built from the record is left to a handler."""
    events = event_index(catalog)
    for op in api.operations:
        if op.crud in (None, "get", "list") or op.entity is None:
            continue
        entity = access.of(op.entity)
        refs = [op.transition[1].decl.emits] if op.transition is not None and \
            op.transition[1].decl.emits is not None else list(op.decl.emits)
        for ref in refs:
            sym = symbols.event(op.module, ref).symbol
            event = events.get((sym.module, id(sym.decl))) if sym is not None else None
            found = emission(event, entity, access, symbols) \
                if event is not None and entity is not None else None
            if found is None and op.transition is not None:
                raise GeneratorError(
                    f"transition `{op.decl.name}` emits `{ref.name}`, whose payload cannot be "
                    "built from the record: name its fields like the entity's fields")
            if found is None:
                op.crud, op.emissions = None, []
                break
            op.emissions.append(found)


def _secured(api: Api, access: AccessModel, flows: list[Flow], schema: Schema, app: str, top: str,
             catalog: Catalog) -> dict[str, str]:
    classes = {(t.module, t.entity.name): t.class_name for t in schema.tables}
    enums = {(e.module, e.decl.name): e.class_name for e in schema.enums}
    names = {
        "User": classes[("identity", "User")], "Org": classes[("identity", "Org")],
        "Membership": classes[("identity", "OrgMembership")],
        "Role": enums[("identity", "OrgRole")],
        "Token": classes[("runtime", TOKEN_ENTITY)],
        "Outbox": classes[("runtime", OUTBOX_ENTITY)],
    }
    symbols = access.symbols
    audit_class = classes.get(("audit", "AuditEntry"))
    if audit_class is not None:
        audited = [_audited(e, symbols) for e in catalog.events if e.decl.audit]
        audit = _fill(static.AUDIT_ON, app, Audit=audit_class,
                      ActorKind=enums[("audit", "ActorKind")],
                      audited="{\n" + "\n".join(audited) + "\n}" if audited else "{}")
        audit = audit.replace("frozenset({})", "frozenset()")
    else:
        audit = _fill(static.AUDIT_OFF, app)
    return {
        f"{app}/auth.py": top + _fill(static.AUTH, app, **names),
        f"{app}/api/deps.py": top + _fill(static.DEPS, app),
        f"{app}/api/context.py": top + _fill(static.CONTEXT, app),
        f"{app}/events/outbox.py": top + _fill(static.OUTBOX, app, **names),
        f"{app}/audit.py": top + audit,
        f"{app}/dev.py": top + _fill(static.DEV, app, **names),
        f"{app}/policies.py": policies_module(api, access, flows, top, app),
    }


def _audited(event: EventVersion, symbols: SymbolTable) -> str:
    """An entry of `AUDITED` (audit.py): pii fields, the payload's first `ref` field and
    its entity."""
    pii = ", ".join(py_str(f.name) for f in event.decl.payload if f.attribute("pii"))
    target = next(((f.name, sym.name) for f in event.decl.payload if f.type.is_ref
                   and (sym := symbols.lookup(event.module, f.type.name, "type").symbol)
                   is not None), ("", ""))
    return (f"    ({py_str(event.type)}, {py_str(event.version)}): "
            f"(frozenset({{{pii}}}), {py_str(target[0])}, {py_str(target[1])}),")
