"""Releases (CS601-CS604): the specs against the lock of the last release (`cspec.lock`).

A released operation or event version is a public contract: clients call it, consumers
read it. Changing it in place breaks them; the safe path is a new version beside it.
"""

from __future__ import annotations

from typing import Any

from contractspec.check.context import CheckContext
from contractspec.check.registry import declare, rule
from contractspec.diagnostics import Severity
from contractspec.evolve.catalog import Level
from contractspec.evolve.changes import analyse_changes
from contractspec.evolve.differ import Change, Released
from contractspec.evolve.lock import LOCK_NAME, UNVERSIONED
from contractspec.evolve.restore import next_version
from contractspec.ir import nodes as ir
from contractspec.source import Span

E, W = Severity.ERROR, Severity.WARNING
_KIND = {"operations": "operation", "events": "event"}
_MAX_CHANGES = 4


def _label(name: str, version: str) -> str:
    return name if version == UNVERSIONED else f"{name} {version}"


def _released(ctx: CheckContext) -> dict[str, Any]:
    modules = ctx.lock.get("modules") if ctx.lock is not None else None
    return modules if isinstance(modules, dict) else {}


def _summary(changes: list[Change], owner: str) -> str:
    """The changes in a few words: ``input field `title`: input-removed (CX105), …``."""
    shown = []
    for c in changes[:_MAX_CHANGES]:
        part = c.subject.removesuffix(f" of {owner}")
        shown.append(f"{c.kind.name} ({c.code})" if part == owner
                     else f"{part}: {c.kind.name} ({c.code})")
    return ", ".join(shown + (["…"] if len(changes) > _MAX_CHANGES else []))


def _declarations(module: ir.Module) -> dict[Released, ir.OperationDecl | ir.EventDecl]:
    found: dict[Released, ir.OperationDecl | ir.EventDecl] = {}
    for op in module.operations:
        found.setdefault(("operations", op.name, op.version or UNVERSIONED), op)
    for event in module.events:
        found.setdefault(("events", event.name, event.version or UNVERSIONED), event)
    return found


@rule(
    "CS601", "released-contract-changed", E,
    "A released operation or event version changed in a way that breaks its clients.",
    f"`cspec release` records every public contract in `{LOCK_NAME}` at the workspace root: "
    "each operation version's input fields (types, optionality, defaults), output, policy "
    "and errors, and each event version's payload. The change analysis of `cspec diff` "
    "compares the specs with it; a breaking change (docs/evolution.md) to a version recorded "
    "there is an error, because clients built against the release break: an input field "
    "added as required, removed or narrowed, a field of the output removed, an error removed, "
    "access narrowed, a payload field removed or retyped. Compatible changes (an optional "
    "input field, a new error, a payload field added) are allowed in place. Keep the released "
    "version exactly as it was and declare the new contract as the next version beside it "
    "(`createDeal v2`); the quick fix \"keep v1, add v2\" does that, and the generated API "
    "serves both. To break on purpose, approve the change in the specs: "
    "`@allowBreaking(\"why\")` on the field, `@@allowBreaking(\"why\")` on the entity, or "
    "`// cspec-allow-breaking CX105: why` on the line of the change (CS604 lists it then).\n\n"
    f"For example, with `{LOCK_NAME}` written while `createDeal v1` took `title: "
    "string(1..200)`, changing that line to `title: string(1..100)` reports \"the released "
    "operation `createDeal v1` breaks its clients (input field `title` of operation "
    "`createDeal v1` (CX108))\". (The rule needs a lock, so the examples are in words.)",
)
def check_released_contracts(ctx: CheckContext) -> None:
    released = _released(ctx)
    if not released:
        return
    mine = {m.name for m in ctx.user_modules()}
    changes = analyse_changes(ctx.lock or {}, ctx.program, ctx.sources, routes=False)
    broken: dict[Released, list[Change]] = {}
    for change in changes:
        if change.level is Level.BREAKING and change.released is not None \
                and change.module in mine and _was_released(released, change):
            broken.setdefault(change.released, []).append(change)
    for module in ctx.user_modules():
        for key, decl in _declarations(module).items():
            found = broken.get(key)
            if found:
                _report_broken(ctx, module, decl, key, found)


def _was_released(released: dict[str, Any], change: Change) -> bool:
    assert change.released is not None
    section, name, version = change.released
    items = released.get(change.module, {})
    items = items.get(section, {}) if isinstance(items, dict) else {}
    versions = items.get(name) if isinstance(items, dict) else None
    return isinstance(versions, dict) and version in versions


def _report_broken(ctx: CheckContext, module: ir.Module, decl: ir.OperationDecl | ir.EventDecl,
                   key: Released, changes: list[Change]) -> None:
    section, name, version = key
    label = _label(name, version)
    versions = [v or UNVERSIONED for v in (
        d.version for d in (module.operations if section == "operations" else module.events)
        if d.name == name)]
    unapproved = [c for c in changes if c.approved is None]
    approved = [c for c in changes if c.approved is not None]
    owner = f"{_KIND[section]} `{label}`"
    what = f"the released {owner}"
    if unapproved:
        ctx.report("CS601", f"{what} breaks its clients ({_summary(unapproved, owner)})",
                   decl.name_span, help=f"keep `{label}` as released and add "
                   f"`{name} {next_version(versions)}` beside it")
    if approved:
        reasons = "; ".join(dict.fromkeys(c.approved or "" for c in approved))
        ctx.report("CS604", f"{what} breaks its clients, approved: {reasons} "
                   f"({_summary(approved, owner)})", decl.name_span,
                   help="the approval stays valid until the next `cspec release`")


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
        current = set(_declarations(module))
        for section, kind in _KIND.items():
            for name, versions in sorted(locked.get(section, {}).items()):
                for version in sorted(versions):
                    if (section, name, version) not in current:
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

declare(
    "CS604", "approved-break", W, "A released version breaks its clients, with approval.",
    "A breaking change to a released operation or event version (see CS601) that the specs "
    "approve with `@allowBreaking(\"why\")` on its field, `@@allowBreaking(\"why\")` on its "
    "entity, or `// cspec-allow-breaking CX105: why` on its line is not an error, but it stays "
    "visible as this warning, with the reason, until the next `cspec release` records the new "
    "contract. `cspec diff` lists it as approved, and `--fail-on breaking` does not fail on it.",
)
