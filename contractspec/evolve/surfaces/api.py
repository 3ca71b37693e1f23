"""The API surface: operation versions (input, output, errors, HTTP route), enums and types."""

from __future__ import annotations

from collections.abc import Callable

from contractspec.evolve.differ import (
    Differ,
    renamed_from,
    same,
    section,
    strings,
    text_of,
    versioned,
)
from contractspec.evolve.fields import Block, Role, compare_blocks, shapes
from contractspec.evolve.lock import LOCK_NAME, UNVERSIONED, Json
from contractspec.ir import nodes as ir
from contractspec.source import Span


def label(name: str, version: str) -> str:
    """`createDeal v1`, or the bare name of an unversioned declaration."""
    return name if version == UNVERSIONED else f"{name} {version}"


def operation_decls(differ: Differ, module: str) -> dict[tuple[str, str], ir.OperationDecl]:
    found = differ.module(module)
    return {(op.name, op.version or UNVERSIONED): op
            for op in (found.operations if found else ())}


def operations(differ: Differ, module: str, old: Json, new: Json) -> None:
    decls = operation_decls(differ, module)
    before, after = versioned(old, "operations"), versioned(new, "operations")
    routes = section(old, "http"), section(new, "http")
    for key, item in before.items():
        if key in after:
            _operation(differ, module, key, (item, after[key]), decls.get(key), routes)
        else:
            subject = f"operation `{label(*key)}`"
            differ.add("CX101", module, subject, f"{subject} was removed: clients calling it "
                       "get 404", differ.module_span(module), released=("operations", *key))
    for key in after.keys() - before.keys():
        decl = decls.get(key)
        differ.add("CX102", module, f"operation `{label(*key)}`",
                   f"operation `{label(*key)}` was added",
                   decl.name_span if decl else None)


def _operation(differ: Differ, module: str, key: tuple[str, str], items: tuple[Json, Json],
               decl: ir.OperationDecl | None, routes: tuple[Json, Json]) -> None:
    item, now = items
    subject = f"operation `{label(*key)}`"
    released = ("operations", *key)
    span = decl.name_span if decl is not None else None

    def add(code: str, message: str) -> None:
        differ.add(code, module, subject, f"{subject} {message}", span, released=released)

    route, route_now = (found.get(label(*key)) for found in routes)
    if route and route_now and route != route_now:
        add("CX115", f"moved from `{route.get('method')} {route.get('path')}` to "
            f"`{route_now.get('method')} {route_now.get('path')}`")
    if same(item, now):
        return
    if text_of(item, "kind") != text_of(now, "kind"):
        add("CX120", f"changed from a {text_of(item, 'kind')} to a {text_of(now, 'kind')}")
    compare_blocks(Block(differ, module, subject, Role.INPUT, span,
                         {f.name: f for f in decl.input} if decl else {}, released=released),
                   shapes(item, "input"), shapes(now, "input"))
    output, output_now = item.get("output"), now.get("output")
    if output is not None and output != output_now:
        add("CX111", f"returned `{output}` and now returns "
            f"{f'`{output_now}`' if output_now is not None else 'nothing'}")
    _errors(item, now, add)


_NOWHERE = Span(file=LOCK_NAME, start_line=1, start_col=1, end_line=1, end_col=1,
                start_offset=0, end_offset=0)


def _status(name: str, status: object) -> object:
    """An error's HTTP status: as written, else what the API generator derives from its
    name (`…NotFound` is 404)."""
    from contractspec.generators.api.model import error_status  # imports the checks: a cycle

    if status is not None:
        return status
    return error_status(ir.ErrorDecl(name=name, span=_NOWHERE, name_span=_NOWHERE))


def _errors(item: Json, now: Json, add: Callable[[str, str], None]) -> None:
    before, after = section(item, "errors"), section(now, "errors")
    for name, spec in sorted(before.items()):
        if name not in after:
            add("CX116", f"no longer declares the error `{name}`")
        elif _status(name, spec.get("status")) != _status(name, after[name].get("status")):
            add("CX117", f"answers the error `{name}` with status "
                f"{_status(name, after[name].get('status'))} instead of "
                f"{_status(name, spec.get('status'))}")
    for name in sorted(after.keys() - before.keys()):
        add("CX118", f"declares the new error `{name}`")


def enums(differ: Differ, module: str, old: Json, new: Json) -> None:
    found = differ.module(module)
    decls = {e.name: e for e in (found.enums if found else ())}
    for name, item in section(old, "enums").items():
        now, decl = section(new, "enums").get(name), decls.get(name)
        if now is None or decl is None:
            continue
        before, after = strings(item.get("values")), strings(now.get("values"))
        values = {v.name: v for v in decl.values}
        renames = {former: value for value, v in values.items()
                   if (former := renamed_from(v.attributes)) is not None
                   and former in before and former not in after and value not in before}
        subject = f"enum `{name}`"
        for value in before:
            if value in after:
                continue
            if value in renames:
                now_value = values[renames[value]]
                differ.add("CX124", module, f"value `{now_value.name}` of {subject}",
                           f"value `{value}` of {subject} was renamed to `{now_value.name}`",
                           now_value.name_span)
            else:
                differ.add("CX113", module, f"value `{value}` of {subject}",
                           f"value `{value}` of {subject} was removed: clients sending it are "
                           "rejected and rows holding it no longer load", decl.name_span)
        for value in after:
            if value not in before and value not in renames.values():
                differ.add("CX114", module, f"value `{value}` of {subject}",
                           f"value `{value}` was added to {subject}", values[value].name_span)


def types(differ: Differ, module: str, old: Json, new: Json) -> None:
    found = differ.module(module)
    decls = {t.name: t for t in (found.types if found else ())}
    for name, item in section(old, "types").items():
        now, decl = section(new, "types").get(name), decls.get(name)
        if now is None or decl is None or same(item, now):
            continue
        compare_blocks(Block(differ, module, f"type `{name}`", Role.TYPE, decl.name_span,
                             {f.name: f for f in decl.fields}), shapes(item, "fields"),
                       shapes(now, "fields"))

