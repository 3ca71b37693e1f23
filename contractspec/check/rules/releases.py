"""Releases (CS601-CS603): the specs against the lock of the last release (`cspec.lock`).

A released operation or event version is a public contract: clients call it, consumers
read it. Changing it in place breaks them; the safe path is a new version beside it.
"""

from __future__ import annotations

from typing import Any

from contractspec.check.context import CheckContext
from contractspec.check.registry import declare, rule
from contractspec.diagnostics import Severity
from contractspec.evolve.lock import LOCK_NAME, UNVERSIONED, module_lock
from contractspec.ir import nodes as ir
from contractspec.source import Span

E, W = Severity.ERROR, Severity.WARNING
_KIND = {"operations": "operation", "events": "event"}
_FIELD_BLOCKS = ("input", "payload")
_MAX_CHANGES = 4


def _label(name: str, version: str) -> str:
    return name if version == UNVERSIONED else f"{name} {version}"


def _next_version(versions: list[str]) -> str:
    """The version to add beside the released ones: `v3` after `v2`, `2.0.0` after `1.4.0`."""
    numbers = [int(v[1:]) for v in versions if v.startswith("v") and v[1:].isdigit()]
    majors = [int(v.split(".")[0]) for v in versions if v.count(".") == 2
              and v.split(".")[0].isdigit()]
    if majors and not numbers:
        return f"{max(majors) + 1}.0.0"
    return f"v{max(numbers, default=1) + 1}"


def _changes(old: dict[str, Any], new: dict[str, Any]) -> str:
    """What differs between two contracts, in a few words: `input \\`title\\` changed`."""
    found: list[str] = []
    for key in sorted((set(old) | set(new)) - {"hash"}):
        before, after = old.get(key), new.get(key)
        if before == after:
            continue
        if key in _FIELD_BLOCKS and isinstance(before, dict) and isinstance(after, dict):
            for field in sorted(set(before) | set(after)):
                if field not in after:
                    found.append(f"{key} `{field}` removed")
                elif field not in before:
                    found.append(f"{key} `{field}` added")
                elif before[field] != after[field]:
                    found.append(f"{key} `{field}` changed")
        else:
            found.append(f"{key} changed")
    shown = found[:_MAX_CHANGES] + (["…"] if len(found) > _MAX_CHANGES else [])
    return ", ".join(shown)


def _declarations(module: ir.Module, section: str
                  ) -> dict[tuple[str, str], ir.OperationDecl | ir.EventDecl]:
    decls: tuple[ir.OperationDecl | ir.EventDecl, ...] = (
        module.operations if section == "operations" else module.events)
    found: dict[tuple[str, str], ir.OperationDecl | ir.EventDecl] = {}
    for decl in decls:
        found.setdefault((decl.name, decl.version or UNVERSIONED), decl)
    return found


def _released(ctx: CheckContext) -> dict[str, Any]:
    modules = ctx.lock.get("modules") if ctx.lock is not None else None
    return modules if isinstance(modules, dict) else {}


@rule(
    "CS601", "released-contract-changed", E,
    "A released operation or event version changed in place.",
    f"`cspec release` records every public contract in `{LOCK_NAME}` at the workspace root: "
    "each operation version's input fields (types, optionality, defaults), output, policy "
    "and errors, and each event version's payload, with a hash. When a version recorded "
    "there no longer hashes the same, clients built against the release break. Keep the "
    "released version exactly as it was and declare the new contract as the next version "
    "beside it (`createDeal v2`); retire the old one later. Doc comments and annotation "
    "attributes (`@label`, `@deprecated`, `@pii`) are not part of a contract.\n\n"
    f"For example, with `{LOCK_NAME}` written while `createDeal v1` took `title: "
    "string(1..200)`, changing that line to `title: string(1..100)` reports \"the released "
    "`createDeal v1` changed since the last release (input `title` changed)\". (The rule "
    "needs a lock, so the examples are in words.) To accept a breaking change on purpose, "
    "lower the rule's severity in `cspec.toml` for that release.",
)
def check_released_contracts(ctx: CheckContext) -> None:
    released = _released(ctx)
    for module in ctx.user_modules():
        locked = released.get(module.name)
        if not isinstance(locked, dict):
            continue
        current = module_lock(module)
        for section in _KIND:
            decls = _declarations(module, section)
            for name, versions in locked.get(section, {}).items():
                now = current[section].get(name, {})
                for version, item in versions.items():
                    if version in now and now[version]["hash"] != item["hash"]:
                        _report_changed(ctx, section, decls[(name, version)], version,
                                        list(now), _changes(item, now[version]))


def _report_changed(ctx: CheckContext, section: str, decl: ir.OperationDecl | ir.EventDecl,
                    version: str, versions: list[str], what: str) -> None:
    label = _label(decl.name, version)
    new = f"{decl.name} {_next_version(versions)}"
    ctx.report("CS601", f"the released {_KIND[section]} `{label}` changed since the last "
               f"release ({what})", decl.name_span,
               help=f"keep `{label}` as released and add `{new}` beside it")


@rule(
    "CS602", "released-version-removed", W,
    "A released operation or event version was removed.",
    f"An operation or event version recorded in `{LOCK_NAME}` is no longer declared in its "
    "module: clients still calling it, or consumers still reading it, will break. This is a "
    "warning, not an error, because removing a version is the normal end of a deprecation "
    "(mark it `@deprecated` for a release first) and no new version can make up for it; the "
    "next `cspec release` records the removal. Make it an error in `cspec.toml` to forbid "
    "removals. It is reported on the module header, since the removed declaration has no "
    "place left in the specs; a module missing from the analysis altogether is not reported.",
)
def check_removed_versions(ctx: CheckContext) -> None:
    released = _released(ctx)
    for module in ctx.user_modules():
        locked = released.get(module.name)
        anchor = _module_span(module)
        if not isinstance(locked, dict) or anchor is None:
            continue
        current = module_lock(module)
        for section, kind in _KIND.items():
            for name, versions in sorted(locked.get(section, {}).items()):
                for version in sorted(versions):
                    if version not in current[section].get(name, {}):
                        ctx.report("CS602", f"the released {kind} `{_label(name, version)}` "
                                   f"was removed from module `{module.name}`", anchor,
                                   help="keep it (deprecated) until no client uses it")


def _module_span(module: ir.Module) -> Span | None:
    return module.headers[0].name_span if module.headers else None


declare(
    "CS603", "unreadable-lock", E, f"`{LOCK_NAME}` cannot be read.",
    f"`{LOCK_NAME}` at the workspace root is written by `cspec release` and compared with the "
    "specs on every check. When it is not valid JSON, is not the structure `cspec release` "
    "writes, or comes from an incompatible version of cspec, it is ignored and this error "
    "says why and where: restore it from version control or run `cspec release` again.",
    phase="load",
)
