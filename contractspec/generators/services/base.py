"""What a standard module's service provider sees and gives.

A std module's operations are served by the `api` target when they are plain CRUD (the same
code as a workspace's own CRUD) or when a *service provider* implements them: generated code
in `<app>/services/<module>.py` with one function per operation version,
`<function>(ctx, data)`, the signature of a user handler. The routes check the operation's
policy first, then call the function; the function sees the `Context` (session, actor, `get`,
`select`, `emit`) and the operation's validated input model. An operation whose policy is
`not authenticated` is served without a token: its function gets the session, not a context.

A provider is pure like a generator: `files(service_input)` returns `{path: text}` under the
application package (`services/<module>.py` at least). A `services/<module>_routes.py` among
them is a router `main.py` includes; `paths(service_input)` documents its routes in
`openapi.json`. Providers subclass the protocol, for that default. A std operation neither
CRUD nor implemented is not served.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

from contractspec.check.symbols import SymbolTable
from contractspec.generators.base import GeneratorError
from contractspec.generators.db.schema import Schema
from contractspec.ir import nodes as ir

if TYPE_CHECKING:  # the `api` target imports the providers: no import cycle
    from contractspec.generators.api.access import AccessModel, EntityAccess
    from contractspec.generators.api.model import Api, Operation


@dataclass(frozen=True)
class ServiceInput:
    """The decisions of the `api` target a provider builds on."""

    app: str
    top: str  # the generated-file header
    program: ir.Program
    api: Api
    schema: Schema
    access: AccessModel
    symbols: SymbolTable

    def operation(self, module: str, name: str, version: str = "v1") -> Operation:
        """The served operation `name version` of `module` (its function, input model, output)."""
        for op in self.api.operations:
            if op.module == module and op.decl.name == name and op.version == version:
                return op
        raise GeneratorError(f"the operation `{module}.{name} {version}` is not served")

    def orm(self, module: str, entity: str) -> str:
        """The ORM class name (in `<app>.db.models`) of an entity."""
        for table in self.schema.tables:
            if table.module == module and table.entity.name == entity:
                return table.class_name
        raise GeneratorError(f"no table for the entity `{module}.{entity}`")

    def enum(self, module: str, name: str) -> str:
        """The Python enum class name (in `<app>.enums`) of an enum."""
        for enum in self.schema.enums:
            if enum.module == module and enum.decl.name == name:
                return enum.class_name
        raise GeneratorError(f"no enum `{module}.{name}`")

    def entity_access(self, module: str, entity: str) -> EntityAccess:
        """The entity's guards: its table, rules and tenant column."""
        sym = self.symbols.lookup(module, entity, "type", frozenset({"entity"})).symbol
        found = self.access.of(sym) if sym is not None else None
        if found is None:
            raise GeneratorError(f"no entity `{module}.{entity}`")
        return found


class ServiceProvider(Protocol):
    """Generated implementations of one standard module's operations."""

    module: ClassVar[str]  # the std module, e.g. `identity`
    operations: ClassVar[frozenset[tuple[str, str]]]  # (operation name, version label)

    def files(self, given: ServiceInput) -> dict[str, str]:
        """`{path under the app package: text}`, `services/<module>.py` among them."""
        ...

    def paths(self, given: ServiceInput) -> dict[str, Any]:
        """The OpenAPI path items of the routes its `services/<module>_routes.py` serves
        besides the operations' (none by default)."""
        return {}
