"""The tenancy model: which entities hold one tenant's data, and how they are scoped.

- A **tenant-scoped** entity has a field marked `@tenant` (`org: ref identity.Org @tenant`):
  every generated query of it is filtered by that field.
- A **tenant root** is the target of some `@tenant` field (`identity.Org`): it *is* the
  tenant, so it is neither scoped nor owned.
- A **global** entity carries `@@global`: it is deliberately shared by every tenant.
- A **tenant-owned** entity is none of these and has a `ref` field (optional and list
  included) to a tenant-scoped entity, to a tenant root, or to another tenant-owned entity:
  its records belong to one tenant, yet nothing scopes them.

Generators read this model to add tenant filters; the CS30x rules report its gaps.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from contractspec.check.symbols import Symbol, SymbolTable
from contractspec.ir import nodes as ir

TENANT = "tenant"
GLOBAL = "global"


@dataclass(frozen=True)
class Ownership:
    """Why an entity is tenant-owned: the `ref` field, its target, and the tenant root."""

    field: ir.FieldDecl
    target: Symbol
    root: Symbol | None


@dataclass
class Tenancy:
    """The tenancy of every entity of a program, keyed by qualified name (`crm.Deal`)."""

    entities: dict[str, Symbol] = field(default_factory=dict)
    scoped: dict[str, ir.FieldDecl] = field(default_factory=dict)  # entity -> its @tenant field
    roots: dict[str, Symbol] = field(default_factory=dict)
    global_: set[str] = field(default_factory=set)
    owned: dict[str, Ownership] = field(default_factory=dict)
    refs: dict[str, list[tuple[ir.FieldDecl, Symbol]]] = field(default_factory=dict)

    def root_of(self, key: str) -> Symbol | None:
        """The tenant an entity's records belong to, following nested `@tenant` fields."""
        seen: set[str] = set()
        while key not in seen:
            seen.add(key)
            if key in self.scoped:
                target = self.tenant_target(key)
                if target is None:
                    return None
                key = target.qualified
            elif key in self.roots:
                return self.roots[key]
            else:
                ownership = self.owned.get(key)
                return ownership.root if ownership else None
        return None

    def tenant_target(self, key: str) -> Symbol | None:
        tenant = self.scoped.get(key)
        return next((t for f, t in self.refs.get(key, []) if f is tenant), None)

    def tenant_data(self, key: str) -> bool:
        """Records of one tenant: tenant-scoped or tenant-owned."""
        return key in self.scoped or key in self.owned


def tenant_fields(entity: ir.EntityDecl) -> list[ir.FieldDecl]:
    return [f for f in entity.fields if f.attribute(TENANT) is not None]


def is_global(entity: ir.EntityDecl) -> bool:
    return any(c.name == GLOBAL for c in entity.constraints)


def build_tenancy(program: ir.Program, symbols: SymbolTable) -> Tenancy:
    model = Tenancy()
    for module in program.modules:
        for entity in module.entities:
            sym = Symbol("entity", entity.name, module.name, entity, entity.name_span)
            model.entities.setdefault(sym.qualified, sym)
    for key, sym in model.entities.items():
        model.refs[key] = list(_ref_targets(symbols, sym))
        tenant = tenant_fields(sym.decl)
        if tenant:
            model.scoped[key] = tenant[0]
        if is_global(sym.decl):
            model.global_.add(key)
    for key in model.scoped:
        target = model.tenant_target(key)
        if target is not None:
            model.roots.setdefault(target.qualified, target)
    candidates = [k for k in model.entities
                  if k not in model.scoped and k not in model.roots and k not in model.global_]
    changed = True
    while changed:
        changed = False
        for key in candidates:
            if key in model.owned:
                continue
            for ref_field, target in model.refs[key]:
                if target.qualified in model.roots or model.tenant_data(target.qualified):
                    model.owned[key] = Ownership(ref_field, target,
                                                 model.root_of(target.qualified))
                    changed = True
                    break
    return model


def _ref_targets(symbols: SymbolTable, sym: Symbol) -> Iterator[tuple[ir.FieldDecl, Symbol]]:
    for f in sym.decl.fields:
        if f.type.is_ref:
            target = symbols.lookup(sym.module, f.type.name, "type", frozenset({"entity"})).symbol
            if target is not None and target.kind == "entity":
                yield f, target


def output_entity(symbols: SymbolTable, module: str, output: ir.TypeRef | None) -> Symbol | None:
    """The entity an operation returns: `X`, `X?`, `X[]`, `page<X>` or `list<X>`."""
    while output is not None and output.name in ("page", "list") and not output.is_ref:
        output = output.generics[0] if len(output.generics) == 1 else None
    if output is None or output.is_ref:
        return None
    sym = symbols.lookup(module, output.name, "type", frozenset({"entity"})).symbol
    return sym if sym is not None and sym.kind == "entity" else None
